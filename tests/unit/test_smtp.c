/*
 * test_smtp.c - smtp.c against real SMTP servers on loopback.
 *
 * Most tests run Postfix's smtp-sink (package postfix; override the path
 * with SMTP_SINK=...) with options that make it accept, refuse (-r soft,
 * -f hard), disconnect (-q) or time out (-t), dump every message to a file
 * (-d) and log every connection (-v), which is how connection reuse is
 * counted.  smtp-sink refuses all RCPTs alike and answers AUTH with a bare
 * 250, so per-recipient refusals and AUTH run against a small scripted
 * server in a thread of this program.  A stalling relay is a listening
 * socket that never accepts.  A missing smtp-sink is a failure, not a skip.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "smtp.h"

/* ---- killing our servers even when an assertion aborts ---- */

#define MAX_CHILDREN 8
static volatile pid_t children[MAX_CHILDREN];

static void
on_fatal_signal(int sig)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i] > 0)
			kill(children[i], SIGKILL);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
child_track(pid_t pid, gboolean add)
{
	for (int i = 0; i < MAX_CHILDREN; i++) {
		if (add && children[i] == 0) {
			children[i] = pid;
			return;
		}
		if (!add && children[i] == pid) {
			children[i] = 0;
			return;
		}
	}
	g_assert(!add);
}

/* ---- sockets ---- */

static int
listen_loopback(guint16 *port_r)
{
	struct sockaddr_in sa = { 0 };
	socklen_t sl = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	g_assert_cmpint(fd, >=, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof sa), ==, 0);
	g_assert_cmpint(listen(fd, 8), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&sa, &sl), ==, 0);
	*port_r = ntohs(sa.sin_port);
	return fd;
}

/* A port nobody listens on (right now). */
static guint16
free_port(void)
{
	guint16 port;

	close(listen_loopback(&port));
	return port;
}

/* Connects and reads the greeting (any code); FALSE when nobody answers yet. */
static gboolean
probe(guint16 port)
{
	struct sockaddr_in sa = { 0 };
	struct timeval tv = { 2, 0 };
	char buf[256];
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(port);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd);
		return FALSE;
	}
	n = recv(fd, buf, sizeof buf - 1, 0);
	close(fd);
	return n >= 3 && g_ascii_isdigit(buf[0]);
}

static char *
url_for(guint16 port)
{
	return g_strdup_printf("smtp://127.0.0.1:%u", port);
}

/* ---- smtp-sink ---- */

typedef struct {
	GPid pid;
	guint16 port;
	char *dir;  /* dumps and log */
	char *log;  /* smtp-sink's stdout and stderr (-v) */
} Sink;

static const char *
sink_path(void)
{
	static char *path;
	const char *env = g_getenv("SMTP_SINK");

	if (path == NULL) {
		if (env != NULL && *env != '\0')
			path = g_strdup(env);
		else if (g_file_test("/usr/sbin/smtp-sink", G_FILE_TEST_IS_EXECUTABLE))
			path = g_strdup("/usr/sbin/smtp-sink");
		else
			path = g_find_program_in_path("smtp-sink");
	}
	return path;
}

static void
sink_kill(Sink *k)
{
	if (k->pid > 0) {
		kill(k->pid, SIGKILL);
		waitpid(k->pid, NULL, 0);
		child_track(k->pid, FALSE);
		k->pid = 0;
	}
}

static void
sink_stop(Sink *k)
{
	GDir *d;
	const char *name;

	if (k == NULL)
		return;
	sink_kill(k);
	d = g_dir_open(k->dir, 0, NULL);
	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree char *p = g_build_filename(k->dir, name, NULL);

		g_unlink(p);
	}
	if (d != NULL)
		g_dir_close(d);
	g_rmdir(k->dir);
	g_free(k->dir);
	g_free(k->log);
	g_free(k);
}

/* Runs on one attempt; FALSE when smtp-sink exited (port taken?) */
static gboolean
sink_spawn(Sink *k, const char *const *opts)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) err = NULL;
	gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	int logfd;

	g_ptr_array_add(argv, g_strdup(sink_path()));
	if (geteuid() == 0) {
		/* smtp-sink refuses to keep root; nobody must write the dumps */
		g_ptr_array_add(argv, g_strdup("-u"));
		g_ptr_array_add(argv, g_strdup("nobody"));
	}
	g_ptr_array_add(argv, g_strdup("-v"));
	g_ptr_array_add(argv, g_strdup("-d"));
	g_ptr_array_add(argv, g_build_filename(k->dir, "msg.", NULL));
	for (gsize i = 0; opts != NULL && opts[i] != NULL; i++)
		g_ptr_array_add(argv, g_strdup(opts[i]));
	g_ptr_array_add(argv, g_strdup_printf("127.0.0.1:%u", k->port));
	g_ptr_array_add(argv, g_strdup("16"));
	g_ptr_array_add(argv, NULL);

	logfd = g_open(k->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	g_assert_cmpint(logfd, >=, 0);
	if (!g_spawn_async_with_fds(NULL, (char **)argv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
	                            NULL, NULL, &k->pid, -1, logfd, logfd, &err))
		g_error("cannot start %s: %s", sink_path(), err->message);
	close(logfd);
	child_track(k->pid, TRUE);

	while (g_get_monotonic_time() < deadline) {
		if (waitpid(k->pid, NULL, WNOHANG) == k->pid) {
			child_track(k->pid, FALSE);
			k->pid = 0;
			return FALSE;
		}
		if (probe(k->port))
			return TRUE;
		g_usleep(20000);
	}
	sink_kill(k);
	return FALSE;
}

/*
 * Starts smtp-sink with extra options on port (0: a free one).  On failure
 * the test is marked failed and NULL returned.
 */
static Sink *
sink_start_on(guint16 port, const char *const *opts)
{
	Sink *k;
	g_autoptr(GError) err = NULL;

	if (sink_path() == NULL || !g_file_test(sink_path(), G_FILE_TEST_IS_EXECUTABLE)) {
		g_test_message("smtp-sink not found (%s): install postfix or set SMTP_SINK",
		               sink_path() != NULL ? sink_path() : "not in /usr/sbin or PATH");
		g_test_fail();
		return NULL;
	}
	k = g_new0(Sink, 1);
	k->dir = g_dir_make_tmp("test_smtp.XXXXXX", &err);
	g_assert_no_error(err);
	if (geteuid() == 0)
		g_chmod(k->dir, 0777);
	k->log = g_build_filename(k->dir, "sink.log", NULL);
	for (int attempt = 0; attempt < 5; attempt++) {
		k->port = port != 0 ? port : free_port();
		if (sink_spawn(k, opts))
			return k;
	}
	{
		g_autofree char *log = NULL;

		g_file_get_contents(k->log, &log, NULL, NULL);
		g_test_message("smtp-sink did not start; its output:\n%s", log ? log : "");
	}
	g_test_fail();
	sink_stop(k);
	return NULL;
}

static Sink *
sink_start(const char *const *opts)
{
	return sink_start_on(0, opts);
}

static guint
count_lines_with(const char *text, const char *needle)
{
	guint n = 0;

	for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/*
 * Connections smtp-sink accepted, not counting our readiness probe; waits
 * (up to 5 s) until every session has ended so the dumps are complete.
 */
static guint
sink_connections(Sink *k)
{
	gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

	for (;;) {
		g_autofree char *log = NULL;
		guint conns, ends;

		g_assert_true(g_file_get_contents(k->log, &log, NULL, NULL));
		conns = count_lines_with(log, ": connect (");
		ends = count_lines_with(log, ": disconnect") + count_lines_with(log, "read timeout");
		if ((ends >= conns && conns >= 1) || g_get_monotonic_time() > deadline) {
			if (ends < conns || conns == 0)
				g_test_message("sessions not all ended; smtp-sink log:\n%s", log);
			g_assert_cmpuint(conns, >=, 1);
			return conns - 1;
		}
		g_usleep(20000);
	}
}

/* Contents of every dumped message, in no particular order. */
static GPtrArray *
sink_dumps(Sink *k)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) err = NULL;
	GDir *d = g_dir_open(k->dir, 0, &err);
	const char *name;

	g_assert_no_error(err);
	while ((name = g_dir_read_name(d)) != NULL) {
		g_autofree char *p = g_build_filename(k->dir, name, NULL);
		char *text = NULL;

		if (!g_str_has_prefix(name, "msg."))
			continue;
		g_assert_true(g_file_get_contents(p, &text, NULL, NULL));
		g_ptr_array_add(out, text);
	}
	g_dir_close(d);
	return out;
}

static const char *
dump_with(GPtrArray *dumps, const char *needle)
{
	for (guint i = 0; i < dumps->len; i++)
		if (strstr(g_ptr_array_index(dumps, i), needle) != NULL)
			return g_ptr_array_index(dumps, i);
	g_test_message("no dumped message contains %s", needle);
	g_assert_not_reached();
}

/* The message as the client sent it: after smtp-sink's Received header. */
static const char *
dump_body(const char *dump)
{
	const char *p = strstr(dump, "\nReceived: ");

	g_assert_nonnull(p);
	p = strchr(p + 1, '\n') + 1;
	while (*p == '\t')
		p = strchr(p, '\n') + 1;
	return p;
}

/* smtp-sink stores lines with LF and appends one empty line. */
static char *
as_dumped(const char *crlf)
{
	g_autoptr(GString) s = g_string_new(NULL);

	for (const char *p = crlf; *p != '\0'; p++)
		if (!(p[0] == '\r' && p[1] == '\n'))
			g_string_append_c(s, *p);
	g_string_append_c(s, '\n');
	return g_string_free(g_steal_pointer(&s), FALSE);
}

/* ---- scripted server for what smtp-sink cannot do ---- */

typedef struct {
	int lfd;
	guint16 port;
	GThread *thread;
	gint stop;
	gint connections;
	gint messages;
	GMutex lock;
	char *auth; /* last AUTH PLAIN credentials, decoded, NUL as '|' */
} Fake;

static char *
fake_line(int fd, GString *buf)
{
	for (;;) {
		char *nl = memchr(buf->str, '\n', buf->len);
		char chunk[512];
		ssize_t n;

		if (nl != NULL) {
			gsize k = (gsize)(nl - buf->str) + 1;
			char *line = g_strndup(buf->str, k);

			g_string_erase(buf, 0, (gssize)k);
			g_strchomp(line); /* CRLF off */
			return line;
		}
		n = recv(fd, chunk, sizeof chunk, 0);
		if (n <= 0)
			return NULL;
		g_string_append_len(buf, chunk, n);
	}
}

static void
fake_say(int fd, const char *text)
{
	g_autofree char *line = g_strconcat(text, "\r\n", NULL);

	if (send(fd, line, strlen(line), MSG_NOSIGNAL) < 0)
		g_test_message("fake server: send: %s", g_strerror(errno));
}

static void
fake_auth(Fake *f, const char *b64)
{
	gsize n = 0;
	g_autofree guchar *raw = g_base64_decode(b64, &n);

	for (gsize i = 0; i < n; i++)
		if (raw[i] == '\0')
			raw[i] = '|';
	g_mutex_lock(&f->lock);
	g_free(f->auth);
	f->auth = g_strndup((const char *)raw, n);
	g_mutex_unlock(&f->lock);
}

static void
fake_session(Fake *f, int fd)
{
	g_autoptr(GString) buf = g_string_new(NULL);
	char *line;

	fake_say(fd, "220 fake ESMTP");
	while ((line = fake_line(fd, buf)) != NULL) {
		g_autofree char *l = line;

		if (g_ascii_strncasecmp(l, "EHLO", 4) == 0) {
			fake_say(fd, "250-fake");
			fake_say(fd, "250 AUTH PLAIN");
		} else if (g_ascii_strncasecmp(l, "AUTH PLAIN", 10) == 0) {
			g_autofree char *resp = NULL;

			if (strlen(l) > 11) {
				resp = g_strdup(l + 11);
			} else {
				fake_say(fd, "334 ");
				if ((resp = fake_line(fd, buf)) == NULL)
					break;
			}
			fake_auth(f, resp);
			fake_say(fd, strcmp(f->auth, "|bob|s3cret") == 0
			                 ? "235 2.7.0 Authentication successful"
			                 : "535 5.7.8 Authentication credentials invalid");
		} else if (g_ascii_strncasecmp(l, "MAIL FROM:", 10) == 0) {
			fake_say(fd, "250 2.1.0 Ok");
		} else if (g_ascii_strncasecmp(l, "RCPT TO:", 8) == 0) {
			if (strstr(l, "stall") != NULL)
				continue; /* no reply: the client times out */
			if (strstr(l, "refuse5") != NULL)
				fake_say(fd, "550 5.1.1 No such user here");
			else if (strstr(l, "refuse4") != NULL)
				fake_say(fd, "450 4.2.1 Mailbox busy, \x01try later");
			else
				fake_say(fd, "250 2.1.5 Ok");
		} else if (g_ascii_strcasecmp(l, "DATA") == 0) {
			char *d;

			fake_say(fd, "354 go ahead");
			while ((d = fake_line(fd, buf)) != NULL && strcmp(d, ".") != 0)
				g_free(d);
			if (d == NULL)
				break;
			g_free(d);
			g_atomic_int_inc(&f->messages);
			fake_say(fd, "250 2.0.0 Ok: queued as FAKE1");
		} else if (g_ascii_strcasecmp(l, "QUIT") == 0) {
			fake_say(fd, "221 2.0.0 Bye");
			break;
		} else if (g_ascii_strcasecmp(l, "RSET") == 0 || g_ascii_strcasecmp(l, "NOOP") == 0) {
			fake_say(fd, "250 2.0.0 Ok");
		} else {
			fake_say(fd, "502 5.5.2 Error: command not recognized");
		}
	}
}

static gpointer
fake_main(gpointer data)
{
	Fake *f = data;

	while (!g_atomic_int_get(&f->stop)) {
		struct pollfd pfd = { .fd = f->lfd, .events = POLLIN };
		struct timeval tv = { 10, 0 };
		int fd;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		fd = accept(f->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		g_atomic_int_inc(&f->connections);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		fake_session(f, fd);
		close(fd);
	}
	return NULL;
}

static Fake *
fake_start(void)
{
	Fake *f = g_new0(Fake, 1);

	g_mutex_init(&f->lock);
	f->lfd = listen_loopback(&f->port);
	f->thread = g_thread_new("fake-smtp", fake_main, f);
	return f;
}

static void
fake_stop(Fake *f)
{
	g_atomic_int_set(&f->stop, 1);
	g_thread_join(f->thread);
	close(f->lfd);
	g_mutex_clear(&f->lock);
	g_free(f->auth);
	g_free(f);
}

/* ---- helpers for the tests ---- */

static const char message[] =
	"From: Support <support@example.test>\r\n"
	"To: Customer <a@example.test>\r\n"
	"Subject: dots and more\r\n"
	"Message-ID: <t1.m1.abc@example.test>\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: text/plain; charset=UTF-8\r\n"
	"\r\n"
	"first line\r\n"
	".leading dot\r\n"
	".\r\n"
	"..two dots\r\n"
	"\r\n"
	"last line\r\n";

static MdSmtp *
smtp_for(guint16 port, long timeout)
{
	g_autofree char *url = url_for(port);
	MdSmtpConfig cfg = {
		.url = url,
		.starttls = "auto",
		.helo = "desk.example.test",
		.timeout_seconds = timeout,
		.verify_tls = TRUE,
		.verbose = g_test_verbose(),
	};

	return smtp_new(&cfg); /* copies url */
}

static MdSmtpResult
send_one(MdSmtp *s, const char *from, const char *rcpt, const char *msg, int *code_r,
         char **detail_r)
{
	const char *rcpts[] = { rcpt, NULL };

	return smtp_send(s, from, rcpts, (const guint8 *)msg, strlen(msg), code_r, detail_r);
}

/* A message whose Subject tells it apart in the dumps. */
static char *
numbered_message(int i)
{
	return g_strdup_printf("From: support@example.test\r\nTo: a@example.test\r\n"
	                       "Subject: number %d\r\n\r\nbody %d\r\n",
	                       i, i);
}

/* ---- tests ---- */

static void
test_intact(void)
{
	static const char *const opts[] = { NULL };
	Sink *k = sink_start(opts);
	g_autoptr(MdSmtp) s = NULL;
	g_autoptr(GPtrArray) dumps = NULL;
	g_autofree char *detail = NULL;
	g_autofree char *want = NULL;
	const char *rcpts[] = { "a@example.test", "b@example.test", NULL };
	const char *dump;
	int code = -1;

	if (k == NULL)
		return;
	s = smtp_for(k->port, 10);
	g_assert_cmpint(smtp_send(s, "", rcpts, (const guint8 *)message, strlen(message), &code,
	                          &detail),
	                ==, SMTP_SENT);
	g_assert_cmpint(code, ==, 250);
	g_assert_cmpstr(detail, ==, "250 2.0.0 Ok");
	g_assert_cmpuint(smtp_refused(s)->len, ==, 0);
	g_clear_pointer(&s, smtp_free);

	g_assert_cmpuint(sink_connections(k), ==, 1);
	dumps = sink_dumps(k);
	g_assert_cmpuint(dumps->len, ==, 1);
	dump = g_ptr_array_index(dumps, 0);
	g_assert_nonnull(strstr(dump, "\nX-Helo-Args: desk.example.test\n"));
	g_assert_nonnull(strstr(dump, "\nX-Mail-Args: <>\n"));
	g_assert_nonnull(strstr(dump, "\nX-Rcpt-Args: <a@example.test>\nX-Rcpt-Args: <b@example.test>\n"));
	want = as_dumped(message);
	g_assert_cmpstr(dump_body(dump), ==, want);
	sink_stop(k);
}

static void
test_reuse(void)
{
	static const char *const opts[] = { NULL };
	static const char *const froms[] = { "", "<>", "support@example.test" };
	static const char *const mail_args[] = { "<>", "<>", "<support@example.test>" };
	Sink *k = sink_start(opts);
	g_autoptr(MdSmtp) s = NULL;
	g_autoptr(MdSmtp) other = NULL;
	g_autoptr(GPtrArray) dumps = NULL;

	if (k == NULL)
		return;
	s = smtp_for(k->port, 10);
	for (int i = 0; i < 3; i++) {
		g_autofree char *msg = numbered_message(i);
		g_autofree char *detail = NULL;
		int code;

		g_assert_cmpint(send_one(s, froms[i], "a@example.test", msg, &code, &detail), ==,
		                SMTP_SENT);
		g_assert_cmpint(code, ==, 250);
	}
	g_clear_pointer(&s, smtp_free);
	g_assert_cmpuint(sink_connections(k), ==, 1);

	/* the counter works: a second MdSmtp is a second connection */
	other = smtp_for(k->port, 10);
	{
		g_autofree char *msg = numbered_message(3);
		g_autofree char *detail = NULL;
		int code;

		g_assert_cmpint(send_one(other, "", "a@example.test", msg, &code, &detail), ==,
		                SMTP_SENT);
	}
	g_clear_pointer(&other, smtp_free);
	g_assert_cmpuint(sink_connections(k), ==, 2);

	dumps = sink_dumps(k);
	g_assert_cmpuint(dumps->len, ==, 4);
	for (int i = 0; i < 3; i++) {
		g_autofree char *subject = g_strdup_printf("\nSubject: number %d\n", i);
		g_autofree char *mail = g_strdup_printf("\nX-Mail-Args: %s\n", mail_args[i]);
		g_autofree char *msg = numbered_message(i);
		g_autofree char *want = as_dumped(msg);
		const char *dump = dump_with(dumps, subject);

		g_assert_nonnull(strstr(dump, mail));
		g_assert_cmpstr(dump_body(dump), ==, want);
	}
	sink_stop(k);
}

typedef struct {
	const char *name;
	const char *opts[5];
	MdSmtpResult result;
	int code;
	const char *detail; /* substring, or NULL */
} RefuseCase;

static const RefuseCase refuse_cases[] = {
	{ "rcpt-4xx", { "-r", "RCPT", NULL }, SMTP_TEMPFAIL, 450, "all recipients refused; refused: <a@example.test> 450 4.3.0" },
	{ "rcpt-5xx", { "-f", "RCPT", "-B", "550 5.1.1 No such user", NULL }, SMTP_PERMFAIL, 550, "<a@example.test> 550 5.1.1 No such user" },
	{ "mail-4xx", { "-r", "MAIL", NULL }, SMTP_TEMPFAIL, 450, "450 4.3.0 Error" },
	{ "mail-5xx", { "-f", "MAIL", NULL }, SMTP_PERMFAIL, 500, "500 5.3.0 Error" },
	{ "data-4xx", { "-r", "DATA", NULL }, SMTP_TEMPFAIL, 450, "450 4.3.0 Error" },
	{ "data-5xx", { "-f", "DATA", NULL }, SMTP_PERMFAIL, 500, "500 5.3.0 Error" },
	{ "message-4xx", { "-r", ".", NULL }, SMTP_TEMPFAIL, 450, "450 4.3.0 Error" },
	{ "message-5xx", { "-f", ".", "-B", "554 5.7.1 Spam", NULL }, SMTP_PERMFAIL, 554, "554 5.7.1 Spam" },
	/* relay set-up trouble is never the message's fault */
	{ "greeting-5xx", { "-f", "CONNECT", NULL }, SMTP_TEMPFAIL, 500, NULL },
	{ "ehlo-5xx", { "-f", "EHLO,HELO", NULL }, SMTP_TEMPFAIL, 500, NULL },
	{ "mail-421", { "-Q", "MAIL", NULL }, SMTP_TEMPFAIL, 421, NULL },
	/* dropped without a reply: code 0, the last reply only in the detail */
	{ "quit-after-data", { "-q", "DATA", NULL }, SMTP_TEMPFAIL, 0, "last reply: 250" },
	{ "quit-after-message", { "-q", ".", NULL }, SMTP_TEMPFAIL, 0, "last reply: 354" },
};

/* Each refusal fails as expected, and the same MdSmtp still sends after it. */
static void
test_refuse(gconstpointer data)
{
	const RefuseCase *c = data;
	Sink *k = sink_start(c->opts);
	g_autoptr(MdSmtp) s = NULL;
	g_autofree char *detail = NULL;
	g_autofree char *detail2 = NULL;
	gint64 t0 = g_get_monotonic_time();
	int code = -1;
	int code2;

	if (k == NULL)
		return;
	s = smtp_for(k->port, 5);
	g_assert_cmpint(send_one(s, "", "a@example.test", message, &code, &detail), ==, c->result);
	g_test_message("%s: code %d, detail: %s", c->name, code, detail);
	g_assert_cmpint(code, ==, c->code);
	if (c->detail != NULL)
		g_assert_nonnull(strstr(detail, c->detail));
	g_assert_cmpint(g_get_monotonic_time() - t0, <, 4 * G_USEC_PER_SEC);

	/* a working relay on the same port: the failed session left no harm */
	sink_kill(k);
	{
		static const char *const none[] = { NULL };
		Sink *good = sink_start_on(k->port, none);

		if (good == NULL) {
			sink_stop(k);
			return;
		}
		g_assert_cmpint(send_one(s, "", "a@example.test", message, &code2, &detail2), ==,
		                SMTP_SENT);
		g_assert_cmpint(code2, ==, 250);
		g_clear_pointer(&s, smtp_free);
		g_assert_cmpuint(sink_connections(good), ==, 1);
		sink_stop(good);
	}
	sink_stop(k);
}

static void
test_connection_refused(void)
{
	guint16 port = free_port();
	g_autoptr(MdSmtp) s = smtp_for(port, 10);
	g_autofree char *detail = NULL;
	g_autofree char *detail2 = NULL;
	static const char *const none[] = { NULL };
	gint64 t0 = g_get_monotonic_time();
	Sink *k;
	int code = -1;

	g_assert_cmpint(send_one(s, "", "a@example.test", message, &code, &detail), ==,
	                SMTP_TEMPFAIL);
	g_assert_cmpint(g_get_monotonic_time() - t0, <, 2 * G_USEC_PER_SEC);
	g_assert_cmpint(code, ==, 0);
	g_test_message("detail: %s", detail);
	g_assert_nonnull(strstr(detail, "onnect"));

	/* the relay comes up: the same MdSmtp now delivers */
	k = sink_start_on(port, none);
	if (k == NULL)
		return;
	g_assert_cmpint(send_one(s, "", "a@example.test", message, &code, &detail2), ==, SMTP_SENT);
	g_clear_pointer(&s, smtp_free);
	sink_stop(k);
}

static void
test_stall(void)
{
	guint16 port;
	int lfd = listen_loopback(&port); /* the kernel completes connects; nobody speaks */
	g_autoptr(MdSmtp) s = smtp_for(port, 2);
	g_autofree char *detail = NULL;
	gint64 t0 = g_get_monotonic_time();
	gint64 elapsed;
	int code = -1;

	g_assert_cmpint(send_one(s, "", "a@example.test", message, &code, &detail), ==,
	                SMTP_TEMPFAIL);
	elapsed = g_get_monotonic_time() - t0;
	g_test_message("elapsed %" G_GINT64_FORMAT " us, detail: %s", elapsed, detail);
	g_assert_cmpint(elapsed, >=, G_USEC_PER_SEC);
	g_assert_cmpint(elapsed, <, 10 * G_USEC_PER_SEC);
	g_assert_cmpint(code, ==, 0);
	g_assert_nonnull(strstr(detail, "imed out"));
	close(lfd);
}

/* A misconfigured URL is a tempfail (mail waits for the fix), never HTTP. */
static void
test_bad_url(void)
{
	static const char *const urls[] = { "http://127.0.0.1:1/", "not a url", "" };

	for (gsize i = 0; i < G_N_ELEMENTS(urls); i++) {
		MdSmtpConfig cfg = { .url = urls[i], .helo = "desk.example.test", .timeout_seconds = 2 };
		g_autoptr(MdSmtp) s = smtp_new(&cfg);
		g_autofree char *detail = NULL;
		int code = -1;

		g_assert_cmpint(send_one(s, "", "a@example.test", message, &code, &detail), ==,
		                SMTP_TEMPFAIL);
		g_test_message("%s: %s", urls[i], detail);
		g_assert_cmpint(code, ==, 0);
	}
}

/* starttls=always and a relay without STARTTLS: nothing goes out in clear. */
static void
test_starttls_required(void)
{
	static const char *const opts[] = { NULL };
	Sink *k = sink_start(opts);
	g_autoptr(MdSmtp) s = NULL;
	g_autofree char *url = NULL;
	g_autofree char *detail = NULL;
	g_autofree char *log = NULL;
	int code = -1;

	if (k == NULL)
		return;
	url = url_for(k->port);
	{
		MdSmtpConfig cfg = { .url = url, .starttls = "always", .timeout_seconds = 5 };

		s = smtp_new(&cfg);
	}
	g_assert_cmpint(send_one(s, "", "a@example.test", message, &code, &detail), ==,
	                SMTP_TEMPFAIL);
	g_test_message("detail: %s", detail);
	g_assert_cmpint(code, ==, 0);
	g_clear_pointer(&s, smtp_free);
	sink_connections(k);
	g_assert_true(g_file_get_contents(k->log, &log, NULL, NULL));
	g_assert_null(strstr(log, "MAIL FROM"));
	sink_stop(k);
}

/*
 * The relay dropped the idle connection (smtp-sink -t 3): reconnect.
 * Three seconds, not one: a loaded machine may be slower than one second
 * between two commands of the first transaction.
 */
static void
test_idle_drop(void)
{
	static const char *const opts[] = { "-t", "3", NULL };
	Sink *k = sink_start(opts);
	g_autoptr(MdSmtp) s = NULL;

	if (k == NULL)
		return;
	s = smtp_for(k->port, 5);
	for (int i = 0; i < 2; i++) {
		g_autofree char *detail = NULL;
		int code, result;

		if (i > 0)
			g_usleep(4500 * 1000);
		result = send_one(s, "", "a@example.test", message, &code, &detail);
		if (result != SMTP_SENT)
			g_test_message("send %d: %s", i, detail);
		g_assert_cmpint(result, ==, SMTP_SENT);
	}
	g_clear_pointer(&s, smtp_free);
	g_assert_cmpuint(sink_connections(k), ==, 2);
	sink_stop(k);
}

static void
test_partial_refusal(void)
{
	Fake *f = fake_start();
	g_autoptr(MdSmtp) s = smtp_for(f->port, 5);
	const char *rcpts[] = { "good1@example.test", "refuse5@example.test",
		                "bad\r\nDATA@example.test", "refuse4@example.test",
		                "good2@example.test", NULL };
	g_autofree char *detail = NULL;
	const GPtrArray *refused;
	const MdSmtpRefusal *r;
	int code = -1;

	g_assert_cmpint(smtp_send(s, "", rcpts, (const guint8 *)message, strlen(message), &code,
	                          &detail),
	                ==, SMTP_SENT);
	g_test_message("detail: %s", detail);
	g_assert_cmpint(code, ==, 250);
	g_assert_cmpint(g_atomic_int_get(&f->messages), ==, 1);
	refused = smtp_refused(s);
	g_assert_cmpuint(refused->len, ==, 3);
	r = g_ptr_array_index(refused, 0);
	g_assert_cmpstr(r->rcpt, ==, "bad\r\nDATA@example.test");
	g_assert_cmpint(r->code, ==, 0);
	r = g_ptr_array_index(refused, 1);
	g_assert_cmpstr(r->rcpt, ==, "refuse5@example.test");
	g_assert_cmpint(r->code, ==, 550);
	g_assert_cmpstr(r->reply, ==, "550 5.1.1 No such user here");
	r = g_ptr_array_index(refused, 2);
	g_assert_cmpstr(r->rcpt, ==, "refuse4@example.test");
	g_assert_cmpint(r->code, ==, 450);
	g_assert_cmpstr(r->reply, ==, "450 4.2.1 Mailbox busy, ?try later");
	g_assert_true(g_str_has_prefix(detail, "250 2.0.0 Ok: queued as FAKE1; refused: "));
	g_assert_nonnull(strstr(detail, "<bad??DATA@example.test> invalid address"));
	g_assert_nonnull(strstr(detail, "<refuse5@example.test> 550 5.1.1"));
	g_assert_null(strchr(detail, '\r'));

	/* the next send starts clean */
	{
		g_autofree char *detail2 = NULL;

		g_assert_cmpint(send_one(s, "", "good1@example.test", message, &code, &detail2), ==,
		                SMTP_SENT);
		g_assert_cmpuint(smtp_refused(s)->len, ==, 0);
		g_assert_cmpstr(detail2, ==, "250 2.0.0 Ok: queued as FAKE1");
	}
	g_clear_pointer(&s, smtp_free);
	g_assert_cmpint(g_atomic_int_get(&f->connections), ==, 1);
	fake_stop(f);
}

static void
test_all_refused(void)
{
	Fake *f = fake_start();
	g_autoptr(MdSmtp) s = smtp_for(f->port, 5);
	const char *mixed[] = { "refuse4@example.test", "refuse5@example.test", NULL };
	const char *hard[] = { "refuse5a@example.test", "refuse5b@example.test", NULL };
	const char *invalid[] = { "x\n@example.test", NULL };
	g_autofree char *d1 = NULL;
	g_autofree char *d2 = NULL;
	g_autofree char *d3 = NULL;
	g_autofree char *d4 = NULL;
	g_autofree char *d5 = NULL;
	int code = -1;

	/* one 4xx among them: retrying may work */
	g_assert_cmpint(smtp_send(s, "", mixed, (const guint8 *)message, strlen(message), &code,
	                          &d1),
	                ==, SMTP_TEMPFAIL);
	g_assert_cmpint(code, ==, 450);
	g_assert_cmpuint(smtp_refused(s)->len, ==, 2);
	g_test_message("mixed: %s", d1);

	g_assert_cmpint(smtp_send(s, "", hard, (const guint8 *)message, strlen(message), &code,
	                          &d2),
	                ==, SMTP_PERMFAIL);
	g_assert_cmpint(code, ==, 550);
	g_assert_cmpuint(smtp_refused(s)->len, ==, 2);

	/* never offered to the relay */
	g_assert_cmpint(smtp_send(s, "", invalid, (const guint8 *)message, strlen(message), &code,
	                          &d3),
	                ==, SMTP_PERMFAIL);
	g_assert_cmpint(code, ==, 0);
	g_assert_cmpint(send_one(s, "a\r\nRSET", "ok@example.test", message, &code, &d4), ==,
	                SMTP_PERMFAIL);
	g_assert_cmpint(code, ==, 0);

	/* after failed transactions the same MdSmtp delivers */
	g_assert_cmpint(send_one(s, "", "ok@example.test", message, &code, &d5), ==, SMTP_SENT);
	g_assert_cmpint(g_atomic_int_get(&f->messages), ==, 1);
	g_clear_pointer(&s, smtp_free);
	/* libcurl closes the connection after each failed transaction */
	g_assert_cmpint(g_atomic_int_get(&f->connections), ==, 3);
	fake_stop(f);
}

/*
 * A refusal followed by a silent relay: the stale 550 must not make the
 * message fail permanently.
 */
static void
test_stale_reply(void)
{
	Fake *f = fake_start();
	g_autoptr(MdSmtp) s = smtp_for(f->port, 2);
	const char *rcpts[] = { "refuse5@example.test", "stall@example.test", NULL };
	g_autofree char *detail = NULL;
	gint64 t0 = g_get_monotonic_time();
	int code = -1;

	g_assert_cmpint(smtp_send(s, "", rcpts, (const guint8 *)message, strlen(message), &code,
	                          &detail),
	                ==, SMTP_TEMPFAIL);
	g_test_message("detail: %s", detail);
	g_assert_cmpint(code, ==, 0);
	g_assert_cmpint(g_get_monotonic_time() - t0, <, 10 * G_USEC_PER_SEC);
	g_assert_nonnull(strstr(detail, "imed out"));
	g_clear_pointer(&s, smtp_free);
	fake_stop(f);
}

static MdSmtp *
smtp_auth(guint16 port, const char *password, gboolean verbose)
{
	g_autofree char *url = url_for(port);
	MdSmtpConfig cfg = {
		.url = url,
		.starttls = "auto",
		.username = "bob",
		.password = password,
		.timeout_seconds = 5,
		.verbose = verbose,
	};

	return smtp_new(&cfg);
}

static void
test_auth(void)
{
	Fake *f = fake_start();
	g_autoptr(MdSmtp) s = smtp_auth(f->port, "s3cret", FALSE);
	g_autoptr(MdSmtp) wrong = smtp_auth(f->port, "nope", FALSE);
	g_autofree char *d1 = NULL;
	g_autofree char *d2 = NULL;
	int code;

	g_assert_cmpint(send_one(s, "", "a@example.test", message, &code, &d1), ==, SMTP_SENT);
	g_assert_cmpstr(f->auth, ==, "|bob|s3cret");
	g_clear_pointer(&s, smtp_free);

	/* a wrong password is the relay set-up, not the message: retry later */
	g_assert_cmpint(send_one(wrong, "", "a@example.test", message, &code, &d2), ==,
	                SMTP_TEMPFAIL);
	g_assert_cmpint(code, ==, 535);
	g_clear_pointer(&wrong, smtp_free);
	fake_stop(f);
}

/* The verbose trace shows the dialogue but no secret and no message byte. */
static void
test_trace(void)
{
	if (g_test_subprocess()) {
		Fake *f = fake_start();
		MdSmtp *s = smtp_auth(f->port, "s3cret", TRUE);
		g_autofree char *d = NULL;
		int code;

		g_assert_cmpint(send_one(s, "", "a@example.test", message, &code, &d), ==, SMTP_SENT);
		smtp_free(s);
		fake_stop(f);
		return;
	}
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_passed();
	g_test_trap_assert_stderr("*smtp: > MAIL FROM:<>*smtp: < 250 2.0.0 Ok: queued as FAKE1*");
	g_test_trap_assert_stderr("*[not shown]*");
	g_test_trap_assert_stderr_unmatched("*AGJvYgBzM2NyZXQ*"); /* base64 of \0bob\0s3cret */
	g_test_trap_assert_stderr_unmatched("*s3cret*");
	g_test_trap_assert_stderr_unmatched("*leading dot*");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	signal(SIGABRT, on_fatal_signal);
	signal(SIGTERM, on_fatal_signal);
	signal(SIGINT, on_fatal_signal);
	signal(SIGPIPE, SIG_IGN);
	smtp_global_init();

	g_test_add_func("/smtp/intact", test_intact);
	g_test_add_func("/smtp/reuse", test_reuse);
	for (gsize i = 0; i < G_N_ELEMENTS(refuse_cases); i++) {
		g_autofree char *path = g_strdup_printf("/smtp/refuse/%s", refuse_cases[i].name);

		g_test_add_data_func(path, &refuse_cases[i], test_refuse);
	}
	g_test_add_func("/smtp/connection-refused", test_connection_refused);
	g_test_add_func("/smtp/stall", test_stall);
	g_test_add_func("/smtp/idle-drop", test_idle_drop);
	g_test_add_func("/smtp/bad-url", test_bad_url);
	g_test_add_func("/smtp/starttls-required", test_starttls_required);
	g_test_add_func("/smtp/partial-refusal", test_partial_refusal);
	g_test_add_func("/smtp/all-refused", test_all_refused);
	g_test_add_func("/smtp/stale-reply", test_stale_reply);
	g_test_add_func("/smtp/auth", test_auth);
	g_test_add_func("/smtp/trace", test_trace);
	return g_test_run();
}
