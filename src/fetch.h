/*
 * fetch.h - intake from a remote mailbox over IMAP or POP3 (libetpan).
 *
 * For mailboxes hosted elsewhere: each message of a [mailbox NAME] is
 * read from the server, handed to intake_message() like a delivery, and
 * marked on the server (IMAP: flags and/or a move to another folder;
 * POP3: deleted) only after intake_message() returned MD_OK, that is
 * after its commit.  A crash between the commit and the mark makes the
 * next run read the message again, and intake's content hash recognises
 * it: no duplicate.  A message intake cannot parse is still stored (and
 * flagged for an agent) and so marked: it never blocks the mailbox.  A
 * transient failure leaves the message unmarked for the next run.
 *
 * TLS: Debian's libetpan (GnuTLS) checks no certificate, so the chain is
 * verified here, against the system's CAs or the mailbox's ca_file and
 * for its host name, before the password is sent.  security = starttls
 * never falls back to plain text.
 *
 * Must never: mark a message before its commit, send a password over an
 * unverified connection (unless verify_tls = no), or hold more than one
 * message in memory.
 */
#ifndef MD_FETCH_H
#define MD_FETCH_H

#include <signal.h>

#include <glib.h>

#include "conf.h"
#include "intake.h"
#include "status.h"

typedef struct {
	guint taken;     /* committed by intake (new, duplicate, own mail...) */
	guint marked;    /* then marked on the server */
	guint left;      /* left unmarked: tempfail, or over max_message_size */
	guint queued;    /* outbox rows (acknowledgements, agent mail) those commits wrote */
} MdFetchCounts;

/* Called by fetch_mailbox_watch() after a pass that queued mail. */
typedef void (*MdFetchQueuedFunc)(gpointer data);

/* Once per process, before any fetch: libetpan's TLS set-up. */
void fetch_global_init(void);

/*
 * Fetches what mb holds now, then returns.  in carries the configuration,
 * the store and the secret.  Returns MD_OK when every message was taken
 * (and its mark tried: a failed mark is logged; the next run finds the
 * message again, and intake knows it), MD_TEMPFAIL for trouble that may
 * pass (network, server, database: the rest waits for the next run),
 * MD_CONFIG when the server refuses the login or the certificate, or
 * intake reports a broken installation.
 */
MdStatus fetch_mailbox_once(MdIntake *in, const MdMailbox *mb, MdFetchCounts *counts_r);

/*
 * Stays with mb until *stop is set (by a signal handler): takes what is
 * there, then waits for more with IMAP IDLE when the server offers it,
 * else polls every poll_interval (POP3 always polls).  Trouble is logged
 * and the connection retried after a pause; only MD_CONFIG ends it early.
 */
MdStatus fetch_mailbox_watch(MdIntake *in, const MdMailbox *mb, volatile sig_atomic_t *stop,
                             MdFetchQueuedFunc queued, gpointer data);

/*
 * The envelope recipient to give intake for a fetched message: the
 * mailbox has no envelope, so the first Delivered-To, X-Original-To, To
 * or Cc address that is the mailbox's own address with a +extension (a
 * signed ticket address, verified later by intake) is used, else the
 * configured recipient itself.  Reads only the header (at most
 * max_header bytes).  Caller frees the result with g_free().
 */
char *fetch_envelope_recipient(const guint8 *raw, gsize len, const char *configured,
                               gsize max_header);

/* Replaces every CRLF by LF (in place): the form a local delivery stores. */
void fetch_crlf_to_lf(GByteArray *raw);

#endif
