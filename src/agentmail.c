/*
 * agentmail.c - an agent's mail to a ticket: commands, reply, note.
 *
 * Must never: apply part of a mail's commands, send a note or a refused
 * mail to the customer, or assign a ticket to an agent at their cap.
 * Every check happens in agentmail_prepare(), before anything is written.
 */
#include "config.h"

#include <string.h>

#include "address.h"
#include "agentcmd.h"
#include "agentmail.h"
#include "agentparts.h"
#include "dispatch.h"
#include "notify.h"
#include "parse.h"
#include "quote.h"
#include "sla.h"
#include "slaclock.h"
#include "token.h"

struct MdAgentMail {
	const MdAgent *author;
	MdAgentCmds *cmds;
	char *text;          /* the new words: after the commands, quotes cut */
	MdAgentParts *parts; /* the agent's own text parts and files (agentparts.h) */
	gboolean note;       /* internal: never to the customer */
	GPtrArray *reasons;  /* char*: why the mail is refused; empty when not */
	/* the plan, checked */
	const MdAgent *assign_to;
	const char *status;
	const char *priority;
	const MdQueue *queue;
	gint64 eta;
	int tz_minutes;
	GPtrArray *cc_add, *cc_remove; /* const char*, borrowed from cmds */
};

void
agentmail_free(MdAgentMail *am)
{
	if (am == NULL)
		return;
	agentcmd_free(am->cmds);
	g_free(am->text);
	agentparts_free(am->parts);
	g_ptr_array_unref(am->reasons);
	g_clear_pointer(&am->cc_add, g_ptr_array_unref);
	g_clear_pointer(&am->cc_remove, g_ptr_array_unref);
	g_free(am);
}

const char *
agentmail_kind(const MdAgentMail *am)
{
	/* only words meant for the customer make a reply; commands alone are internal */
	return am->note || am->reasons->len > 0 || *am->text == '\0' ? "note" : "reply";
}

static const MdAgent *
agent_named(const MdConfig *cfg, const char *who)
{
	g_autofree char *addr = NULL;
	gsize n = strlen(who);

	if (n >= 2 && who[0] == '<' && who[n - 1] == '>')
		addr = g_strndup(who + 1, n - 2);
	if (addr != NULL || strchr(who, '@') != NULL)
		return conf_agent_by_address(cfg, addr != NULL ? addr : who);
	return conf_agent_by_name(cfg, who);
}

static char *
queue_names(const MdConfig *cfg)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < cfg->queues->len; i++)
		g_string_append_printf(out, "%s%s", i ? ", " : "",
		                       ((const MdQueue *)cfg->queues->pdata[i])->name);
	return g_string_free(out, FALSE);
}

/*
 * #cc and #uncc: whom an agent copies on the customer's answers.  Never
 * one of ours (a loop), an agent (agents get agent mail), or the
 * customer, who is on every answer and cannot be taken off it.
 */
static MdStatus
check_cc(const MdIntake *in, const MdTicket *t, const MdAgentCmd *c, MdAgentMail *am)
{
	gboolean copied = FALSE;
	MdStatus st;

	if (t->customer_addr != NULL && g_ascii_strcasecmp(c->arg, t->customer_addr) == 0) {
		g_ptr_array_add(am->reasons, g_strdup_printf("%s: %s is the ticket's customer", c->line,
		                                             c->arg));
		return MD_OK;
	}
	if (c->kind == AGENTCMD_UNCC) {
		if ((st = store_is_participant(in->store, t->id, c->arg, &copied)) != MD_OK)
			return st;
		if (!copied)
			g_ptr_array_add(am->reasons, g_strdup_printf("%s: %s is not copied on this "
			                                             "ticket", c->line, c->arg));
		else
			g_ptr_array_add(am->cc_remove, c->arg);
	} else if (address_is_ours(in->cfg, c->arg)) {
		g_ptr_array_add(am->reasons, g_strdup_printf("%s: %s is one of our own addresses",
		                                             c->line, c->arg));
	} else if (conf_agent_by_address(in->cfg, c->arg) != NULL) {
		g_ptr_array_add(am->reasons, g_strdup_printf("%s: %s is an agent, who gets agent "
		                                             "mail instead", c->line, c->arg));
	} else {
		g_ptr_array_add(am->cc_add, c->arg);
	}
	return MD_OK;
}

/* The cap rule: whoever gets the ticket must have room for it. */
static MdStatus
check_room(const MdIntake *in, const MdTicket *t, const MdAgentCmd *c, const MdAgent *agent,
           GPtrArray *reasons)
{
	int open = 0;
	MdStatus st;

	if (t->assignee != NULL && g_ascii_strcasecmp(t->assignee, agent->address) == 0)
		return MD_OK;
	if ((st = dispatch_agent_open(in, agent, &open)) != MD_OK)
		return st;
	if (open >= agent->max_open)
		g_ptr_array_add(reasons,
		                g_strdup_printf("%s: %s already has %d open tickets, their limit",
		                                c->line, agent->name, open));
	return MD_OK;
}

MdStatus
agentmail_prepare(const MdIntake *in, const MdMessage *msg, const guint8 *raw, gsize len,
                  const MdTicket *t, const MdAgent *author, const char *purpose, gint64 now,
                  MdAgentMail **am_r)
{
	const MdConfig *cfg = in->cfg;
	MdAgentMail *am = g_new0(MdAgentMail, 1);
	gboolean below = FALSE;
	g_autofree char *fresh = NULL;
	MdStatus st = MD_OK;

	*am_r = am;
	/* every text part the agent wrote, the quote cut off the whole: a
	 * quote in a later part (Apple Mail's) goes as well */
	am->parts = agentparts_read(raw, len, msg, cfg->max_mime_depth, cfg->max_parts);
	fresh = quote_strip_below(am->parts->text, &below);
	am->author = author;
	am->reasons = g_ptr_array_new_with_free_func(g_free);
	am->cc_add = g_ptr_array_new();
	am->cc_remove = g_ptr_array_new();
	am->tz_minutes = msg->has_date ? msg->date_tz_minutes : 0;
	am->cmds = agentcmd_parse(fresh, now, am->tz_minutes);
	am->text = g_strdup(am->cmds->body);
	am->note = g_strcmp0(token_agent_kind(purpose), TOKEN_NOTE) == 0;
	for (guint i = 0; i < am->cmds->errors->len; i++)
		g_ptr_array_add(am->reasons, g_strdup(am->cmds->errors->pdata[i]));
	/* the quote goes, so words under it would vanish without a word */
	if (below && *am->text == '\0')
		g_ptr_array_add(am->reasons,
		                g_strdup("your text is below the quoted mail: write it above the "
		                         "quote, since nothing of the quote may reach the customer"));

	for (guint i = 0; st == MD_OK && i < am->cmds->cmds->len; i++) {
		const MdAgentCmd *c = am->cmds->cmds->pdata[i];

		switch (c->kind) {
		case AGENTCMD_NOTE:
			am->note = TRUE;
			break;
		case AGENTCMD_TAKE:
			am->assign_to = author;
			st = check_room(in, t, c, author, am->reasons);
			break;
		case AGENTCMD_ASSIGN:
			am->assign_to = agent_named(cfg, c->arg);
			if (am->assign_to == NULL)
				g_ptr_array_add(am->reasons,
				                g_strdup_printf("%s: there is no agent \"%s\"", c->line,
				                                c->arg));
			else
				st = check_room(in, t, c, am->assign_to, am->reasons);
			break;
		case AGENTCMD_STATUS:
			am->status = c->arg;
			break;
		case AGENTCMD_PRIORITY:
			am->priority = c->arg;
			break;
		case AGENTCMD_ETA:
			am->eta = c->eta;
			break;
		case AGENTCMD_QUEUE:
			am->queue = conf_queue_by_name(cfg, c->arg);
			if (am->queue == NULL) {
				g_autofree char *names = queue_names(cfg);

				g_ptr_array_add(am->reasons,
				                g_strdup_printf("%s: there is no queue \"%s\" (queues: %s)",
				                                c->line, c->arg, names));
			}
			break;
		case AGENTCMD_CC:
		case AGENTCMD_UNCC:
			st = check_cc(in, t, c, am);
			break;
		}
	}
	return st;
}

/* Records one field's change as an event by the agent. */
static MdStatus
changed(const MdIntake *in, const MdTicket *t, const MdAgentMail *am, gint64 now,
        const char *what, const char *old_value, const char *new_value)
{
	return store_event_add(in->store, t->id, now, am->author->address, what, old_value,
	                       new_value);
}

static gboolean
is_done(const char *status)
{
	return strcmp(status, "solved") == 0 || strcmp(status, "closed") == 0;
}

/* Records what of the agent's mail was kept from the customer, and why. */
static MdStatus
record_withheld(const MdIntake *in, const MdTicket *t, const MdAgentMail *am, gint64 now)
{
	g_autofree char *what = NULL;

	if (am->parts->withheld->len == 0)
		return MD_OK;
	g_ptr_array_add(am->parts->withheld, NULL);
	what = g_strjoinv("; ", (char **)am->parts->withheld->pdata);
	g_ptr_array_remove_index(am->parts->withheld, am->parts->withheld->len - 1);
	return changed(in, t, am, now, "parts-withheld", NULL, what);
}

/* The agent learns which parts of a sent reply stayed behind, so that a
 * file they meant to send does not vanish without a word. */
static MdStatus
tell_withheld(const MdIntake *in, const MdTicket *t, const MdAgentMail *am, gint64 now,
              char **error_r)
{
	gboolean ok = FALSE;
	MdStatus st;

	if (am->parts->withheld->len == 0)
		return MD_OK;
	if ((st = notify_within_limit(in, t, "agent-parts-withheld", now, &ok)) != MD_OK) {
		*error_r = g_strdup(store_error(in->store));
		return st;
	}
	if (!ok)
		return MD_OK;
	return notify_agent(in, t, am->author, "agent-parts-withheld", NULL, am->parts->withheld,
	                    now, error_r);
}

/* Note recipients: the assignee and every agent who wrote on the ticket, but the author. */
static MdStatus
note_recipients(const MdIntake *in, const MdTicket *t, const MdAgent *author, GPtrArray *to)
{
	g_autoptr(GPtrArray) writers = g_ptr_array_new_with_free_func(g_free);
	MdStatus st;

	if (t->assignee != NULL)
		g_ptr_array_add(writers, g_strdup(t->assignee));
	if ((st = store_ticket_agent_writers(in->store, t->id, writers)) != MD_OK)
		return st;
	for (guint i = 0; i < writers->len; i++) {
		const MdAgent *a = conf_agent_by_address(in->cfg, writers->pdata[i]);

		if (a != NULL && a != author && !g_ptr_array_find(to, a, NULL))
			g_ptr_array_add(to, (gpointer)a);
	}
	return MD_OK;
}

static MdStatus
refuse(const MdIntake *in, MdAgentMail *am, const MdTicket *t, gint64 now, char **error_r)
{
	g_autofree char *why = NULL;
	MdStatus st;

	g_ptr_array_add(am->reasons, NULL);
	why = g_strjoinv("; ", (char **)am->reasons->pdata);
	g_ptr_array_remove_index(am->reasons, am->reasons->len - 1);
	if ((st = changed(in, t, am, now, "commands-refused", NULL, why)) != MD_OK) {
		*error_r = g_strdup(store_error(in->store));
		return st;
	}
	return notify_agent(in, t, am->author, "agent-refused", NULL, am->reasons, now, error_r);
}

MdStatus
agentmail_apply(const MdIntake *in, MdAgentMail *am, MdTicket *t, const guint8 *raw, gsize len,
                gint64 now, const char **action_r, char **error_r)
{
	MdStore *store = in->store;
	g_autoptr(GPtrArray) freed = g_ptr_array_new(); /* const MdAgent*: may take more */
	g_autofree char *old_status = g_strdup(t->status);
	g_autofree char *old_priority = g_strdup(t->priority);
	g_autofree char *old_queue = g_strdup(t->queue);
	gboolean requeue = FALSE, replied = FALSE;
	const char *notice = NULL;
	MdStatus st = MD_OK;

	if (am->reasons->len > 0) {
		*action_r = "agent-refused";
		return refuse(in, am, t, now, error_r);
	}

	/* first, so that a reply written with #cc reaches whom it names */
	for (guint i = 0; i < am->cc_add->len; i++)
		if ((st = store_participant_add(store, t->id, am->cc_add->pdata[i], "added")) != MD_OK ||
		    (st = changed(in, t, am, now, "cc-added", NULL, am->cc_add->pdata[i])) != MD_OK)
			goto store_fail;
	for (guint i = 0; i < am->cc_remove->len; i++)
		if ((st = store_participant_remove(store, t->id, am->cc_remove->pdata[i])) != MD_OK ||
		    (st = changed(in, t, am, now, "cc-removed", am->cc_remove->pdata[i], NULL)) !=
		            MD_OK)
			goto store_fail;

	if (am->queue != NULL && strcmp(am->queue->name, t->queue) != 0) {
		if ((st = changed(in, t, am, now, "queue", t->queue, am->queue->name)) != MD_OK ||
		    (st = store_ticket_set_queue(store, t->id, am->queue->name, now)) != MD_OK)
			goto store_fail;
		g_free(t->queue);
		t->queue = g_strdup(am->queue->name);
		if (am->assign_to == NULL && t->assignee != NULL) {
			const MdAgent *had = conf_agent_by_address(in->cfg, t->assignee);

			if (had == NULL || !conf_agent_serves(had, t->queue)) {
				/* the new queue's agents share it out */
				if ((st = changed(in, t, am, now, "assignee", t->assignee, NULL)) != MD_OK ||
				    (st = store_ticket_set_assignee(store, t->id, NULL, now)) != MD_OK)
					goto store_fail;
				if (had != NULL)
					g_ptr_array_add(freed, (gpointer)had);
				g_clear_pointer(&t->assignee, g_free);
				requeue = TRUE;
			}
		} else if (am->assign_to == NULL && !is_done(t->status)) {
			requeue = TRUE;
		}
	}
	if (am->priority != NULL && strcmp(am->priority, t->priority) != 0) {
		if ((st = changed(in, t, am, now, "priority", t->priority, am->priority)) != MD_OK ||
		    (st = store_ticket_set_priority(store, t->id, am->priority, now)) != MD_OK)
			goto store_fail;
		g_free(t->priority);
		t->priority = g_strdup(am->priority);
	}
	/* the resolution target moves with the priority and the queue, unless
	 * an agent set the ETA by hand */
	if (am->eta == 0 && !t->eta_manual &&
	    ((am->priority != NULL && strcmp(am->priority, old_priority) != 0) ||
	     (am->queue != NULL && strcmp(am->queue->name, old_queue) != 0))) {
		const MdQueue *q = conf_queue_by_name(in->cfg, t->queue);
		gint64 eta = q != NULL ? sla_ticket_resolution_due(in->cfg, q, t, now) : t->eta;

		if ((st = slaclock_set_eta(in, t, eta, FALSE, am->author->address, now)) != MD_OK)
			goto store_fail;
	}
	if (am->eta > 0 &&
	    (st = slaclock_set_eta(in, t, am->eta, TRUE, am->author->address, now)) != MD_OK)
		goto store_fail;
	/* an agent's answer to a new ticket means someone is on it */
	if (am->status == NULL && !am->note && *am->text != '\0' && strcmp(t->status, "new") == 0)
		am->status = "open";
	if (am->status != NULL && strcmp(am->status, t->status) != 0) {
		if ((st = slaclock_set_status(in, t, am->status, am->author->address, now)) != MD_OK)
			goto store_fail;
		if (is_done(t->status)) {
			const MdAgent *had = conf_agent_by_address(in->cfg, t->assignee);

			if (had != NULL)
				g_ptr_array_add(freed, (gpointer)had);
			requeue = FALSE;
		}
		if (strcmp(t->status, "pending") == 0 || is_done(t->status))
			notice = t->status;
		else if (is_done(old_status))
			notice = "reopened";
	}
	if (am->assign_to != NULL &&
	    (t->assignee == NULL || g_ascii_strcasecmp(t->assignee, am->assign_to->address) != 0)) {
		const MdAgent *had = conf_agent_by_address(in->cfg, t->assignee);
		MdPassedOn what;
		g_autofree char *text = NULL;

		if ((st = notify_customer_news(in, t, &what, &text)) != MD_OK)
			goto store_fail;
		if ((st = dispatch_assign(in, t, am->assign_to, am->author->address, &what, now,
		                          error_r)) != MD_OK)
			return st;
		if (had != NULL)
			g_ptr_array_add(freed, (gpointer)had);
		requeue = FALSE;
	}

	if (*am->text != '\0' && am->note) {
		g_autoptr(GPtrArray) to = g_ptr_array_new();
		MdPassedOn what = { am->author->display_name, am->author->address, am->text };

		if ((st = changed(in, t, am, now, "note", NULL, NULL)) != MD_OK)
			goto store_fail;
		if (in->cfg->notify_notes && (st = note_recipients(in, t, am->author, to)) != MD_OK)
			goto store_fail;
		for (guint i = 0; i < to->len; i++)
			if ((st = notify_agent(in, t, to->pdata[i], "agent-note", &what, NULL, now,
			                       error_r)) != MD_OK)
				return st;
	} else if (*am->text != '\0') {
		g_autoptr(GPtrArray) attachments = NULL;
		g_autofree char *withheld = NULL;
		gboolean ok = FALSE;

		if ((st = notify_within_limit(in, t, "reply", now, &ok)) != MD_OK)
			goto store_fail;
		if (!ok) {
			g_autoptr(GPtrArray) why = g_ptr_array_new();

			withheld = g_strdup("mail-limit");
			g_ptr_array_add(why, "more mail to the customer on this ticket within an hour "
			                     "than [limits] ticket_mails_per_hour allows: this one was "
			                     "held back and the ticket flagged");
			if ((st = notify_within_limit(in, t, "agent-refused", now, &ok)) != MD_OK)
				goto store_fail;
			if (ok && (st = notify_agent(in, t, am->author, "agent-refused", NULL, why, now,
			                             error_r)) != MD_OK)
				return st;
		} else {
			if ((st = record_withheld(in, t, am, now)) != MD_OK)
				goto store_fail;
			if (am->parts->attachments->len > 0)
				attachments = g_ptr_array_ref(am->parts->attachments);
			if ((st = notify_customer(in, t, "reply", am->author, am->text, attachments,
			                          now, &withheld, error_r)) != MD_OK)
				return st;
			if (withheld == NULL && (st = tell_withheld(in, t, am, now, error_r)) != MD_OK)
				return st;
		}
		if ((st = changed(in, t, am, now, withheld ? "reply-withheld" : "reply-sent", NULL,
		                  withheld ? withheld : t->customer_addr)) != MD_OK)
			goto store_fail;
		replied = withheld == NULL;
		if (replied && (st = slaclock_responded(in, t, now)) != MD_OK)
			goto store_fail;
	}
	/* a relayed reply states the new status itself; otherwise a notice */
	if (notice != NULL && !replied) {
		g_autofree char *template = g_strdup_printf("status-%s", notice);
		g_autofree char *withheld = NULL;

		if ((st = notify_customer(in, t, template, NULL, NULL, NULL, now, &withheld,
		                          error_r)) != MD_OK)
			return st;
	}

	if (requeue && t->assignee == NULL) {
		MdPassedOn what;
		g_autofree char *text = NULL;

		if ((st = notify_customer_news(in, t, &what, &text)) != MD_OK)
			goto store_fail;
		if ((st = dispatch_ticket(in, t, &what, now, error_r)) != MD_OK)
			return st;
	}
	for (guint i = 0; i < freed->len; i++)
		if ((st = dispatch_freed(in, freed->pdata[i], now, error_r)) != MD_OK)
			return st;

	if (am->note && *am->text != '\0')
		*action_r = "agent-note";
	else if (replied || *am->text != '\0')
		*action_r = "agent-reply";
	else if (am->cmds->cmds->len > 0)
		*action_r = "agent-commands";
	else
		*action_r = "agent-empty";
	return MD_OK;

store_fail:
	*error_r = g_strdup(store_error(store));
	return st;
}
