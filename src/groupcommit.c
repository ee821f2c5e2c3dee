/*
 * groupcommit.c - lmtpd's writer thread (see groupcommit.h).
 *
 * Must never: report MD_OK for a message before the COMMIT that holds
 * it is on disk, or leave part of a failed message in the database.  The
 * writer is the only thread that touches its MdStore; the syncer only
 * syncs the log file through a descriptor of its own.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

	/* committed, waiting for the log's sync */
	GCond sync_work;    /* unsynced has jobs, or sync_stopping */
	GCond sync_idle;    /* the syncer finished a round */
	GPtrArray *unsynced; /* MdCommitJob* */
	guint unsynced_mail; /* mail they queued, for the committed callback */
	char *wal_path;      /* the writer's log file */
	gboolean syncing;
	gboolean sync_stopping;
	GThread *syncer;

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

/*
 * One transaction for the whole batch; every job gets its status.  TRUE
 * when the COMMIT happened (the jobs still MD_OK wait for the sync).
 */
static gboolean
commit_batch(MdCommitter *c, MdCommitJob **jobs, guint n)
{
	MdIntake in = { .cfg = c->site->cfg, .store = c->store, .secret = c->site->secret };
	MdStatus st;
	guint committed_ok = 0;

	gint64 t0 = g_get_monotonic_time(), t1;

	for (guint i = 0; i < n; i++)
		jobs[i]->status = MD_OK;
	if ((st = store_begin(c->store)) != MD_OK) {
		fail_batch(jobs, n, st, store_error(c->store));
		return FALSE;
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
			return FALSE;
		}
	}
	t1 = g_get_monotonic_time();
	if ((st = store_commit(c->store)) != MD_OK) {
		g_autofree char *why = g_strdup(store_error(c->store));

		store_rollback(c->store);
		fail_batch(jobs, n, st, why);
		return FALSE;
	}
	for (guint i = 0; i < n; i++)
		committed_ok += jobs[i]->status == MD_OK;
	log_debug("group commit: %u of %u messages, %" G_GINT64_FORMAT " us intake, %" G_GINT64_FORMAT " us commit", committed_ok, n, t1 - t0, g_get_monotonic_time() - t1);
	return TRUE;
}

/* Wakes the connection waiting for job; called with the lock held. */
static void
job_done(MdCommitJob *job)
{
	job->done = TRUE;
	g_cond_signal(job->wake);
}

/*
 * Hands the batch's outcome on: committed messages to the syncer, the
 * others (failed, nothing stored) straight back to their connections.
 */
static void
batch_finish(MdCommitter *c, MdCommitJob **jobs, guint n, gboolean committed)
{
	g_mutex_lock(&c->lock);
	for (guint i = 0; i < n; i++) {
		if (committed && jobs[i]->status == MD_OK) {
			g_ptr_array_add(c->unsynced, jobs[i]);
			c->unsynced_mail += jobs[i]->result.mail_queued;
		} else {
			job_done(jobs[i]);
		}
	}
	if (c->unsynced->len > 0)
		g_cond_signal(&c->sync_work);
	g_mutex_unlock(&c->lock);
}

/* Waits until every committed job has been synced; called with the lock held. */
static void
wait_synced(MdCommitter *c)
{
	while (c->unsynced->len > 0 || c->syncing)
		g_cond_wait(&c->sync_idle, &c->lock);
}

/* A descriptor on the log file; reopened when the file is not the same. */
typedef struct {
	int fd;
	char *path;
	dev_t dev;
	ino_t ino;
} WalFile;

static void
wal_file_close(WalFile *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	g_clear_pointer(&w->path, g_free);
}

/*
 * Makes everything written to path so far durable.  fdatasync() through
 * any descriptor flushes the file's data, whoever wrote it.
 */
static MdStatus
wal_file_sync(WalFile *w, const char *path, char **error_r)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		*error_r = g_strdup_printf("%s: %s", path, g_strerror(errno));
		return MD_TEMPFAIL;
	}
	if (w->fd < 0 || g_strcmp0(w->path, path) != 0 || w->dev != st.st_dev || w->ino != st.st_ino) {
		wal_file_close(w);
		w->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (w->fd < 0) {
			*error_r = g_strdup_printf("%s: %s", path, g_strerror(errno));
			return MD_TEMPFAIL;
		}
		if (fstat(w->fd, &st) != 0) {
			*error_r = g_strdup_printf("%s: %s", path, g_strerror(errno));
			wal_file_close(w);
			return MD_TEMPFAIL;
		}
		w->path = g_strdup(path);
		w->dev = st.st_dev;
		w->ino = st.st_ino;
	}
	if (fdatasync(w->fd) != 0) {
		*error_r = g_strdup_printf("sync %s: %s", path, g_strerror(errno));
		/* the kernel may have dropped the pages it could not write */
		wal_file_close(w);
		return MD_TEMPFAIL;
	}
	return MD_OK;
}

/*
 * Syncs the log for every batch committed since the last round (one
 * fdatasync covers them all) and only then gives their messages MD_OK.
 */
static gpointer
syncer_main(gpointer data)
{
	MdCommitter *c = data;
	WalFile wal = { .fd = -1 };

	g_mutex_lock(&c->lock);
	for (;;) {
		g_autoptr(GPtrArray) jobs = NULL;
		g_autofree char *path = NULL;
		g_autofree char *error = NULL;
		guint mail;
		MdStatus st;

		while (c->unsynced->len == 0 && !c->sync_stopping)
			g_cond_wait(&c->sync_work, &c->lock);
		if (c->unsynced->len == 0)
			break;
		jobs = g_steal_pointer(&c->unsynced);
		c->unsynced = g_ptr_array_new();
		mail = c->unsynced_mail;
		c->unsynced_mail = 0;
		path = g_strdup(c->wal_path);
		c->syncing = TRUE;
		g_mutex_unlock(&c->lock);

		st = wal_file_sync(&wal, path, &error);
		if (st != MD_OK)
			log_error("group commit: %s", error);
		for (guint i = 0; i < jobs->len; i++) {
			MdCommitJob *job = jobs->pdata[i];

			if (st == MD_OK) {
				intake_log_committed(job->parsed, &job->env, &job->result);
			} else {
				md_intake_result_clear(&job->result);
				job->status = st;
				job->result.error = g_strdup(error);
			}
		}
		if (st == MD_OK && mail > 0 && c->committed != NULL)
			c->committed(mail, c->committed_data);

		g_mutex_lock(&c->lock);
		for (guint i = 0; i < jobs->len; i++)
			job_done(jobs->pdata[i]);
		c->syncing = FALSE;
		g_cond_broadcast(&c->sync_idle);
	}
	g_mutex_unlock(&c->lock);
	wal_file_close(&wal);
	return NULL;
}

/* This connection's commits wait for the syncer, not the disk. */
static MdStatus
writer_store_prepare(MdStore *store)
{
	MdStatus st = store_defer_sync(store);

	if (st == MD_OK)
		store_set_autocheckpoint(store, 0);
	return st;
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
		if (writer_store_prepare(store) != MD_OK) {
			log_error("reload: %s; keeping database %s", store_error(store),
			          c->site->cfg->database);
			store_close(store);
			md_site_unref(site);
			return;
		}
		/* the old log's commits are made durable before it is left */
		g_mutex_lock(&c->lock);
		wait_synced(c);
		g_free(c->wal_path);
		c->wal_path = g_strdup(store_wal_path(store));
		g_free(c->database);
		c->database = g_strdup(site->cfg->database);
		g_mutex_unlock(&c->lock);
		store_close(c->store);
		c->store = store;
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
		batch_finish(c, batch, n, commit_batch(c, batch, n));
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
	if ((*status_r = writer_store_prepare(store)) != MD_OK) {
		log_error("%s", store_error(store));
		store_close(store);
		return NULL;
	}
	c = g_new0(MdCommitter, 1);
	g_mutex_init(&c->lock);
	g_cond_init(&c->work);
	g_cond_init(&c->stop);
	g_cond_init(&c->sync_work);
	g_cond_init(&c->sync_idle);
	g_queue_init(&c->queue);
	c->unsynced = g_ptr_array_new();
	c->wal_path = g_strdup(store_wal_path(store));
	c->site = md_site_ref(site);
	c->store = store;
	c->database = g_strdup(site->cfg->database);
	c->committed = committed;
	c->committed_data = data;
	c->syncer = g_thread_new("sync", syncer_main, c);
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
	/* the writer's last batches are synced before the syncer ends */
	g_mutex_lock(&c->lock);
	c->sync_stopping = TRUE;
	g_cond_signal(&c->sync_work);
	g_mutex_unlock(&c->lock);
	g_thread_join(c->syncer);
	g_thread_join(c->checkpointer);
	g_free(c->database);
	g_free(c->wal_path);
	g_ptr_array_unref(c->unsynced);
	if (c->next_site != NULL)
		md_site_unref(c->next_site);
	md_site_unref(c->site);
	store_close(c->store);
	g_queue_clear(&c->queue);
	g_cond_clear(&c->work);
	g_cond_clear(&c->stop);
	g_cond_clear(&c->sync_work);
	g_cond_clear(&c->sync_idle);
	g_mutex_clear(&c->lock);
	g_free(c);
}
