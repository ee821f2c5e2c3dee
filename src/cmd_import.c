/*
 * cmd_import.c - maildesk import [--queue NAME] PATH...: past support mail
 * (mbox files, Maildirs) into tickets, through the intake pipeline.
 *
 * Every message goes through intake_message with no_ack (see intake.h):
 * threaded as usual, nothing sent or queued, and the clock set to the
 * message's own date, so tickets, messages and events carry the time
 * the mail was written, not the time of the import.  Messages are taken
 * oldest first across all the PATHs, so that a Sent folder given with an
 * inbox threads its replies onto the questions they answer.  Each
 * message is its own commit and a message already stored is recognised
 * by its content hash: an import stopped at any point (even by SIGKILL)
 * and run again ends with each message exactly once.
 *
 * Exit codes: 0 when every message was imported or was there already;
 * EX_TEMPFAIL when some hit transient trouble (each is named; running the
 * same import again takes them); EX_NOINPUT or EX_DATAERR for a PATH that
 * cannot be read or is no mbox or Maildir (then nothing is imported);
 * EX_DATAERR also when a message was over max_message_size.
 */
#include "config.h"

#include <stdio.h>
#include <sysexits.h>
#include <unistd.h>

#include "archive.h"
#include "clock.h"
#include "commands.h"
#include "intake.h"
#include "log.h"

typedef struct {
	guint read, created, appended, duplicates, failed;
	guint ours;       /* our own replies and notes among created and appended */
	guint too_big;    /* of failed: over max_message_size, not retried */
	GHashTable *tickets; /* gint64* ticket ids this run touched */
} Tally;

/* A terminal's progress bar on stderr, redrawn at most ten times a second. */
typedef struct {
	gboolean on;
	gint64 last;
} Progress;

static void
progress_show(Progress *p, guint done, guint total, gboolean final)
{
	gint64 now = g_get_monotonic_time();
	int width = 40, filled;

	if (!p->on || total == 0 || (!final && now - p->last < G_USEC_PER_SEC / 10))
		return;
	p->last = now;
	filled = (int)((gint64)width * done / total);
	fprintf(stderr, "\rimporting [%.*s%*s] %u/%u", filled,
	        "########################################", width - filled, "", done, total);
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

/* Where a message came from, for the admin to find it. */
static char *
describe(const char *path, const MdArchiveItem *it)
{
	if (it->file != NULL)
		return g_strdup(it->file);
	return g_strdup_printf("%s (message at byte %" G_GINT64_FORMAT ")", path, it->offset);
}

static void
count_ticket(Tally *t, gint64 id)
{
	if (id > 0)
		g_hash_table_add(t->tickets, g_memdup2(&id, sizeof id));
}

/* Open, closed as history and flagged among the tickets this run touched. */
static MdStatus
ticket_states(MdStore *store, GHashTable *tickets, guint *open_r, guint *closed_r,
              guint *flagged_r)
{
	GHashTableIter iter;
	gpointer key;

	*open_r = *closed_r = *flagged_r = 0;
	g_hash_table_iter_init(&iter, tickets);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		MdTicket t = { 0 };
		gboolean found = FALSE;
		MdStatus st = store_ticket_get(store, *(gint64 *)key, &t, &found);

		if (st != MD_OK)
			return st;
		if (found) {
			if (g_strcmp0(t.status, "closed") == 0)
				(*closed_r)++;
			else if (g_strcmp0(t.status, "solved") != 0)
				(*open_r)++;
			if (t.needs_attention)
				(*flagged_r)++;
		}
		md_ticket_clear(&t);
	}
	return MD_OK;
}

int
cmd_import(const MdGlobal *g, int argc, char **argv)
{
	g_autofree char *queue_name = NULL;
	GOptionEntry entries[] = {
		{ "queue", 0, 0, G_OPTION_ARG_STRING, &queue_name,
		  "new tickets go to this queue (default: by the address the mail was sent to)",
		  "NAME" },
		{ NULL },
	};
	g_autoptr(MdConfig) cfg = NULL;
	g_autoptr(GArray) items = g_array_new(FALSE, TRUE, sizeof(MdArchiveItem));
	g_autoptr(GPtrArray) trouble = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *secret_error = NULL;
	g_autofree char *error = NULL;
	Tally tally = { 0 };
	Progress progress = { isatty(STDERR_FILENO), 0 };
	MdArchiveKind *kinds;
	MdEnvelope env = { .no_ack = TRUE };
	MdIntake in = { 0 };
	const MdQueue *queue = NULL;
	MdStore *store;
	GBytes *secret;
	MdStatus st = MD_OK;
	gint64 started;
	guint n_open = 0, closed = 0, flagged = 0;
	int code = EX_OK;

	if (!commands_parse_options("PATH... - import an mbox file or a Maildir of past mail",
	                            entries, FALSE, &argc, &argv))
		return status_exit_code(MD_USAGE);
	if (argc < 2) {
		fprintf(stderr, "maildesk: import: which mbox file or Maildir?\n");
		return status_exit_code(MD_USAGE);
	}
	if ((cfg = commands_load_config(g, FALSE)) == NULL)
		return status_exit_code(MD_CONFIG);
	if (queue_name != NULL && (queue = conf_queue_by_name(cfg, queue_name)) == NULL) {
		fprintf(stderr, "maildesk: import: no queue \"%s\" in %s\n", queue_name, cfg->path);
		return status_exit_code(MD_USAGE);
	}

	/* every PATH must be usable before anything is imported */
	kinds = g_new(MdArchiveKind, argc);
	for (int i = 1; i < argc; i++)
		if ((st = archive_probe(argv[i], &kinds[i], &error)) != MD_OK) {
			fprintf(stderr, "maildesk: import: %s\n", error);
			g_free(kinds);
			return status_exit_code(st);
		}
	g_array_set_clear_func(items, (GDestroyNotify)archive_item_clear);
	for (int i = 1; i < argc; i++) {
		if (progress.on)
			fprintf(stderr, "scanning %s\n", argv[i]);
		if ((st = archive_scan(argv[i], kinds[i], (guint)i, items, &error)) != MD_OK) {
			fprintf(stderr, "maildesk: import: %s\n", error);
			g_free(kinds);
			return status_exit_code(st);
		}
	}
	g_free(kinds);
	archive_sort(items);

	if ((secret = conf_read_secret(cfg, &secret_error)) == NULL) {
		fprintf(stderr, "maildesk: %s\n", secret_error);
		return status_exit_code(MD_CONFIG);
	}
	if ((store = commands_open_store(cfg, FALSE, &st)) == NULL) {
		g_bytes_unref(secret);
		return status_exit_code(st);
	}
	started = clock_now();
	in.cfg = cfg;
	in.store = store;
	in.secret = secret;
	in.import_queue = queue;
	in.import_started = started;
	tally.tickets = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);

	for (guint i = 0; i < items->len; i++) {
		const MdArchiveItem *it = &g_array_index(items, MdArchiveItem, i);
		const char *path = argv[it->source];
		g_autoptr(GByteArray) raw = NULL;
		g_autofree char *why = NULL;
		MdIntakeResult res = { 0 };
		gboolean too_big = FALSE;

		progress_show(&progress, i, items->len, FALSE);
		tally.read++;
		st = archive_read(path, it, cfg->max_message_size, &raw, &too_big, &why);
		if (st == MD_OK && too_big) {
			g_autofree char *where = describe(path, it);

			tally.failed++;
			tally.too_big++;
			g_ptr_array_add(trouble,
			                g_strdup_printf("%s: over max_message_size (%" G_GINT64_FORMAT
			                                " bytes), not imported",
			                                where, cfg->max_message_size));
			continue;
		}
		if (st == MD_OK) {
			/* the message's own time is "now" for everything it does; a
			 * date in the future is a wrong clock, not a promise */
			clock_set(MIN(it->when, started));
			st = intake_message(&in, raw->data, raw->len, &env, &res);
			clock_set(0);
			if (st != MD_OK)
				why = g_steal_pointer(&res.error);
		}
		if (st == MD_OK) {
			/* own-mail: a copy of mail maildesk itself sent, stored already */
			gboolean again = g_strcmp0(res.action, "duplicate") == 0 ||
			                 g_strcmp0(res.action, "own-mail") == 0;

			count_ticket(&tally, res.ticket);
			if (again)
				tally.duplicates++;
			else if (res.ticket_created)
				tally.created++;
			else
				tally.appended++;
			if (res.ours && !again)
				tally.ours++;
		} else {
			g_autofree char *where = describe(path, it);
			g_autofree char *safe = log_safe(why);

			tally.failed++;
			g_ptr_array_add(trouble, g_strdup_printf("%s: %s %s", where,
			                                         status_enhanced_code(st), safe));
			log_error("import: %s: status=deferred reason=\"%s\"", where, safe);
		}
		md_intake_result_clear(&res);
		if (st == MD_CONFIG) {
			code = status_exit_code(MD_CONFIG);
			break;
		}
		if (st != MD_OK)
			code = status_exit_code(MD_TEMPFAIL);
	}
	progress_show(&progress, tally.read, items->len, TRUE);

	for (guint i = 0; i < trouble->len; i++)
		fprintf(stderr, "maildesk: import: %s\n", (char *)trouble->pdata[i]);
	if (ticket_states(store, tally.tickets, &n_open, &closed, &flagged) != MD_OK)
		fprintf(stderr, "maildesk: import: %s\n", store_error(store));
	printf("messages read: %u\n"
	       "tickets created: %u\n"
	       "appended: %u\n"
	       "duplicates skipped: %u\n"
	       "failed: %u\n"
	       "our own replies: %u\n"
	       "tickets open: %u\n"
	       "tickets closed as history: %u\n"
	       "tickets flagged for an agent: %u\n",
	       tally.read, tally.created, tally.appended, tally.duplicates, tally.failed, tally.ours,
	       n_open, closed, flagged);
	if (n_open > 0)
		printf("note: the open tickets have no ETA and no agent yet; they wait in their "
		       "queues\n");
	if (tally.failed > tally.too_big)
		printf("note: %u messages hit transient trouble: run the same import again\n",
		       tally.failed - tally.too_big);
	log_info("import: read=%u created=%u appended=%u duplicates=%u failed=%u", tally.read,
	         tally.created, tally.appended, tally.duplicates, tally.failed);

	g_hash_table_destroy(tally.tickets);
	store_close(store);
	g_bytes_unref(secret);
	if (code == EX_OK && tally.too_big > 0)
		code = status_exit_code(MD_DATAERR);
	return code;
}
