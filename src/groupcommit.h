/*
 * groupcommit.h - lmtpd's one writer: many messages, one COMMIT.
 *
 * Connection threads parse their messages (intake_parse) and hand them
 * here; one writer thread owns the database connection and takes every
 * message queued so far as one batch:
 *
 *   BEGIN IMMEDIATE
 *     SAVEPOINT, intake_in_transaction, RELEASE (or ROLLBACK TO) per message
 *   COMMIT
 *
 * The COMMIT writes the log without waiting for the disk; a second
 * thread syncs the log file and only then gives every message of the
 * batch its outcome.  While one batch's sync is in flight the writer
 * already runs the next batch, and new messages queue up behind it, so
 * the rate is capped neither by one fsync per message nor by the disk's
 * latency added to the writer's work.  A message's outcome is MD_OK only
 * after the COMMIT that holds it is on disk; one message's failure rolls
 * back that message alone; a failed BEGIN or COMMIT fails the whole batch
 * (nothing of it is stored), and a failed sync fails every message it
 * should have made durable (the client retries; a redelivery of a
 * message that did reach the disk is recognised as a duplicate).
 */
#ifndef MD_GROUPCOMMIT_H
#define MD_GROUPCOMMIT_H

#include <glib.h>

#include "conf.h"
#include "intake.h"
#include "status.h"

/* The configuration and secret the daemon runs with; replaced on reload. */
typedef struct {
	MdConfig *cfg;
	GBytes *secret;
} MdSite;

/* Takes ownership of cfg and secret; reference counted (g_atomic_rc_box). */
MdSite *md_site_new(MdConfig *cfg, GBytes *secret);
MdSite *md_site_ref(MdSite *site);
void md_site_unref(MdSite *site);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MdSite, md_site_unref)

/* One intake: a parsed message for one envelope recipient. */
typedef struct {
	const MdIntakeParsed *parsed; /* shared by the recipients of one message */
	MdEnvelope env;
	/* outcome, filled by the writer */
	MdStatus status;
	MdIntakeResult result;
	gboolean done;
	GCond *wake; /* the waiting connection's own, set by committer_run */
} MdCommitJob;

typedef struct MdCommitter MdCommitter;

/*
 * Called by the writer thread after a COMMIT that queued outgoing mail
 * (lmtpd kicks its sender).  Must not block.
 */
typedef void (*MdCommittedFunc)(guint mail_queued, gpointer data);

/*
 * Starts the writer thread with the database of site's configuration.
 * NULL with *status_r when the database cannot be opened.
 */
MdCommitter *committer_start(MdSite *site, MdCommittedFunc committed, gpointer data,
                             MdStatus *status_r);

/*
 * Queues jobs (all recipients of one message, so they share a batch) and
 * waits until each has its status.  Thread safe.
 */
void committer_run(MdCommitter *c, MdCommitJob **jobs, guint n);

/* The site used for batches from now on (after a reload). */
void committer_set_site(MdCommitter *c, MdSite *site);

/* Commits what is queued, stops the writer thread and frees c. */
void committer_stop(MdCommitter *c);

#endif
