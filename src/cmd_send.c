/*
 * cmd_send.c - maildesk send [--once]: drains the outbox.
 *
 * One sender at a time: a lock file beside the database serialises them,
 * so a row is never submitted twice concurrently.  --once drains what is
 * due and exits; without it the command keeps running and drains as rows
 * come due.  --if-idle (used by deliver's background kick) exits at once
 * when another sender holds the lock; that sender looks again for due
 * rows after releasing it, so nothing committed meanwhile waits.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sysexits.h>
#include <unistd.h>

#include "clock.h"
#include "commands.h"
#include "log.h"
#include "outbox.h"
#include "smtp.h"

static volatile sig_atomic_t stop_requested;

static void
on_term(int sig)
{
	stop_requested = 1;
}

/* Drains while holding the lock; returns the status of the last drain. */
static MdStatus
drain_locked(const MdConfig *cfg, MdStore *store, GBytes *secret, int lock_fd, gboolean wait,
             gboolean quiet)
{
	MdStatus st = MD_OK;

	for (;;) {
		MdDrainCounts counts;
		gint64 next = 0;

		if (flock(lock_fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB) != 0)
			return MD_OK; /* another sender is at work */
		st = outbox_drain(cfg, store, secret, &counts);
		flock(lock_fd, LOCK_UN);
		if (!quiet && (counts.sent || counts.deferred || counts.failed))
			printf("sent %d, deferred %d, failed %d\n", counts.sent, counts.deferred,
			       counts.failed);
		if (st != MD_OK)
			return st;
		/* rows a concurrent deliver committed while we held the lock */
		if (store_outbox_next_due(store, &next) != MD_OK || next == 0 || next > clock_now() ||
		    counts.sent + counts.failed == 0)
			return MD_OK;
		wait = FALSE;
	}
}

int
cmd_send(const MdGlobal *g, int argc, char **argv)
{
	gboolean once = FALSE, if_idle = FALSE, quiet = FALSE;
	GOptionEntry entries[] = {
		{ "once", 0, 0, G_OPTION_ARG_NONE, &once, "drain what is due, then exit", NULL },
		{ "if-idle", 0, 0, G_OPTION_ARG_NONE, &if_idle,
		  "exit at once when another sender is running", NULL },
		{ "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "print no summary", NULL },
		{ NULL },
	};
	g_autoptr(MdConfig) cfg = NULL;
	g_autoptr(GBytes) secret = NULL;
	g_autofree char *secret_error = NULL;
	MdStore *store;
	MdStatus st;
	int lock_fd;

	if (!commands_parse_options("- drain the outbox", entries, FALSE, &argc, &argv))
		return EX_USAGE;
	if ((cfg = commands_load_config(g, FALSE)) == NULL)
		return EX_CONFIG;
	/* a mail that fails for good is answered with a signed agent notice */
	if ((secret = conf_read_secret(cfg, &secret_error)) == NULL) {
		fprintf(stderr, "maildesk: %s\n", secret_error);
		return EX_CONFIG;
	}
	if ((store = commands_open_store(cfg, FALSE, &st)) == NULL)
		return status_exit_code(st);
	if ((lock_fd = outbox_open_send_lock(cfg)) < 0) {
		store_close(store);
		return EX_TEMPFAIL;
	}
	smtp_global_init();
	signal(SIGPIPE, SIG_IGN);

	if (once) {
		st = drain_locked(cfg, store, secret, lock_fd, !if_idle, quiet || if_idle);
	} else {
		signal(SIGTERM, on_term);
		signal(SIGINT, on_term);
		while (!stop_requested) {
			gint64 next = 0;
			gint64 pause = 60;

			st = drain_locked(cfg, store, secret, lock_fd, TRUE, quiet);
			if (st == MD_OK && store_outbox_next_due(store, &next) == MD_OK && next > 0)
				pause = CLAMP(next - clock_now(), 1, 60);
			for (gint64 i = 0; i < pause && !stop_requested; i++)
				sleep(1);
		}
		st = MD_OK;
	}
	close(lock_fd);
	store_close(store);
	if (st != MD_OK)
		fprintf(stderr, "maildesk: send: %s\n", "database trouble; see the log");
	return status_exit_code(st);
}
