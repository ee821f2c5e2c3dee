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
} MdIntake;

typedef struct {
	const char *sender;    /* envelope sender, "" for <>, NULL when unknown */
	const char *recipient; /* envelope recipient, NULL when unknown */
	gboolean no_ack;       /* import: store only, answer nobody */
} MdEnvelope;

typedef struct {
	gint64 ticket;
	gint64 message_row;
	/* new, append, reopen, new-linked, duplicate, status-request,
	 * agent-reply, agent-note, agent-commands, agent-refused, agent-empty,
	 * agent-automatic */
	const char *action;
	const char *matched;  /* token, references, tag, new */
	gboolean ack_queued;
	guint mail_queued;    /* outbox rows committed: acks, replies, agent mail */
	char *ack_withheld;   /* reasons when no acknowledgement, or NULL */
	char *error;          /* why, when not MD_OK */
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
