/*
 * cmd_fetch.c - maildesk fetch [--once] [--mailbox NAME]: intake from the
 * [mailbox NAME] groups of the configuration over IMAP or POP3 (fetch.c).
 *
 * --once takes what the mailboxes hold, one after the other, and exits
 * (cron, tests): 0 when all went well, 75 when anything was left for the
 * next run, 78 for a refused login or certificate.  Without it the
 * command stays in the foreground (systemd), one process per mailbox,
 * waiting with IMAP IDLE where the server offers it, else polling; SIGTERM
 * or SIGINT ends it after the message at hand.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "commands.h"
#include "fetch.h"
#include "log.h"

static volatile sig_atomic_t stop_requested;

static void
on_term(int sig)
{
	stop_requested = 1;
}

static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: a wait in poll() or waitpid() must end at once */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

typedef struct {
	const MdGlobal *g;
	const MdConfig *cfg;
} Kick;

/* As deliver does: the acknowledgements go out now, not at the next timer. */
static void
kick_sender(gpointer data)
{
	const Kick *k = data;

	if (k->cfg->send_after_deliver)
		commands_kick_sender(k->g);
}

/* The mailbox a child process watches until told to stop. */
static int
watch_one(const MdGlobal *g, const MdConfig *cfg, GBytes *secret, const MdMailbox *mb)
{
	Kick kick = { g, cfg };
	MdStore *store;
	MdStatus st;

	if ((store = commands_open_store(cfg, FALSE, &st)) == NULL)
		return status_exit_code(st);
	{
		MdIntake in = { .cfg = cfg, .store = store, .secret = secret };

		log_info("mailbox=%s watching %s://%s:%d", mb->name, mb->pop3 ? "pop3" : "imap",
		         mb->host, mb->port);
		st = fetch_mailbox_watch(&in, mb, &stop_requested, kick_sender, &kick);
	}
	store_close(store);
	return status_exit_code(st);
}

/* One child per mailbox; SIGTERM is passed on, and the last child's end awaited. */
static int
watch_all(const MdGlobal *g, const MdConfig *cfg, GBytes *secret, GPtrArray *mailboxes)
{
	g_autoptr(GArray) pids = g_array_new(FALSE, FALSE, sizeof(pid_t));
	int code = EX_OK;

	if (mailboxes->len == 1)
		return watch_one(g, cfg, secret, mailboxes->pdata[0]);
	for (guint i = 0; i < mailboxes->len; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			log_error("fetch: cannot fork: %s", g_strerror(errno));
			stop_requested = 1;
			break;
		}
		if (pid == 0)
			_exit(watch_one(g, cfg, secret, mailboxes->pdata[i]));
		g_array_append_val(pids, pid);
	}
	while (pids->len > 0) {
		int status;
		pid_t pid = waitpid(-1, &status, 0);

		if (pid < 0 && errno == EINTR) {
			if (stop_requested)
				for (guint i = 0; i < pids->len; i++)
					kill(g_array_index(pids, pid_t, i), SIGTERM);
			continue;
		}
		if (pid < 0)
			break;
		for (guint i = 0; i < pids->len; i++)
			if (g_array_index(pids, pid_t, i) == pid) {
				g_array_remove_index_fast(pids, i);
				break;
			}
		if (WIFEXITED(status) && WEXITSTATUS(status) != EX_OK)
			code = WEXITSTATUS(status);
		/* one watcher ending on its own ends them all: systemd restarts us */
		if (!stop_requested) {
			stop_requested = 1;
			for (guint i = 0; i < pids->len; i++)
				kill(g_array_index(pids, pid_t, i), SIGTERM);
		}
	}
	return code;
}

static int
fetch_all_once(const MdGlobal *g, const MdConfig *cfg, GBytes *secret, GPtrArray *mailboxes,
               gboolean quiet)
{
	Kick kick = { g, cfg };
	MdStore *store;
	MdStatus st, worst = MD_OK;
	guint queued = 0;

	if ((store = commands_open_store(cfg, FALSE, &st)) == NULL)
		return status_exit_code(st);
	for (guint i = 0; i < mailboxes->len && !stop_requested; i++) {
		const MdMailbox *mb = mailboxes->pdata[i];
		MdIntake in = { .cfg = cfg, .store = store, .secret = secret };
		MdFetchCounts counts;

		st = fetch_mailbox_once(&in, mb, &counts);
		queued += counts.queued;
		if (!quiet)
			printf("%s: taken %u, marked %u, left %u%s\n", mb->name, counts.taken,
			       counts.marked, counts.left,
			       st == MD_OK ? "" : st == MD_CONFIG ? " (refused: see the log)"
			                                         : " (stopped: see the log)");
		if (st == MD_OK && counts.left > 0)
			st = MD_TEMPFAIL;
		/* the worst of all: a broken setting over a passing trouble */
		if (st == MD_CONFIG || (st == MD_TEMPFAIL && worst == MD_OK))
			worst = st;
	}
	store_close(store);
	if (queued > 0)
		kick_sender(&kick);
	return status_exit_code(worst);
}

int
cmd_fetch(const MdGlobal *g, int argc, char **argv)
{
	gboolean once = FALSE, quiet = FALSE;
	g_autofree char *only = NULL;
	GOptionEntry entries[] = {
		{ "once", 0, 0, G_OPTION_ARG_NONE, &once, "take what is there, then exit", NULL },
		{ "mailbox", 'm', 0, G_OPTION_ARG_STRING, &only, "only the [mailbox NAME] given",
		  "NAME" },
		{ "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "print no summary", NULL },
		{ NULL },
	};
	g_autoptr(MdConfig) cfg = NULL;
	g_autoptr(GPtrArray) mailboxes = g_ptr_array_new();
	g_autofree char *secret_error = NULL;
	GBytes *secret;
	int code;

	if (!commands_parse_options("- take mail from IMAP or POP3 mailboxes", entries, FALSE, &argc,
	                            &argv))
		return EX_USAGE;
	if (argc > 1) {
		fprintf(stderr, "maildesk: fetch: unexpected argument \"%s\"\n", argv[1]);
		return EX_USAGE;
	}
	if ((cfg = commands_load_config(g, FALSE)) == NULL)
		return EX_CONFIG;
	for (guint i = 0; i < cfg->mailboxes->len; i++) {
		const MdMailbox *mb = cfg->mailboxes->pdata[i];

		if (only == NULL || strcmp(only, mb->name) == 0)
			g_ptr_array_add(mailboxes, (gpointer)mb);
	}
	if (mailboxes->len == 0) {
		if (only != NULL)
			fprintf(stderr, "maildesk: fetch: no [mailbox %s] in %s\n", only, cfg->path);
		else
			fprintf(stderr, "maildesk: fetch: no [mailbox NAME] group in %s\n", cfg->path);
		return EX_CONFIG;
	}
	if ((secret = conf_read_secret(cfg, &secret_error)) == NULL) {
		fprintf(stderr, "maildesk: %s\n", secret_error);
		return EX_CONFIG;
	}
	signal(SIGPIPE, SIG_IGN);
	catch_signals();
	fetch_global_init();
	code = once ? fetch_all_once(g, cfg, secret, mailboxes, quiet)
	            : watch_all(g, cfg, secret, mailboxes);
	g_bytes_unref(secret);
	return code;
}
