/*
 * outmail.c - renders, composes, stores and queues maildesk's own mail.
 *
 * Must never: send anything (the outbox row is the whole effect), write
 * agent text to a customer (see the audience rule in outmail.h), or leave
 * half a mail behind (every row is in the caller's transaction).
 */
#include "config.h"

#include <string.h>

#include "address.h"
#include "agentcmd.h"
#include "compose.h"
#include "digest.h"
#include "datefmt.h"
#include "i18n.h"
#include "outguard.h"
#include "outmail.h"
#include "quote.h"
#include "subject.h"
#include "template.h"
#include "token.h"

#define OUTMAIL_MAX_REFERENCES 20

const char *const outmail_templates[] = {
	"ack", "reply", "status-pending", "status-solved", "status-reopened", "status-closed",
	"status-list", "agent-assigned", "agent-waiting", "agent-customer-replied", "agent-note",
	"agent-refused", "agent-unverified", "agent-sla-warning", "agent-escalation",
	"status-slipped", "status-reminder", "status-autoclosed", "csat-question", "csat-thanks",
	"agent-delivery-failed", "agent-report", "agent-parts-withheld", "agent-held", NULL,
};

char *
outmail_agent_thread_id(const MdConfig *cfg, gint64 ticket)
{
	return g_strdup_printf("t%" G_GINT64_FORMAT ".agents@%s", ticket, cfg->hostname);
}

static void
set_opt_string(JsonObject *o, const char *name, const char *value)
{
	if (value != NULL && *value != '\0')
		json_object_set_string_member(o, name, value);
}

/*
 * A promise about a finished ticket would only confuse; and while we wait
 * for the customer the clock is theirs, so they are promised nothing.
 */
gboolean
outmail_eta_shown(const char *status, gboolean for_agents)
{
	if (strcmp(status, "solved") == 0 || strcmp(status, "closed") == 0)
		return FALSE;
	return for_agents || strcmp(status, "pending") != 0;
}

JsonObject *
outmail_context(const MdIntake *in, const MdTicket *t, const MdQueue *q, const char *language,
                int tz_minutes, gboolean for_agents)
{
	const MdConfig *cfg = in->cfg;
	const char *support_addr = q->addresses->pdata[0];
	JsonObject *ctx = json_object_new();
	JsonObject *support = json_object_new();
	JsonObject *site = json_object_new();

	json_object_set_string_member(support, "address", support_addr);
	json_object_set_string_member(support, "name", cfg->site_name);
	json_object_set_string_member(site, "name", cfg->site_name);
	json_object_set_object_member(ctx, "support", support);
	json_object_set_object_member(ctx, "site", site);
	if (t != NULL) {
		JsonObject *ticket = json_object_new();
		JsonObject *customer = json_object_new();
		JsonObject *reply = json_object_new();
		g_autofree char *tag = subject_tag(cfg->subject_tag_prefix, t->id);
		/* agents get their own words: "waiting for your answer" is the customer's view */
		g_autofree char *status_text = i18n_text(cfg->templates, language,
		                                         for_agents ? "agent-status" : "status",
		                                         t->status);
		g_autofree char *priority_text =
			i18n_text(cfg->templates, language, "priority", t->priority);
		g_autofree char *reply_addr = token_address(in->secret, support_addr, t->id, NULL);

		json_object_set_int_member(ticket, "id", t->id);
		json_object_set_string_member(ticket, "tag", tag);
		set_opt_string(ticket, "subject", t->subject);
		json_object_set_string_member(ticket, "status", t->status);
		json_object_set_string_member(ticket, "status_text", status_text);
		json_object_set_string_member(ticket, "priority", t->priority);
		json_object_set_string_member(ticket, "priority_text", priority_text);
		json_object_set_string_member(ticket, "queue", t->queue);
		if (t->eta > 0 && outmail_eta_shown(t->status, for_agents)) {
			g_autofree char *eta = datefmt_long(t->eta, tz_minutes, language);

			json_object_set_string_member(ticket, "eta", eta);
		}
		set_opt_string(customer, "name", t->customer_name);
		json_object_set_string_member(customer, "address", t->customer_addr);
		/* agent mail: outmail_queue() sets the addresses of its recipient */
		if (!for_agents)
			json_object_set_string_member(reply, "address", reply_addr);
		json_object_set_object_member(ctx, "ticket", ticket);
		json_object_set_object_member(ctx, "customer", customer);
		json_object_set_object_member(ctx, "reply", reply);
	}
	return ctx;
}

/* The agent or note address of ticket issued to the person at to_addr.  Caller frees. */
static char *
person_address(const MdIntake *in, const char *support_addr, gint64 ticket, const char *kind,
               const char *to_addr)
{
	g_autofree char *purpose = token_person_purpose(in->secret, kind, to_addr);

	return token_address(in->secret, support_addr, ticket, purpose);
}

/*
 * reply.address and note.address of agent mail: issued to its recipient,
 * so that they vouch for that From alone (token.h).
 */
static void
set_person_addresses(const MdIntake *in, JsonObject *ctx, const char *support_addr, gint64 ticket,
                     const char *to_addr)
{
	JsonObject *reply = json_object_new();
	JsonObject *note = json_object_new();
	g_autofree char *reply_addr = person_address(in, support_addr, ticket, TOKEN_AGENT, to_addr);
	g_autofree char *note_addr = person_address(in, support_addr, ticket, TOKEN_NOTE, to_addr);

	json_object_set_string_member(reply, "address", reply_addr);
	json_object_set_string_member(note, "address", note_addr);
	json_object_set_object_member(ctx, "reply", reply);
	json_object_set_object_member(ctx, "note", note);
}

/* In-Reply-To and References of a customer mail, from what they have seen. */
static MdStatus
customer_threading(const MdIntake *in, const MdTicket *t, char **in_reply_to_r, GPtrArray *refs)
{
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	MdStatus st;

	if ((st = store_customer_thread(in->store, t->id, ids)) != MD_OK ||
	    (st = store_last_customer_message(in->store, t->id, in_reply_to_r, NULL)) != MD_OK)
		return st;
	/* compose keeps the first and the latest; so do we, to bound memory */
	for (guint i = 0; i < ids->len; i++)
		if (i == 0 || i + OUTMAIL_MAX_REFERENCES - 1 >= ids->len)
			g_ptr_array_add(refs, g_strdup(ids->pdata[i]));
	return MD_OK;
}

/*
 * The outbound guard over a mail to a non-agent: *held_r is why it must
 * not go (caller frees), or NULL.  The notes are what their authors
 * wrote: quotes and command lines cut, as agents were shown them.
 */
static MdStatus
guard_outgoing(const MdIntake *in, const MdTicket *t, const GByteArray *raw, gint64 now,
               char **held_r)
{
	g_autoptr(GPtrArray) stored = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
	MdOutguardFacts f = { in->secret, NULL, in->cfg->hostname, in->cfg->max_mime_depth,
		              in->cfg->max_parts };
	MdStatus st;

	*held_r = NULL;
	if (t != NULL &&
	    (st = store_ticket_note_texts(in->store, t->id, t->linked_ticket, stored)) != MD_OK)
		return st;
	for (guint i = 0; i < stored->len; i++) {
		gboolean below = FALSE;
		g_autofree char *fresh = quote_strip_below(stored->pdata[i], &below);
		MdAgentCmds *cmds = agentcmd_parse(fresh, now, 0);

		g_ptr_array_add(notes, g_strdup(cmds->body));
		agentcmd_free(cmds);
	}
	g_ptr_array_add(notes, NULL);
	f.notes = (const char *const *)notes->pdata;
	*held_r = outguard_check(raw->data, raw->len, &f);
	return MD_OK;
}

/* Why addr may not receive a mail to the customer's side, or NULL. */
static const char *
unfit_recipient(const MdConfig *cfg, const char *addr)
{
	if (!address_valid(addr))
		return "not a plain address";
	if (address_is_ours(cfg, addr))
		return "one of our own addresses";
	return NULL;
}

/*
 * The Cc of m less every address unfit_recipient() refuses (agent mail:
 * less the invalid ones only), into cc (NULL-terminated).  Compose would
 * drop an invalid one from the header; it is dropped here, before the
 * header and the envelope are made, and an event on the ticket says so.
 */
static MdStatus
usable_cc(const MdIntake *in, const MdTicket *t, const MdOutMail *m, gint64 now, GPtrArray *cc)
{
	MdStatus st = MD_OK;

	for (guint i = 0; m->cc != NULL && m->cc[i] != NULL && st == MD_OK; i++) {
		const char *why = m->to_agents ? (address_valid(m->cc[i]) ? NULL : "not a plain address")
		                               : unfit_recipient(in->cfg, m->cc[i]);

		if (why == NULL)
			g_ptr_array_add(cc, g_strdup(m->cc[i]));
		else if (t != NULL)
			st = store_event_add(in->store, t->id, now, "maildesk", "recipient-dropped",
			                     m->cc[i], why);
	}
	g_ptr_array_add(cc, NULL);
	return st;
}

MdStatus
outmail_queue(const MdIntake *in, const MdTicket *t, JsonObject *ctx, const MdOutMail *m,
              gint64 now, char **withheld_r, char **error_r)
{
	const MdConfig *cfg = in->cfg;
	MdStore *store = in->store;
	const char *support_addr = m->queue->addresses->pdata[0];
	gboolean agent_template = g_str_has_prefix(m->template, "agent-");
	g_autoptr(MdRendered) r = NULL;
	g_autoptr(GByteArray) raw = NULL;
	g_autoptr(GPtrArray) refs = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *in_reply_to = NULL;
	g_autofree char *reply_addr = NULL;
	g_autofree char *bounce_addr = NULL;
	g_autofree char *message_id = NULL;
	g_autofree char *sha = NULL;
	g_autofree char *tag = NULL;
	g_autofree char *refs_joined = NULL;
	g_autofree char *rcpts = NULL;
	g_autofree char *cc_joined = NULL;
	g_auto(GStrv) envelope = NULL;
	g_autoptr(GPtrArray) cc = g_ptr_array_new_with_free_func(g_free);
	const char *why;
	g_autofree char *held = NULL;
	/* GLib's global generator is seeded once; g_uuid_string_random()
	 * read /dev/urandom for every mail */
	g_autofree char *rand_part = g_strdup_printf("%08x%08x", g_random_int(), g_random_int());
	MdComposeHeaders h = { 0 };
	MdNewMessage out = { 0 };
	gint64 ticket_id = t != NULL ? t->id : 0;
	gint64 row = 0, outbox_id = 0;
	MdStatus st;

	if (agent_template != m->to_agents) {
		*error_r = g_strdup_printf("template %s may not be used for %s mail", m->template,
		                           m->to_agents ? "agent" : "customer");
		return MD_CONFIG;
	}
	/* the last word on who gets a mail to the customer's side: never
	 * ourselves (a loop), never an address the header cannot show */
	why = m->to_agents ? NULL : unfit_recipient(cfg, m->to_addr);
	if (why != NULL) {
		*withheld_r = g_strdup(address_valid(m->to_addr) ? "own-address" : "unwritable-address");
		if (t != NULL &&
		    ((st = store_event_add(store, t->id, now, "maildesk", "recipient-dropped",
		                           m->to_addr, why)) != MD_OK ||
		     (st = store_ticket_flag(store, t->id)) != MD_OK))
			goto fail;
		return MD_OK;
	}
	if ((st = usable_cc(in, t, m, now, cc)) != MD_OK)
		goto fail;
	if (m->to_agents && t != NULL)
		set_person_addresses(in, ctx, support_addr, t->id, m->to_addr);
	r = template_render_file(cfg->templates, m->language, cfg->default_language, m->template,
	                         ctx, error_r);
	if (r == NULL)
		return MD_CONFIG;

	if (t != NULL) {
		tag = subject_tag(cfg->subject_tag_prefix, t->id);
		/* agents answer to an address no customer ever sees: a customer
		 * who forges an agent's From on their own ticket's reply
		 * address is still only a customer */
		reply_addr = m->to_agents ? person_address(in, support_addr, t->id, TOKEN_AGENT,
		                                           m->to_addr)
		                          : token_address(in->secret, support_addr, t->id, NULL);
		bounce_addr = token_address(in->secret, support_addr, t->id, "bounce");
		message_id = g_strdup_printf("t%" G_GINT64_FORMAT ".%.8s.%" G_GINT64_FORMAT "@%s",
		                             t->id, rand_part, now, cfg->hostname);
	} else {
		message_id = g_strdup_printf("r.%.12s.%" G_GINT64_FORMAT "@%s", rand_part, now,
		                             cfg->hostname);
	}

	if (m->to_agents && t != NULL) {
		in_reply_to = outmail_agent_thread_id(cfg, t->id);
		g_ptr_array_add(refs, g_strdup(in_reply_to));
	} else if (m->references != NULL || m->in_reply_to != NULL) {
		guint n = m->references != NULL ? g_strv_length((char **)m->references) : 0;

		in_reply_to = g_strdup(m->in_reply_to);
		for (guint i = 0; i < n; i++)
			if (i == 0 || i + OUTMAIL_MAX_REFERENCES - 1 >= n)
				g_ptr_array_add(refs, g_strdup(m->references[i]));
	} else if (t != NULL && (st = customer_threading(in, t, &in_reply_to, refs)) != MD_OK) {
		*error_r = g_strdup(store_error(store));
		return st;
	}
	g_ptr_array_add(refs, NULL);

	h.from_name = m->from_name != NULL ? m->from_name : cfg->site_name;
	h.from_addr = support_addr;
	h.to_name = m->to_name;
	h.to_addr = m->to_addr;
	h.cc = (const char *const *)cc->pdata;
	h.reply_to = reply_addr;
	h.message_id = message_id;
	h.in_reply_to = in_reply_to;
	h.references = (const char *const *)refs->pdata;
	h.date = now;
	h.auto_replied = g_strcmp0(m->auto_submitted, "auto-replied") == 0;
	h.auto_generated = g_strcmp0(m->auto_submitted, "auto-generated") == 0;
	h.language = r->language;
	h.ticket_tag = tag;
	h.to_agents = m->to_agents;
	h.attachments = m->attachments;
	raw = compose_message(r, &h);
	if (raw == NULL && m->attachments != NULL) {
		/* an attachment GMime could not make 7-bit: the text still goes */
		h.attachments = NULL;
		raw = compose_message(r, &h);
	}
	if (raw == NULL) {
		/* an address GMime cannot write (e.g. raw UTF-8 in the local
		 * part): nothing is queued, an agent answers by hand */
		*withheld_r = g_strdup("unwritable-address");
		return t != NULL ? store_ticket_flag(store, t->id) : MD_OK;
	}

	/* the last line of defence: nothing written for agents reaches anyone else */
	if (!m->to_agents && (st = guard_outgoing(in, t, raw, now, &held)) != MD_OK) {
		*error_r = g_strdup(store_error(store));
		return st;
	}

	sha = digest_sha256_hex(raw->data, raw->len);
	refs_joined = g_strjoinv(" ", (char **)refs->pdata);
	/* the envelope is what the header shows, as GMime reads it back */
	envelope = compose_recipients(raw->data, raw->len);
	if (envelope[0] == NULL) {
		*withheld_r = g_strdup("unwritable-address");
		return t != NULL ? store_ticket_flag(store, t->id) : MD_OK;
	}
	rcpts = g_strjoinv(", ", envelope);
	if (cc->len > 1)
		cc_joined = g_strjoinv(", ", (char **)cc->pdata);
	if (t != NULL) {
		out.ticket_id = t->id;
		out.direction = "out";
		/* held mail is kept for agents' eyes: nobody else saw it */
		out.kind = m->message_kind != NULL && held == NULL ? m->message_kind : "system";
		out.audience = m->to_agents || held != NULL ? "agents" : "customer";
		out.message_id = message_id;
		out.in_reply_to = in_reply_to;
		out.references = *refs_joined ? refs_joined : NULL;
		out.from_addr = support_addr;
		out.from_name = h.from_name;
		out.to_addrs = m->to_addr;
		out.cc_addrs = cc_joined;
		out.subject = md_rendered_header(r, "Subject");
		out.text = r->text;
		out.date = now;
		out.received = now;
		out.env_sender = bounce_addr;
		out.env_recipient = rcpts;
		out.sha256 = sha;
		out.raw = raw->data;
		out.raw_len = raw->len;
		if ((st = store_message_insert(store, &out, &row)) != MD_OK ||
		    (st = store_message_id_add(store, message_id, t->id, row, "out")) != MD_OK)
			goto fail;
	}
	if ((st = store_outbox_insert(store, ticket_id, row, m->outbox_kind,
	                              bounce_addr != NULL ? bounce_addr : "", rcpts, raw->data,
	                              raw->len, now, &outbox_id)) != MD_OK)
		goto fail;
	if (held != NULL) {
		if ((st = store_outbox_hold(store, outbox_id, now, held)) != MD_OK ||
		    (t != NULL && (st = store_ticket_flag(store, t->id)) != MD_OK) ||
		    (t != NULL && (st = store_event_add(store, t->id, now, "maildesk", "mail-held",
		                                        m->outbox_kind, held)) != MD_OK))
			goto fail;
		*withheld_r = g_strdup_printf("%s: %s", OUTMAIL_HELD, held);
		return MD_OK;
	}
	if (m->count_autoreply && (st = store_autoreply_log(store, m->to_addr, now)) != MD_OK)
		goto fail;
	if (in->queued != NULL)
		(*in->queued)++;
	if (t != NULL && (st = store_event_add(store, t->id, now, "maildesk", "mail-queued",
	                                       m->outbox_kind, rcpts)) != MD_OK)
		goto fail;
	return MD_OK;
fail:
	*error_r = g_strdup(store_error(store));
	return st;
}
