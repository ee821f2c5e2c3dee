/*
 * lmtp.h - one LMTP session (RFC 2033) on a connected stream.
 *
 * LHLO, MAIL (SIZE, BODY), RCPT, DATA, RSET, NOOP, QUIT; PIPELINING
 * (replies are flushed only before a read would block, RFC 2920),
 * ENHANCEDSTATUSCODES, 8BITMIME, SIZE.  After DATA the session parses the
 * message once (intake_parse), hands one job per recipient to the group
 * committer and answers one line per recipient: 250 only after the
 * COMMIT, 451 on transient trouble, 552 over max_message_size.
 *
 * The stored message is what pipe(8) with flags=R would hand to deliver:
 * "Return-Path: <sender>" first, dot-unstuffed, CRLF turned into LF, so
 * the same message has the same hash whichever way it came.
 */
#ifndef MD_LMTP_H
#define MD_LMTP_H

#include <gio/gio.h>
#include <glib.h>

#include "groupcommit.h"

typedef struct {
	MdCommitter *committer;
	/* the current site, a new reference (the daemon swaps it on reload) */
	MdSite *(*site_get)(gpointer data);
	gpointer data;
} MdLmtpContext;

/* Serves one connection until QUIT, EOF, an error, a timeout or shutdown. */
void lmtp_session_run(const MdLmtpContext *ctx, GIOStream *stream);

/*
 * Shutdown, from any thread: sessions waiting for a command get "421"
 * and end now; a session inside a transaction ends after its message is
 * answered.  lmtp_sessions_active() counts the sessions still running;
 * lmtp_abort_all() cuts them (their unanswered messages are not stored
 * as delivered: the client keeps them).
 */
void lmtp_shutdown(void);
guint lmtp_sessions_active(void);
void lmtp_abort_all(void);

#endif
