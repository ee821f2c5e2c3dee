/*
 * guard.h - should this message get an automatic answer?  (DESIGN.md
 * "Loops and noise".)  Pure: the store-backed facts (our own Message-ID,
 * the hourly rate) are passed in.  A guarded message is still stored;
 * only the acknowledgement is withheld.
 */
#ifndef MD_GUARD_H
#define MD_GUARD_H

#include "message.h"

typedef enum {
	GUARD_NULL_SENDER = 1 << 0,    /* empty envelope sender */
	GUARD_DAEMON = 1 << 1,         /* MAILER-DAEMON, postmaster */
	GUARD_AUTO_SUBMITTED = 1 << 2, /* Auto-Submitted other than "no" */
	GUARD_PRECEDENCE = 1 << 3,     /* Precedence: bulk, junk, list */
	GUARD_LIST = 1 << 4,           /* List-Id */
	GUARD_AUTOREPLY = 1 << 5,      /* X-Autoreply, X-Autorespond */
	GUARD_OWN_MAIL = 1 << 6,       /* one of our own messages came back */
	GUARD_BOUNCE = 1 << 7,         /* delivery status report */
	GUARD_NO_ADDRESS = 1 << 8,     /* nobody to answer */
	GUARD_SUPPRESS = 1 << 9,       /* X-Auto-Response-Suppress asks us not to */
	GUARD_RATE = 1 << 10,          /* over the hourly autoreply limit */
	GUARD_RECEIPT = 1 << 11,       /* a read receipt or another report (MDN, TNEF REPORT.*) */
} MdGuardReason;

/*
 * The reasons that say a machine wrote the mail, not a person: such mail
 * is kept but never passed on to an agent or run as an agent's commands.
 * (X-Auto-Response-Suppress only asks us not to answer; the hourly limit
 * and a missing address say nothing about who wrote it.)
 */
#define GUARD_AUTOMATIC                                                                         \
	(GUARD_NULL_SENDER | GUARD_DAEMON | GUARD_AUTO_SUBMITTED | GUARD_PRECEDENCE | GUARD_LIST | \
	 GUARD_AUTOREPLY | GUARD_OWN_MAIL | GUARD_BOUNCE | GUARD_RECEIPT)

/*
 * The reasons not to answer msg automatically (0: answer).  env_sender is
 * the envelope sender ("" for the null sender, NULL when unknown);
 * own_mail is TRUE when the message is ours (a Message-ID we generated).
 */
guint guard_check(const MdMessage *msg, const char *env_sender, gboolean own_mail);

/* TRUE for a delivery status report (bounce) rather than a person's mail. */
gboolean guard_is_bounce(const MdMessage *msg, const char *env_sender);

/*
 * TRUE for a read (or non-read) receipt and the like: a disposition
 * notification (RFC 8098), as a report or as a part of any other mail,
 * or an Outlook TNEF stream whose message class is a report
 * (REPORT.IPM.Note.IPNRN, .IPNNRN, .DR, .NDR, ...), which Outlook sends
 * as "Read: ..." without any report type; or a plain mail whose subject
 * starts as receipts' do ("Read:", "Прочитано:", "Return Receipt", ...)
 * and whose short text says it was read ("was read on", ...).
 */
gboolean guard_is_receipt(const MdMessage *msg);

/* The reasons as "null-sender,list" for the log; caller frees with g_free(). */
char *guard_describe(guint reasons);

/* Where an answer would go: Reply-To, else From; NULL when neither. */
const MdAddress *guard_reply_address(const MdMessage *msg);

#endif
