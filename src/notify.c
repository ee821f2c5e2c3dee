/*
 * notify.c - who is told what about a ticket, and in which words.
 *
 * Must never: put an agent's note or our agent mail into a customer mail
 * (agent templates and customer templates never share a call here), or
 * copy an agent on a customer mail.
 */
#include "config.h"

#include <string.h>

#include "datefmt.h"
#include "i18n.h"
#include "log.h"
#include "notify.h"
#include "outmail.h"
#include "quote.h"

const MdQueue *
notify_ticket_queue(const MdConfig *cfg, const MdTicket *t)
{
	const MdQueue *q = t != NULL ? conf_queue_by_name(cfg, t->queue) : NULL;

	return q != NULL ? q : cfg->queues->pdata[0];
}

#define NOTIFY_MAX_READ (256 * 1024)
#define NOTIFY_MAX_TEXT (64 * 1024)

/* text cut to at most max bytes at a character boundary; caller frees */
static char *
utf8_head(const char *text, gsize max)
{
	const char *end;

	if (strlen(text) <= max)
		return g_strdup(text);
	end = g_utf8_find_prev_char(text, text + max);
	return g_strndup(text, end != NULL ? (gsize)(end - text) : 0);
}

char *
notify_excerpt(const char *text)
{
	g_autofree char *head = utf8_head(text != NULL ? text : "", NOTIFY_MAX_READ);
	g_autofree char *fresh = quote_strip(head);
	g_autofree char *cut = NULL;

	if (strlen(fresh) <= NOTIFY_MAX_TEXT)
		return g_steal_pointer(&fresh);
	cut = utf8_head(fresh, NOTIFY_MAX_TEXT);
	return g_strdup_printf("%s\n[...]", cut);
}

MdStatus
notify_within_limit(const MdIntake *in, const MdTicket *t, const char *kind, gint64 now,
                    gboolean *ok_r)
{
	int count = 0;
	MdStatus st = store_outbox_count_since(in->store, t->id, kind, now - 3600, &count);

	*ok_r = count < in->cfg->ticket_mails_per_hour;
	if (st != MD_OK || *ok_r)
		return st;
	if ((st = store_event_add(in->store, t->id, now, "maildesk", "mail-limit", NULL, kind)) !=
	    MD_OK)
		return st;
	return store_ticket_flag(in->store, t->id);
}

MdStatus
notify_customer_news(const MdIntake *in, const MdTicket *t, MdPassedOn *what, char **text_r)
{
	g_autofree char *message_id = NULL;
	g_autofree char *text = NULL;
	MdStatus st = store_last_customer_message(in->store, t->id, &message_id, &text);

	what->name = t->customer_name;
	what->address = t->customer_addr;
	*text_r = st == MD_OK ? notify_excerpt(text) : NULL;
	what->text = *text_r;
	return st;
}

const char *
notify_agent_language(const MdConfig *cfg, const MdAgent *agent, const MdQueue *q)
{
	if (agent != NULL && agent->language != NULL)
		return agent->language;
	if (q != NULL && q->language != NULL)
		return q->language;
	return cfg->default_language;
}

static void
set_person(JsonObject *ctx, const char *member, const char *name, const char *address)
{
	JsonObject *o = json_object_new();

	if (name != NULL && *name != '\0')
		json_object_set_string_member(o, "name", name);
	if (address != NULL)
		json_object_set_string_member(o, "address", address);
	json_object_set_object_member(ctx, member, o);
}

/* Copies extra's members (may be NULL) into ctx. */
static void
add_members(JsonObject *ctx, JsonObject *extra)
{
	g_autoptr(GList) names = extra != NULL ? json_object_get_members(extra) : NULL;

	for (GList *l = names; l != NULL; l = l->next)
		json_object_set_member(ctx, l->data, json_object_dup_member(extra, l->data));
}

int
notify_agent_offset(const MdAgent *agent, gint64 at)
{
	GTimeZone *tz = agent->timezone;

	if (tz == NULL)
		return 0;
	return (int)(g_time_zone_get_offset(tz, g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL,
	                                                                  at)) / 60);
}

MdStatus
notify_agent(const MdIntake *in, const MdTicket *t, const MdAgent *agent, const char *template,
             const MdPassedOn *what, GPtrArray *reasons, gint64 now, char **error_r)
{
	return notify_agent_with(in, t, agent, template, what, reasons, NULL, now, error_r);
}

MdStatus
notify_agent_with(const MdIntake *in, const MdTicket *t, const MdAgent *agent,
                  const char *template, const MdPassedOn *what, GPtrArray *reasons,
                  JsonObject *extra, gint64 now, char **error_r)
{
	const MdQueue *q = notify_ticket_queue(in->cfg, t);
	const char *lang = notify_agent_language(in->cfg, agent, q);
	/* the ETA in the agent's own time, as it is at that instant */
	int tz_minutes = notify_agent_offset(agent, t->eta > 0 ? t->eta : now);
	g_autoptr(JsonObject) ctx = outmail_context(in, t, q, lang, tz_minutes, TRUE);
	g_autofree char *withheld = NULL;
	MdOutMail m = { 0 };

	add_members(ctx, extra);
	set_person(ctx, "agent", agent->display_name, agent->address);
	if (what != NULL) {
		set_person(ctx, "author", what->name, what->address);
		if (what->text != NULL)
			json_object_set_string_member(ctx, "text", what->text);
	}
	if (reasons != NULL) {
		JsonArray *list = json_array_new();

		for (guint i = 0; i < reasons->len; i++)
			json_array_add_string_element(list, reasons->pdata[i]);
		json_object_set_array_member(ctx, "reasons", list);
	}
	m.template = template;
	m.outbox_kind = template;
	m.to_agents = TRUE;
	m.queue = q;
	m.language = lang;
	m.to_name = agent->display_name;
	m.to_addr = agent->address;
	m.auto_submitted = "auto-generated";
	/* an agent address GMime cannot write is a config problem that
	 * check-config already refuses; nothing more to do here */
	return outmail_queue(in, t, ctx, &m, now, &withheld, error_r);
}

/* Whether addr is one of our people or our own addresses. */
static gboolean
is_ours(const MdConfig *cfg, const char *addr)
{
	if (conf_agent_by_address(cfg, addr) != NULL || conf_queue_for_address(cfg, addr) != NULL)
		return TRUE;
	for (guint i = 0; i < cfg->queues->len; i++) {
		const MdQueue *q = cfg->queues->pdata[i];

		if (q->lead != NULL && g_ascii_strcasecmp(q->lead, addr) == 0)
			return TRUE;
	}
	return FALSE;
}

gboolean
notify_failure_wanted(const MdConfig *cfg, const char *kind, const GPtrArray *failed)
{
	if (g_str_has_prefix(kind, "agent-"))
		return FALSE;
	for (guint i = 0; i < failed->len; i++)
		if (is_ours(cfg, ((const MdFailedRcpt *)failed->pdata[i])->to))
			return FALSE;
	return failed->len > 0;
}

static void
add_once(GPtrArray *addrs, const char *addr)
{
	for (guint i = 0; i < addrs->len; i++)
		if (g_ascii_strcasecmp(addrs->pdata[i], addr) == 0)
			return;
	g_ptr_array_add(addrs, (gpointer)addr);
}

void
notify_queue_leads(const MdConfig *cfg, const MdQueue *q, GPtrArray *addrs)
{
	for (guint i = 0; i < cfg->agents->len; i++) {
		const MdAgent *a = cfg->agents->pdata[i];

		if (a->lead && conf_agent_serves(a, q->name))
			add_once(addrs, a->address);
	}
	if (q->lead != NULL)
		add_once(addrs, q->lead);
}

void
notify_queue_agents(const MdConfig *cfg, const MdQueue *q, GPtrArray *addrs)
{
	for (guint i = 0; i < cfg->agents->len; i++) {
		const MdAgent *a = cfg->agents->pdata[i];

		if (conf_agent_serves(a, q->name))
			add_once(addrs, a->address);
	}
}

const MdAgent *
notify_person(const MdConfig *cfg, const char *addr, MdAgent *spare)
{
	const MdAgent *agent = conf_agent_by_address(cfg, addr);

	if (agent != NULL)
		return agent;
	*spare = (MdAgent){ .address = (char *)addr };
	return spare;
}

GPtrArray *
notify_failure_recipients(const MdConfig *cfg, const MdTicket *t)
{
	const MdAgent *assignee = conf_agent_by_address(cfg, t->assignee);
	const MdQueue *q = notify_ticket_queue(cfg, t);
	GPtrArray *to = g_ptr_array_new();

	if (assignee != NULL) {
		g_ptr_array_add(to, assignee->address);
		return to;
	}
	/* nobody owns the ticket: whoever leads its queue (as tick's
	 * escalations), else its agents */
	notify_queue_leads(cfg, q, to);
	if (to->len == 0)
		notify_queue_agents(cfg, q, to);
	return to;
}

/* The "failure" and "failed" members of agent-delivery-failed's context. */
static void
set_failure(JsonObject *ctx, const MdConfig *cfg, const MdFailedMail *f, const char *lang,
            int tz_minutes)
{
	JsonObject *o = json_object_new();
	JsonArray *list = json_array_new();
	g_autofree char *kind_text = i18n_text(cfg->templates, lang, "mail-kind", f->kind);
	g_autofree char *queued = datefmt_long(f->queued, tz_minutes, lang);

	json_object_set_string_member(o, "kind", f->kind);
	json_object_set_string_member(o, "kind_text", kind_text);
	if (f->subject != NULL && *f->subject != '\0')
		json_object_set_string_member(o, "subject", f->subject);
	json_object_set_string_member(o, "queued", queued);
	json_object_set_int_member(o, "attempts", f->attempts);
	json_object_set_boolean_member(o, "gave_up", f->gave_up);
	json_object_set_object_member(ctx, "failure", o);
	for (guint i = 0; i < f->failed->len; i++) {
		const MdFailedRcpt *r = f->failed->pdata[i];
		JsonObject *e = json_object_new();

		json_object_set_string_member(e, "to", r->to);
		json_object_set_string_member(e, "answer", r->answer != NULL ? r->answer : "");
		json_array_add_object_element(list, e);
	}
	json_object_set_array_member(ctx, "failed", list);
}

MdStatus
notify_delivery_failed(const MdIntake *in, const MdTicket *t, const MdFailedMail *f, gint64 now,
                       char **error_r)
{
	const MdConfig *cfg = in->cfg;
	const MdQueue *q = notify_ticket_queue(cfg, t);
	g_autoptr(GPtrArray) to = notify_failure_recipients(cfg, t);
	MdStatus st = MD_OK;

	for (guint i = 0; i < to->len && st == MD_OK; i++) {
		MdAgent spare;
		const MdAgent *agent = notify_person(cfg, to->pdata[i], &spare);
		g_autoptr(JsonObject) extra = json_object_new();
		g_autofree char *error = NULL;

		set_failure(extra, cfg, f, notify_agent_language(cfg, agent, q),
		            notify_agent_offset(agent, f->queued));
		st = notify_agent_with(in, t, agent, "agent-delivery-failed", NULL, NULL, extra, now,
		                       &error);
		if (st == MD_CONFIG) {
			/* check-config refuses this; the failure is recorded anyway */
			log_error("ticket=%" G_GINT64_FORMAT " to=<%s> no delivery-failed notice: %s",
			          t->id, agent->address, error);
			st = MD_OK;
		} else if (st != MD_OK) {
			*error_r = g_steal_pointer(&error);
		}
	}
	return st;
}

/*
 * A customer mail the outbound guard held (withheld "held: REASON"): its
 * author, else the ticket's assignee, hears why, with the text to send
 * again; the ticket is flagged already.
 */
static MdStatus
tell_held(const MdIntake *in, const MdTicket *t, const MdAgent *from_agent, const char *text,
          const char *withheld, gint64 now, char **error_r)
{
	const MdAgent *agent = from_agent;
	g_autoptr(GPtrArray) reasons = g_ptr_array_new();
	MdPassedOn what = { NULL, NULL, text };
	gsize n = strlen(OUTMAIL_HELD);

	if (withheld == NULL || strncmp(withheld, OUTMAIL_HELD ": ", n + 2) != 0)
		return MD_OK;
	if (agent == NULL)
		agent = conf_agent_by_address(in->cfg, t->assignee);
	if (agent == NULL)
		return MD_OK;
	what.name = agent->display_name;
	what.address = agent->address;
	g_ptr_array_add(reasons, (gpointer)(withheld + n + 2));
	return notify_agent(in, t, agent, "agent-held", &what, reasons, now, error_r);
}

/* Everyone on the customer's side of t but the customer: the Cc list. */
static MdStatus
customer_side_cc(const MdIntake *in, const MdTicket *t, GPtrArray *cc)
{
	g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func(g_free);
	MdStatus st = store_ticket_participants(in->store, t->id, all);

	for (guint i = 0; st == MD_OK && i < all->len; i++) {
		const char *a = all->pdata[i];

		if (g_ascii_strcasecmp(a, t->customer_addr) == 0 ||
		    conf_agent_by_address(in->cfg, a) != NULL ||
		    conf_queue_for_address(in->cfg, a) != NULL)
			continue;
		g_ptr_array_add(cc, g_strdup(a));
	}
	g_ptr_array_add(cc, NULL);
	return st;
}

MdStatus
notify_customer(const MdIntake *in, const MdTicket *t, const char *template,
                const MdAgent *from_agent, const char *text, GPtrArray *attachments, gint64 now,
                char **withheld_r, char **error_r)
{
	return notify_customer_with(in, t, template, from_agent, text, attachments, NULL, now,
	                            withheld_r, error_r);
}

MdStatus
notify_customer_with(const MdIntake *in, const MdTicket *t, const char *template,
                     const MdAgent *from_agent, const char *text, GPtrArray *attachments,
                     JsonObject *extra, gint64 now, char **withheld_r, char **error_r)
{
	const MdConfig *cfg = in->cfg;
	const MdQueue *q = notify_ticket_queue(cfg, t);
	const char *lang = t->language != NULL ? t->language : cfg->default_language;
	gboolean reply = strcmp(template, "reply") == 0;
	g_autoptr(JsonObject) ctx = outmail_context(in, t, q, lang, t->tz_minutes, FALSE);
	g_autoptr(GPtrArray) cc = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *from_name = NULL;
	MdOutMail m = { 0 };
	MdStatus st;

	add_members(ctx, extra);
	if (text != NULL)
		json_object_set_string_member(ctx, "text", text);
	if (from_agent != NULL) {
		JsonObject *who = json_object_new();

		json_object_set_string_member(who, "name", from_agent->display_name);
		json_object_set_object_member(ctx, "agent_reply", who);
		from_name = g_strdup_printf("%s via %s", from_agent->display_name, cfg->site_name);
	}
	if (reply && (st = customer_side_cc(in, t, cc)) != MD_OK) {
		*error_r = g_strdup(store_error(in->store));
		return st;
	}
	m.template = template;
	m.outbox_kind = reply ? "reply" : "notice";
	m.message_kind = reply ? "reply" : "system";
	m.queue = q;
	m.language = lang;
	m.to_name = t->customer_name;
	m.to_addr = t->customer_addr;
	m.cc = reply ? (const char *const *)cc->pdata : NULL;
	m.from_name = from_name;
	m.auto_submitted = reply ? NULL : "auto-generated";
	m.attachments = attachments;
	if ((st = outmail_queue(in, t, ctx, &m, now, withheld_r, error_r)) != MD_OK)
		return st;
	return tell_held(in, t, from_agent, text, *withheld_r, now, error_r);
}
