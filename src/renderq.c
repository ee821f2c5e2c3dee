/*
 * renderq.c - a batch's work shared with worker threads (see renderq.h).
 */
#include "config.h"

#include "renderq.h"

struct MdRenderQueue {
	GMutex lock;
	GCond idle;       /* busy fell to 0 */
	GQueue ready;     /* released items no thread has taken */
	guint busy;       /* items workers are doing */
	GPtrArray *held;  /* added since the last release */
	GPtrArray *items; /* released since the last reset, in order */
	GThreadPool *pool;
	GFunc work;
	GDestroyNotify free_item;
};

/* Takes one ready item, if any is left, and does it. */
static void
worker(gpointer data, gpointer user_data)
{
	MdRenderQueue *q = user_data;
	gpointer item;

	(void)data;
	g_mutex_lock(&q->lock);
	item = g_queue_pop_head(&q->ready);
	if (item != NULL)
		q->busy++;
	g_mutex_unlock(&q->lock);
	if (item == NULL)
		return;
	q->work(item, NULL);
	g_mutex_lock(&q->lock);
	if (--q->busy == 0)
		g_cond_broadcast(&q->idle);
	g_mutex_unlock(&q->lock);
}

MdRenderQueue *
renderq_new(guint threads, GFunc work, GDestroyNotify free_item)
{
	MdRenderQueue *q = g_new0(MdRenderQueue, 1);

	g_mutex_init(&q->lock);
	g_cond_init(&q->idle);
	g_queue_init(&q->ready);
	q->held = g_ptr_array_new();
	q->items = g_ptr_array_new();
	q->work = work;
	q->free_item = free_item;
	q->pool = g_thread_pool_new(worker, q, (gint)MAX(threads, 1), TRUE, NULL);
	return q;
}

void
renderq_add(MdRenderQueue *q, gpointer item)
{
	g_ptr_array_add(q->held, item);
}

void
renderq_release(MdRenderQueue *q)
{
	guint n = q->held->len;

	if (n == 0)
		return;
	g_mutex_lock(&q->lock);
	for (guint i = 0; i < n; i++) {
		g_queue_push_tail(&q->ready, q->held->pdata[i]);
		g_ptr_array_add(q->items, q->held->pdata[i]);
	}
	g_mutex_unlock(&q->lock);
	g_ptr_array_set_size(q->held, 0);
	/* one wake-up per item: a worker that finds nothing left returns */
	for (guint i = 0; i < n; i++)
		g_thread_pool_push(q->pool, q, NULL);
}

void
renderq_drop_held(MdRenderQueue *q)
{
	for (guint i = 0; i < q->held->len; i++)
		q->free_item(q->held->pdata[i]);
	g_ptr_array_set_size(q->held, 0);
}

/* Does what no worker took, then waits for the workers. */
static void
drain(MdRenderQueue *q)
{
	for (;;) {
		gpointer item;

		g_mutex_lock(&q->lock);
		item = g_queue_pop_head(&q->ready);
		if (item == NULL) {
			while (q->busy > 0)
				g_cond_wait(&q->idle, &q->lock);
			g_mutex_unlock(&q->lock);
			return;
		}
		g_mutex_unlock(&q->lock);
		q->work(item, NULL);
	}
}

GPtrArray *
renderq_finish(MdRenderQueue *q)
{
	drain(q);
	return q->items;
}

void
renderq_reset(MdRenderQueue *q)
{
	renderq_drop_held(q);
	/* a batch that failed half-way: nothing may still run on its items */
	g_mutex_lock(&q->lock);
	g_queue_clear(&q->ready);
	while (q->busy > 0)
		g_cond_wait(&q->idle, &q->lock);
	g_mutex_unlock(&q->lock);
	for (guint i = 0; i < q->items->len; i++)
		q->free_item(q->items->pdata[i]);
	g_ptr_array_set_size(q->items, 0);
}

void
renderq_free(MdRenderQueue *q)
{
	renderq_reset(q);
	/* the pool's queued wake-ups find nothing and return */
	g_thread_pool_free(q->pool, FALSE, TRUE);
	g_ptr_array_unref(q->held);
	g_ptr_array_unref(q->items);
	g_cond_clear(&q->idle);
	g_mutex_clear(&q->lock);
	g_free(q);
}
