/*
 * intake.h - the intake pipeline, whatever the entry point (deliver,
 * later lmtpd, fetch, import):
 *
 *   raw bytes -> parse -> BEGIN -> duplicate check -> guards -> thread ->
 *   agent commands (agentmail.c) or customer state -> store raw + derived
 *   rows -> assignment (dispatch.c) -> outbox (outmail.c) -> COMMIT
 *
 * A "status" question to a support address (request.c) skips the ticket
 * stages: it is stored on its own and answered with the sender's list.
 *
 * Parsing happens before the transaction so the write lock is held only
 * for the database work; atomicity is unchanged, since nothing is written
 * before BEGIN.  Nothing is sent here: outgoing mail is an outbox row in
 * the same commit.  MD_OK is returned only after the commit.
 *
 * intake_message() is the whole thing for one message in its own
 * transaction (deliver).  A caller that commits many messages at once
 * (lmtpd's group commit) runs the same stages in pieces: intake_parse()
 * outside any lock, intake_in_transaction() inside its own transaction
 * (and a savepoint per message), intake_log_committed() after COMMIT.
 */
#ifndef MD_INTAKE_H
#define MD_INTAKE_H

#include <glib.h>

#include "conf.h"
#include "message.h"
#include "status.h"
#include "store.h"

typedef struct {
	const MdConfig *cfg;
	MdStore *store;
	GBytes *secret;
	guint *queued; /* set by intake_message: outbox rows written so far */
	/* import (no_ack): when the import runs (UTC seconds).  A ticket
	 * whose latest message is older than reopen_days by then is closed as
	 * history; SLA targets of open ones that fell due before it are not
	 * breaches of ours.  0: nothing is closed or settled. */
	gint64 import_started;
	const MdQueue *import_queue; /* import --queue: new tickets go there, or NULL */
} MdIntake;

typedef struct {
	const char *sender;    /* envelope sender, "" for <>, NULL when unknown */
	const char *recipient; /* envelope recipient, NULL when unknown */
	/*
	 * Import of past mail (cmd_import.c): store only, answer nobody.  No
	 * acknowledgement, agent mail, notice or outbox row of any kind, no
	 * autoreply counting, no assignment, no ETA.  The clock (clock_set)
	 * is the message's own date.  Mail from an agent's or a queue's
	 * address is our own earlier reply: stored outgoing on its ticket.
	 * A message older than its ticket's latest activity changes nothing
	 * but is kept; a ticket idle for reopen_days at import_started is closed.
	 * The same mail in other bytes (Message-ID, From, Date, subject, text
	 * and attachments alike: another folder's copy) is a duplicate too.
	 */
	gboolean no_ack;
} MdEnvelope;

typedef struct {
	gint64 ticket;
	gint64 message_row;
	/* new, append, reopen, new-linked, duplicate, status-request,
	 * agent-reply, agent-note, agent-commands, agent-refused, agent-empty,
	 * agent-automatic, own-mail (a copy of our own mail: nothing stored);
	 * import only: our-reply, our-note */
	const char *action;
	const char *matched;  /* token, references, tag, new */
	gboolean ack_queued;
	guint mail_queued;    /* outbox rows committed: acks, replies, agent mail */
	char *ack_withheld;   /* reasons when no acknowledgement, or NULL */
	char *error;          /* why, when not MD_OK */
	gboolean ticket_created; /* the message opened a ticket */
	gboolean ours;           /* import: our own earlier reply or note */
} MdIntakeResult;

void md_intake_result_clear(MdIntakeResult *r);

/*
 * Takes one message: len bytes at raw, exactly as received (an mbox
 * "From " line first is allowed and is not part of the stored message).
 * Returns MD_OK after the commit, MD_TEMPFAIL for trouble that may pass
 * (nothing is left behind), MD_CONFIG for a broken installation.
 */
MdStatus intake_message(MdIntake *in, const guint8 *raw, gsize len, const MdEnvelope *env,
                        MdIntakeResult *result_r);

/* A message parsed and hashed before any transaction (decision 0002). */
typedef struct {
	const guint8 *raw; /* borrowed from the caller, "From " line skipped */
	gsize len;
	char *sha256;
	MdMessage *msg;
} MdIntakeParsed;

/* Parses raw (borrowed: it must outlive *parsed_r); free with intake_parsed_clear(). */
void intake_parse(const MdConfig *cfg, const guint8 *raw, gsize len, MdIntakeParsed *parsed_r);
void intake_parsed_clear(MdIntakeParsed *p);

/*
 * Runs every database stage of one parsed message inside the caller's
 * open transaction.  On MD_OK the caller must still commit before telling
 * anyone; on failure it must roll back what this call wrote (a ROLLBACK
 * TO its savepoint, or the whole transaction).  result_r->error says why.
 */
MdStatus intake_in_transaction(MdIntake *in, const MdIntakeParsed *p, const MdEnvelope *env,
                               MdIntakeResult *result_r);

/* The one log line of a committed message. */
void intake_log_committed(const MdIntakeParsed *p, const MdEnvelope *env,
                          const MdIntakeResult *res);

/* The message without a leading mbox "From " line. */
void intake_strip_from_line(const guint8 **raw, gsize *len);

#endif
