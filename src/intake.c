/*
 * intake.c - the intake pipeline (see intake.h for the order of stages).
 *
 * Must never: exit, send mail, write outside the transaction, or return
 * MD_OK before the commit.  Every store failure rolls back and becomes the
 * status the caller hands to the MTA.
 */
#include "config.h"

#include <string.h>

#include "address.h"
#include "agentmail.h"
#include "authres.h"
#include "clock.h"
#include "csat.h"
#include "datefmt.h"
#include "digest.h"
#include "dispatch.h"
#include "guard.h"
#include "i18n.h"
#include "intake.h"
#include "lang.h"
#include "log.h"
#include "notify.h"
#include "outmail.h"
#include "parse.h"
#include "quote.h"
#include "request.h"
#include "sla.h"
#include "slaclock.h"
#include "subject.h"
#include "thread.h"
#include "tick.h"
#include "token.h"
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

/* The acknowledgement of a new ticket, threaded to the customer's message. */
static MdStatus
queue_ack(MdIntake *in, const MdMessage *msg, const MdTicket *t, gint64 now, char **withheld_r,
          char **error_r)
{
	const MdQueue *q = notify_ticket_queue(in->cfg, t);
	g_autoptr(JsonObject) ctx = outmail_context(in, t, q, t->language, t->tz_minutes, FALSE);
	g_autoptr(GPtrArray) refs = g_ptr_array_new();
	MdOutMail m = { 0 };

	/* the customer's chain (compose keeps its newest part) and their message */
	for (guint i = 0; i < msg->references->len; i++)
		g_ptr_array_add(refs, msg->references->pdata[i]);
	if (msg->message_id != NULL)
		g_ptr_array_add(refs, msg->message_id);
	g_ptr_array_add(refs, NULL);
	m.template = "ack";
	m.outbox_kind = "ack";
	m.queue = q;
	m.language = t->language;
	m.to_name = t->customer_name;
	m.to_addr = t->customer_addr;
	m.auto_submitted = "auto-replied";
	m.count_autoreply = TRUE;
	m.in_reply_to = msg->message_id;
	m.references = (const char *const *)refs->pdata;
	return outmail_queue(in, t, ctx, &m, now, withheld_r, error_r);
}

/* Where an incoming message goes: its ticket, its kind, who may read it. */
typedef struct {
	gint64 ticket;
	const char *kind;      /* customer, reply, note */
	const char *audience;  /* customer, agents */
	const char *direction; /* NULL: in; out for our own mail found in an import */
} Placement;

static MdStatus
store_incoming(MdIntake *in, const MdMessage *msg, const guint8 *raw, gsize len, const char *sha,
               const MdEnvelope *env, const Placement *at, gint64 now, gint64 *row_r)
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

	m.ticket_id = at->ticket;
	m.direction = at->direction != NULL ? at->direction : "in";
	m.kind = at->kind;
	m.audience = at->audience;
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
	    (st = store_message_id_add(store, msg->message_id, at->ticket, *row_r, m.direction)) !=
	            MD_OK)
		return st;
	return MD_OK;
}

/*
 * A mail to thousands is no conversation: the customer's To and Cc make
 * at most this many participants (RFC 5321's least number of recipients
 * a relay must take in one mail), so an answer cannot fan out to them all.
 */
#define MAX_PARTICIPANTS 100

/*
 * Participants, copied on the answers: the customer, whom the customer
 * put in To or Cc of their own mail, and whom an agent adds (#cc).
 * Called for the customer's mail only: anyone else who writes to a
 * ticket's address is stored on it but never copied on its answers.
 * Never one of ours (a loop), an agent (agents get agent mail) or an
 * address the header of our answer could not show.
 */
static MdStatus
add_customer_side(MdIntake *in, const MdMessage *msg, gint64 ticket, gint64 now)
{
	GPtrArray *lists[] = { msg->to, msg->cc };
	g_autoptr(GPtrArray) have = g_ptr_array_new_with_free_func(g_free);
	guint left_out = 0;
	MdStatus st;

	if ((st = store_ticket_participants(in->store, ticket, have)) != MD_OK)
		return st;
	for (unsigned l = 0; l < G_N_ELEMENTS(lists); l++)
		for (guint i = 0; i < lists[l]->len; i++) {
			const char *a = ((const MdAddress *)lists[l]->pdata[i])->addr;
			gboolean known = FALSE;

			if (!address_valid(a) || address_is_ours(in->cfg, a) ||
			    conf_agent_by_address(in->cfg, a) != NULL)
				continue;
			for (guint k = 0; k < have->len && !known; k++)
				known = g_ascii_strcasecmp(have->pdata[k], a) == 0;
			if (!known && have->len >= MAX_PARTICIPANTS) {
				left_out++;
				continue;
			}
			if ((st = store_participant_add(in->store, ticket, a, "cc")) != MD_OK)
				return st;
			if (!known)
				g_ptr_array_add(have, g_strdup(a));
		}
	if (left_out > 0) {
		g_autofree char *n = g_strdup_printf("%u", left_out);

		if ((st = store_event_add(in->store, ticket, now, "maildesk", "participants-capped",
		                          NULL, n)) != MD_OK ||
		    (st = store_ticket_flag(in->store, ticket)) != MD_OK)
			return st;
	}
	return MD_OK;
}

/* The mail is the ticket's customer's: From or whom it answers to is theirs. */
static gboolean
from_customer(const MdTicket *t, const char *sender, const MdAddress *customer)
{
	return t->customer_addr != NULL &&
	       ((sender != NULL && g_ascii_strcasecmp(sender, t->customer_addr) == 0) ||
	        (customer != NULL && g_ascii_strcasecmp(customer->addr, t->customer_addr) == 0));
}

/* What intake learnt about one message before it touches a ticket. */
typedef struct {
	const MdMessage *msg;
	const guint8 *raw;
	gsize len;
	const char *sha;
	const MdEnvelope *env;
	const char *sender;       /* From, else the envelope sender; NULL if neither */
	const MdAddress *reply_to; /* whom to answer: address_customer(), or NULL */
	gboolean own;             /* its Message-ID is one of ours */
	gint64 now;
} Incoming;

/* domain part of addr, or "" */
static const char *
domain_of(const char *addr)
{
	const char *at = addr != NULL ? strrchr(addr, '@') : NULL;

	return at != NULL ? at + 1 : "";
}

/*
 * The agent whose mail this is, or NULL: From is an agent's, the
 * recipient token verified for this very ticket as its agent or note
 * address (which only mail to agents carries: the customer's reply
 * address would let a customer pose as an agent) issued to that same
 * agent (token.h), and (when required) our MTA saw a DKIM pass for their
 * domain.  *spoofed_r: From is an agent's but the rest does not hold, or
 * anyone else wrote to an agent or note address (a leaked one).
 */
static const MdAgent *
agent_author(const MdIntake *in, const MdMessage *msg, MdThreadMatch match, const char *purpose,
             gboolean *spoofed_r)
{
	const MdConfig *cfg = in->cfg;
	const MdAgent *a = conf_agent_by_address(cfg, msg->from ? msg->from->addr : NULL);
	gboolean agent_token = match == THREAD_BY_TOKEN && token_agent_kind(purpose) != NULL;

	/* anyone else at an agent or note address holds a leaked one */
	*spoofed_r = agent_token;
	if (a == NULL)
		return NULL;
	*spoofed_r = FALSE;
	if (agent_token && token_purpose_names(in->secret, purpose, a->address) &&
	    (!cfg->require_dkim ||
	     authres_dkim_pass(msg->auth_results, cfg->authserv_id, domain_of(a->address))))
		return a;
	*spoofed_r = TRUE;
	return NULL;
}

static MdStatus
take_agent_mail(MdIntake *in, const Incoming *inc, MdTicket *ticket, const MdAgent *author,
                const char *purpose, MdIntakeResult *res)
{
	g_autoptr(MdAgentMail) am = NULL;
	Placement at = { ticket->id, "note", "agents", NULL };
	guint reasons = guard_check(inc->msg, inc->env->sender, inc->own) & GUARD_AUTOMATIC;
	MdStatus st;

	res->ack_withheld = g_strdup("agent");
	if (reasons != 0) {
		/* an agent's vacation notice answering our mail: kept, never relayed */
		g_autofree char *why = guard_describe(reasons);

		res->action = "agent-automatic";
		if ((st = store_incoming(in, inc->msg, inc->raw, inc->len, inc->sha, inc->env, &at,
		                         inc->now, &res->message_row)) != MD_OK)
			return st;
		return store_event_add(in->store, ticket->id, inc->now, author->address,
		                       "agent-automatic-mail", NULL, why);
	}
	if ((st = agentmail_prepare(in, inc->msg, inc->raw, inc->len, ticket, author, purpose,
	                            inc->now, &am)) != MD_OK)
		return st;
	at.kind = agentmail_kind(am);
	if ((st = store_incoming(in, inc->msg, inc->raw, inc->len, inc->sha, inc->env, &at, inc->now,
	                         &res->message_row)) != MD_OK)
		return st;
	return agentmail_apply(in, am, ticket, inc->raw, inc->len, inc->now, &res->action,
	                       &res->error);
}

/*
 * A delivery status report sent to a ticket's signed bounce address (the
 * envelope sender of our mail, so it is about our mail): kept on the
 * ticket for agents, never answered; each failed recipient we know is
 * marked as bouncing and the ticket flagged.
 */
static MdStatus
take_delivery_report(MdIntake *in, const Incoming *inc, MdTicket *ticket, MdIntakeResult *res)
{
	Placement at = { ticket->id, "system", "agents", NULL };
	GPtrArray *failed = inc->msg->failed_recipients;
	MdStatus st;

	res->action = "delivery-report";
	res->ack_withheld = g_strdup("bounce");
	if ((st = store_incoming(in, inc->msg, inc->raw, inc->len, inc->sha, inc->env, &at, inc->now,
	                         &res->message_row)) != MD_OK)
		return st;
	for (guint i = 0; i < failed->len; i++) {
		gboolean known = FALSE;

		if ((st = store_customer_set_bouncing(in->store, failed->pdata[i], &known)) != MD_OK ||
		    (st = store_event_add(in->store, ticket->id, inc->now, "maildesk", "bounced",
		                          NULL, failed->pdata[i])) != MD_OK)
			return st;
	}
	return failed->len > 0 ? store_ticket_flag(in->store, ticket->id) : MD_OK;
}

/*
 * A click on a satisfaction link: mail to the ticket's signed csatN
 * address (tick.c asks once a ticket is solved).  The latest vote counts
 * and the words written with it are its comment; the ticket's status is
 * left alone.  Only a person's first vote is thanked, so an autoresponder
 * answering the thanks cannot keep a loop going, and machine-written mail
 * is kept without counting as a vote.
 */
static MdStatus
take_vote(MdIntake *in, const Incoming *inc, MdTicket *ticket, int score, MdIntakeResult *res)
{
	Placement at = { ticket->id, "customer", "customer", NULL };
	g_autofree char *comment = quote_strip(inc->msg->text);
	g_autofree char *value = g_strdup_printf("%d", score);
	g_autofree char *old_value = NULL;
	g_autofree char *withheld = NULL;
	guint reasons = guard_check(inc->msg, inc->env->sender, inc->own);
	int old = 0;
	MdStatus st;

	res->action = "csat-vote";
	if ((st = store_incoming(in, inc->msg, inc->raw, inc->len, inc->sha, inc->env, &at,
	                         inc->now, &res->message_row)) != MD_OK)
		return st;
	if ((reasons & GUARD_AUTOMATIC) != 0) {
		res->ack_withheld = guard_describe(reasons);
		return store_event_add(in->store, ticket->id, inc->now, "maildesk", "csat-ignored",
		                       NULL, res->ack_withheld);
	}
	g_strstrip(comment);
	if ((st = store_csat_vote(in->store, ticket->id, score, *comment ? comment : NULL,
	                          inc->sender, inc->now, &old)) != MD_OK)
		return st;
	old_value = old > 0 ? g_strdup_printf("%d", old) : NULL;
	if ((st = store_event_add(in->store, ticket->id, inc->now,
	                          inc->sender ? inc->sender : "customer", "csat", old_value,
	                          value)) != MD_OK)
		return st;
	/* an imported vote counts; its thanks went out long ago, or never */
	if (inc->env->no_ack) {
		res->ack_withheld = g_strdup("import");
		return MD_OK;
	}
	if (old > 0 || reasons != 0) {
		res->ack_withheld = old > 0 ? g_strdup("repeated vote") : guard_describe(reasons);
		return MD_OK;
	}
	{
		g_autoptr(JsonObject) extra = json_object_new();
		JsonObject *csat = json_object_new();

		json_object_set_int_member(csat, "score", score);
		json_object_set_object_member(extra, "csat", csat);
		st = notify_customer_with(in, ticket, "csat-thanks", NULL, NULL, NULL, extra,
		                          inc->now, &withheld, &res->error);
	}
	res->ack_queued = st == MD_OK && withheld == NULL;
	return st;
}

/* "status" to a support address: the sender's open tickets, no new ticket. */
static MdStatus
answer_status_request(MdIntake *in, const Incoming *inc, MdIntakeResult *res)
{
	const MdConfig *cfg = in->cfg;
	const MdMessage *msg = inc->msg;
	const char *to = msg->from != NULL ? msg->from->addr : NULL;
	g_autoptr(GArray) tickets = g_array_new(FALSE, TRUE, sizeof(MdTicket));
	g_autoptr(JsonObject) ctx = NULL;
	g_autofree char *withheld = NULL;
	const MdQueue *q = pick_queue(cfg, msg, inc->env->recipient);
	const char *lang = NULL;
	JsonArray *list;
	MdOutMail m = { 0 };
	guint reasons;
	int count = 0;
	gint64 row;
	MdStatus st;

	g_array_set_clear_func(tickets, (GDestroyNotify)md_ticket_clear);
	res->action = "status-request";
	if ((st = store_request_insert(in->store, "status", to, msg->message_id, inc->now,
	                               inc->env->sender, inc->env->recipient, inc->sha, inc->raw,
	                               inc->len, &row)) != MD_OK)
		return st;
	res->message_row = row;
	/* only ever to the From address: a Reply-To could steal the list */
	reasons = guard_check(msg, inc->env->sender, inc->own);
	if (reasons == 0 &&
	    (st = store_autoreply_count(in->store, to, inc->now - 3600, &count)) != MD_OK)
		return st;
	if (reasons == 0 && count >= cfg->autoreply_per_hour)
		reasons = GUARD_RATE;
	if (reasons != 0) {
		res->ack_withheld = guard_describe(reasons);
		return MD_OK;
	}
	if ((st = store_customer_open_tickets(in->store, to, tickets)) != MD_OK)
		return st;
	if (tickets->len > 0)
		lang = g_array_index(tickets, MdTicket, 0).language;
	if (lang == NULL)
		lang = lang_detect(msg->content_language, msg->subject, msg->text);
	if (lang == NULL)
		lang = q->language ? q->language : cfg->default_language;
	list = json_array_new();
	for (guint i = 0; i < tickets->len; i++) {
		const MdTicket *t = &g_array_index(tickets, MdTicket, i);
		JsonObject *o = json_object_new();
		g_autofree char *tag = subject_tag(cfg->subject_tag_prefix, t->id);
		g_autofree char *words = i18n_text(cfg->templates, lang, "status", t->status);

		json_object_set_int_member(o, "id", t->id);
		json_object_set_string_member(o, "tag", tag);
		json_object_set_string_member(o, "subject", t->subject);
		json_object_set_string_member(o, "status_text", words);
		if (t->eta > 0 && outmail_eta_shown(t->status, FALSE)) {
			g_autofree char *eta = datefmt_long(t->eta, msg->has_date ? msg->date_tz_minutes
			                                                          : t->tz_minutes, lang);

			json_object_set_string_member(o, "eta", eta);
		}
		json_array_add_object_element(list, o);
	}
	ctx = outmail_context(in, NULL, q, lang, 0, FALSE);
	json_object_set_array_member(ctx, "tickets", list);
	json_object_set_boolean_member(ctx, "has_tickets", tickets->len > 0);
	{
		JsonObject *customer = json_object_new();

		if (msg->from->name != NULL && *msg->from->name != '\0')
			json_object_set_string_member(customer, "name", msg->from->name);
		json_object_set_string_member(customer, "address", to);
		json_object_set_object_member(ctx, "customer", customer);
	}
	m.template = "status-list";
	m.outbox_kind = "status-list";
	m.queue = q;
	m.language = lang;
	m.to_name = msg->from->name;
	m.to_addr = to;
	m.auto_submitted = "auto-replied";
	m.count_autoreply = TRUE;
	m.in_reply_to = msg->message_id;
	if ((st = outmail_queue(in, NULL, ctx, &m, inc->now, &withheld, &res->error)) != MD_OK)
		return st;
	res->ack_queued = withheld == NULL;
	res->ack_withheld = g_steal_pointer(&withheld);
	return MD_OK;
}

/* Tells the ticket's assignee about a customer message (or a forged agent one). */
static MdStatus
tell_assignee(MdIntake *in, const Incoming *inc, const MdTicket *t, gboolean spoofed,
              MdIntakeResult *res)
{
	const MdAgent *agent = conf_agent_by_address(in->cfg, t->assignee);
	const char *template = spoofed ? "agent-unverified" : "agent-customer-replied";
	g_autofree char *text = NULL;
	MdPassedOn what = { inc->msg->from ? inc->msg->from->name : NULL, inc->sender, NULL };
	gboolean ok = FALSE;
	MdStatus st;

	if (agent == NULL)
		return MD_OK;
	if ((st = notify_within_limit(in, t, template, inc->now, &ok)) != MD_OK || !ok)
		return st;
	text = notify_excerpt(inc->msg->text);
	what.text = text;
	return notify_agent(in, t, agent, template, &what, NULL, inc->now, &res->error);
}

/*
 * Unverified agent mail that names no ticket: held on a ticket of its own,
 * closed from the start (tick and dispatch pass closed tickets by, so no
 * agent's place is taken) and flagged, with no customer of ours (an
 * agent is never one), unassigned and unacknowledged.
 */
static MdStatus
hold_unverified_agent_mail(MdIntake *in, const Incoming *inc, const MdAgent *agent,
                           MdTicket *ticket)
{
	const MdConfig *cfg = in->cfg;
	const MdQueue *q = pick_queue(cfg, inc->msg, inc->env->recipient);
	g_autofree char *known_lang = NULL;
	MdStatus st;

	if ((st = store_customer_upsert(in->store, "unknown@invalid", NULL, &ticket->customer_id,
	                                &known_lang)) != MD_OK)
		return st;
	ticket->status = g_strdup("closed");
	ticket->priority = g_strdup("normal");
	ticket->queue = g_strdup(q->name);
	ticket->subject = subject_normalize(inc->msg->subject, cfg->subject_tag_prefix);
	ticket->language = g_strdup(agent != NULL && agent->language != NULL ? agent->language
	                            : q->language != NULL ? q->language : cfg->default_language);
	ticket->customer_addr = g_strdup("unknown@invalid");
	ticket->created = inc->now;
	ticket->needs_attention = TRUE;
	if ((st = store_ticket_insert(in->store, ticket)) != MD_OK ||
	    (st = store_ticket_set_status(in->store, ticket->id, "closed", inc->now)) != MD_OK ||
	    (st = store_event_add(in->store, ticket->id, inc->now,
	                          inc->sender ? inc->sender : "unknown", "created", NULL,
	                          ticket->queue)) != MD_OK)
		return st;
	return store_event_add(in->store, ticket->id, inc->now, "maildesk", "ack-withheld", NULL,
	                       "unverified agent mail");
}

/*
 * Mail whose From is an agent's without what makes it an agent's (a token
 * of the ticket's agent or note address, and DKIM when required): whoever
 * wrote it, it is neither an agent's word nor a customer's question.  On
 * the ticket it names (a token of any purpose, In-Reply-To/References, or
 * our subject tag whether or not the sender is a participant) it is kept
 * for agents' eyes only and the ticket flagged, its assignee told; no
 * command in it runs, nothing goes to the customer, the status stays, the
 * sender becomes no participant.  Naming no ticket, it is held apart
 * (hold_unverified_agent_mail).  It is never acknowledged.
 */
static MdStatus
take_unverified_agent_mail(MdIntake *in, const Incoming *inc, const MdThreadFacts *facts,
                           gint64 ticket_id, MdIntakeResult *res)
{
	/* NULL when someone else wrote through a leaked agent address */
	const MdAgent *agent = inc->msg->from != NULL ? conf_agent_by_address(in->cfg, inc->msg->from->addr)
	                                              : NULL;
	Placement at = { 0, "customer", "agents", NULL };
	MdTicket ticket = { 0 };
	gboolean found = FALSE;
	MdStatus st;

	res->ack_withheld = g_strdup("unverified agent mail");
	if (ticket_id == 0 && facts->tag_ticket > 0) {
		ticket_id = facts->tag_ticket;
		res->matched = "tag";
	}
	if (ticket_id > 0 && (st = store_ticket_get(in->store, ticket_id, &ticket, &found)) != MD_OK)
		goto out;
	if (found) {
		res->action = "unverified-agent";
	} else {
		md_ticket_clear(&ticket);
		memset(&ticket, 0, sizeof ticket);
		res->action = "unverified-agent-held";
		res->matched = "new";
		res->ticket_created = TRUE;
		if ((st = hold_unverified_agent_mail(in, inc, agent, &ticket)) != MD_OK)
			goto out;
	}
	res->ticket = ticket.id;
	at.ticket = ticket.id;
	if ((st = store_incoming(in, inc->msg, inc->raw, inc->len, inc->sha, inc->env, &at,
	                         inc->now, &res->message_row)) != MD_OK ||
	    (st = store_ticket_flag(in->store, ticket.id)) != MD_OK ||
	    (st = store_event_add(in->store, ticket.id, inc->now, inc->sender ? inc->sender : "unknown",
	                          "unverified-agent-mail", NULL, inc->env->recipient)) != MD_OK)
		goto out;
	/* an import tells nobody anything */
	if (found && !inc->env->no_ack)
		st = tell_assignee(in, inc, &ticket, TRUE, res);
out:
	md_ticket_clear(&ticket);
	return st;
}

/* import: From is one of our own addresses (address_is_ours) or an agent's. */
static gboolean
from_us(const MdConfig *cfg, const MdMessage *msg)
{
	const char *from = msg->from != NULL ? msg->from->addr : NULL;

	return from != NULL && (conf_agent_by_address(cfg, from) != NULL ||
	                        address_is_ours(cfg, from));
}

/* import: whom our own mail was written to, the first To, then Cc, not ours. */
static const MdAddress *
addressee(const MdConfig *cfg, const MdMessage *msg)
{
	GPtrArray *lists[] = { msg->to, msg->cc };

	for (unsigned l = 0; l < G_N_ELEMENTS(lists); l++)
		for (guint i = 0; i < lists[l]->len; i++) {
			const MdAddress *a = lists[l]->pdata[i];

			if (address_valid(a->addr) && !address_is_ours(cfg, a->addr) &&
			    conf_agent_by_address(cfg, a->addr) == NULL)
				return a;
		}
	return NULL;
}

/*
 * import: a ticket whose latest message (at now) was reopen_days old when
 * the import ran is closed, as its agents would have closed it long
 * since, so that no past question waits in a queue or on an SLA clock.
 * A later message reopens it or opens a linked ticket by reopen_days,
 * as it would have then.  Nobody is told.  A ticket that stays open is
 * live work from here on, but the SLA targets it missed before the
 * import are not breaches of ours: tick is told they are dealt with.
 */
static MdStatus
close_as_history(MdIntake *in, MdTicket *t, gint64 now)
{
	MdStatus st;

	if (in->import_started <= 0 || t->assignee != NULL)
		return MD_OK;
	if (now >= in->import_started - (gint64)in->cfg->reopen_days * 86400)
		return strcmp(t->status, "closed") != 0
		               ? tick_settle_before(in, t, in->import_started, now)
		               : MD_OK;
	/* closed already: it closed with its last message (for reopen_days) */
	if (strcmp(t->status, "closed") == 0)
		return store_ticket_set_status(in->store, t->id, "closed", now);
	if ((st = store_ticket_set_status(in->store, t->id, "closed", now)) != MD_OK ||
	    (st = store_event_add(in->store, t->id, now, "import", "status", t->status, "closed")) !=
	            MD_OK)
		return st;
	g_free(t->status);
	t->status = g_strdup("closed");
	return MD_OK;
}

/*
 * import: mail from an agent's or a queue's address is our own earlier
 * answer (a Sent folder in the archive), not a customer's question.  It
 * is stored outgoing on the ticket it answers (token, references, or our
 * subject tag: no participant check, the sender is us and nothing is
 * sent), as a reply the customer saw, or as a note for agents when it
 * went to a ticket's note or agent address.  Unthreaded, it opens a ticket for its first
 * addressee that is not ours: a conversation we started.  The only
 * status change is new -> open, as an agent's answer makes live.
 */
static MdStatus
take_archived_mail(MdIntake *in, const Incoming *inc, const MdThreadFacts *facts,
                   gint64 ticket_id, const char *purpose, MdIntakeResult *res)
{
	const MdConfig *cfg = in->cfg;
	MdStore *store = in->store;
	const MdMessage *msg = inc->msg;
	const char *from = msg->from->addr;
	gint64 now = inc->now;
	gboolean found = FALSE, latest;
	MdTicket ticket = { 0 };
	Placement at = { 0, "reply", "customer", "out" };
	MdStatus st;

	res->ours = TRUE;
	res->ack_withheld = g_strdup("import");
	if (ticket_id == 0 && facts->tag_ticket > 0) {
		ticket_id = facts->tag_ticket;
		res->matched = "tag";
	}
	if (ticket_id > 0 && (st = store_ticket_get(store, ticket_id, &ticket, &found)) != MD_OK)
		return st;
	latest = !found || now >= ticket.updated;
	/* mail to a ticket's note or agent address was written to maildesk,
	 * quotes and notes and all, not to the customer (who saw our relay
	 * of it, if anything): for agents' eyes only */
	if (found && token_agent_kind(purpose) != NULL) {
		at.kind = "note";
		at.audience = "agents";
	}
	if (!found) {
		const MdAddress *to = addressee(cfg, msg);
		const MdAgent *agent = conf_agent_by_address(cfg, from);
		const MdQueue *q = in->import_queue != NULL ? in->import_queue
		                                            : conf_queue_for_address(cfg, from);
		g_autofree char *known_lang = NULL;

		if (q == NULL && agent != NULL && agent->queues->len > 0)
			q = conf_queue_by_name(cfg, agent->queues->pdata[0]);
		if (q == NULL)
			q = cfg->queues->pdata[0];
		res->matched = "new";
		if ((st = store_customer_upsert(store, to ? to->addr : "unknown@invalid",
		                                to ? to->name : NULL, &ticket.customer_id,
		                                &known_lang)) != MD_OK)
			goto out;
		ticket.language = g_steal_pointer(&known_lang);
		if (ticket.language == NULL) {
			const char *lang = lang_detect(msg->content_language, msg->subject, msg->text);

			ticket.language = g_strdup(lang ? lang : q->language ? q->language
			                                                    : cfg->default_language);
			if ((st = store_customer_set_language(store, ticket.customer_id,
			                                      ticket.language)) != MD_OK)
				goto out;
		}
		/* we wrote first: someone is on it */
		ticket.status = g_strdup("open");
		ticket.priority = g_strdup("normal");
		ticket.queue = g_strdup(q->name);
		ticket.subject = subject_normalize(msg->subject, cfg->subject_tag_prefix);
		ticket.customer_addr = g_strdup(to ? to->addr : "unknown@invalid");
		ticket.customer_name = g_strdup(to ? to->name : NULL);
		ticket.created = now;
		ticket.needs_attention = to == NULL || msg->parse_failed;
		if ((st = store_ticket_insert(store, &ticket)) != MD_OK ||
		    (st = store_event_add(store, ticket.id, now, from, "created", NULL,
		                          ticket.queue)) != MD_OK ||
		    (to != NULL &&
		     (st = store_participant_add(store, ticket.id, to->addr, "customer")) != MD_OK))
			goto out;
		res->ticket_created = TRUE;
	} else if (latest) {
		if (strcmp(at.kind, "reply") == 0 && strcmp(ticket.status, "new") == 0) {
			if ((st = store_ticket_set_status(store, ticket.id, "open", now)) != MD_OK ||
			    (st = store_event_add(store, ticket.id, now, from, "status", ticket.status,
			                          "open")) != MD_OK)
				goto out;
			g_free(ticket.status);
			ticket.status = g_strdup("open");
		}
		if ((st = store_ticket_touch(store, ticket.id, ticket.tz_minutes, now)) != MD_OK)
			goto out;
	}
	res->ticket = ticket.id;
	res->action = strcmp(at.kind, "note") == 0 ? "our-note" : "our-reply";
	at.ticket = ticket.id;
	if ((st = store_incoming(in, msg, inc->raw, inc->len, inc->sha, inc->env, &at, now,
	                         &res->message_row)) != MD_OK)
		goto out;
	if (found && msg->parse_failed && (st = store_ticket_flag(store, ticket.id)) != MD_OK)
		goto out;
	/* our answer met the first-response target, whenever it was due */
	if (strcmp(at.kind, "reply") == 0 && (st = slaclock_responded(in, &ticket, now)) != MD_OK)
		goto out;
	if (latest)
		st = close_as_history(in, &ticket, now);
out:
	md_ticket_clear(&ticket);
	return st;
}

/* The whole transaction; the caller commits or rolls back. */
static MdStatus
pipeline(MdIntake *in, const MdMessage *msg, const guint8 *raw, gsize len, const char *sha,
         const MdEnvelope *env, MdIntakeResult *res)
{
	const MdConfig *cfg = in->cfg;
	MdStore *store = in->store;
	MdAddress env_spare = { 0 };
	Incoming inc = { msg, raw, len, sha, env, sender_address(msg, env->sender),
		         address_customer(cfg, msg, env->sender, &env_spare), FALSE, clock_now() };
	gint64 now = inc.now;
	gint64 dup_row, dup_ticket;
	MdThreadFacts facts = { 0 };
	g_autofree char *purpose = NULL;
	gboolean forged = FALSE, found = FALSE, spoofed = FALSE;
	const char *sender = inc.sender;
	const MdAddress *reply_to = inc.reply_to;
	const MdAgent *author;
	MdTicket ticket = { 0 };
	gint64 ticket_id = 0;
	MdThreadMatch match;
	MdThreadAction action = THREAD_APPEND;
	Placement at = { 0, "customer", "customer", NULL };
	MdStatus st;
	guint reasons;
	gboolean new_ticket = FALSE, history = FALSE, stranger = FALSE, receipt = FALSE;

	if ((st = store_message_by_hash(store, sha, &dup_row, &dup_ticket)) != MD_OK)
		return st;
	if (dup_row > 0) {
		res->action = "duplicate";
		res->matched = "hash";
		res->ticket = dup_ticket;
		res->message_row = dup_row;
		return MD_OK;
	}
	/* import: the same mail in two folders (the inbox and "All Mail", our
	 * reply in Sent and in a copy) differs in its trace headers, not in
	 * what it says; a reused Message-ID alone (some mailers reuse them)
	 * must not make a different message vanish */
	if (env->no_ack && msg->message_id != NULL && strlen(msg->text) <= MAX_STORED_TEXT) {
		gint64 bytes = 0;

		for (guint i = 0; i < msg->attachments->len; i++)
			bytes += (gint64)((MdAttachment *)msg->attachments->pdata[i])->size;
		if ((st = store_ticket_by_same_message(
		             store, msg->message_id, msg->from ? msg->from->addr : NULL,
		             msg->has_date ? msg->date : 0, msg->subject, msg->text,
		             msg->attachments->len, bytes, &dup_ticket)) != MD_OK)
			return st;
		if (dup_ticket > 0) {
			res->action = "duplicate";
			res->matched = "message-id";
			res->ticket = dup_ticket;
			return MD_OK;
		}
	}

	if (msg->message_id != NULL &&
	    (st = store_is_own_message_id(store, msg->message_id, &inc.own)) != MD_OK)
		return st;
	if (inc.own) {
		/* a copy of mail we sent (a Sent folder fetched, a Bcc to a support
		 * address), or of our own mail an import stored: it is stored
		 * already, and is nobody's new word on the ticket */
		res->action = "own-mail";
		res->matched = "message-id";
		return store_ticket_by_message_id(store, msg->message_id, &res->ticket);
	}

	facts.token_ticket = find_token(in->secret, msg, env->recipient, &purpose, &forged);
	if ((st = find_referenced_ticket(store, msg, &facts.ref_ticket)) != MD_OK)
		return st;
	if (subject_find_tag(msg->subject, cfg->subject_tag_prefix, &facts.tag_ticket) &&
	    sender != NULL &&
	    (st = store_is_participant(store, facts.tag_ticket, sender,
	                               &facts.tag_sender_is_participant)) != MD_OK)
		return st;
	/* the customer as answered (Reply-To) is the participant a web form made */
	if (facts.tag_ticket > 0 && !facts.tag_sender_is_participant && reply_to != NULL &&
	    (st = store_is_participant(store, facts.tag_ticket, reply_to->addr,
	                               &facts.tag_sender_is_participant)) != MD_OK)
		return st;

	match = thread_match(&facts, &ticket_id);
	res->matched = thread_match_name(match);
	if (env->no_ack && from_us(cfg, msg))
		return take_archived_mail(in, &inc, &facts, ticket_id, purpose, res);
	if (match == THREAD_NEW && !forged && !env->no_ack && msg->from != NULL &&
	    msg->from->addr != NULL && conf_agent_by_address(cfg, msg->from->addr) == NULL &&
	    request_is_status(msg, cfg->subject_tag_prefix, cfg->hostname))
		return answer_status_request(in, &inc, res);
	if (ticket_id > 0) {
		if ((st = store_ticket_get(store, ticket_id, &ticket, &found)) != MD_OK)
			return st;
		if (!found) {
			ticket_id = 0;
			res->matched = "new";
			match = THREAD_NEW;
		}
	}

	if (match == THREAD_BY_TOKEN && g_strcmp0(purpose, "bounce") == 0 && msg->is_report) {
		res->ticket = ticket.id;
		st = take_delivery_report(in, &inc, &ticket, res);
		md_ticket_clear(&ticket);
		return st;
	}
	if (match == THREAD_BY_TOKEN && csat_score(purpose) > 0) {
		res->ticket = ticket.id;
		st = take_vote(in, &inc, &ticket, csat_score(purpose), res);
		md_ticket_clear(&ticket);
		return st;
	}
	author = agent_author(in, msg, match, purpose, &spoofed);
	if (author != NULL && ticket_id > 0) {
		res->ticket = ticket.id;
		st = take_agent_mail(in, &inc, &ticket, author, purpose, res);
		md_ticket_clear(&ticket);
		return st;
	}
	/* an agent's From without the agent's token: never a customer's ticket */
	if (spoofed) {
		md_ticket_clear(&ticket);
		return take_unverified_agent_mail(in, &inc, &facts, ticket_id, res);
	}

	/* import: older than what the ticket holds already: kept, changes nothing */
	history = env->no_ack && ticket_id > 0 && now < ticket.updated;
	/* a read receipt is nobody's answer: kept on its ticket, whose status
	 * it leaves alone (a receipt for our "solved" notice reopens nothing) */
	receipt = guard_is_receipt(msg);
	if (history) {
		res->action = "append";
	} else if (ticket_id > 0 && receipt) {
		res->action = "receipt";
	} else if (ticket_id > 0) {
		const char *next;

		action = thread_action(ticket.status, ticket.closed_at, now, cfg->reopen_days);
		next = thread_status_after_customer(ticket.status, action);
		if (action == THREAD_NEW_LINKED) {
			gint64 old = ticket.id;

			md_ticket_clear(&ticket);
			ticket.linked_ticket = old;
			new_ticket = TRUE;
			res->action = "new-linked";
		} else {
			res->action = action == THREAD_REOPEN ? "reopen" : "append";
			if ((st = slaclock_set_status(in, &ticket, next, sender ? sender : "customer",
			                              now)) != MD_OK)
				goto out;
			if ((st = store_ticket_touch(store, ticket.id,
			                             msg->has_date ? msg->date_tz_minutes : ticket.tz_minutes,
			                             now)) != MD_OK)
				goto out;
		}
	} else {
		new_ticket = TRUE;
		res->action = "new";
	}

	if (new_ticket) {
		const MdQueue *q = in->import_queue != NULL ? in->import_queue
		                                            : pick_queue(cfg, msg, env->recipient);
		const char *customer = reply_to ? reply_to->addr : NULL;
		g_autofree char *known_lang = NULL;
		const char *lang;

		if ((st = store_customer_upsert(store, customer ? customer : "unknown@invalid",
		                                reply_to ? reply_to->name : NULL, &ticket.customer_id,
		                                &known_lang)) != MD_OK)
			goto out;
		lang = known_lang;
		if (lang == NULL) {
			lang = lang_detect(msg->content_language, msg->subject, msg->text);
			if (lang == NULL)
				lang = q->language ? q->language : cfg->default_language;
			if ((st = store_customer_set_language(store, ticket.customer_id, lang)) != MD_OK)
				goto out;
		}
		ticket.status = g_strdup("new");
		ticket.priority = g_strdup("normal");
		ticket.queue = g_strdup(q->name);
		ticket.subject = subject_normalize(msg->subject, cfg->subject_tag_prefix);
		ticket.language = g_strdup(lang);
		ticket.customer_addr = g_strdup(customer ? customer : "unknown@invalid");
		ticket.customer_name = g_strdup(reply_to ? reply_to->name : NULL);
		ticket.tz_minutes = msg->has_date ? msg->date_tz_minutes : 0;
		/* an import promised nobody anything: no ETA, no SLA clock */
		ticket.eta = env->no_ack ? 0 : sla_resolution_due(cfg, q, ticket.priority, now);
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
	} else if ((msg->parse_failed || msg->parse_error != NULL || forged) &&
	           (st = store_ticket_flag(store, ticket.id)) != MD_OK) {
		goto out;
	}
	res->ticket = ticket.id;
	res->ticket_created = new_ticket;

	if (new_ticket && reply_to != NULL &&
	    (st = store_participant_add(store, ticket.id, reply_to->addr, "customer")) != MD_OK)
		goto out;
	if (new_ticket || from_customer(&ticket, sender, reply_to)) {
		if ((st = add_customer_side(in, msg, ticket.id, now)) != MD_OK)
			goto out;
	} else if (!spoofed && !env->no_ack &&
	           (guard_check(msg, env->sender, inc.own) & GUARD_AUTOMATIC) == 0) {
		gboolean known = FALSE;

		if (sender != NULL &&
		    (st = store_is_participant(store, ticket.id, sender, &known)) != MD_OK)
			goto out;
		/* kept on the ticket as ever, but nobody's word for the
		 * customer: an agent looks, and the customer hears nothing */
		stranger = !known;
		if (stranger &&
		    ((st = store_event_add(store, ticket.id, now, sender ? sender : "unknown",
		                           "stranger-mail", NULL, env->recipient)) != MD_OK ||
		     (st = store_ticket_flag(store, ticket.id)) != MD_OK))
			goto out;
	}
	at.ticket = ticket.id;
	if ((st = store_incoming(in, msg, raw, len, sha, env, &at, now, &res->message_row)) != MD_OK)
		goto out;

	/* acknowledgement: new tickets only; replies need none */
	reasons = guard_check(msg, env->sender, inc.own);
	if (!new_ticket || env->no_ack) {
		res->ack_withheld = g_strdup(env->no_ack ? "import" : "not-new");
	} else if (reasons != 0) {
		res->ack_withheld = guard_describe(reasons);
	} else if (reply_to == NULL) {
		/* only our own or unwritable addresses: stored, flagged, unanswered */
		res->ack_withheld = guard_describe(GUARD_NO_ADDRESS);
	} else {
		int count = 0;

		if ((st = store_autoreply_count(store, reply_to->addr, now - 3600, &count)) != MD_OK)
			goto out;
		if (count >= cfg->autoreply_per_hour) {
			res->ack_withheld = guard_describe(GUARD_RATE);
		} else {
			if ((st = queue_ack(in, msg, &ticket, now, &res->ack_withheld, &res->error)) !=
			    MD_OK)
				goto out;
			res->ack_queued = res->ack_withheld == NULL;
		}
	}
	if (res->ack_withheld != NULL && new_ticket &&
	    (st = store_event_add(store, ticket.id, now, "maildesk", "ack-withheld", NULL,
	                          res->ack_withheld)) != MD_OK)
		goto out;
	if (env->no_ack) {
		if (!history)
			st = close_as_history(in, &ticket, now);
		goto out;
	}
	/* a receipt about nothing we know: kept on a ticket of its own that is
	 * closed at once, so no agent is handed it, now or when one is free */
	if (receipt) {
		if (new_ticket)
			st = slaclock_set_status(in, &ticket, "closed", "maildesk", now);
		goto out;
	}

	/* agents: a new ticket is handed out; its agent hears of every reply */
	if (new_ticket || (action == THREAD_REOPEN &&
	                   conf_agent_by_address(cfg, ticket.assignee) == NULL)) {
		g_autofree char *text = notify_excerpt(msg->text);
		MdPassedOn what = { reply_to ? reply_to->name : NULL, ticket.customer_addr, text };

		if (ticket.assignee != NULL &&
		    ((st = store_ticket_set_assignee(store, ticket.id, NULL, now)) != MD_OK ||
		     (st = store_event_add(store, ticket.id, now, "maildesk", "assignee",
		                           ticket.assignee, NULL)) != MD_OK))
			goto out;
		g_clear_pointer(&ticket.assignee, g_free);
		st = dispatch_ticket(in, &ticket, &what, now, &res->error);
	} else if ((reasons & GUARD_AUTOMATIC) == 0) {
		st = tell_assignee(in, &inc, &ticket, FALSE, res);
	}
	if (st == MD_OK && action == THREAD_REOPEN && !new_ticket && reasons == 0 && !stranger) {
		g_autofree char *withheld = NULL;

		st = notify_customer(in, &ticket, "status-reopened", NULL, NULL, NULL, now, &withheld,
		                     &res->error);
	}
out:
	md_ticket_clear(&ticket);
	return st;
}

void
intake_parse(const MdConfig *cfg, const guint8 *raw, gsize len, MdIntakeParsed *parsed_r)
{
	MdParseOptions popts = {
		.fallback_charsets = (const char *const *)cfg->fallback_charsets,
		.max_depth = cfg->max_mime_depth,
		.max_parts = cfg->max_parts,
	};

	intake_strip_from_line(&raw, &len);
	parsed_r->raw = raw;
	parsed_r->len = len;
	parsed_r->sha256 = digest_sha256_hex(raw, len);
	parsed_r->msg = parse_message(raw, len, &popts);
}

void
intake_parsed_clear(MdIntakeParsed *p)
{
	g_free(p->sha256);
	g_clear_pointer(&p->msg, md_message_free);
	memset(p, 0, sizeof *p);
}

MdStatus
intake_in_transaction(MdIntake *in, const MdIntakeParsed *p, const MdEnvelope *env,
                      MdIntakeResult *res)
{
	MdStatus st;

	memset(res, 0, sizeof *res);
	in->queued = &res->mail_queued;
	st = pipeline(in, p->msg, p->raw, p->len, p->sha256, env, res);
	in->queued = NULL;
	if (st != MD_OK && res->error == NULL)
		res->error = g_strdup(store_error(in->store));
	return st;
}

void
intake_log_committed(const MdIntakeParsed *p, const MdEnvelope *env, const MdIntakeResult *res)
{
	const MdMessage *msg = p->msg;
	g_autofree char *from = log_safe(msg->from ? msg->from->addr : env->sender);
	g_autofree char *mid = log_safe(msg->message_id);

	log_info("ticket=%" G_GINT64_FORMAT " msgid=<%s> from=<%s> size=%" G_GSIZE_FORMAT
	         " action=%s match=%s ack=%s%s%s",
	         res->ticket, mid, from, p->len, res->action, res->matched,
	         res->ack_queued ? "queued" : "none", res->ack_withheld ? " reason=" : "",
	         res->ack_withheld ? res->ack_withheld : "");
}

MdStatus
intake_message(MdIntake *in, const guint8 *raw, gsize len, const MdEnvelope *env,
               MdIntakeResult *res)
{
	MdIntakeParsed parsed;
	MdStatus st;

	memset(res, 0, sizeof *res);
	intake_parse(in->cfg, raw, len, &parsed);
	if ((st = store_begin(in->store)) != MD_OK) {
		res->error = g_strdup(store_error(in->store));
		intake_parsed_clear(&parsed);
		return st;
	}
	st = intake_in_transaction(in, &parsed, env, res);
	if (st == MD_OK)
		st = store_commit(in->store);
	if (st != MD_OK) {
		if (res->error == NULL)
			res->error = g_strdup(store_error(in->store));
		store_rollback(in->store);
		res->ack_queued = FALSE;
		res->mail_queued = 0;
		intake_parsed_clear(&parsed);
		return st;
	}
	intake_log_committed(&parsed, env, res);
	intake_parsed_clear(&parsed);
	return MD_OK;
}
