/*
 * renderq.h - work of one group-commit batch done on other threads.
 *
 * lmtpd's writer is one thread, and half of its time went into composing
 * the acknowledgements and notices of each batch (templates, GMime, the
 * SHA-256), work that needs nothing from the database.  The writer adds
 * such work here while it runs the batch's SQL; worker threads do it
 * meanwhile; before its COMMIT the writer takes what is left, waits for
 * the rest, and writes the results into the transaction.
 *
 * Items added by the message in progress are held back until
 * renderq_release(): the message may still fail and take them back
 * (renderq_drop_held()), and the writer may still use what they share.
 * Only the writer thread calls these functions.
 */
#ifndef MD_RENDERQ_H
#define MD_RENDERQ_H

#include <glib.h>

typedef struct MdRenderQueue MdRenderQueue;

/*
 * A queue whose items are done by work (on any thread, each item once)
 * and freed by free_item.  threads: worker threads beside the writer.
 */
MdRenderQueue *renderq_new(guint threads, GFunc work, GDestroyNotify free_item);
void renderq_free(MdRenderQueue *q);

void renderq_add(MdRenderQueue *q, gpointer item);
/* The held items may be done now. */
void renderq_release(MdRenderQueue *q);
/* The held items are freed undone. */
void renderq_drop_held(MdRenderQueue *q);

/*
 * Does the released items no worker has taken, waits for the others, and
 * returns every released item since the last renderq_reset(), in the
 * order added (owned by q).
 */
GPtrArray *renderq_finish(MdRenderQueue *q);
/* Waits for the workers and frees every item: the next batch starts. */
void renderq_reset(MdRenderQueue *q);

#endif
