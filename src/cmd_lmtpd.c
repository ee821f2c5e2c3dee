/*
 * cmd_lmtpd.c - maildesk lmtpd: the intake as a long-running LMTP server.
 *
 * Listens on a unix socket or a TCP port (Postfix's lmtp: transport),
 * one thread per connection (GThreadedSocketService) running an LMTP
 * session (lmtp.c), one writer thread committing the messages of all
 * connections in groups (groupcommit.c).  The main thread runs a GLib
 * main loop for signals and timers:
 *
 *   SIGTERM, SIGINT  stop accepting, let in-flight messages be committed
 *                    and answered, then exit 0
 *   SIGHUP           re-read the configuration (the listen address needs
 *                    a restart); a broken file is logged and ignored
 *
 * It also drains the outbox in a thread of its own ([lmtpd] send, kicked
 * after each commit that queued mail) and runs `maildesk tick` as a child
 * process every [lmtpd] tick_interval.  It stays in the foreground, as
 * systemd and scripts expect; it writes a pid file when configured and
 * tells systemd (NOTIFY_SOCKET) when it is ready, reloading or stopping.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include "clock.h"
#include "commands.h"
#include "groupcommit.h"
#include "lmtp.h"
#include "log.h"
#include "outbox.h"
#include "smtp.h"

/* how long in-flight sessions may take to finish after SIGTERM */
#define SHUTDOWN_GRACE_US (30 * G_USEC_PER_SEC)
/* an idle client is dropped after this long (RFC 5321 4.5.3.2.7: 5 min) */
#define SESSION_TIMEOUT_S 300

typedef struct {
	const MdGlobal *g;
	GMainLoop *loop;
	GSocketService *service;
	char *socket_path; /* unix socket to remove at exit, or NULL */
	char *pid_file;
	MdCommitter *committer;
	MdLmtpContext lmtp;

	GMutex lock; /* site, and the sender's state */
	MdSite *site;

	/* the in-process sender */
	GThread *sender;
	GCond sender_cond;
	gboolean sender_kicked;
	gboolean sender_stop;

	/* tick */
	GPid tick_pid; /* 0 when none is running */

	/* shutdown */
	gboolean stopping;
	gint64 stop_deadline;
	gboolean aborted;
} Daemon;

static MdSite *
site_get(gpointer data)
{
	Daemon *d = data;
	MdSite *site;

	g_mutex_lock(&d->lock);
	site = md_site_ref(d->site);
	g_mutex_unlock(&d->lock);
	return site;
}

/* systemd's sd_notify(3): one datagram to $NOTIFY_SOCKET, if set. */
static void
notify_systemd(const char *state)
{
	const char *path = g_getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	gsize len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    (len = strlen(path)) >= sizeof sa.sun_path)
		return;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* an abstract socket */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
	           (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		log_warning("NOTIFY_SOCKET: %s", g_strerror(errno));
	close(fd);
}

/* ---- the sender: outbox_drain in a thread, as `maildesk send` does ---- */

/* One drain under the send lock shared with `maildesk send`. */
static void
drain_once(MdSite *site, MdStore **store, char **store_db)
{
	MdDrainCounts counts;
	MdStatus st;
	int lock_fd;

	if (*store != NULL && g_strcmp0(*store_db, site->cfg->database) != 0) {
		store_close(*store);
		*store = NULL;
	}
	if (*store == NULL) {
		if ((*store = commands_open_store(site->cfg, TRUE, &st)) == NULL)
			return;
		g_free(*store_db);
		*store_db = g_strdup(site->cfg->database);
	}
	if ((lock_fd = outbox_open_send_lock(site->cfg)) < 0)
		return;
	for (;;) {
		gint64 next = 0;

		/* another sender at work: it looks again after its drain */
		if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0)
			break;
		st = outbox_drain(site->cfg, *store, site->secret, &counts);
		flock(lock_fd, LOCK_UN);
		if (st != MD_OK || counts.sent + counts.failed == 0 ||
		    store_outbox_next_due(*store, &next) != MD_OK || next == 0 || next > clock_now())
			break;
	}
	close(lock_fd);
}

static gpointer
sender_main(gpointer data)
{
	Daemon *d = data;
	MdStore *store = NULL;
	g_autofree char *store_db = NULL;

	g_mutex_lock(&d->lock);
	while (!d->sender_stop) {
		gint64 deadline = g_get_monotonic_time() + d->site->cfg->lmtpd_send_interval *
		                                                   G_USEC_PER_SEC;

		while (!d->sender_kicked && !d->sender_stop)
			if (!g_cond_wait_until(&d->sender_cond, &d->lock, deadline))
				break;
		if (d->sender_stop)
			break;
		d->sender_kicked = FALSE;
		{
			g_autoptr(MdSite) site = md_site_ref(d->site);

			g_mutex_unlock(&d->lock);
			drain_once(site, &store, &store_db);
			g_mutex_lock(&d->lock);
		}
	}
	g_mutex_unlock(&d->lock);
	store_close(store);
	return NULL;
}

/* Called by the writer thread after a commit that queued mail. */
static void
kick_sender(guint queued, gpointer data)
{
	Daemon *d = data;

	g_mutex_lock(&d->lock);
	d->sender_kicked = TRUE;
	g_cond_signal(&d->sender_cond);
	g_mutex_unlock(&d->lock);
}

/* ---- tick: `maildesk -c CONFIG tick` as a child, on a timer ---- */

static void
tick_exited(GPid pid, gint wait_status, gpointer data)
{
	Daemon *d = data;
	g_autoptr(GError) error = NULL;

	if (!g_spawn_check_wait_status(wait_status, &error))
		log_warning("tick: %s", error->message);
	g_spawn_close_pid(pid);
	d->tick_pid = 0;
}

static gboolean
run_tick(gpointer data)
{
	Daemon *d = data;
	g_autoptr(GError) error = NULL;
	const char *argv[] = { "/proc/self/exe", "-c", d->g->config_path, "tick", NULL };

	if (d->stopping)
		return G_SOURCE_REMOVE;
	if (d->tick_pid != 0) {
		log_warning("tick: the previous run is still going; skipped");
		return G_SOURCE_CONTINUE;
	}
	/* our own binary, whatever name it was started by; the child must
	 * not keep our listening socket open */
	if (!g_spawn_async(NULL, (char **)argv, NULL,
	                   G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
	                           G_SPAWN_STDIN_FROM_DEV_NULL,
	                   NULL, NULL, &d->tick_pid, &error)) {
		log_error("tick: %s", error->message);
		d->tick_pid = 0;
		return G_SOURCE_CONTINUE;
	}
	log_debug("tick: started pid %d", (int)d->tick_pid);
	g_child_watch_add(d->tick_pid, tick_exited, d);
	return G_SOURCE_CONTINUE;
}

/* ---- listening ---- */

/* Removes a stale socket file; FALSE when a live server answers on it. */
static gboolean
clear_stale_socket(const char *path)
{
	struct stat st;
	g_autoptr(GSocket) probe = NULL;
	g_autoptr(GSocketAddress) addr = NULL;

	if (lstat(path, &st) != 0)
		return TRUE;
	if (!S_ISSOCK(st.st_mode)) {
		log_error("lmtpd: %s exists and is not a socket", path);
		return FALSE;
	}
	probe = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT,
	                     NULL);
	addr = g_unix_socket_address_new(path);
	if (probe != NULL && g_socket_connect(probe, addr, NULL, NULL)) {
		log_error("lmtpd: another server listens on %s", path);
		return FALSE;
	}
	unlink(path);
	return TRUE;
}

/* Adds the listen address to the service; FALSE after logging why. */
static gboolean
listen_on(Daemon *d, const char *listen)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocketAddress) addr = NULL;

	if (g_str_has_prefix(listen, "unix:")) {
		const char *path = listen + 5;
		g_autofree char *dir = g_path_get_dirname(path);

		if (g_mkdir_with_parents(dir, 0755) != 0) {
			log_error("lmtpd: %s: %s", dir, g_strerror(errno));
			return FALSE;
		}
		if (!clear_stale_socket(path))
			return FALSE;
		addr = g_unix_socket_address_new(path);
		if (!g_socket_listener_add_address(G_SOCKET_LISTENER(d->service), addr,
		                                   G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT,
		                                   NULL, NULL, &error)) {
			log_error("lmtpd: %s: %s", path, error->message);
			return FALSE;
		}
		/* who may connect is decided by the directory's mode (Postfix's
		 * lmtp client runs as another user) */
		if (chmod(path, 0666) != 0) {
			log_error("lmtpd: %s: %s", path, g_strerror(errno));
			return FALSE;
		}
		d->socket_path = g_strdup(path);
		return TRUE;
	}
	{
		const char *colon = strrchr(listen, ':');
		g_autofree char *host = g_strndup(listen, (gsize)(colon - listen));
		guint port = (guint)g_ascii_strtoull(colon + 1, NULL, 10);
		g_autoptr(GInetAddress) ia = NULL;

		if (host[0] == '[' && host[strlen(host) - 1] == ']') {
			char *inner = g_strndup(host + 1, strlen(host) - 2);

			g_free(host);
			host = inner;
		}
		if (strcmp(host, "localhost") == 0)
			ia = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
		else
			ia = g_inet_address_new_from_string(host);
		if (ia == NULL) {
			log_error("lmtpd: listen = %s: the host must be an IP address or localhost",
			          listen);
			return FALSE;
		}
		if (!g_inet_address_get_is_loopback(ia))
			log_warning("lmtpd: listening on %s, which is not a loopback address: LMTP has "
			            "no authentication",
			            listen);
		addr = g_inet_socket_address_new(ia, port);
		if (!g_socket_listener_add_address(G_SOCKET_LISTENER(d->service), addr,
		                                   G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
		                                   NULL, &error)) {
			log_error("lmtpd: %s: %s", listen, error->message);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
on_connection(GThreadedSocketService *service, GSocketConnection *conn, GObject *source,
              gpointer data)
{
	Daemon *d = data;
	GSocket *sock = g_socket_connection_get_socket(conn);

	g_socket_set_timeout(sock, SESSION_TIMEOUT_S);
	lmtp_session_run(&d->lmtp, G_IO_STREAM(conn));
	return TRUE;
}

/* ---- signals ---- */

static gboolean
wait_for_sessions(gpointer data)
{
	Daemon *d = data;

	if (lmtp_sessions_active() == 0) {
		g_main_loop_quit(d->loop);
		return G_SOURCE_REMOVE;
	}
	if (!d->aborted && g_get_monotonic_time() > d->stop_deadline) {
		log_warning("lmtpd: %u sessions still busy; closing them", lmtp_sessions_active());
		lmtp_abort_all();
		d->aborted = TRUE;
	}
	return G_SOURCE_CONTINUE;
}

static gboolean
on_term(gpointer data)
{
	Daemon *d = data;

	if (d->stopping)
		return G_SOURCE_CONTINUE;
	d->stopping = TRUE;
	notify_systemd("STOPPING=1");
	log_info("lmtpd: stopping");
	g_socket_service_stop(d->service);
	g_socket_listener_close(G_SOCKET_LISTENER(d->service));
	lmtp_shutdown();
	d->stop_deadline = g_get_monotonic_time() + SHUTDOWN_GRACE_US;
	g_timeout_add(20, wait_for_sessions, d);
	return G_SOURCE_CONTINUE;
}

static gboolean
on_hup(gpointer data)
{
	Daemon *d = data;
	g_autoptr(MdConfig) cfg = NULL;
	g_autofree char *error = NULL;
	GBytes *secret;
	MdSite *site, *old;

	notify_systemd("RELOADING=1");
	if ((cfg = commands_load_config(d->g, TRUE)) == NULL) {
		log_error("lmtpd: reload failed; keeping the configuration in use");
		notify_systemd("READY=1");
		return G_SOURCE_CONTINUE;
	}
	if ((secret = conf_read_secret(cfg, &error)) == NULL) {
		log_error("lmtpd: reload failed: %s", error);
		notify_systemd("READY=1");
		return G_SOURCE_CONTINUE;
	}
	if (strcmp(cfg->lmtpd_listen, d->site->cfg->lmtpd_listen) != 0)
		log_warning("lmtpd: listen changed to %s: takes effect after a restart",
		            cfg->lmtpd_listen);
	site = md_site_new(g_steal_pointer(&cfg), secret);
	committer_set_site(d->committer, site);
	g_mutex_lock(&d->lock);
	old = d->site;
	d->site = site;
	g_mutex_unlock(&d->lock);
	md_site_unref(old);
	log_info("lmtpd: configuration reloaded");
	notify_systemd("READY=1");
	return G_SOURCE_CONTINUE;
}

static gboolean
write_pid_file(const char *path)
{
	g_autofree char *text = g_strdup_printf("%ld\n", (long)getpid());
	g_autoptr(GError) error = NULL;

	if (!g_file_set_contents(path, text, -1, &error)) {
		log_error("lmtpd: pid file: %s", error->message);
		return FALSE;
	}
	return TRUE;
}

int
cmd_lmtpd(const MdGlobal *g, int argc, char **argv)
{
	g_autofree char *listen = NULL;
	g_autofree char *pid_file = NULL;
	GOptionEntry entries[] = {
		{ "listen", 0, 0, G_OPTION_ARG_STRING, &listen,
		  "unix:PATH or HOST:PORT (default: [lmtpd] listen)", "ADDR" },
		{ "pid-file", 0, 0, G_OPTION_ARG_FILENAME, &pid_file,
		  "write the process id here (default: [lmtpd] pid_file)", "FILE" },
		{ NULL },
	};
	Daemon d = { 0 };
	MdConfig *cfg;
	g_autofree char *secret_error = NULL;
	GBytes *secret;
	MdStatus st;
	int code = EX_OK;

	if (!commands_parse_options("- serve LMTP in the foreground", entries, FALSE, &argc, &argv))
		return EX_USAGE;
	if (argc > 1) {
		fprintf(stderr, "maildesk: lmtpd: unexpected argument %s\n", argv[1]);
		return EX_USAGE;
	}
	if (listen != NULL && !conf_listen_valid(listen)) {
		fprintf(stderr, "maildesk: lmtpd: --listen %s: want unix:/absolute/path or HOST:PORT\n",
		        listen);
		return EX_USAGE;
	}
	if ((cfg = commands_load_config(g, FALSE)) == NULL)
		return EX_CONFIG;
	if ((secret = conf_read_secret(cfg, &secret_error)) == NULL) {
		fprintf(stderr, "maildesk: %s\n", secret_error);
		conf_free(cfg);
		return EX_CONFIG;
	}
	if (listen != NULL) {
		g_free(cfg->lmtpd_listen);
		cfg->lmtpd_listen = g_steal_pointer(&listen);
	}
	/* glibc gives freed memory back to the kernel when the top of a heap
	 * passes 128 KiB; SQLite builds and frees an ephemeral table for each
	 * CHECK (x IN (...)) of our schema, so every message did so, and in a
	 * threaded process each madvise() is a TLB shootdown on every core
	 * (a third of the writer's time in perf).  Keep up to 32 MiB instead;
	 * big buffers (1 MiB and more) still come from mmap and go back. */
	mallopt(M_TRIM_THRESHOLD, 32 << 20);
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	d.g = g;
	d.site = md_site_new(cfg, secret);
	d.pid_file = g_strdup(pid_file ? pid_file : cfg->lmtpd_pid_file);
	g_mutex_init(&d.lock);
	g_cond_init(&d.sender_cond);
	signal(SIGPIPE, SIG_IGN);
	/* libcurl's global set-up before the threads start; a daemon that
	 * does not send never touches its TLS stack (1.5 MB resident) */
	if (cfg->lmtpd_send)
		smtp_global_init();

	if ((d.committer = committer_start(d.site, kick_sender, &d, &st)) == NULL) {
		fprintf(stderr, "maildesk: lmtpd: database unavailable; see the log\n");
		md_site_unref(d.site);
		return status_exit_code(st);
	}
	d.lmtp.committer = d.committer;
	d.lmtp.site_get = site_get;
	d.lmtp.data = &d;
	d.service = g_threaded_socket_service_new(cfg->lmtpd_max_connections);
	if (!listen_on(&d, cfg->lmtpd_listen)) {
		fprintf(stderr, "maildesk: lmtpd: cannot listen on %s; see the log\n",
		        cfg->lmtpd_listen);
		code = EX_TEMPFAIL;
		goto out;
	}
	if (d.pid_file != NULL && !write_pid_file(d.pid_file)) {
		code = EX_CANTCREAT;
		goto out;
	}
	g_signal_connect(d.service, "run", G_CALLBACK(on_connection), &d);
	d.loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGTERM, on_term, &d);
	g_unix_signal_add(SIGINT, on_term, &d);
	g_unix_signal_add(SIGHUP, on_hup, &d);
	if (cfg->lmtpd_send) {
		d.sender_kicked = TRUE; /* what was queued before we started */
		d.sender = g_thread_new("send", sender_main, &d);
	}
	if (cfg->lmtpd_tick_interval > 0)
		g_timeout_add_seconds((guint)cfg->lmtpd_tick_interval, run_tick, &d);
	g_socket_service_start(d.service);
	log_info("lmtpd: listening on %s", cfg->lmtpd_listen);
	notify_systemd("READY=1");
	g_main_loop_run(d.loop);
	log_info("lmtpd: stopped");

out:
	g_socket_service_stop(d.service);
	g_socket_listener_close(G_SOCKET_LISTENER(d.service));
	committer_stop(d.committer);
	if (d.sender != NULL) {
		g_mutex_lock(&d.lock);
		d.sender_stop = TRUE;
		g_cond_signal(&d.sender_cond);
		g_mutex_unlock(&d.lock);
		g_thread_join(d.sender);
	}
	if (d.socket_path != NULL)
		unlink(d.socket_path);
	if (d.pid_file != NULL && code == EX_OK)
		unlink(d.pid_file);
	g_free(d.socket_path);
	g_free(d.pid_file);
	g_object_unref(d.service);
	if (d.loop != NULL)
		g_main_loop_unref(d.loop);
	md_site_unref(d.site);
	g_cond_clear(&d.sender_cond);
	g_mutex_clear(&d.lock);
	return code;
}
