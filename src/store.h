/*
 * store.h - every SQL statement maildesk runs, and nothing else.
 *
 * One SQLite file in WAL mode with synchronous=FULL and a busy timeout.
 * Writers open a transaction with store_begin() (BEGIN IMMEDIATE, so two
 * deliveries never deadlock on a lock upgrade) and end it with
 * store_commit() or store_rollback().  Statements are prepared once per
 * process and reused.  Every failure maps to an MdStatus: trouble that
 * may pass (busy, disk full, read-only, I/O, no memory, corruption) is
 * MD_TEMPFAIL, so intake can tell the MTA to try again; the reason is in
 * store_error().
 */
#ifndef MD_STORE_H
#define MD_STORE_H

#include <glib.h>

#include "status.h"

#define STORE_SCHEMA_VERSION 4

typedef struct MdStore MdStore;

typedef struct {
	gint64 id;
	char *status;   /* new, open, pending, on-hold, solved, closed */
	char *priority; /* low, normal, high, urgent */
	char *queue;
	gint64 customer_id;
	char *customer_addr;
	char *customer_name;
	char *assignee; /* address or NULL */
	char *subject;  /* normalised subject of the first message */
	char *language;
	gint64 eta;     /* UTC seconds, 0 when none */
	int tz_minutes; /* the customer's UTC offset from their last Date */
	gint64 created, updated, solved_at, closed_at;
	gint64 linked_ticket;
	gboolean needs_attention;
	gboolean eta_manual; /* eta set by an agent's #eta, not computed */
	gint64 first_response_at; /* first agent reply to the customer, 0: none yet */
	gint64 pending_since;     /* pending on the customer since, 0: not pending */
	gint64 paused;            /* business minutes spent pending, by which targets move */
} MdTicket;

void md_ticket_clear(MdTicket *t);

typedef struct {
	gint64 ticket_id;
	const char *direction; /* in, out */
	const char *kind;      /* customer, reply, note, system */
	const char *message_id, *in_reply_to, *references; /* references space-separated */
	const char *from_addr, *from_name, *to_addrs, *cc_addrs; /* addresses comma-separated */
	const char *subject, *text;
	gint64 date, received;
	const char *env_sender, *env_recipient;
	const char *sha256;
	const guint8 *raw;
	gsize raw_len;
	const char *parse_error;
	const char *audience; /* customer (NULL) or agents: who may ever see it */
} MdNewMessage;

typedef struct {
	gint64 id;
	char *direction, *kind, *audience, *message_id, *from_addr, *from_name, *to_addrs, *cc_addrs;
	char *subject, *text;
	gint64 date, received;
	char *parse_error;
} MdMessageRow;

void md_message_row_free(MdMessageRow *r);

typedef struct {
	gint64 id;
	gint64 ticket_id;
	char *kind;
	char *env_from;
	char **rcpts;  /* NULL-terminated */
	GBytes *raw;
	int attempts;
	gint64 created;
} MdOutboxRow;

void md_outbox_row_free(MdOutboxRow *r);

/*
 * Opens (create: also creates) the database file.  Returns NULL with
 * *status_r (MD_CONFIG when the file is missing and create is FALSE, else
 * MD_TEMPFAIL) and *error_r (caller frees) on failure.
 */
MdStore *store_open(const char *path, int busy_timeout_ms, gboolean create, MdStatus *status_r,
                    char **error_r);
void store_close(MdStore *s);
/*
 * Checkpoints: store_set_autocheckpoint(s, 0) stops this connection from
 * copying the WAL into the database itself after a commit (lmtpd's writer
 * leaves that, and its fsync, to another connection that calls
 * store_checkpoint(), a PASSIVE checkpoint that never waits for locks).
 */
void store_set_autocheckpoint(MdStore *s, int pages);
MdStatus store_checkpoint(MdStore *s);
/*
 * Deferred sync (lmtpd's writer): this connection's COMMITs write their
 * WAL frames without waiting for the disk (synchronous=NORMAL), and the
 * caller makes them durable by syncing the file at store_wal_path()
 * before it tells anyone a commit happened.  Checkpoints by any
 * connection still sync the log before they copy it.
 */
MdStatus store_defer_sync(MdStore *s);
const char *store_wal_path(MdStore *s);
/* A new busy timeout for an open store (a reloaded configuration). */
void store_set_busy_timeout(MdStore *s, int busy_timeout_ms);
const char *store_error(MdStore *s);

/* Creates the schema or migrates it forward to STORE_SCHEMA_VERSION. */
MdStatus store_migrate(MdStore *s);
/* Migrates forward to version only (tests build older databases with it). */
MdStatus store_migrate_to(MdStore *s, int version);
/* PRAGMA user_version, or -1 on error. */
int store_schema_version(MdStore *s);
/* MD_CONFIG when the schema is missing or newer than this program. */
MdStatus store_check_schema(MdStore *s);

MdStatus store_begin(MdStore *s);
MdStatus store_commit(MdStore *s);
void store_rollback(MdStore *s);
/*
 * Inside a transaction, a savepoint per message lets a group commit undo
 * one message's writes alone: store_savepoint(), then store_release() on
 * success or store_rollback_savepoint() on failure.  After some errors
 * (disk full, I/O) SQLite rolls the whole transaction back by itself:
 * store_in_transaction() then says FALSE and the caller must fail every
 * message of the batch.
 */
MdStatus store_savepoint(MdStore *s);
MdStatus store_release(MdStore *s);
void store_rollback_savepoint(MdStore *s);
gboolean store_in_transaction(MdStore *s);

/* Intake */
MdStatus store_message_by_hash(MdStore *s, const char *sha256, gint64 *row_r, gint64 *ticket_r);
MdStatus store_ticket_by_message_id(MdStore *s, const char *message_id, gint64 *ticket_r);
MdStatus store_is_own_message_id(MdStore *s, const char *message_id, gboolean *own_r);
/*
 * The ticket of a stored message that is the same mail in other bytes (0:
 * none): the same Message-ID, From, Date (0: none), subject, text, and
 * number and total size of attachments.
 */
MdStatus store_ticket_by_same_message(MdStore *s, const char *message_id, const char *from_addr,
                                      gint64 date, const char *subject, const char *text,
                                      gint64 attachments, gint64 attachment_bytes,
                                      gint64 *ticket_r);
MdStatus store_ticket_get(MdStore *s, gint64 id, MdTicket *t, gboolean *found_r);
/*
 * Participants of a ticket (case-insensitive addresses) by role: customer
 * (the ticket's customer), cc (put in To or Cc by the customer), added
 * (by an agent's #cc).  Rows of role 'participant' are from before
 * issue 12 (anyone who once wrote to the ticket): kept, but no
 * participant to these queries, and made real when added again.
 */
MdStatus store_is_participant(MdStore *s, gint64 ticket, const char *addr, gboolean *yes_r);
MdStatus store_customer_upsert(MdStore *s, const char *addr, const char *name, gint64 *id_r,
                               char **language_r);
MdStatus store_customer_set_language(MdStore *s, gint64 id, const char *language);
/* Marks a known customer address as bouncing; *known_r FALSE when there is none. */
MdStatus store_customer_set_bouncing(MdStore *s, const char *addr, gboolean *known_r);
MdStatus store_ticket_insert(MdStore *s, MdTicket *t); /* sets t->id */
MdStatus store_ticket_set_status(MdStore *s, gint64 id, const char *status, gint64 now);
MdStatus store_ticket_touch(MdStore *s, gint64 id, int tz_minutes, gint64 now);
MdStatus store_ticket_flag(MdStore *s, gint64 id);
MdStatus store_participant_add(MdStore *s, gint64 ticket, const char *addr, const char *role);
/* Removes addr from the ticket's participants; never the customer. */
MdStatus store_participant_remove(MdStore *s, gint64 ticket, const char *addr);
MdStatus store_message_insert(MdStore *s, const MdNewMessage *m, gint64 *row_r);
MdStatus store_attachment_insert(MdStore *s, gint64 message_row, const char *filename,
                                 const char *content_type, const char *disposition, gint64 size);
MdStatus store_message_id_add(MdStore *s, const char *message_id, gint64 ticket, gint64 row,
                              const char *direction);
MdStatus store_event_add(MdStore *s, gint64 ticket, gint64 at, const char *actor,
                         const char *what, const char *old_value, const char *new_value);
MdStatus store_autoreply_count(MdStore *s, const char *addr, gint64 since, int *count_r);
MdStatus store_autoreply_log(MdStore *s, const char *addr, gint64 at);
MdStatus store_outbox_insert(MdStore *s, gint64 ticket, gint64 message_row, const char *kind,
                             const char *env_from, const char *rcpts, const guint8 *raw,
                             gsize raw_len, gint64 now, gint64 *id_r);

/* Outbox draining */
MdStatus store_outbox_due(MdStore *s, gint64 now, int limit, GPtrArray *rows_r);
MdStatus store_outbox_next_due(MdStore *s, gint64 *when_r); /* 0 when nothing is queued */
MdStatus store_outbox_sent(MdStore *s, gint64 id, gint64 now, const char *detail);
MdStatus store_outbox_retry(MdStore *s, gint64 id, int attempts, gint64 next, const char *error);
MdStatus store_outbox_failed(MdStore *s, gint64 id, int attempts, gint64 now, const char *error);
MdStatus store_outbox_counts(MdStore *s, int *queued_r, int *sent_r, int *failed_r);
/* Keeps a queued row unsent for good: the outbound guard refused it for reason. */
MdStatus store_outbox_hold(MdStore *s, gint64 id, gint64 now, const char *reason);

/* A mail the outbound guard held (outbox status 'held'). */
typedef struct {
	gint64 id;          /* outbox row */
	gint64 message_row; /* its stored copy on the ticket, or 0 */
	char *kind;         /* outbox kind: reply, notice, ack, ... */
	char *rcpts;
	gint64 created;
	char *reason;
} MdHeldMail;

void md_held_mail_free(MdHeldMail *h);

/* The held mail of ticket (MdHeldMail*, oldest first) added to held_r. */
MdStatus store_outbox_held(MdStore *s, gint64 ticket, GPtrArray *held_r);

/* Agents and assignment */
/* Tickets assigned to addr and not solved or closed; when they last got one (0: never). */
MdStatus store_agent_load(MdStore *s, const char *addr, int *open_r, gint64 *last_assigned_r);
MdStatus store_agent_assigned(MdStore *s, const char *addr, gint64 now);
MdStatus store_agent_open_tickets(MdStore *s, const char *addr, GArray *ids_r); /* gint64 */
/* The unassigned open ticket of queue to hand out next: highest priority, then oldest. */
MdStatus store_next_waiting(MdStore *s, const char *queue, gint64 *ticket_r, int *rank_r,
                            gint64 *created_r);
MdStatus store_ticket_set_assignee(MdStore *s, gint64 id, const char *addr, gint64 now);
MdStatus store_ticket_set_priority(MdStore *s, gint64 id, const char *priority, gint64 now);
MdStatus store_ticket_set_queue(MdStore *s, gint64 id, const char *queue, gint64 now);
MdStatus store_ticket_set_eta(MdStore *s, gint64 id, gint64 eta, gboolean manual, gint64 now);
/* Whether the ticket has an event what with that new value (NULL matches NULL). */
/* Outbox rows of kind for ticket queued at or after since. */
MdStatus store_outbox_count_since(MdStore *s, gint64 ticket, const char *kind, gint64 since,
                                  int *count_r);
MdStatus store_event_exists(MdStore *s, gint64 ticket, const char *what, const char *new_value,
                            gboolean *yes_r);
/* Lower-cased From addresses of agents' replies and notes on the ticket. */
MdStatus store_ticket_agent_writers(MdStore *s, gint64 ticket, GPtrArray *addrs_r);
/* Message-IDs of the ticket's mail the customer has seen, oldest first (char*). */
MdStatus store_customer_thread(MdStore *s, gint64 ticket, GPtrArray *ids_r);
/*
 * The stored texts (char*) of the notes of ticket and of linked (0: none):
 * messages of kind note, but the mails refused for their commands.
 */
MdStatus store_ticket_note_texts(MdStore *s, gint64 ticket, gint64 linked, GPtrArray *texts_r);
/* The customer's latest message on the ticket: its Message-ID and text (either may be NULL). */
MdStatus store_last_customer_message(MdStore *s, gint64 ticket, char **message_id_r,
                                     char **text_r);
MdStatus store_ticket_participants(MdStore *s, gint64 ticket, GPtrArray *addrs_r); /* char* */
MdStatus store_customer_open_tickets(MdStore *s, const char *addr, GArray *tickets_r);
/* Mail kept for itself, outside any ticket (a "status" question). */
MdStatus store_request_insert(MdStore *s, const char *kind, const char *from_addr,
                              const char *message_id, gint64 received, const char *env_sender,
                              const char *env_recipient, const char *sha256, const guint8 *raw,
                              gsize raw_len, gint64 *row_r);

/* The SLA clock (tick.c) */
MdStatus store_ticket_add_paused(MdStore *s, gint64 id, gint64 minutes);
/* Records the first agent reply to the customer; later ones change nothing. */
MdStatus store_ticket_first_response(MdStore *s, gint64 id, gint64 at);
/* Records that tick did what for the target due; *new_r FALSE when it had already. */
MdStatus store_sla_mark(MdStore *s, gint64 ticket, const char *what, gint64 due, gint64 at,
                        gboolean *new_r);
/*
 * Tickets a clock may still act on: not solved or closed, and with
 * solved_unasked the solved ones not yet asked for a vote.
 */
MdStatus store_tickets_to_tick(MdStore *s, gboolean solved_unasked, GArray *ids_r);
/* Records a satisfaction vote (the latest counts); *old_score_r 0 for the first. */
MdStatus store_csat_vote(MdStore *s, gint64 ticket, int score, const char *comment,
                         const char *from_addr, gint64 at, int *old_score_r);

/* Reports (report.c) */
typedef struct {
	gint64 ticket;
	gint64 at;
	char *old_status, *new_status;
} MdStatusEvent;

void md_status_event_clear(MdStatusEvent *e);

typedef struct {
	gint64 ticket;
	char *queue;
	int score;
	gint64 at;
} MdCsatRow;

void md_csat_row_clear(MdCsatRow *r);

/*
 * The tickets a report from since on concerns: created, solved or
 * closed since then, or not solved or closed now (MdTicket, by id).
 * first_response_at falls back to the first relayed reply (a messages
 * row kind reply, direction out) for tickets from before it was kept.
 */
MdStatus store_report_tickets(MdStore *s, gint64 since, GArray *tickets_r);
/* The 'status' events of those tickets, by ticket and then time (MdStatusEvent). */
MdStatus store_report_status_events(MdStore *s, gint64 since, GArray *events_r);
/* Satisfaction votes (the latest of each ticket) cast in [since, until) (MdCsatRow). */
MdStatus store_report_csat(MdStore *s, gint64 since, gint64 until, GArray *votes_r);
/* Whether a digest for period went to lead (an events row without ticket, what 'digest'). */
MdStatus store_digest_sent(MdStore *s, const char *lead, const char *period, gboolean *yes_r);

/* Admin */
MdStatus store_ticket_list(MdStore *s, const char *status, GArray *tickets_r); /* MdTicket */
MdStatus store_ticket_messages(MdStore *s, gint64 ticket, GPtrArray *rows_r); /* MdMessageRow* */
MdStatus store_ticket_count(MdStore *s, gint64 *count_r);

#endif
