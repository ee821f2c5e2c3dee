/*
 * intake.c - the intake pipeline (see intake.h for the order of stages).
 *
 * Must never: exit, send mail, write outside the transaction, or return
 * MD_OK before the commit.  Every store failure rolls back and becomes the
 * status the caller hands to the MTA.
 */
#include "config.h"

#include <string.h>

#include "clock.h"
#include "compose.h"
#include "datefmt.h"
#include "guard.h"
#include "i18n.h"
#include "intake.h"
#include "lang.h"
#include "log.h"
#include "parse.h"
#include "subject.h"
#include "template.h"
#include "thread.h"
#include "token.h"

#define MAX_OUT_REFERENCES 20
/* The text kept for agents and JSON; the raw message keeps everything. */
#define MAX_STORED_TEXT (1 << 20)

void
md_intake_result_clear(MdIntakeResult *r)
{
	g_free(r->ack_withheld);
	g_free(r->error);
	memset(r, 0, sizeof *r);
}

void
intake_strip_from_line(const guint8 **raw, gsize *len)
{
	const guint8 *nl;

	if (*len < 5 || memcmp(*raw, "From ", 5) != 0)
		return;
	nl = memchr(*raw, '\n', *len);
	if (nl == NULL)
		return;
	*len -= (gsize)(nl + 1 - *raw);
	*raw = nl + 1;
}

static char *
sha256_hex(const guint8 *data, gsize len)
{
	return g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, len);
}

static char *
join_addresses(GPtrArray *addrs)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < addrs->len; i++) {
		const MdAddress *a = addrs->pdata[i];

		if (a->addr != NULL)
			g_string_append_printf(out, "%s%s", out->len ? ", " : "", a->addr);
	}
	if (out->len == 0) {
		g_string_free(out, TRUE);
		return NULL;
	}
	return g_string_free(out, FALSE);
}

static char *
join_references(GPtrArray *refs)
{
	if (refs->len == 0)
		return NULL;
	g_ptr_array_add(refs, NULL);
	{
		char *joined = g_strjoinv(" ", (char **)refs->pdata);

		g_ptr_array_remove_index(refs, refs->len - 1);
		return joined;
	}
}

/* Where the message was sent: the envelope recipient, else To/Cc. */
static const MdQueue *
pick_queue(const MdConfig *cfg, const MdMessage *msg, const char *recipient)
{
	const MdQueue *q = conf_queue_for_address(cfg, recipient);

	for (guint i = 0; q == NULL && i < msg->to->len; i++)
		q = conf_queue_for_address(cfg, ((MdAddress *)msg->to->pdata[i])->addr);
	for (guint i = 0; q == NULL && i < msg->cc->len; i++)
		q = conf_queue_for_address(cfg, ((MdAddress *)msg->cc->pdata[i])->addr);
	return q != NULL ? q : cfg->queues->pdata[0];
}

/* A verified token on the envelope recipient, else on any To/Cc address. */
static gint64
find_token(GBytes *secret, const MdMessage *msg, const char *recipient, char **purpose_r,
           gboolean *forged_r)
{
	gint64 ticket = 0;
	GPtrArray *lists[] = { msg->to, msg->cc };

	*forged_r = FALSE;
	if (recipient != NULL) {
		if (token_verify(secret, recipient, &ticket, purpose_r))
			return ticket;
		*forged_r = token_present(recipient);
		/* the envelope is what Postfix delivered to: trust it alone */
		return 0;
	}
	for (unsigned l = 0; l < G_N_ELEMENTS(lists); l++)
		for (guint i = 0; i < lists[l]->len; i++) {
			const char *a = ((MdAddress *)lists[l]->pdata[i])->addr;

			if (a != NULL && token_verify(secret, a, &ticket, purpose_r))
				return ticket;
			if (a != NULL && token_present(a))
				*forged_r = TRUE;
		}
	return 0;
}

/* The newest Message-ID we know among In-Reply-To and References. */
static MdStatus
find_referenced_ticket(MdStore *store, const MdMessage *msg, gint64 *ticket_r)
{
	MdStatus st;

	*ticket_r = 0;
	if (msg->in_reply_to != NULL) {
		if ((st = store_ticket_by_message_id(store, msg->in_reply_to, ticket_r)) != MD_OK)
			return st;
		if (*ticket_r > 0)
			return MD_OK;
	}
	/* newest first, and a bounded number: a hostile References header may
	 * name a hundred thousand ids */
	for (guint i = msg->references->len, n = 0; i > 0 && n < 100; i--, n++) {
		if ((st = store_ticket_by_message_id(store, msg->references->pdata[i - 1], ticket_r)) !=
		    MD_OK)
			return st;
		if (*ticket_r > 0)
			return MD_OK;
	}
	return MD_OK;
}

static const char *
sender_address(const MdMessage *msg, const char *env_sender)
{
	if (msg->from != NULL && msg->from->addr != NULL && strchr(msg->from->addr, '@') != NULL)
		return msg->from->addr;
	if (env_sender != NULL && *env_sender != '\0' && strcmp(env_sender, "<>") != 0)
		return env_sender;
	return NULL;
}

typedef struct {
	MdIntake *in;
	const MdMessage *msg;
	const MdTicket *ticket;
	const MdQueue *queue;
	const char *to_addr;
	const char *to_name;
	const char *language;
	gint64 now;
} AckJob;

static JsonObject *
ack_context(const AckJob *job, const char *reply_addr)
{
	const MdConfig *cfg = job->in->cfg;
	JsonObject *ctx = json_object_new();
	JsonObject *ticket = json_object_new();
	JsonObject *customer = json_object_new();
	JsonObject *support = json_object_new();
	JsonObject *reply = json_object_new();
	JsonObject *site = json_object_new();
	g_autofree char *tag = subject_tag(cfg->subject_tag_prefix, job->ticket->id);
	g_autofree char *status_text =
		i18n_text(cfg->templates, job->language, "status", job->ticket->status);

	json_object_set_int_member(ticket, "id", job->ticket->id);
	json_object_set_string_member(ticket, "tag", tag);
	json_object_set_string_member(ticket, "subject", job->ticket->subject);
	json_object_set_string_member(ticket, "status", job->ticket->status);
	json_object_set_string_member(ticket, "status_text", status_text);
	if (job->ticket->eta > 0) {
		g_autofree char *eta =
			datefmt_long(job->ticket->eta, job->ticket->tz_minutes, job->language);

		json_object_set_string_member(ticket, "eta", eta);
	}
	if (job->to_name != NULL && *job->to_name != '\0')
		json_object_set_string_member(customer, "name", job->to_name);
	json_object_set_string_member(customer, "address", job->to_addr);
	json_object_set_string_member(support, "address", job->queue->addresses->pdata[0]);
	json_object_set_string_member(support, "name", cfg->site_name);
	json_object_set_string_member(reply, "address", reply_addr);
	json_object_set_string_member(site, "name", cfg->site_name);
	json_object_set_object_member(ctx, "ticket", ticket);
	json_object_set_object_member(ctx, "customer", customer);
	json_object_set_object_member(ctx, "support", support);
	json_object_set_object_member(ctx, "reply", reply);
	json_object_set_object_member(ctx, "site", site);
	return ctx;
}

/* Renders, composes and queues the acknowledgement, all in the open transaction. */
static MdStatus
queue_ack(const AckJob *job, char **withheld_r, char **error_r)
{
	MdIntake *in = job->in;
	const MdConfig *cfg = in->cfg;
	const char *support_addr = job->queue->addresses->pdata[0];
	g_autofree char *reply_addr = token_address(in->secret, support_addr, job->ticket->id, NULL);
	g_autofree char *bounce_addr =
		token_address(in->secret, support_addr, job->ticket->id, "bounce");
	g_autoptr(JsonObject) ctx = ack_context(job, reply_addr);
	g_autoptr(MdRendered) r = NULL;
	g_autoptr(GByteArray) raw = NULL;
	g_autoptr(GPtrArray) refs = g_ptr_array_new();
	g_autofree char *message_id = NULL;
	g_autofree char *sha = NULL;
	g_autofree char *tag = subject_tag(cfg->subject_tag_prefix, job->ticket->id);
	g_autofree char *refs_joined = NULL;
	g_autofree char *rand_part = g_uuid_string_random();
	MdNewMessage out = { 0 };
	MdComposeHeaders h = { 0 };
	gint64 row = 0;
	MdStatus st;
	guint first;

	r = template_render_file(cfg->templates, job->language, cfg->default_language, "ack", ctx,
	                         error_r);
	if (r == NULL)
		return MD_CONFIG;

	message_id = g_strdup_printf("t%" G_GINT64_FORMAT ".%.8s.%" G_GINT64_FORMAT "@%s",
	                             job->ticket->id, rand_part, job->now, cfg->hostname);
	/* References: the customer's chain (its newest part) and their message */
	first = job->msg->references->len > MAX_OUT_REFERENCES - 1
	                ? job->msg->references->len - (MAX_OUT_REFERENCES - 1)
	                : 0;
	for (guint i = first; i < job->msg->references->len; i++)
		g_ptr_array_add(refs, job->msg->references->pdata[i]);
	if (job->msg->message_id != NULL)
		g_ptr_array_add(refs, job->msg->message_id);
	g_ptr_array_add(refs, NULL);

	h.from_name = cfg->site_name;
	h.from_addr = support_addr;
	h.to_name = job->to_name;
	h.to_addr = job->to_addr;
	h.reply_to = reply_addr;
	h.message_id = message_id;
	h.in_reply_to = job->msg->message_id;
	h.references = (const char *const *)refs->pdata;
	h.date = job->now;
	h.tz_minutes = 0;
	h.auto_replied = TRUE;
	h.language = r->language;
	h.ticket_tag = tag;
	raw = compose_message(r, &h);
	if (raw == NULL) {
		/* an address GMime cannot write (e.g. raw UTF-8 in the local
		 * part): the message is stored, an agent answers by hand */
		*withheld_r = g_strdup("unwritable-address");
		return store_ticket_flag(in->store, job->ticket->id);
	}

	sha = sha256_hex(raw->data, raw->len);
	refs_joined = g_strjoinv(" ", (char **)refs->pdata);
	out.ticket_id = job->ticket->id;
	out.direction = "out";
	out.kind = "system";
	out.message_id = message_id;
	out.in_reply_to = job->msg->message_id;
	out.references = *refs_joined ? refs_joined : NULL;
	out.from_addr = support_addr;
	out.from_name = cfg->site_name;
	out.to_addrs = job->to_addr;
	out.subject = md_rendered_header(r, "Subject");
	out.text = r->text;
	out.date = job->now;
	out.received = job->now;
	out.env_sender = bounce_addr;
	out.env_recipient = job->to_addr;
	out.sha256 = sha;
	out.raw = raw->data;
	out.raw_len = raw->len;

	if ((st = store_message_insert(in->store, &out, &row)) != MD_OK ||
	    (st = store_message_id_add(in->store, message_id, job->ticket->id, row, "out")) != MD_OK ||
	    (st = store_outbox_insert(in->store, job->ticket->id, row, "ack", bounce_addr,
	                              job->to_addr, raw->data, raw->len, job->now, NULL)) != MD_OK ||
	    (st = store_autoreply_log(in->store, job->to_addr, job->now)) != MD_OK ||
	    (st = store_event_add(in->store, job->ticket->id, job->now, "maildesk", "ack-queued",
	                          NULL, job->to_addr)) != MD_OK)
		*error_r = g_strdup(store_error(in->store));
	return st;
}

static MdStatus
store_incoming(MdIntake *in, const MdMessage *msg, const guint8 *raw, gsize len, const char *sha,
               const MdEnvelope *env, gint64 ticket, gint64 now, gint64 *row_r)
{
	MdStore *store = in->store;
	g_autofree char *to = join_addresses(msg->to);
	g_autofree char *cc = join_addresses(msg->cc);
	g_autoptr(GPtrArray) refs = g_ptr_array_new();
	g_autofree char *refs_joined = NULL;
	g_autofree char *text = NULL;
	MdNewMessage m = { 0 };
	MdStatus st;

	/* keep the stored chain bounded, newest entries */
	for (guint i = msg->references->len > 1000 ? msg->references->len - 1000 : 0;
	     i < msg->references->len; i++)
		g_ptr_array_add(refs, msg->references->pdata[i]);
	refs_joined = join_references(refs);

	m.ticket_id = ticket;
	m.direction = "in";
	m.kind = "customer";
	m.message_id = msg->message_id;
	m.in_reply_to = msg->in_reply_to;
	m.references = refs_joined;
	m.from_addr = msg->from ? msg->from->addr : NULL;
	m.from_name = msg->from ? msg->from->name : NULL;
	m.to_addrs = to;
	m.cc_addrs = cc;
	m.subject = msg->subject;
	if (strlen(msg->text) > MAX_STORED_TEXT) {
		const char *end = g_utf8_find_prev_char(msg->text, msg->text + MAX_STORED_TEXT);

		text = g_strdup_printf("%.*s\n[... text cut at %d bytes; the raw message has it all]",
		                       (int)(end - msg->text), msg->text, MAX_STORED_TEXT);
	}
	m.text = text ? text : msg->text;
	m.date = msg->has_date ? msg->date : 0;
	m.received = now;
	m.env_sender = env->sender;
	m.env_recipient = env->recipient;
	m.sha256 = sha;
	m.raw = raw;
	m.raw_len = len;
	m.parse_error = msg->parse_error;
	if ((st = store_message_insert(store, &m, row_r)) != MD_OK)
		return st;
	for (guint i = 0; i < msg->attachments->len; i++) {
		const MdAttachment *a = msg->attachments->pdata[i];

		if ((st = store_attachment_insert(store, *row_r, a->filename, a->content_type,
		                                  a->disposition, (gint64)a->size)) != MD_OK)
			return st;
	}
	if (msg->message_id != NULL &&
	    (st = store_message_id_add(store, msg->message_id, ticket, *row_r, "in")) != MD_OK)
		return st;
	for (guint i = 0; i < msg->cc->len; i++) {
		const MdAddress *a = msg->cc->pdata[i];

		if (a->addr != NULL && strchr(a->addr, '@') != NULL &&
		    conf_queue_for_address(in->cfg, a->addr) == NULL &&
		    (st = store_participant_add(store, ticket, a->addr, "cc")) != MD_OK)
			return st;
	}
	return MD_OK;
}

/* The whole transaction; the caller commits or rolls back. */
static MdStatus
intake_in_transaction(MdIntake *in, const MdMessage *msg, const guint8 *raw, gsize len,
                      const char *sha, const MdEnvelope *env, MdIntakeResult *res)
{
	const MdConfig *cfg = in->cfg;
	MdStore *store = in->store;
	gint64 now = clock_now();
	gint64 dup_row, dup_ticket;
	MdThreadFacts facts = { 0 };
	g_autofree char *purpose = NULL;
	gboolean forged = FALSE, own = FALSE, found = FALSE;
	const char *sender = sender_address(msg, env->sender);
	const MdAddress *reply_to = guard_reply_address(msg);
	MdTicket ticket = { 0 };
	gint64 ticket_id = 0;
	MdThreadMatch match;
	MdStatus st;
	guint reasons;
	gboolean new_ticket = FALSE;

	if ((st = store_message_by_hash(store, sha, &dup_row, &dup_ticket)) != MD_OK)
		return st;
	if (dup_row > 0) {
		res->action = "duplicate";
		res->matched = "hash";
		res->ticket = dup_ticket;
		res->message_row = dup_row;
		return MD_OK;
	}

	if (msg->message_id != NULL &&
	    (st = store_is_own_message_id(store, msg->message_id, &own)) != MD_OK)
		return st;

	facts.token_ticket = find_token(in->secret, msg, env->recipient, &purpose, &forged);
	if ((st = find_referenced_ticket(store, msg, &facts.ref_ticket)) != MD_OK)
		return st;
	if (subject_find_tag(msg->subject, cfg->subject_tag_prefix, &facts.tag_ticket) &&
	    sender != NULL &&
	    (st = store_is_participant(store, facts.tag_ticket, sender,
	                               &facts.tag_sender_is_participant)) != MD_OK)
		return st;

	match = thread_match(&facts, &ticket_id);
	res->matched = thread_match_name(match);
	if (ticket_id > 0) {
		if ((st = store_ticket_get(store, ticket_id, &ticket, &found)) != MD_OK)
			return st;
		if (!found) {
			ticket_id = 0;
			res->matched = "new";
		}
	}

	if (ticket_id > 0) {
		MdThreadAction action = thread_action(ticket.status, ticket.closed_at, now, cfg->reopen_days);
		const char *next = thread_status_after_customer(ticket.status, action);

		if (action == THREAD_NEW_LINKED) {
			gint64 old = ticket.id;

			md_ticket_clear(&ticket);
			ticket.linked_ticket = old;
			new_ticket = TRUE;
			res->action = "new-linked";
		} else {
			res->action = action == THREAD_REOPEN ? "reopen" : "append";
			if (strcmp(next, ticket.status) != 0) {
				if ((st = store_ticket_set_status(store, ticket.id, next, now)) != MD_OK ||
				    (st = store_event_add(store, ticket.id, now, sender ? sender : "customer",
				                          "status", ticket.status, next)) != MD_OK)
					return st;
				g_free(ticket.status);
				ticket.status = g_strdup(next);
			}
			if ((st = store_ticket_touch(store, ticket.id,
			                             msg->has_date ? msg->date_tz_minutes : ticket.tz_minutes,
			                             now)) != MD_OK)
				return st;
		}
	} else {
		new_ticket = TRUE;
		res->action = "new";
	}

	if (new_ticket) {
		const MdQueue *q = pick_queue(cfg, msg, env->recipient);
		const char *customer = reply_to ? reply_to->addr : sender;
		g_autofree char *known_lang = NULL;
		const char *lang;

		if ((st = store_customer_upsert(store, customer ? customer : "unknown@invalid",
		                                reply_to ? reply_to->name : NULL, &ticket.customer_id,
		                                &known_lang)) != MD_OK)
			return st;
		lang = known_lang;
		if (lang == NULL) {
			lang = lang_detect(msg->content_language, msg->subject, msg->text);
			if (lang == NULL)
				lang = q->language ? q->language : cfg->default_language;
			if ((st = store_customer_set_language(store, ticket.customer_id, lang)) != MD_OK)
				return st;
		}
		ticket.status = g_strdup("new");
		ticket.priority = g_strdup("normal");
		ticket.queue = g_strdup(q->name);
		ticket.subject = subject_normalize(msg->subject, cfg->subject_tag_prefix);
		ticket.language = g_strdup(lang);
		ticket.customer_addr = g_strdup(customer ? customer : "unknown@invalid");
		ticket.customer_name = g_strdup(reply_to ? reply_to->name : NULL);
		ticket.tz_minutes = msg->has_date ? msg->date_tz_minutes : 0;
		ticket.eta = now + cfg->default_resolution;
		ticket.created = now;
		ticket.needs_attention = msg->parse_failed || msg->parse_error != NULL || forged ||
		                         customer == NULL;
		if ((st = store_ticket_insert(store, &ticket)) != MD_OK ||
		    (st = store_event_add(store, ticket.id, now, sender ? sender : "unknown", "created",
		                          NULL, ticket.queue)) != MD_OK)
			goto out;
		if (ticket.linked_ticket > 0 &&
		    (st = store_event_add(store, ticket.id, now, "maildesk", "linked", NULL,
		                          "follows a closed ticket")) != MD_OK)
			goto out;
	} else if ((msg->parse_failed || forged) && (st = store_ticket_flag(store, ticket.id)) != MD_OK) {
		goto out;
	}
	res->ticket = ticket.id;

	if (sender != NULL &&
	    (st = store_participant_add(store, ticket.id, sender,
	                                new_ticket ? "customer" : "participant")) != MD_OK)
		goto out;
	if ((st = store_incoming(in, msg, raw, len, sha, env, ticket.id, now, &res->message_row)) !=
	    MD_OK)
		goto out;

	/* acknowledgement: new tickets only; replies need none */
	reasons = guard_check(msg, env->sender, own);
	if (!new_ticket || env->no_ack) {
		res->ack_withheld = g_strdup(env->no_ack ? "import" : "not-new");
	} else if (reasons != 0) {
		res->ack_withheld = guard_describe(reasons);
	} else {
		int count = 0;

		if ((st = store_autoreply_count(store, reply_to->addr, now - 3600, &count)) != MD_OK)
			goto out;
		if (count >= cfg->autoreply_per_hour) {
			res->ack_withheld = guard_describe(GUARD_RATE);
		} else {
			const MdQueue *q = conf_queue_by_name(cfg, ticket.queue);
			AckJob job = { in, msg, &ticket, q ? q : cfg->queues->pdata[0], reply_to->addr,
				       reply_to->name, ticket.language, now };

			if ((st = queue_ack(&job, &res->ack_withheld, &res->error)) != MD_OK)
				goto out;
			res->ack_queued = res->ack_withheld == NULL;
		}
	}
	if (res->ack_withheld != NULL && new_ticket &&
	    (st = store_event_add(store, ticket.id, now, "maildesk", "ack-withheld", NULL,
	                          res->ack_withheld)) != MD_OK)
		goto out;
out:
	md_ticket_clear(&ticket);
	return st;
}

MdStatus
intake_message(MdIntake *in, const guint8 *raw, gsize len, const MdEnvelope *env,
               MdIntakeResult *res)
{
	const MdConfig *cfg = in->cfg;
	MdParseOptions popts = {
		.fallback_charsets = (const char *const *)cfg->fallback_charsets,
		.max_depth = cfg->max_mime_depth,
		.max_parts = cfg->max_parts,
	};
	g_autoptr(MdMessage) msg = NULL;
	g_autofree char *sha = NULL;
	MdStatus st;

	memset(res, 0, sizeof *res);
	intake_strip_from_line(&raw, &len);
	sha = sha256_hex(raw, len);
	msg = parse_message(raw, len, &popts);

	if ((st = store_begin(in->store)) != MD_OK) {
		res->error = g_strdup(store_error(in->store));
		return st;
	}
	st = intake_in_transaction(in, msg, raw, len, sha, env, res);
	if (st == MD_OK)
		st = store_commit(in->store);
	if (st != MD_OK) {
		if (res->error == NULL)
			res->error = g_strdup(store_error(in->store));
		store_rollback(in->store);
		res->ack_queued = FALSE;
		return st;
	}
	{
		g_autofree char *from = log_safe(msg->from ? msg->from->addr : env->sender);
		g_autofree char *mid = log_safe(msg->message_id);

		log_info("ticket=%" G_GINT64_FORMAT " msgid=<%s> from=<%s> size=%" G_GSIZE_FORMAT
		         " action=%s match=%s ack=%s%s%s",
		         res->ticket, mid, from, len, res->action, res->matched,
		         res->ack_queued ? "queued" : "none", res->ack_withheld ? " reason=" : "",
		         res->ack_withheld ? res->ack_withheld : "");
	}
	return MD_OK;
}
