/*
 * groupcommit.c - lmtpd's writer thread (see groupcommit.h).
 *
 * Must never: report MD_OK for a message before the COMMIT that holds
 * it, or leave part of a failed message in the database.  The writer is
 * the only thread that touches its MdStore.
 */
#include "config.h"

#include "commands.h"
#include "groupcommit.h"
#include "log.h"

/* A bound on one transaction's size: its lock is held while it runs. */
#define MAX_BATCH 256
/* how often the checkpoint thread copies the WAL into the database */
#define CHECKPOINT_INTERVAL_US (G_USEC_PER_SEC / 2)

struct MdCommitter {
	GMutex lock;
	GCond work;  /* jobs queued, or stopping */
	GCond stop;  /* wakes the checkpointer when stopping */
	GQueue queue; /* MdCommitJob*, in arrival order */
	gboolean stopping;
	MdSite *next_site; /* set by committer_set_site, taken by the writer */

	char *database; /* the writer's current database, for the checkpointer */

	/* the writer thread's own */
	GThread *thread;
	GThread *checkpointer;
	MdSite *site;
	MdStore *store;
	MdCommittedFunc committed;
	gpointer committed_data;
};

static void
site_clear(MdSite *site)
{
	conf_free(site->cfg);
	if (site->secret != NULL)
		g_bytes_unref(site->secret);
}

MdSite *
md_site_new(MdConfig *cfg, GBytes *secret)
{
	MdSite *site = g_atomic_rc_box_new0(MdSite);

	site->cfg = cfg;
	site->secret = secret;
	return site;
}

MdSite *
md_site_ref(MdSite *site)
{
	return g_atomic_rc_box_acquire(site);
}

void
md_site_unref(MdSite *site)
{
	g_atomic_rc_box_release_full(site, (GDestroyNotify)site_clear);
}

static MdStore *
open_store(const MdSite *site, MdStatus *status_r)
{
	return commands_open_store(site->cfg, TRUE, status_r);
}

/* Fails every job of the batch that is not failed already. */
static void
fail_batch(MdCommitJob **jobs, guint n, MdStatus st, const char *why)
{
	for (guint i = 0; i < n; i++) {
		if (jobs[i]->status != MD_OK)
			continue;
		md_intake_result_clear(&jobs[i]->result);
		jobs[i]->status = st;
		jobs[i]->result.error = g_strdup(why);
	}
}

/* One transaction for the whole batch; every job gets its status. */
static void
commit_batch(MdCommitter *c, MdCommitJob **jobs, guint n)
{
	MdIntake in = { .cfg = c->site->cfg, .store = c->store, .secret = c->site->secret };
	MdStatus st;
	guint committed_ok = 0, queued = 0;

	gint64 t0 = g_get_monotonic_time(), t1;

	for (guint i = 0; i < n; i++)
		jobs[i]->status = MD_OK;
	if ((st = store_begin(c->store)) != MD_OK) {
		fail_batch(jobs, n, st, store_error(c->store));
		return;
	}
	for (guint i = 0; i < n; i++) {
		MdCommitJob *job = jobs[i];

		if ((st = store_savepoint(c->store)) != MD_OK) {
			job->status = st;
			job->result.error = g_strdup(store_error(c->store));
		} else {
			job->status = intake_in_transaction(&in, job->parsed, &job->env, &job->result);
			if (job->status == MD_OK && (st = store_release(c->store)) != MD_OK) {
				job->status = st;
				job->result.error = g_strdup(store_error(c->store));
			}
			if (job->status != MD_OK)
				store_rollback_savepoint(c->store);
		}
		/* disk full, I/O errors: SQLite may have rolled everything back */
		if (!store_in_transaction(c->store)) {
			fail_batch(jobs, n, MD_TEMPFAIL, "transaction rolled back by the database");
			return;
		}
	}
	t1 = g_get_monotonic_time();
	if ((st = store_commit(c->store)) != MD_OK) {
		g_autofree char *why = g_strdup(store_error(c->store));

		store_rollback(c->store);
		fail_batch(jobs, n, st, why);
		return;
	}
	for (guint i = 0; i < n; i++) {
		if (jobs[i]->status != MD_OK)
			continue;
		committed_ok++;
		queued += jobs[i]->result.mail_queued;
		intake_log_committed(jobs[i]->parsed, &jobs[i]->env, &jobs[i]->result);
	}
	log_debug("group commit: %u of %u messages, %" G_GINT64_FORMAT " us intake, %" G_GINT64_FORMAT " us commit", committed_ok, n, t1 - t0, g_get_monotonic_time() - t1);
	if (queued > 0 && c->committed != NULL)
		c->committed(queued, c->committed_data);
}

/* Takes a new site between batches; reopens the database if it moved. */
static void
switch_site(MdCommitter *c, MdSite *site)
{
	if (g_strcmp0(site->cfg->database, c->site->cfg->database) != 0) {
		MdStatus st;
		MdStore *store = open_store(site, &st);

		if (store == NULL) {
			log_error("reload: keeping database %s", c->site->cfg->database);
			md_site_unref(site);
			return;
		}
		store_close(c->store);
		store_set_autocheckpoint(store, 0);
		c->store = store;
		g_mutex_lock(&c->lock);
		g_free(c->database);
		c->database = g_strdup(site->cfg->database);
		g_mutex_unlock(&c->lock);
	}
	store_set_busy_timeout(c->store, site->cfg->busy_timeout_ms);
	md_site_unref(c->site);
	c->site = site;
}

static gpointer
writer_main(gpointer data)
{
	MdCommitter *c = data;
	MdCommitJob *batch[MAX_BATCH];

	for (;;) {
		guint n = 0;
		MdSite *site;

		g_mutex_lock(&c->lock);
		while (g_queue_is_empty(&c->queue) && !c->stopping)
			g_cond_wait(&c->work, &c->lock);
		if (g_queue_is_empty(&c->queue)) {
			g_mutex_unlock(&c->lock);
			break;
		}
		while (n < MAX_BATCH && !g_queue_is_empty(&c->queue))
			batch[n++] = g_queue_pop_head(&c->queue);
		site = g_steal_pointer(&c->next_site);
		g_mutex_unlock(&c->lock);

		if (site != NULL)
			switch_site(c, site);
		commit_batch(c, batch, n);

		/* only the connections of this batch wake: a broadcast to
		 * every waiting connection cost a context switch each */
		g_mutex_lock(&c->lock);
		for (guint i = 0; i < n; i++) {
			batch[i]->done = TRUE;
			g_cond_signal(batch[i]->wake);
		}
		g_mutex_unlock(&c->lock);
	}
	return NULL;
}

/*
 * Copies the WAL into the database twice a second on a connection of its
 * own, so the writer's commits never wait for a checkpoint and its fsync
 * (with SQLite's automatic checkpoints, every thousandth page written
 * made one commit pay for copying all of them).
 */
static gpointer
checkpointer_main(gpointer data)
{
	MdCommitter *c = data;
	MdStore *store = NULL;
	g_autofree char *path = NULL;

	g_mutex_lock(&c->lock);
	while (!c->stopping) {
		gint64 deadline = g_get_monotonic_time() + CHECKPOINT_INTERVAL_US;

		while (!c->stopping && g_cond_wait_until(&c->stop, &c->lock, deadline))
			;
		if (c->stopping)
			break;
		if (g_strcmp0(path, c->database) != 0) {
			g_clear_pointer(&store, store_close);
			g_free(path);
			path = g_strdup(c->database);
		}
		g_mutex_unlock(&c->lock);
		if (store == NULL) {
			g_autofree char *error = NULL;
			MdStatus st;

			store = store_open(path, 1000, FALSE, &st, &error);
			if (store == NULL)
				log_warning("checkpoint: %s", error);
		}
		if (store != NULL && store_checkpoint(store) != MD_OK)
			log_warning("checkpoint: %s", store_error(store));
		g_mutex_lock(&c->lock);
	}
	g_mutex_unlock(&c->lock);
	if (store != NULL) {
		/* the last copy, so the WAL is short for whoever comes next */
		store_checkpoint(store);
		store_close(store);
	}
	return NULL;
}

MdCommitter *
committer_start(MdSite *site, MdCommittedFunc committed, gpointer data, MdStatus *status_r)
{
	MdCommitter *c;
	MdStore *store = open_store(site, status_r);

	if (store == NULL)
		return NULL;
	c = g_new0(MdCommitter, 1);
	g_mutex_init(&c->lock);
	g_cond_init(&c->work);
	g_cond_init(&c->stop);
	g_queue_init(&c->queue);
	c->site = md_site_ref(site);
	c->store = store;
	store_set_autocheckpoint(store, 0);
	c->database = g_strdup(site->cfg->database);
	c->committed = committed;
	c->committed_data = data;
	c->thread = g_thread_new("commit", writer_main, c);
	c->checkpointer = g_thread_new("checkpoint", checkpointer_main, c);
	return c;
}

void
committer_run(MdCommitter *c, MdCommitJob **jobs, guint n)
{
	GCond wake;

	g_cond_init(&wake);
	g_mutex_lock(&c->lock);
	for (guint i = 0; i < n; i++) {
		jobs[i]->done = FALSE;
		jobs[i]->wake = &wake;
		g_queue_push_tail(&c->queue, jobs[i]);
	}
	g_cond_signal(&c->work);
	for (guint i = 0; i < n; i++)
		while (!jobs[i]->done)
			g_cond_wait(&wake, &c->lock);
	g_mutex_unlock(&c->lock);
	g_cond_clear(&wake);
}

void
committer_set_site(MdCommitter *c, MdSite *site)
{
	g_mutex_lock(&c->lock);
	if (c->next_site != NULL)
		md_site_unref(c->next_site);
	c->next_site = md_site_ref(site);
	/* an idle writer takes it with the next batch */
	g_mutex_unlock(&c->lock);
}

void
committer_stop(MdCommitter *c)
{
	g_mutex_lock(&c->lock);
	c->stopping = TRUE;
	g_cond_signal(&c->work);
	g_cond_signal(&c->stop);
	g_mutex_unlock(&c->lock);
	g_thread_join(c->thread);
	g_thread_join(c->checkpointer);
	g_free(c->database);
	if (c->next_site != NULL)
		md_site_unref(c->next_site);
	md_site_unref(c->site);
	store_close(c->store);
	g_queue_clear(&c->queue);
	g_cond_clear(&c->work);
	g_cond_clear(&c->stop);
	g_mutex_clear(&c->lock);
	g_free(c);
}
