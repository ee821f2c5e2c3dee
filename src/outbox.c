/*
 * outbox.c - outbox draining with retry and backoff.
 *
 * SMTP itself is smtp.c; SQL is store.c.  This module decides what a
 * relay's answer means for a row: sent, try again later, or failed for
 * good (recorded on the ticket as an event, the ticket flagged, and the
 * people of the ticket told by mail in the same transaction).
 *
 * Must never: write a notice about a failed notice (mail to our own
 * people is only recorded), or more than one notice round per row.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "clock.h"
#include "compose.h"
#include "log.h"
#include "notify.h"
#include "outbox.h"
#include "smtp.h"

gint64
outbox_retry_delay(int attempts, int base, int max)
{
	gint64 delay = base;

	for (int i = 1; i < attempts && delay < max; i++)
		delay *= 2;
	return MIN(delay, (gint64)max);
}

gboolean
outbox_schedule_retry(int attempts, gint64 created, gint64 now, gint64 give_up_after, int base,
                      int max, gint64 *next_r)
{
	if (now - created >= give_up_after)
		return FALSE;
	*next_r = now + outbox_retry_delay(attempts, base, max);
	return TRUE;
}

/* The decoded Subject of a queued mail, or NULL.  Caller frees. */
static char *
raw_subject(GBytes *raw)
{
	gsize len;
	const guint8 *data = g_bytes_get_data(raw, &len);
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer((const char *)data, len);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
	char *subject = msg != NULL ? g_strdup(g_mime_message_get_subject(msg)) : NULL;

	if (msg != NULL)
		g_object_unref(msg);
	g_object_unref(parser);
	g_object_unref(stream);
	return subject;
}

/*
 * Tells the people of the row's ticket that it failed for good, in the
 * transaction that marks it failed (so once per row).  Mail to our own
 * people, and mail about no ticket, is only recorded.
 */
static MdStatus
notice_failure(const MdConfig *cfg, MdStore *store, GBytes *secret, const MdOutboxRow *row,
               GPtrArray *failed, int attempts, gboolean gave_up, gint64 now)
{
	MdIntake in = { .cfg = cfg, .store = store, .secret = secret };
	MdTicket t = { 0 };
	g_autofree char *subject = NULL;
	g_autofree char *error = NULL;
	gboolean found = FALSE, within = FALSE;
	MdFailedMail f;
	MdStatus st;

	if (row->ticket_id <= 0 || failed->len == 0)
		return MD_OK;
	if (!notify_failure_wanted(cfg, row->kind, failed)) {
		log_info("ticket=%" G_GINT64_FORMAT " outbox=%" G_GINT64_FORMAT
		         " kind=%s no notice: the failed mail was for our own people",
		         row->ticket_id, row->id, row->kind);
		return MD_OK;
	}
	if ((st = store_ticket_get(store, row->ticket_id, &t, &found)) != MD_OK || !found)
		goto out;
	if ((st = notify_within_limit(&in, &t, "agent-delivery-failed", now, &within)) != MD_OK ||
	    !within)
		goto out;
	subject = raw_subject(row->raw);
	f.kind = row->kind;
	f.subject = subject;
	f.queued = row->created;
	f.attempts = attempts;
	f.gave_up = gave_up;
	f.failed = failed;
	st = notify_delivery_failed(&in, &t, &f, now, &error);
out:
	if (st != MD_OK)
		log_error("ticket=%" G_GINT64_FORMAT " outbox=%" G_GINT64_FORMAT
		          " delivery-failed notice: %s",
		          row->ticket_id, row->id, error != NULL ? error : store_error(store));
	md_ticket_clear(&t);
	return st;
}

static void
failed_rcpt_free(MdFailedRcpt *r)
{
	g_free((char *)r->to);
	g_free((char *)r->answer);
	g_free(r);
}

/* The relay's own reply line (it starts with the code) for a person to read. */
static const char *
refusal_answer(const MdSmtpRefusal *r)
{
	return r->reply != NULL && *r->reply != '\0' ? r->reply : "refused";
}

static const MdSmtpRefusal *
refusal_of(const GPtrArray *refused, const char *rcpt)
{
	for (guint i = 0; i < refused->len; i++) {
		const MdSmtpRefusal *r = refused->pdata[i];

		if (strcmp(r->rcpt, rcpt) == 0)
			return r;
	}
	return NULL;
}

static void
add_failed(GPtrArray *failed, const char *to, const char *answer)
{
	MdFailedRcpt *r = g_new0(MdFailedRcpt, 1);

	r->to = g_strdup(to);
	r->answer = g_strdup(answer);
	g_ptr_array_add(failed, r);
}

/* Records one row's outcome in its own short transaction. */
/*
 * After a message went to some recipients but not all: the ones refused
 * for now get a row of their own (so the others are not sent it twice),
 * the ones refused for good are recorded on the ticket.
 */
static MdStatus
record_refusals(const MdConfig *cfg, MdStore *store, GBytes *secret, const MdOutboxRow *row,
                const GPtrArray *refused, gint64 now)
{
	g_autoptr(GString) retry = g_string_new(NULL);
	g_autoptr(GPtrArray) failed = g_ptr_array_new_with_free_func((GDestroyNotify)failed_rcpt_free);
	MdStatus st = MD_OK;

	for (guint i = 0; i < refused->len && st == MD_OK; i++) {
		const MdSmtpRefusal *r = refused->pdata[i];

		if (r->code >= 400 && r->code < 500) {
			g_string_append_printf(retry, "%s%s", retry->len ? "\n" : "", r->rcpt);
		} else if (row->ticket_id > 0) {
			g_autofree char *what = g_strdup_printf("%d %s", r->code, r->reply ? r->reply : "");

			st = store_event_add(store, row->ticket_id, now, "maildesk", "delivery-failed",
			                     r->rcpt, what);
			if (st == MD_OK)
				st = store_ticket_flag(store, row->ticket_id);
			add_failed(failed, r->rcpt, refusal_answer(r));
		}
	}
	/* one notice for all the recipients refused for good */
	if (st == MD_OK)
		st = notice_failure(cfg, store, secret, row, failed, row->attempts + 1, FALSE, now);
	if (st == MD_OK && retry->len > 0) {
		gsize len;
		const guint8 *data = g_bytes_get_data(row->raw, &len);
		gint64 id = 0;

		st = store_outbox_insert(store, row->ticket_id, 0, row->kind, row->env_from, retry->str,
		                         data, len, now, &id);
		if (st == MD_OK)
			st = store_outbox_retry(store, id, 1, now + outbox_retry_delay(1, cfg->retry_base,
			                                                              cfg->retry_max),
			                        "recipient refused for now");
	}
	return st;
}

static MdStatus
record_outcome(const MdConfig *cfg, MdStore *store, GBytes *secret, const MdOutboxRow *row,
               MdSmtpResult result, int code, const char *detail, const GPtrArray *refused,
               MdDrainCounts *counts)
{
	g_autoptr(GPtrArray) failed = g_ptr_array_new_with_free_func((GDestroyNotify)failed_rcpt_free);
	gint64 now = clock_now();
	int attempts = row->attempts + 1;
	g_autofree char *safe = log_safe(detail);
	const char *rcpt = row->rcpts[0] ? row->rcpts[0] : "";
	MdStatus st;
	gint64 next = 0;

	if ((st = store_begin(store)) != MD_OK)
		return st;
	switch (result) {
	case SMTP_SENT:
		st = store_outbox_sent(store, row->id, now, detail);
		if (st == MD_OK && refused->len > 0)
			st = record_refusals(cfg, store, secret, row, refused, now);
		counts->sent++;
		log_info("ticket=%" G_GINT64_FORMAT " outbox=%" G_GINT64_FORMAT
		         " to=<%s> kind=%s status=sent relay=\"%s\"",
		         row->ticket_id, row->id, rcpt, row->kind, safe);
		break;
	case SMTP_TEMPFAIL:
		if (outbox_schedule_retry(attempts, row->created, now, cfg->give_up_after,
		                          cfg->retry_base, cfg->retry_max, &next)) {
			st = store_outbox_retry(store, row->id, attempts, next, detail);
			counts->deferred++;
			log_warning("ticket=%" G_GINT64_FORMAT " outbox=%" G_GINT64_FORMAT
			            " to=<%s> status=deferred attempts=%d retry_in=%" G_GINT64_FORMAT
			            "s reason=\"%s\"",
			            row->ticket_id, row->id, rcpt, attempts, next - now, safe);
			break;
		}
		/* queued too long: a transient failure became a permanent one */
		G_GNUC_FALLTHROUGH;
	case SMTP_PERMFAIL:
		st = store_outbox_failed(store, row->id, attempts, now, detail);
		if (st == MD_OK && row->ticket_id > 0) {
			g_autofree char *what = g_strdup_printf("%d %s", code, detail ? detail : "");

			st = store_event_add(store, row->ticket_id, now, "maildesk", "delivery-failed",
			                     rcpt, what);
			if (st == MD_OK)
				st = store_ticket_flag(store, row->ticket_id);
			/* nobody got it: each recipient with the answer about
			 * them, else the one about the mail (MAIL, DATA, ...) */
			for (guint i = 0; row->rcpts[i] != NULL; i++) {
				const MdSmtpRefusal *r = refusal_of(refused, row->rcpts[i]);

				add_failed(failed, row->rcpts[i],
				           r != NULL ? refusal_answer(r) : detail != NULL ? detail : what);
			}
			if (st == MD_OK)
				st = notice_failure(cfg, store, secret, row, failed, attempts,
				                    result == SMTP_TEMPFAIL, now);
		}
		counts->failed++;
		log_warning("ticket=%" G_GINT64_FORMAT " outbox=%" G_GINT64_FORMAT
		            " to=<%s> status=failed attempts=%d reason=\"%s\"",
		            row->ticket_id, row->id, rcpt, attempts, safe);
		break;
	}
	if (st != MD_OK) {
		store_rollback(store);
		return st;
	}
	return store_commit(store);
}

/* addr with its domain in IDNA form, or NULL.  Caller frees. */
static char *
idna_form(const char *addr)
{
	const char *at = strrchr(addr, '@');
	g_autofree char *domain = NULL;

	if (at == NULL || !g_utf8_validate(addr, -1, NULL))
		return NULL;
	domain = g_hostname_to_ascii(at + 1);
	if (domain == NULL)
		return NULL;
	return g_strdup_printf("%.*s@%s", (int)(at - addr), addr, domain);
}

/*
 * The row's recipients that its own mail shows in To or Cc, as
 * compose_recipients() reads them (NULL-terminated, borrowed from
 * shown).  A recipient the header does not show is never sent to,
 * whatever wrote the row: it is logged and left out.
 */
static GPtrArray *
shown_rcpts(const MdOutboxRow *row, char **shown)
{
	GPtrArray *out = g_ptr_array_new();

	for (guint i = 0; row->rcpts[i] != NULL; i++) {
		g_autofree char *idna = idna_form(row->rcpts[i]);
		const char *found = NULL;

		for (guint k = 0; shown[k] != NULL && found == NULL; k++)
			if (g_ascii_strcasecmp(shown[k], row->rcpts[i]) == 0 ||
			    (idna != NULL && g_ascii_strcasecmp(shown[k], idna) == 0))
				found = shown[k];
		if (found != NULL) {
			if (!g_ptr_array_find(out, found, NULL))
				g_ptr_array_add(out, (gpointer)found);
		} else {
			g_autofree char *safe = log_safe(row->rcpts[i]);

			log_warning("ticket=%" G_GINT64_FORMAT " outbox=%" G_GINT64_FORMAT
			            " to=<%s> not shown in the mail's To or Cc: not sent to",
			            row->ticket_id, row->id, safe);
		}
	}
	g_ptr_array_add(out, NULL);
	return out;
}

MdStatus
outbox_drain(const MdConfig *cfg, MdStore *store, GBytes *secret, MdDrainCounts *counts_r)
{
	MdSmtpConfig sc = {
		.url = cfg->smtp_url,
		/* never offer a password over a connection that stayed plain */
		.starttls = cfg->smtp_username != NULL && strcmp(cfg->smtp_starttls, "auto") == 0
		                    ? "always"
		                    : cfg->smtp_starttls,
		.username = cfg->smtp_username,
		.password = cfg->smtp_password,
		.helo = cfg->smtp_helo ? cfg->smtp_helo : cfg->hostname,
		.timeout_seconds = cfg->smtp_timeout,
		.verify_tls = cfg->smtp_verify_tls,
		.verbose = FALSE,
	};
	MdSmtp *smtp = NULL;
	MdStatus st = MD_OK;
	gboolean relay_down = FALSE;

	memset(counts_r, 0, sizeof *counts_r);
	while (st == MD_OK && !relay_down) {
		g_autoptr(GPtrArray) rows =
			g_ptr_array_new_with_free_func((GDestroyNotify)md_outbox_row_free);

		if ((st = store_outbox_due(store, clock_now(), 100, rows)) != MD_OK || rows->len == 0)
			break;
		if (smtp == NULL)
			smtp = smtp_new(&sc);
		for (guint i = 0; i < rows->len && st == MD_OK; i++) {
			const MdOutboxRow *row = rows->pdata[i];
			g_autofree char *detail = NULL;
			gsize len;
			const guint8 *data = g_bytes_get_data(row->raw, &len);
			g_auto(GStrv) shown = compose_recipients(data, len);
			g_autoptr(GPtrArray) rcpts = shown_rcpts(row, shown);
			int code = 0;
			MdSmtpResult r = smtp_send(smtp, row->env_from, (const char *const *)rcpts->pdata,
			                           data, len, &code, &detail);

			st = record_outcome(cfg, store, secret, row, r, code, detail, smtp_refused(smtp),
			                    counts_r);
			/* the relay is unreachable: the other rows would only fail the
			 * same way, one timeout each; they keep their turn */
			if (r == SMTP_TEMPFAIL && code == 0)
				relay_down = TRUE;
			if (relay_down)
				break;
		}
	}
	smtp_free(smtp);
	return st;
}

int
outbox_open_send_lock(const MdConfig *cfg)
{
	g_autofree char *path = g_strdup_printf("%s.send.lock", cfg->database);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0)
		log_error("send lock %s: %s", path, g_strerror(errno));
	return fd;
}
