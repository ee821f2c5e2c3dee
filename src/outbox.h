/*
 * outbox.h - the retry policy of the outbox, and draining it.
 *
 * Outgoing mail is a row written in the same transaction as the change
 * that caused it; outbox_drain() submits due rows over one SMTP
 * connection and records each outcome.  The policy functions are pure.
 */
#ifndef MD_OUTBOX_H
#define MD_OUTBOX_H

#include <glib.h>

#include "conf.h"
#include "status.h"
#include "store.h"

/*
 * Seconds to wait after the attempts-th failed attempt (1 for the first):
 * base doubled per earlier failure, capped at max.
 */
gint64 outbox_retry_delay(int attempts, int base, int max);

/*
 * After a transient failure of a row created at created: TRUE with the
 * time of the next attempt in *next_r, or FALSE when the row has been
 * queued longer than give_up_after and must fail for good.
 */
gboolean outbox_schedule_retry(int attempts, gint64 created, gint64 now, gint64 give_up_after,
                               int base, int max, gint64 *next_r);

typedef struct {
	int sent;
	int deferred;
	int failed;
} MdDrainCounts;

/*
 * Sends every row due now (one connection, reused), records each outcome,
 * and returns MD_OK, or MD_TEMPFAIL when the database failed.  Rows that
 * come due while draining are sent too.  A row is marked sent only after
 * the relay accepted it; a crash in between sends it again once at most.
 * A row that fails for good is recorded on its ticket, and its people are
 * told (notify_delivery_failed) in the same transaction: secret signs the
 * Reply-To of that notice.
 */
MdStatus outbox_drain(const MdConfig *cfg, MdStore *store, GBytes *secret,
                      MdDrainCounts *counts_r);

/*
 * Opens the lock file beside the database that one sender at a time holds
 * (flock) while draining: `maildesk send` and lmtpd's sender thread.
 * -1 after logging why.
 */
int outbox_open_send_lock(const MdConfig *cfg);

#endif
