/*
 * store.c - SQLite: schema, migrations and every statement.
 *
 * The only file that speaks SQL.  Statements are prepared once per
 * process (cached by their text) and always bound, never built from
 * strings.  A failure leaves the transaction for the caller to roll back;
 * nothing here commits behind the caller's back.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "store.h"

struct MdStore {
	sqlite3 *db;
	GHashTable *stmts; /* SQL text -> sqlite3_stmt* */
	char *error;
	char *dir; /* of the database file, to tell a full or read-only disk */
	gboolean in_tx;
};

/*
 * What the file system of the database says, for errors whose SQLite
 * text ("disk I/O error", "unable to open database file") hides it.
 */
static const char *
storage_hint(const MdStore *s)
{
	struct statvfs fs;

	if (s->dir == NULL || statvfs(s->dir, &fs) != 0)
		return "";
	if (fs.f_flag & ST_RDONLY)
		return " (the file system is read-only)";
	if (fs.f_bavail == 0 || fs.f_favail == 0)
		return " (the file system is full)";
	return "";
}

/*
 * Numbered forward migrations: migrations[i] takes the schema from
 * version i to version i + 1.  Never edit one that has shipped; add
 * the next.
 */
static const char *const migrations[] = {
	/* 0 -> 1: the first schema */
	"CREATE TABLE customers ("
	"  id INTEGER PRIMARY KEY,"
	"  address TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  name TEXT,"
	"  language TEXT,"
	"  bouncing INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE tickets ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  status TEXT NOT NULL CHECK (status IN ('new','open','pending','on-hold','solved','closed')),"
	"  priority TEXT NOT NULL DEFAULT 'normal' CHECK (priority IN ('low','normal','high','urgent')),"
	"  queue TEXT NOT NULL,"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id),"
	"  assignee TEXT,"
	"  subject TEXT NOT NULL DEFAULT '',"
	"  language TEXT,"
	"  eta INTEGER,"
	"  tz_minutes INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL,"
	"  solved_at INTEGER,"
	"  closed_at INTEGER,"
	"  linked_ticket INTEGER REFERENCES tickets(id),"
	"  needs_attention INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX tickets_status ON tickets(status);"
	"CREATE TABLE participants ("
	"  ticket_id INTEGER NOT NULL REFERENCES tickets(id),"
	"  address TEXT NOT NULL COLLATE NOCASE,"
	"  role TEXT NOT NULL,"
	"  PRIMARY KEY (ticket_id, address));"
	"CREATE TABLE messages ("
	"  id INTEGER PRIMARY KEY,"
	"  ticket_id INTEGER NOT NULL REFERENCES tickets(id),"
	"  direction TEXT NOT NULL CHECK (direction IN ('in','out')),"
	"  kind TEXT NOT NULL CHECK (kind IN ('customer','reply','note','system')),"
	"  message_id TEXT,"
	"  in_reply_to TEXT,"
	"  refs TEXT,"
	"  from_addr TEXT,"
	"  from_name TEXT,"
	"  to_addrs TEXT,"
	"  cc_addrs TEXT,"
	"  subject TEXT,"
	"  body_text TEXT,"
	"  date INTEGER,"
	"  received INTEGER NOT NULL,"
	"  env_sender TEXT,"
	"  env_recipient TEXT,"
	"  sha256 TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  parse_error TEXT,"
	"  raw BLOB NOT NULL);"
	"CREATE UNIQUE INDEX messages_sha256 ON messages(sha256);"
	"CREATE INDEX messages_ticket ON messages(ticket_id, id);"
	"CREATE TABLE attachments ("
	"  id INTEGER PRIMARY KEY,"
	"  message_row INTEGER NOT NULL REFERENCES messages(id),"
	"  filename TEXT,"
	"  content_type TEXT,"
	"  disposition TEXT,"
	"  size INTEGER NOT NULL);"
	"CREATE INDEX attachments_message ON attachments(message_row);"
	"CREATE TABLE message_ids ("
	"  message_id TEXT NOT NULL,"
	"  ticket_id INTEGER NOT NULL REFERENCES tickets(id),"
	"  message_row INTEGER REFERENCES messages(id),"
	"  direction TEXT NOT NULL);"
	"CREATE INDEX message_ids_id ON message_ids(message_id);"
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  ticket_id INTEGER REFERENCES tickets(id),"
	"  at INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  what TEXT NOT NULL,"
	"  old_value TEXT,"
	"  new_value TEXT);"
	"CREATE INDEX events_ticket ON events(ticket_id, at);"
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY,"
	"  ticket_id INTEGER REFERENCES tickets(id),"
	"  message_row INTEGER REFERENCES messages(id),"
	"  kind TEXT NOT NULL,"
	"  env_from TEXT NOT NULL,"
	"  rcpts TEXT NOT NULL,"
	"  raw BLOB NOT NULL,"
	"  status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued','sent','failed')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL,"
	"  next_attempt INTEGER NOT NULL,"
	"  last_error TEXT,"
	"  done_at INTEGER);"
	"CREATE INDEX outbox_due ON outbox(status, next_attempt);"
	"CREATE TABLE autoreply_log ("
	"  address TEXT NOT NULL COLLATE NOCASE,"
	"  at INTEGER NOT NULL);"
	"CREATE INDEX autoreply_log_address ON autoreply_log(address, at);",

	/*
	 * 1 -> 2: agents by email.  messages is rebuilt rather than given a
	 * column: raw must stay the last column, or SQLite builds every
	 * inserted zeroblob in memory (a 20 MB message would cost 40 MB more).
	 */
	"CREATE TABLE messages_v2 ("
	"  id INTEGER PRIMARY KEY,"
	"  ticket_id INTEGER NOT NULL REFERENCES tickets(id),"
	"  direction TEXT NOT NULL CHECK (direction IN ('in','out')),"
	"  kind TEXT NOT NULL CHECK (kind IN ('customer','reply','note','system')),"
	"  audience TEXT NOT NULL DEFAULT 'customer' CHECK (audience IN ('customer','agents')),"
	"  message_id TEXT,"
	"  in_reply_to TEXT,"
	"  refs TEXT,"
	"  from_addr TEXT,"
	"  from_name TEXT,"
	"  to_addrs TEXT,"
	"  cc_addrs TEXT,"
	"  subject TEXT,"
	"  body_text TEXT,"
	"  date INTEGER,"
	"  received INTEGER NOT NULL,"
	"  env_sender TEXT,"
	"  env_recipient TEXT,"
	"  sha256 TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  parse_error TEXT,"
	"  raw BLOB NOT NULL);"
	"INSERT INTO messages_v2 (id, ticket_id, direction, kind, message_id, in_reply_to, refs,"
	"  from_addr, from_name, to_addrs, cc_addrs, subject, body_text, date, received,"
	"  env_sender, env_recipient, sha256, size, parse_error, raw)"
	"  SELECT id, ticket_id, direction, kind, message_id, in_reply_to, refs, from_addr,"
	"  from_name, to_addrs, cc_addrs, subject, body_text, date, received, env_sender,"
	"  env_recipient, sha256, size, parse_error, raw FROM messages ORDER BY id;"
	"DROP TABLE messages;"
	"ALTER TABLE messages_v2 RENAME TO messages;"
	"CREATE UNIQUE INDEX messages_sha256 ON messages(sha256);"
	"CREATE INDEX messages_ticket ON messages(ticket_id, id);"
	"CREATE INDEX messages_customer ON messages(ticket_id, audience);"
	"ALTER TABLE tickets ADD COLUMN eta_manual INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX tickets_assignee ON tickets(assignee, status);"
	"CREATE INDEX tickets_waiting ON tickets(queue, status) WHERE assignee IS NULL;"
	"CREATE TABLE agents ("
	"  address TEXT PRIMARY KEY COLLATE NOCASE,"
	"  last_assigned INTEGER NOT NULL DEFAULT 0);"
	/* mail that asked something without being part of a ticket ("status") */
	"CREATE TABLE requests ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL,"
	"  from_addr TEXT,"
	"  message_id TEXT,"
	"  received INTEGER NOT NULL,"
	"  env_sender TEXT,"
	"  env_recipient TEXT,"
	"  sha256 TEXT NOT NULL UNIQUE,"
	"  size INTEGER NOT NULL,"
	"  raw BLOB NOT NULL);",

	/*
	 * 2 -> 3: the SLA clock (tick.c).  paused is the business minutes the
	 * ticket spent pending on the customer, by which its resolution target
	 * moves; sla_marks records what tick has done, keyed by the instant it
	 * was due, so a rerun does nothing twice and a moved target is new.
	 */
	"ALTER TABLE tickets ADD COLUMN first_response_at INTEGER;"
	"ALTER TABLE tickets ADD COLUMN pending_since INTEGER;"
	"ALTER TABLE tickets ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE sla_marks ("
	"  ticket_id INTEGER NOT NULL REFERENCES tickets(id),"
	"  what TEXT NOT NULL,"
	"  due INTEGER NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  PRIMARY KEY (ticket_id, what, due));"
	/* the customer's satisfaction vote: the latest counts */
	"CREATE TABLE csat ("
	"  ticket_id INTEGER PRIMARY KEY REFERENCES tickets(id),"
	"  score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),"
	"  comment TEXT,"
	"  from_addr TEXT,"
	"  at INTEGER NOT NULL,"
	"  votes INTEGER NOT NULL DEFAULT 1);"
	"CREATE INDEX tickets_created ON tickets(created);"
	"CREATE INDEX events_what ON events(what, at);",

	/*
	 * 3 -> 4: held mail.  A mail to a customer that the outbound guard
	 * refused (outguard.h) is kept in the outbox as 'held', never sent,
	 * with the reason in last_error.  The table is rebuilt to widen its
	 * CHECK, and raw moves last, as in 1 -> 2 (see there).
	 */
	"CREATE TABLE outbox_v4 ("
	"  id INTEGER PRIMARY KEY,"
	"  ticket_id INTEGER REFERENCES tickets(id),"
	"  message_row INTEGER REFERENCES messages(id),"
	"  kind TEXT NOT NULL,"
	"  env_from TEXT NOT NULL,"
	"  rcpts TEXT NOT NULL,"
	"  status TEXT NOT NULL DEFAULT 'queued'"
	"    CHECK (status IN ('queued','sent','failed','held')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL,"
	"  next_attempt INTEGER NOT NULL,"
	"  last_error TEXT,"
	"  done_at INTEGER,"
	"  raw BLOB NOT NULL);"
	"INSERT INTO outbox_v4 (id, ticket_id, message_row, kind, env_from, rcpts, status, attempts,"
	"  created, next_attempt, last_error, done_at, raw)"
	"  SELECT id, ticket_id, message_row, kind, env_from, rcpts, status, attempts, created,"
	"  next_attempt, last_error, done_at, raw FROM outbox ORDER BY id;"
	"DROP TABLE outbox;"
	"ALTER TABLE outbox_v4 RENAME TO outbox;"
	"CREATE INDEX outbox_due ON outbox(status, next_attempt);"
	"CREATE INDEX outbox_held ON outbox(ticket_id) WHERE status = 'held';",
};

G_STATIC_ASSERT(G_N_ELEMENTS(migrations) == STORE_SCHEMA_VERSION);

/*
 * Records the error of the last failed call.  Every SQLite failure is a
 * tempfail: busy, locked, full, read-only, I/O, no memory and corruption
 * may pass or be mended by the admin, and even a bug in a statement must
 * never bounce a customer's mail.
 */
static MdStatus
fail(MdStore *s, int rc, const char *what)
{
	/* "disk I/O error" or "unable to open" alone hide the cause an admin
	 * needs: a full disk, a read-only file system, a permission */
	g_free(s->error);
	s->error = g_strdup_printf("%s: %s%s", what,
	                           s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc),
	                           storage_hint(s));
	return MD_TEMPFAIL;
}

const char *
store_error(MdStore *s)
{
	return s->error ? s->error : "no error";
}

static sqlite3_stmt *
stmt(MdStore *s, const char *sql)
{
	sqlite3_stmt *st = g_hash_table_lookup(s->stmts, sql);
	int rc;

	if (st != NULL) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return st;
	}
	rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK) {
		fail(s, rc, "prepare");
		return NULL;
	}
	g_hash_table_insert(s->stmts, (gpointer)sql, st);
	return st;
}

static void
bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

static void
bind_opt_int(sqlite3_stmt *st, int i, gint64 v)
{
	if (v == 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, v);
}

/* Text as stored, made valid UTF-8 with every NUL (which a C string would
 * end at) shown as U+FFFD: maildesk writes neither, a database written by
 * other hands may hold both, and what is read goes out as mail and JSON. */
static char *
col_text(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	int n;

	if (t == NULL)
		return NULL;
	n = sqlite3_column_bytes(st, i);
	if (memchr(t, '\0', (size_t)n) == NULL && g_utf8_validate(t, n, NULL))
		return g_strndup(t, (gsize)n);
	return g_utf8_make_valid(t, n);
}

/* Steps a statement that returns no rows. */
static MdStatus
run(MdStore *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return fail(s, rc, what);
	return MD_OK;
}

static void
stmt_finalize(gpointer p)
{
	sqlite3_finalize(p);
}

static MdStatus
exec(MdStore *s, const char *sql, const char *what)
{
	char *msg = NULL;
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		g_free(s->error);
		s->error = g_strdup_printf("%s: %s%s", what, msg ? msg : sqlite3_errstr(rc),
		                           storage_hint(s));
		sqlite3_free(msg);
		return MD_TEMPFAIL;
	}
	return MD_OK;
}

MdStore *
store_open(const char *path, int busy_timeout_ms, gboolean create, MdStatus *status_r,
           char **error_r)
{
	MdStore *s;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	int rc;

	/* only a database that is really not there is an installation
	 * problem; one we may not reach (EACCES, EIO) may come back */
	if (!create && access(path, F_OK) != 0) {
		*status_r = errno == ENOENT ? MD_CONFIG : MD_TEMPFAIL;
		*error_r = g_strdup_printf("database %s: %s (run maildesk init)", path,
		                           g_strerror(errno));
		return NULL;
	}
	s = g_new0(MdStore, 1);
	s->stmts = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, stmt_finalize);
	s->dir = g_path_get_dirname(path);
	rc = sqlite3_open_v2(path, &s->db, flags, NULL);
	if (rc != SQLITE_OK) {
		*status_r = MD_TEMPFAIL;
		*error_r = g_strdup_printf("database %s: %s", path,
		                           s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		store_close(s);
		return NULL;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, busy_timeout_ms);
	/* journal_mode=WAL needs a write; it is persistent, so only init
	 * really changes it, but asking again is cheap and self-healing.
	 * temp_store=MEMORY: each savepoint's statement journal (one per
	 * message in lmtpd's group commit) would otherwise be a new file in
	 * /var/tmp, created, unlinked and written for every message. */
	if (exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
	         "PRAGMA temp_store=MEMORY;", "pragmas") != MD_OK) {
		*status_r = MD_TEMPFAIL;
		*error_r = g_strdup_printf("database %s: %s", path, s->error);
		store_close(s);
		return NULL;
	}
	return s;
}

void
store_close(MdStore *s)
{
	if (s == NULL)
		return;
	g_hash_table_destroy(s->stmts);
	sqlite3_close_v2(s->db);
	g_free(s->error);
	g_free(s->dir);
	g_free(s);
}

int
store_schema_version(MdStore *s)
{
	sqlite3_stmt *st = stmt(s, "PRAGMA user_version");
	int v = -1;

	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	if (st != NULL)
		sqlite3_reset(st);
	return v;
}

MdStatus
store_check_schema(MdStore *s)
{
	int v = store_schema_version(s);

	if (v < 0)
		return MD_TEMPFAIL;
	if (v == 0) {
		g_free(s->error);
		s->error = g_strdup("the database has no schema (run maildesk init)");
		return MD_CONFIG;
	}
	if (v > STORE_SCHEMA_VERSION) {
		g_free(s->error);
		s->error = g_strdup_printf("the database schema %d is newer than this maildesk (%d)", v,
		                           STORE_SCHEMA_VERSION);
		return MD_CONFIG;
	}
	if (v < STORE_SCHEMA_VERSION) {
		g_free(s->error);
		s->error = g_strdup_printf("the database schema %d is older than this maildesk (%d): "
		                           "run maildesk init to migrate",
		                           v, STORE_SCHEMA_VERSION);
		return MD_CONFIG;
	}
	return MD_OK;
}

MdStatus
store_migrate(MdStore *s)
{
	return store_migrate_to(s, STORE_SCHEMA_VERSION);
}

/* Rows that break a foreign key after a migration rebuilt a table. */
static MdStatus
foreign_keys_hold(MdStore *s)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, "PRAGMA foreign_key_check", -1, &st, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return MD_OK;
	if (rc == SQLITE_ROW) {
		g_free(s->error);
		s->error = g_strdup("migration: a row lost its foreign key");
		return MD_TEMPFAIL;
	}
	return fail(s, rc, "foreign key check");
}

static MdStatus
migrate_in_transaction(MdStore *s, int version)
{
	MdStatus st;
	int v;

	if ((st = store_begin(s)) != MD_OK)
		return st;
	v = store_schema_version(s);
	if (v < 0) {
		store_rollback(s);
		return MD_TEMPFAIL;
	}
	if (v > STORE_SCHEMA_VERSION) {
		store_rollback(s);
		return store_check_schema(s);
	}
	for (; v < version && v < STORE_SCHEMA_VERSION; v++) {
		g_autofree char *bump = g_strdup_printf("PRAGMA user_version = %d", v + 1);

		if ((st = exec(s, migrations[v], "migration")) != MD_OK ||
		    (st = exec(s, bump, "user_version")) != MD_OK) {
			store_rollback(s);
			return st;
		}
	}
	if ((st = foreign_keys_hold(s)) != MD_OK) {
		store_rollback(s);
		return st;
	}
	return store_commit(s);
}

/*
 * A migration may rebuild a table that others refer to (SQLite's
 * documented way to change a table): foreign keys are off while it runs,
 * which SQLite allows only outside a transaction, and checked before the
 * commit instead.
 */
MdStatus
store_migrate_to(MdStore *s, int version)
{
	MdStatus st;

	if ((st = exec(s, "PRAGMA foreign_keys=OFF", "foreign keys off")) != MD_OK)
		return st;
	st = migrate_in_transaction(s, version);
	if (exec(s, "PRAGMA foreign_keys=ON", "foreign keys on") != MD_OK && st == MD_OK)
		st = MD_TEMPFAIL;
	return st;
}

MdStatus
store_begin(MdStore *s)
{
	MdStatus st = exec(s, "BEGIN IMMEDIATE", "begin");

	if (st == MD_OK)
		s->in_tx = TRUE;
	return st;
}

MdStatus
store_commit(MdStore *s)
{
	MdStatus st = exec(s, "COMMIT", "commit");

	if (st == MD_OK)
		s->in_tx = FALSE;
	return st;
}

void
store_rollback(MdStore *s)
{
	if (!s->in_tx && sqlite3_get_autocommit(s->db))
		return;
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->in_tx = FALSE;
}

void
store_set_autocheckpoint(MdStore *s, int pages)
{
	sqlite3_wal_autocheckpoint(s->db, pages);
}

MdStatus
store_checkpoint(MdStore *s)
{
	int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);

	/* busy: a writer or a reader is in the way; the next round copies it */
	if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
		return fail(s, rc, "checkpoint");
	return MD_OK;
}

MdStatus
store_defer_sync(MdStore *s)
{
	return exec(s, "PRAGMA synchronous=NORMAL", "deferred sync");
}

const char *
store_wal_path(MdStore *s)
{
	return sqlite3_filename_wal(sqlite3_db_filename(s->db, "main"));
}

void
store_set_busy_timeout(MdStore *s, int busy_timeout_ms)
{
	sqlite3_busy_timeout(s->db, busy_timeout_ms);
}

MdStatus
store_savepoint(MdStore *s)
{
	return exec(s, "SAVEPOINT intake", "savepoint");
}

MdStatus
store_release(MdStore *s)
{
	return exec(s, "RELEASE intake", "release");
}

void
store_rollback_savepoint(MdStore *s)
{
	if (sqlite3_get_autocommit(s->db))
		return;
	/* ROLLBACK TO keeps the savepoint open; RELEASE then drops it */
	sqlite3_exec(s->db, "ROLLBACK TO intake; RELEASE intake", NULL, NULL, NULL);
}

gboolean
store_in_transaction(MdStore *s)
{
	return !sqlite3_get_autocommit(s->db);
}

void
md_ticket_clear(MdTicket *t)
{
	g_free(t->status);
	g_free(t->priority);
	g_free(t->queue);
	g_free(t->customer_addr);
	g_free(t->customer_name);
	g_free(t->assignee);
	g_free(t->subject);
	g_free(t->language);
	memset(t, 0, sizeof *t);
}

void
md_message_row_free(MdMessageRow *r)
{
	if (r == NULL)
		return;
	g_free(r->direction);
	g_free(r->kind);
	g_free(r->audience);
	g_free(r->message_id);
	g_free(r->from_addr);
	g_free(r->from_name);
	g_free(r->to_addrs);
	g_free(r->cc_addrs);
	g_free(r->subject);
	g_free(r->text);
	g_free(r->parse_error);
	g_free(r);
}

void
md_outbox_row_free(MdOutboxRow *r)
{
	if (r == NULL)
		return;
	g_free(r->kind);
	g_free(r->env_from);
	g_strfreev(r->rcpts);
	if (r->raw)
		g_bytes_unref(r->raw);
	g_free(r);
}

/* A statement that yields at most one integer pair. */
static MdStatus
query_two_ints(MdStore *s, sqlite3_stmt *st, const char *what, gint64 *a_r, gint64 *b_r,
               gboolean *found_r)
{
	int rc = sqlite3_step(st);

	*found_r = FALSE;
	if (rc == SQLITE_ROW) {
		*found_r = TRUE;
		if (a_r)
			*a_r = sqlite3_column_int64(st, 0);
		if (b_r)
			*b_r = sqlite3_column_int64(st, 1);
		rc = SQLITE_DONE;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return fail(s, rc, what);
	return MD_OK;
}

MdStatus
store_message_by_hash(MdStore *s, const char *sha256, gint64 *row_r, gint64 *ticket_r)
{
	/* a request ("status") has no ticket: its row comes back with ticket 0 */
	sqlite3_stmt *st = stmt(s, "SELECT id, ticket_id FROM messages WHERE sha256 = ?1 "
	                           "UNION ALL SELECT id, 0 FROM requests WHERE sha256 = ?1 LIMIT 1");
	gboolean found;
	MdStatus r;

	*row_r = *ticket_r = 0;
	if (st == NULL)
		return MD_TEMPFAIL;
	bind_text(st, 1, sha256);
	r = query_two_ints(s, st, "message by hash", row_r, ticket_r, &found);
	return r;
}

MdStatus
store_ticket_by_message_id(MdStore *s, const char *message_id, gint64 *ticket_r)
{
	sqlite3_stmt *st = stmt(s, "SELECT ticket_id FROM message_ids WHERE message_id = ? "
	                           "ORDER BY rowid DESC LIMIT 1");
	gboolean found;

	*ticket_r = 0;
	if (st == NULL)
		return MD_TEMPFAIL;
	bind_text(st, 1, message_id);
	return query_two_ints(s, st, "ticket by message-id", ticket_r, NULL, &found);
}

MdStatus
store_is_own_message_id(MdStore *s, const char *message_id, gboolean *own_r)
{
	sqlite3_stmt *st = stmt(s, "SELECT 1 FROM message_ids WHERE message_id = ? "
	                           "AND direction = 'out' LIMIT 1");

	*own_r = FALSE;
	if (st == NULL)
		return MD_TEMPFAIL;
	bind_text(st, 1, message_id);
	return query_two_ints(s, st, "own message-id", NULL, NULL, own_r);
}

MdStatus
store_ticket_by_same_message(MdStore *s, const char *message_id, const char *from_addr,
                             gint64 date, const char *subject, const char *text,
                             gint64 attachments, gint64 attachment_bytes, gint64 *ticket_r)
{
	/* through message_ids, whose index finds the few rows by Message-ID */
	sqlite3_stmt *st = stmt(s, "SELECT m.ticket_id FROM message_ids i "
	                           "JOIN messages m ON m.id = i.message_row WHERE i.message_id = ?1 "
	                           "AND m.from_addr IS ?2 AND m.date IS ?3 AND m.subject IS ?4 "
	                           "AND m.body_text IS ?5 AND (SELECT count(*) FROM attachments a "
	                           "WHERE a.message_row = m.id) = ?6 AND (SELECT coalesce(sum(a.size), "
	                           "0) FROM attachments a WHERE a.message_row = m.id) = ?7 LIMIT 1");
	gboolean found;

	*ticket_r = 0;
	if (st == NULL)
		return MD_TEMPFAIL;
	bind_text(st, 1, message_id);
	bind_text(st, 2, from_addr);
	bind_opt_int(st, 3, date);
	bind_text(st, 4, subject);
	/* static: the text lives until the step is done; it may be large */
	if (text != NULL)
		sqlite3_bind_text64(st, 5, text, strlen(text), SQLITE_STATIC, SQLITE_UTF8);
	else
		sqlite3_bind_null(st, 5);
	sqlite3_bind_int64(st, 6, attachments);
	sqlite3_bind_int64(st, 7, attachment_bytes);
	return query_two_ints(s, st, "ticket by same message", ticket_r, NULL, &found);
}

static const char ticket_columns[] =
	"SELECT t.id, t.status, t.priority, t.queue, t.customer_id, c.address, c.name, t.assignee,"
	" t.subject, t.language, t.eta, t.tz_minutes, t.created, t.updated, t.solved_at,"
	" t.closed_at, t.linked_ticket, t.needs_attention, t.eta_manual, t.first_response_at,"
	" t.pending_since, t.paused"
	" FROM tickets t JOIN customers c ON c.id = t.customer_id ";

static void
ticket_from_row(sqlite3_stmt *st, MdTicket *t)
{
	t->id = sqlite3_column_int64(st, 0);
	t->status = col_text(st, 1);
	t->priority = col_text(st, 2);
	t->queue = col_text(st, 3);
	t->customer_id = sqlite3_column_int64(st, 4);
	t->customer_addr = col_text(st, 5);
	t->customer_name = col_text(st, 6);
	t->assignee = col_text(st, 7);
	t->subject = col_text(st, 8);
	t->language = col_text(st, 9);
	t->eta = sqlite3_column_int64(st, 10);
	t->tz_minutes = sqlite3_column_int(st, 11);
	t->created = sqlite3_column_int64(st, 12);
	t->updated = sqlite3_column_int64(st, 13);
	t->solved_at = sqlite3_column_int64(st, 14);
	t->closed_at = sqlite3_column_int64(st, 15);
	t->linked_ticket = sqlite3_column_int64(st, 16);
	t->needs_attention = sqlite3_column_int(st, 17) != 0;
	t->eta_manual = sqlite3_column_int(st, 18) != 0;
	t->first_response_at = sqlite3_column_int64(st, 19);
	t->pending_since = sqlite3_column_int64(st, 20);
	t->paused = sqlite3_column_int64(st, 21);
}

MdStatus
store_ticket_get(MdStore *s, gint64 id, MdTicket *t, gboolean *found_r)
{
	static char sql[sizeof ticket_columns + 32];
	sqlite3_stmt *st;
	int rc;

	if (sql[0] == '\0')
		g_snprintf(sql, sizeof sql, "%sWHERE t.id = ?", ticket_columns);
	st = stmt(s, sql);
	*found_r = FALSE;
	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ticket_from_row(st, t);
		*found_r = TRUE;
		rc = SQLITE_DONE;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MD_OK : fail(s, rc, "ticket get");
}

MdStatus
store_is_participant(MdStore *s, gint64 ticket, const char *addr, gboolean *yes_r)
{
	sqlite3_stmt *st = stmt(s, "SELECT 1 FROM participants WHERE ticket_id = ? AND address = ? "
	                           "AND role <> 'participant'");

	*yes_r = FALSE;
	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int64(st, 1, ticket);
	bind_text(st, 2, addr);
	return query_two_ints(s, st, "participant", NULL, NULL, yes_r);
}

MdStatus
store_customer_upsert(MdStore *s, const char *addr, const char *name, gint64 *id_r,
                      char **language_r)
{
	sqlite3_stmt *st = stmt(s, "INSERT INTO customers (address, name, created) VALUES (?, ?, "
	                           "strftime('%s','now')) ON CONFLICT (address) DO UPDATE SET "
	                           "name = coalesce(excluded.name, name) RETURNING id, language");
	int rc;

	*id_r = 0;
	*language_r = NULL;
	if (st == NULL)
		return MD_TEMPFAIL;
	bind_text(st, 1, addr);
	bind_text(st, 2, name && *name ? name : NULL);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id_r = sqlite3_column_int64(st, 0);
		*language_r = col_text(st, 1);
		rc = sqlite3_step(st);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MD_OK : fail(s, rc, "customer upsert");
}

MdStatus
store_customer_set_bouncing(MdStore *s, const char *addr, gboolean *known_r)
{
	sqlite3_stmt *st = stmt(s, "UPDATE customers SET bouncing = 1 WHERE address = ?");
	MdStatus r;

	*known_r = FALSE;
	if (st == NULL)
		return MD_TEMPFAIL;
	bind_text(st, 1, addr);
	r = run(s, st, "customer bouncing");
	*known_r = r == MD_OK && sqlite3_changes(s->db) > 0;
	return r;
}

MdStatus
store_customer_set_language(MdStore *s, gint64 id, const char *language)
{
	sqlite3_stmt *st = stmt(s, "UPDATE customers SET language = ? WHERE id = ?");

	if (st == NULL)
		return MD_TEMPFAIL;
	bind_text(st, 1, language);
	sqlite3_bind_int64(st, 2, id);
	return run(s, st, "customer language");
}

MdStatus
store_ticket_insert(MdStore *s, MdTicket *t)
{
	sqlite3_stmt *st = stmt(s, "INSERT INTO tickets (status, priority, queue, customer_id, "
	                           "assignee, subject, language, eta, tz_minutes, created, updated, "
	                           "linked_ticket, needs_attention) "
	                           "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)");
	MdStatus r;

	if (st == NULL)
		return MD_TEMPFAIL;
	bind_text(st, 1, t->status);
	bind_text(st, 2, t->priority ? t->priority : "normal");
	bind_text(st, 3, t->queue);
	sqlite3_bind_int64(st, 4, t->customer_id);
	bind_text(st, 5, t->assignee);
	bind_text(st, 6, t->subject ? t->subject : "");
	bind_text(st, 7, t->language);
	bind_opt_int(st, 8, t->eta);
	sqlite3_bind_int(st, 9, t->tz_minutes);
	sqlite3_bind_int64(st, 10, t->created);
	sqlite3_bind_int64(st, 11, t->created);
	bind_opt_int(st, 12, t->linked_ticket);
	sqlite3_bind_int(st, 13, t->needs_attention ? 1 : 0);
	if ((r = run(s, st, "ticket insert")) != MD_OK)
		return r;
	t->id = sqlite3_last_insert_rowid(s->db);
	return MD_OK;
}

MdStatus
store_ticket_set_status(MdStore *s, gint64 id, const char *status, gint64 now)
{
	sqlite3_stmt *st = stmt(s, "UPDATE tickets SET status = ?1, updated = ?2, "
	                           "pending_since = CASE WHEN ?1 = 'pending' "
	                           "THEN coalesce(pending_since, ?2) END, "
	                           "solved_at = CASE WHEN ?1 = 'solved' THEN ?2 ELSE solved_at END, "
	                           "closed_at = CASE WHEN ?1 = 'closed' THEN ?2 "
	                           "WHEN ?1 IN ('new','open') THEN NULL ELSE closed_at END "
	                           "WHERE id = ?3");

	if (st == NULL)
		return MD_TEMPFAIL;
	bind_text(st, 1, status);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, id);
	return run(s, st, "ticket status");
}

MdStatus
store_ticket_touch(MdStore *s, gint64 id, int tz_minutes, gint64 now)
{
	sqlite3_stmt *st = stmt(s, "UPDATE tickets SET updated = ?, tz_minutes = ? WHERE id = ?");

	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int(st, 2, tz_minutes);
	sqlite3_bind_int64(st, 3, id);
	return run(s, st, "ticket touch");
}

MdStatus
store_ticket_flag(MdStore *s, gint64 id)
{
	sqlite3_stmt *st = stmt(s, "UPDATE tickets SET needs_attention = 1 WHERE id = ?");

	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int64(st, 1, id);
	return run(s, st, "ticket flag");
}

MdStatus
store_participant_add(MdStore *s, gint64 ticket, const char *addr, const char *role)
{
	/* a legacy 'participant' row (someone who merely wrote) becomes real */
	sqlite3_stmt *st = stmt(s, "INSERT INTO participants (ticket_id, address, role) "
	                           "VALUES (?, ?, ?) ON CONFLICT (ticket_id, address) DO UPDATE "
	                           "SET role = excluded.role WHERE participants.role = 'participant'");

	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int64(st, 1, ticket);
	bind_text(st, 2, addr);
	bind_text(st, 3, role);
	return run(s, st, "participant add");
}

MdStatus
store_participant_remove(MdStore *s, gint64 ticket, const char *addr)
{
	sqlite3_stmt *st = stmt(s, "DELETE FROM participants WHERE ticket_id = ? AND address = ? "
	                           "AND role <> 'customer'");

	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int64(st, 1, ticket);
	bind_text(st, 2, addr);
	return run(s, st, "participant remove");
}

/* Writes len bytes into the zeroblob of table.column in row, in chunks. */
static MdStatus
write_blob(MdStore *s, const char *table, const char *column, gint64 row, const guint8 *data,
           gsize len)
{
	const gsize chunk = 1 << 20;
	sqlite3_blob *blob = NULL;
	int rc;

	if (len == 0)
		return MD_OK;
	rc = sqlite3_blob_open(s->db, "main", table, column, row, 1, &blob);
	for (gsize off = 0; rc == SQLITE_OK && off < len; off += chunk)
		rc = sqlite3_blob_write(blob, data + off, (int)MIN(chunk, len - off), (int)off);
	if (blob != NULL) {
		int rc2 = sqlite3_blob_close(blob);

		if (rc == SQLITE_OK)
			rc = rc2;
	}
	return rc == SQLITE_OK ? MD_OK : fail(s, rc, "blob write");
}

MdStatus
store_message_insert(MdStore *s, const MdNewMessage *m, gint64 *row_r)
{
	sqlite3_stmt *st = stmt(s, "INSERT INTO messages (ticket_id, direction, kind, message_id, "
	                           "in_reply_to, refs, from_addr, from_name, to_addrs, cc_addrs, "
	                           "subject, body_text, date, received, env_sender, env_recipient, "
	                           "sha256, size, parse_error, raw, audience) "
	                           "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
	MdStatus r;

	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int64(st, 1, m->ticket_id);
	bind_text(st, 2, m->direction);
	bind_text(st, 3, m->kind);
	bind_text(st, 4, m->message_id);
	bind_text(st, 5, m->in_reply_to);
	bind_text(st, 6, m->references);
	bind_text(st, 7, m->from_addr);
	bind_text(st, 8, m->from_name);
	bind_text(st, 9, m->to_addrs);
	bind_text(st, 10, m->cc_addrs);
	bind_text(st, 11, m->subject);
	/* static: the text lives until the step is done; it may be large */
	if (m->text != NULL)
		sqlite3_bind_text64(st, 12, m->text, strlen(m->text), SQLITE_STATIC, SQLITE_UTF8);
	else
		sqlite3_bind_null(st, 12);
	bind_opt_int(st, 13, m->date);
	sqlite3_bind_int64(st, 14, m->received);
	bind_text(st, 15, m->env_sender);
	bind_text(st, 16, m->env_recipient);
	bind_text(st, 17, m->sha256);
	sqlite3_bind_int64(st, 18, (sqlite3_int64)m->raw_len);
	bind_text(st, 19, m->parse_error);
	/* the raw bytes go in afterwards through incremental blob I/O, so a
	 * 30 MB message is never built into one more in-memory record */
	sqlite3_bind_zeroblob64(st, 20, m->raw_len);
	bind_text(st, 21, m->audience != NULL ? m->audience : "customer");
	if ((r = run(s, st, "message insert")) != MD_OK)
		return r;
	*row_r = sqlite3_last_insert_rowid(s->db);
	return write_blob(s, "messages", "raw", *row_r, m->raw, m->raw_len);
}

MdStatus
store_attachment_insert(MdStore *s, gint64 message_row, const char *filename,
                        const char *content_type, const char *disposition, gint64 size)
{
	sqlite3_stmt *st = stmt(s, "INSERT INTO attachments (message_row, filename, content_type, "
	                           "disposition, size) VALUES (?,?,?,?,?)");

	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int64(st, 1, message_row);
	bind_text(st, 2, filename);
	bind_text(st, 3, content_type);
	bind_text(st, 4, disposition);
	sqlite3_bind_int64(st, 5, size);
	return run(s, st, "attachment insert");
}

MdStatus
store_message_id_add(MdStore *s, const char *message_id, gint64 ticket, gint64 row,
                     const char *direction)
{
	sqlite3_stmt *st = stmt(s, "INSERT INTO message_ids (message_id, ticket_id, message_row, "
	                           "direction) VALUES (?,?,?,?)");

	if (st == NULL)
		return MD_TEMPFAIL;
	bind_text(st, 1, message_id);
	sqlite3_bind_int64(st, 2, ticket);
	bind_opt_int(st, 3, row);
	bind_text(st, 4, direction);
	return run(s, st, "message-id add");
}

MdStatus
store_event_add(MdStore *s, gint64 ticket, gint64 at, const char *actor, const char *what,
                const char *old_value, const char *new_value)
{
	sqlite3_stmt *st = stmt(s, "INSERT INTO events (ticket_id, at, actor, what, old_value, "
	                           "new_value) VALUES (?,?,?,?,?,?)");

	if (st == NULL)
		return MD_TEMPFAIL;
	bind_opt_int(st, 1, ticket);
	sqlite3_bind_int64(st, 2, at);
	bind_text(st, 3, actor);
	bind_text(st, 4, what);
	bind_text(st, 5, old_value);
	bind_text(st, 6, new_value);
	return run(s, st, "event add");
}

MdStatus
store_autoreply_count(MdStore *s, const char *addr, gint64 since, int *count_r)
{
	sqlite3_stmt *st = stmt(s, "SELECT count(*) FROM autoreply_log WHERE address = ? AND at >= ?");
	gint64 n = 0;
	gboolean found;
	MdStatus r;

	if (st == NULL)
		return MD_TEMPFAIL;
	bind_text(st, 1, addr);
	sqlite3_bind_int64(st, 2, since);
	r = query_two_ints(s, st, "autoreply count", &n, NULL, &found);
	*count_r = (int)n;
	return r;
}

MdStatus
store_autoreply_log(MdStore *s, const char *addr, gint64 at)
{
	sqlite3_stmt *st = stmt(s, "INSERT INTO autoreply_log (address, at) VALUES (?, ?)");
	sqlite3_stmt *prune;
	MdStatus r;

	if (st == NULL)
		return MD_TEMPFAIL;
	bind_text(st, 1, addr);
	sqlite3_bind_int64(st, 2, at);
	if ((r = run(s, st, "autoreply log")) != MD_OK)
		return r;
	/* only the last day matters for the hourly limit.  Rows come in time
	 * order, so the two oldest rows, if stale, go with each new one: the
	 * log stays about a day long, and no insert scans it (there is no
	 * index on at alone; a scan per acknowledgement grew with the log) */
	prune = stmt(s, "DELETE FROM autoreply_log WHERE rowid IN "
	                "(SELECT rowid FROM autoreply_log ORDER BY rowid LIMIT 2) AND at < ?");
	if (prune == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int64(prune, 1, at - 86400);
	return run(s, prune, "autoreply prune");
}

MdStatus
store_outbox_insert(MdStore *s, gint64 ticket, gint64 message_row, const char *kind,
                    const char *env_from, const char *rcpts, const guint8 *raw, gsize raw_len,
                    gint64 now, gint64 *id_r)
{
	sqlite3_stmt *st = stmt(s, "INSERT INTO outbox (ticket_id, message_row, kind, env_from, "
	                           "rcpts, raw, created, next_attempt) VALUES (?,?,?,?,?,?,?,?)");
	MdStatus r;

	if (st == NULL)
		return MD_TEMPFAIL;
	bind_opt_int(st, 1, ticket);
	bind_opt_int(st, 2, message_row);
	bind_text(st, 3, kind);
	bind_text(st, 4, env_from);
	bind_text(st, 5, rcpts);
	sqlite3_bind_blob64(st, 6, raw, raw_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, now);
	sqlite3_bind_int64(st, 8, now);
	r = run(s, st, "outbox insert");
	sqlite3_clear_bindings(st);
	if (r == MD_OK && id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(s->db);
	return r;
}

/*
 * outbox.rcpts as a NULL-terminated list: outmail.c joins a mail's
 * recipients with ", ", a row split off for a later retry with newlines.
 */
static char **
split_rcpts(const char *rcpts)
{
	g_auto(GStrv) parts = g_strsplit_set(rcpts != NULL ? rcpts : "", "\n,", -1);
	GPtrArray *out = g_ptr_array_new();

	for (guint i = 0; parts[i] != NULL; i++) {
		char *a = g_strstrip(parts[i]);

		if (*a != '\0')
			g_ptr_array_add(out, g_strdup(a));
	}
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

MdStatus
store_outbox_due(MdStore *s, gint64 now, int limit, GPtrArray *rows_r)
{
	sqlite3_stmt *st = stmt(s, "SELECT id, ticket_id, kind, env_from, rcpts, raw, attempts, "
	                           "created FROM outbox WHERE status = 'queued' AND next_attempt <= ? "
	                           "ORDER BY next_attempt, id LIMIT ?");
	int rc;

	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int(st, 2, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		MdOutboxRow *r = g_new0(MdOutboxRow, 1);
		g_autofree char *rcpts = NULL;

		r->id = sqlite3_column_int64(st, 0);
		r->ticket_id = sqlite3_column_int64(st, 1);
		r->kind = col_text(st, 2);
		r->env_from = col_text(st, 3);
		rcpts = col_text(st, 4);
		r->rcpts = split_rcpts(rcpts);
		r->raw = g_bytes_new(sqlite3_column_blob(st, 5), sqlite3_column_bytes(st, 5));
		r->attempts = sqlite3_column_int(st, 6);
		r->created = sqlite3_column_int64(st, 7);
		g_ptr_array_add(rows_r, r);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MD_OK : fail(s, rc, "outbox due");
}

MdStatus
store_outbox_next_due(MdStore *s, gint64 *when_r)
{
	sqlite3_stmt *st = stmt(s, "SELECT min(next_attempt) FROM outbox WHERE status = 'queued'");
	gboolean found;

	*when_r = 0;
	if (st == NULL)
		return MD_TEMPFAIL;
	return query_two_ints(s, st, "outbox next", when_r, NULL, &found);
}

MdStatus
store_outbox_sent(MdStore *s, gint64 id, gint64 now, const char *detail)
{
	sqlite3_stmt *st = stmt(s, "UPDATE outbox SET status = 'sent', done_at = ?, attempts = "
	                           "attempts + 1, last_error = ? WHERE id = ?");

	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int64(st, 1, now);
	bind_text(st, 2, detail);
	sqlite3_bind_int64(st, 3, id);
	return run(s, st, "outbox sent");
}

MdStatus
store_outbox_retry(MdStore *s, gint64 id, int attempts, gint64 next, const char *error)
{
	sqlite3_stmt *st = stmt(s, "UPDATE outbox SET attempts = ?, next_attempt = ?, last_error = ? "
	                           "WHERE id = ?");

	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int(st, 1, attempts);
	sqlite3_bind_int64(st, 2, next);
	bind_text(st, 3, error);
	sqlite3_bind_int64(st, 4, id);
	return run(s, st, "outbox retry");
}

MdStatus
store_outbox_failed(MdStore *s, gint64 id, int attempts, gint64 now, const char *error)
{
	sqlite3_stmt *st = stmt(s, "UPDATE outbox SET status = 'failed', attempts = ?, done_at = ?, "
	                           "last_error = ? WHERE id = ?");

	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int(st, 1, attempts);
	sqlite3_bind_int64(st, 2, now);
	bind_text(st, 3, error);
	sqlite3_bind_int64(st, 4, id);
	return run(s, st, "outbox failed");
}

MdStatus
store_outbox_counts(MdStore *s, int *queued_r, int *sent_r, int *failed_r)
{
	sqlite3_stmt *st = stmt(s, "SELECT coalesce(sum(status = 'queued'), 0), "
	                           "coalesce(sum(status = 'sent'), 0), "
	                           "coalesce(sum(status = 'failed'), 0) FROM outbox");
	int rc;

	if (st == NULL)
		return MD_TEMPFAIL;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*queued_r = sqlite3_column_int(st, 0);
		*sent_r = sqlite3_column_int(st, 1);
		*failed_r = sqlite3_column_int(st, 2);
		rc = SQLITE_DONE;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MD_OK : fail(s, rc, "outbox counts");
}

MdStatus
store_outbox_hold(MdStore *s, gint64 id, gint64 now, const char *reason)
{
	sqlite3_stmt *st = stmt(s, "UPDATE outbox SET status = 'held', done_at = ?, last_error = ? "
	                           "WHERE id = ?");

	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int64(st, 1, now);
	bind_text(st, 2, reason);
	sqlite3_bind_int64(st, 3, id);
	return run(s, st, "outbox hold");
}

void
md_held_mail_free(MdHeldMail *h)
{
	if (h == NULL)
		return;
	g_free(h->kind);
	g_free(h->rcpts);
	g_free(h->reason);
	g_free(h);
}

MdStatus
store_outbox_held(MdStore *s, gint64 ticket, GPtrArray *held_r)
{
	sqlite3_stmt *st = stmt(s, "SELECT id, message_row, kind, rcpts, created, last_error "
	                           "FROM outbox WHERE ticket_id = ? AND status = 'held' ORDER BY id");
	int rc;

	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int64(st, 1, ticket);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		MdHeldMail *h = g_new0(MdHeldMail, 1);

		h->id = sqlite3_column_int64(st, 0);
		h->message_row = sqlite3_column_int64(st, 1);
		h->kind = col_text(st, 2);
		h->rcpts = col_text(st, 3);
		h->created = sqlite3_column_int64(st, 4);
		h->reason = col_text(st, 5);
		g_ptr_array_add(held_r, h);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MD_OK : fail(s, rc, "outbox held");
}

/* ---- agents and assignment ---- */

MdStatus
store_agent_load(MdStore *s, const char *addr, int *open_r, gint64 *last_assigned_r)
{
	sqlite3_stmt *st = stmt(s, "SELECT (SELECT count(*) FROM tickets WHERE assignee = ?1 "
	                           "AND status NOT IN ('solved','closed')), "
	                           "(SELECT last_assigned FROM agents WHERE address = ?1)");
	gint64 open = 0;
	gboolean found;
	MdStatus r;

	if (st == NULL)
		return MD_TEMPFAIL;
	bind_text(st, 1, addr);
	r = query_two_ints(s, st, "agent load", &open, last_assigned_r, &found);
	*open_r = (int)open;
	return r;
}

MdStatus
store_agent_assigned(MdStore *s, const char *addr, gint64 now)
{
	sqlite3_stmt *st = stmt(s, "INSERT INTO agents (address, last_assigned) VALUES (?1, ?2) "
	                           "ON CONFLICT (address) DO UPDATE SET last_assigned = ?2");

	if (st == NULL)
		return MD_TEMPFAIL;
	bind_text(st, 1, addr);
	sqlite3_bind_int64(st, 2, now);
	return run(s, st, "agent assigned");
}

MdStatus
store_agent_open_tickets(MdStore *s, const char *addr, GArray *ids_r)
{
	sqlite3_stmt *st = stmt(s, "SELECT id FROM tickets WHERE assignee = ? "
	                           "AND status NOT IN ('solved','closed') ORDER BY id");
	int rc;

	if (st == NULL)
		return MD_TEMPFAIL;
	bind_text(st, 1, addr);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		gint64 id = sqlite3_column_int64(st, 0);

		g_array_append_val(ids_r, id);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MD_OK : fail(s, rc, "agent tickets");
}

MdStatus
store_next_waiting(MdStore *s, const char *queue, gint64 *ticket_r, int *rank_r,
                   gint64 *created_r)
{
	sqlite3_stmt *st = stmt(s, "SELECT id, CASE priority WHEN 'urgent' THEN 3 WHEN 'high' THEN 2 "
	                           "WHEN 'normal' THEN 1 ELSE 0 END AS rank, created FROM tickets "
	                           "WHERE queue = ? AND assignee IS NULL "
	                           "AND status NOT IN ('solved','closed') "
	                           "ORDER BY rank DESC, created, id LIMIT 1");
	int rc;

	*ticket_r = 0;
	*rank_r = 0;
	*created_r = 0;
	if (st == NULL)
		return MD_TEMPFAIL;
	bind_text(st, 1, queue);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ticket_r = sqlite3_column_int64(st, 0);
		*rank_r = sqlite3_column_int(st, 1);
		*created_r = sqlite3_column_int64(st, 2);
		rc = SQLITE_DONE;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MD_OK : fail(s, rc, "next waiting");
}

/* Sets one column of a ticket; column names come from this file only. */
static MdStatus
ticket_set_text(MdStore *s, const char *sql, gint64 id, const char *value, gint64 now)
{
	sqlite3_stmt *st = stmt(s, sql);

	if (st == NULL)
		return MD_TEMPFAIL;
	bind_text(st, 1, value);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, id);
	return run(s, st, "ticket update");
}

MdStatus
store_ticket_set_assignee(MdStore *s, gint64 id, const char *addr, gint64 now)
{
	return ticket_set_text(s, "UPDATE tickets SET assignee = ?, updated = ? WHERE id = ?", id,
	                       addr, now);
}

MdStatus
store_ticket_set_priority(MdStore *s, gint64 id, const char *priority, gint64 now)
{
	return ticket_set_text(s, "UPDATE tickets SET priority = ?, updated = ? WHERE id = ?", id,
	                       priority, now);
}

MdStatus
store_ticket_set_queue(MdStore *s, gint64 id, const char *queue, gint64 now)
{
	return ticket_set_text(s, "UPDATE tickets SET queue = ?, updated = ? WHERE id = ?", id,
	                       queue, now);
}

MdStatus
store_ticket_set_eta(MdStore *s, gint64 id, gint64 eta, gboolean manual, gint64 now)
{
	sqlite3_stmt *st = stmt(s, "UPDATE tickets SET eta = ?, eta_manual = ?, updated = ? "
	                           "WHERE id = ?");

	if (st == NULL)
		return MD_TEMPFAIL;
	bind_opt_int(st, 1, eta);
	sqlite3_bind_int(st, 2, manual ? 1 : 0);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, id);
	return run(s, st, "ticket eta");
}

MdStatus
store_ticket_add_paused(MdStore *s, gint64 id, gint64 minutes)
{
	sqlite3_stmt *st = stmt(s, "UPDATE tickets SET paused = paused + ? WHERE id = ?");

	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int64(st, 1, minutes);
	sqlite3_bind_int64(st, 2, id);
	return run(s, st, "ticket pause");
}

MdStatus
store_ticket_first_response(MdStore *s, gint64 id, gint64 at)
{
	sqlite3_stmt *st = stmt(s, "UPDATE tickets SET first_response_at = ? "
	                           "WHERE id = ? AND first_response_at IS NULL");

	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int64(st, 1, at);
	sqlite3_bind_int64(st, 2, id);
	return run(s, st, "first response");
}

MdStatus
store_sla_mark(MdStore *s, gint64 ticket, const char *what, gint64 due, gint64 at,
               gboolean *new_r)
{
	sqlite3_stmt *st = stmt(s, "INSERT OR IGNORE INTO sla_marks (ticket_id, what, due, at) "
	                           "VALUES (?, ?, ?, ?)");
	MdStatus r;

	*new_r = FALSE;
	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int64(st, 1, ticket);
	bind_text(st, 2, what);
	sqlite3_bind_int64(st, 3, due);
	sqlite3_bind_int64(st, 4, at);
	if ((r = run(s, st, "sla mark")) == MD_OK)
		*new_r = sqlite3_changes(s->db) > 0;
	return r;
}

MdStatus
store_tickets_to_tick(MdStore *s, gboolean solved_unasked, GArray *ids_r)
{
	sqlite3_stmt *st = stmt(s, "SELECT id FROM tickets "
	                           "WHERE status IN ('new','open','pending','on-hold') "
	                           "OR (?1 AND status = 'solved' AND NOT EXISTS (SELECT 1 FROM "
	                           "sla_marks m WHERE m.ticket_id = tickets.id AND m.what = 'csat')) "
	                           "ORDER BY id");
	int rc;

	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int(st, 1, solved_unasked);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		gint64 id = sqlite3_column_int64(st, 0);

		g_array_append_val(ids_r, id);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MD_OK : fail(s, rc, "tickets to tick");
}

MdStatus
store_csat_vote(MdStore *s, gint64 ticket, int score, const char *comment, const char *from_addr,
                gint64 at, int *old_score_r)
{
	sqlite3_stmt *old = stmt(s, "SELECT score FROM csat WHERE ticket_id = ?");
	sqlite3_stmt *st = stmt(s, "INSERT INTO csat (ticket_id, score, comment, from_addr, at) "
	                           "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (ticket_id) DO UPDATE "
	                           "SET score = ?2, comment = coalesce(?3, comment), from_addr = ?4,"
	                           " at = ?5, votes = votes + 1");
	gint64 prev = 0;
	gboolean found;
	MdStatus r;

	*old_score_r = 0;
	if (old == NULL || st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int64(old, 1, ticket);
	if ((r = query_two_ints(s, old, "csat score", &prev, NULL, &found)) != MD_OK)
		return r;
	*old_score_r = (int)prev;
	sqlite3_bind_int64(st, 1, ticket);
	sqlite3_bind_int(st, 2, score);
	bind_text(st, 3, comment);
	bind_text(st, 4, from_addr);
	sqlite3_bind_int64(st, 5, at);
	return run(s, st, "csat vote");
}

MdStatus
store_outbox_count_since(MdStore *s, gint64 ticket, const char *kind, gint64 since, int *count_r)
{
	sqlite3_stmt *st = stmt(s, "SELECT count(*) FROM outbox WHERE ticket_id = ? AND kind = ? "
	                           "AND created >= ?");
	gint64 n = 0;
	gboolean found;
	MdStatus r;

	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int64(st, 1, ticket);
	bind_text(st, 2, kind);
	sqlite3_bind_int64(st, 3, since);
	r = query_two_ints(s, st, "outbox count", &n, NULL, &found);
	*count_r = (int)n;
	return r;
}

MdStatus
store_event_exists(MdStore *s, gint64 ticket, const char *what, const char *new_value,
                   gboolean *yes_r)
{
	sqlite3_stmt *st = stmt(s, "SELECT 1 FROM events WHERE ticket_id = ? AND what = ? "
	                           "AND new_value IS ? LIMIT 1");

	*yes_r = FALSE;
	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int64(st, 1, ticket);
	bind_text(st, 2, what);
	bind_text(st, 3, new_value);
	return query_two_ints(s, st, "event exists", NULL, NULL, yes_r);
}

/* Reads one text column of every row into out (char*, owned). */
static MdStatus
collect_texts(MdStore *s, sqlite3_stmt *st, GPtrArray *out, const char *what)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (sqlite3_column_type(st, 0) != SQLITE_NULL)
			g_ptr_array_add(out, col_text(st, 0));
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MD_OK : fail(s, rc, what);
}

MdStatus
store_ticket_agent_writers(MdStore *s, gint64 ticket, GPtrArray *addrs_r)
{
	sqlite3_stmt *st = stmt(s, "SELECT DISTINCT lower(from_addr) FROM messages "
	                           "WHERE ticket_id = ? AND direction = 'in' "
	                           "AND kind IN ('reply','note')");

	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int64(st, 1, ticket);
	return collect_texts(s, st, addrs_r, "ticket agents");
}

MdStatus
store_customer_thread(MdStore *s, gint64 ticket, GPtrArray *ids_r)
{
	sqlite3_stmt *st = stmt(s, "SELECT message_id FROM messages WHERE ticket_id = ? "
	                           "AND audience = 'customer' AND message_id IS NOT NULL "
	                           "ORDER BY id");

	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int64(st, 1, ticket);
	return collect_texts(s, st, ids_r, "customer thread");
}

MdStatus
store_ticket_note_texts(MdStore *s, gint64 ticket, gint64 linked, GPtrArray *texts_r)
{
	/* a refused mail is kept as a note too, but its words were meant for
	 * the customer and come back corrected: its refusal names it */
	sqlite3_stmt *st = stmt(s, "SELECT m.body_text FROM messages m WHERE m.ticket_id IN (?, ?) "
	                           "AND m.kind = 'note' AND m.body_text IS NOT NULL "
	                           "AND NOT EXISTS (SELECT 1 FROM events e "
	                           "WHERE e.ticket_id = m.ticket_id AND e.at = m.received "
	                           "AND e.what = 'commands-refused' "
	                           "AND lower(e.actor) = lower(m.from_addr)) ORDER BY m.id");

	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int64(st, 1, ticket);
	sqlite3_bind_int64(st, 2, linked > 0 ? linked : ticket);
	return collect_texts(s, st, texts_r, "note texts");
}

MdStatus
store_last_customer_message(MdStore *s, gint64 ticket, char **message_id_r, char **text_r)
{
	sqlite3_stmt *st = stmt(s, "SELECT message_id, body_text FROM messages WHERE ticket_id = ? "
	                           "AND direction = 'in' AND kind = 'customer' "
	                           "AND audience = 'customer' ORDER BY id DESC LIMIT 1");
	int rc;

	*message_id_r = NULL;
	if (text_r != NULL)
		*text_r = NULL;
	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int64(st, 1, ticket);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*message_id_r = col_text(st, 0);
		if (text_r != NULL)
			*text_r = col_text(st, 1);
		rc = SQLITE_DONE;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MD_OK : fail(s, rc, "last customer message");
}

MdStatus
store_ticket_participants(MdStore *s, gint64 ticket, GPtrArray *addrs_r)
{
	sqlite3_stmt *st = stmt(s, "SELECT address FROM participants WHERE ticket_id = ? "
	                           "AND role <> 'participant' ORDER BY rowid");

	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int64(st, 1, ticket);
	return collect_texts(s, st, addrs_r, "participants");
}

/* Every row of a ticket_columns query into out (MdTicket). */
static MdStatus
collect_tickets(MdStore *s, sqlite3_stmt *st, GArray *out, const char *what)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		MdTicket t = { 0 };

		ticket_from_row(st, &t);
		g_array_append_val(out, t);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MD_OK : fail(s, rc, what);
}

MdStatus
store_customer_open_tickets(MdStore *s, const char *addr, GArray *tickets_r)
{
	static char sql[sizeof ticket_columns + 96];
	sqlite3_stmt *st;

	if (sql[0] == '\0')
		g_snprintf(sql, sizeof sql,
		           "%sWHERE c.address = ? AND t.status NOT IN ('solved','closed') "
		           "ORDER BY t.id",
		           ticket_columns);
	st = stmt(s, sql);
	if (st == NULL)
		return MD_TEMPFAIL;
	bind_text(st, 1, addr);
	return collect_tickets(s, st, tickets_r, "customer tickets");
}

MdStatus
store_request_insert(MdStore *s, const char *kind, const char *from_addr,
                     const char *message_id, gint64 received, const char *env_sender,
                     const char *env_recipient, const char *sha256, const guint8 *raw,
                     gsize raw_len, gint64 *row_r)
{
	sqlite3_stmt *st = stmt(s, "INSERT INTO requests (kind, from_addr, message_id, received, "
	                           "env_sender, env_recipient, sha256, size, raw) "
	                           "VALUES (?,?,?,?,?,?,?,?,?)");
	MdStatus r;

	if (st == NULL)
		return MD_TEMPFAIL;
	bind_text(st, 1, kind);
	bind_text(st, 2, from_addr);
	bind_text(st, 3, message_id);
	sqlite3_bind_int64(st, 4, received);
	bind_text(st, 5, env_sender);
	bind_text(st, 6, env_recipient);
	bind_text(st, 7, sha256);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)raw_len);
	sqlite3_bind_zeroblob64(st, 9, raw_len);
	if ((r = run(s, st, "request insert")) != MD_OK)
		return r;
	*row_r = sqlite3_last_insert_rowid(s->db);
	return write_blob(s, "requests", "raw", *row_r, raw, raw_len);
}

void
md_status_event_clear(MdStatusEvent *e)
{
	g_clear_pointer(&e->old_status, g_free);
	g_clear_pointer(&e->new_status, g_free);
}

void
md_csat_row_clear(MdCsatRow *r)
{
	g_clear_pointer(&r->queue, g_free);
}

/* The tickets of a report: ?1 is its start. */
#define REPORT_TICKETS_WHERE \
	" WHERE t.created >= ?1 OR t.solved_at >= ?1 OR t.closed_at >= ?1" \
	" OR t.status NOT IN ('solved','closed')"

MdStatus
store_report_tickets(MdStore *s, gint64 since, GArray *tickets_r)
{
	/* the columns of ticket_columns, the first response with its fallback */
	sqlite3_stmt *st = stmt(s,
		"SELECT t.id, t.status, t.priority, t.queue, t.customer_id, c.address, c.name,"
		" t.assignee, t.subject, t.language, t.eta, t.tz_minutes, t.created, t.updated,"
		" t.solved_at, t.closed_at, t.linked_ticket, t.needs_attention, t.eta_manual,"
		" coalesce(t.first_response_at, (SELECT min(m.received) FROM messages m"
		"  WHERE m.ticket_id = t.id AND m.kind = 'reply' AND m.direction = 'out')),"
		" t.pending_since, t.paused"
		" FROM tickets t JOIN customers c ON c.id = t.customer_id"
		REPORT_TICKETS_WHERE " ORDER BY t.id");

	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int64(st, 1, since);
	return collect_tickets(s, st, tickets_r, "report tickets");
}

MdStatus
store_report_status_events(MdStore *s, gint64 since, GArray *events_r)
{
	sqlite3_stmt *st = stmt(s, "SELECT e.ticket_id, e.at, e.old_value, e.new_value FROM events e"
	                           " WHERE e.what = 'status' AND e.ticket_id IN"
	                           " (SELECT t.id FROM tickets t" REPORT_TICKETS_WHERE ")"
	                           " ORDER BY e.ticket_id, e.at, e.id");
	int rc;

	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int64(st, 1, since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		MdStatusEvent e = { 0 };

		e.ticket = sqlite3_column_int64(st, 0);
		e.at = sqlite3_column_int64(st, 1);
		e.old_status = col_text(st, 2);
		e.new_status = col_text(st, 3);
		g_array_append_val(events_r, e);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MD_OK : fail(s, rc, "report events");
}

MdStatus
store_report_csat(MdStore *s, gint64 since, gint64 until, GArray *votes_r)
{
	sqlite3_stmt *st = stmt(s, "SELECT v.ticket_id, t.queue, v.score, v.at FROM csat v"
	                           " JOIN tickets t ON t.id = v.ticket_id"
	                           " WHERE v.at >= ? AND v.at < ? ORDER BY v.ticket_id");
	int rc;

	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, until);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		MdCsatRow r = { 0 };

		r.ticket = sqlite3_column_int64(st, 0);
		r.queue = col_text(st, 1);
		r.score = sqlite3_column_int(st, 2);
		r.at = sqlite3_column_int64(st, 3);
		g_array_append_val(votes_r, r);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MD_OK : fail(s, rc, "report csat");
}

MdStatus
store_digest_sent(MdStore *s, const char *lead, const char *period, gboolean *yes_r)
{
	sqlite3_stmt *st = stmt(s, "SELECT 1 FROM events WHERE ticket_id IS NULL AND what = 'digest'"
	                           " AND old_value = ? COLLATE NOCASE AND new_value = ? LIMIT 1");

	*yes_r = FALSE;
	if (st == NULL)
		return MD_TEMPFAIL;
	bind_text(st, 1, lead);
	bind_text(st, 2, period);
	return query_two_ints(s, st, "digest sent", NULL, NULL, yes_r);
}

MdStatus
store_ticket_list(MdStore *s, const char *status, GArray *tickets_r)
{
	static char sql[sizeof ticket_columns + 64];
	sqlite3_stmt *st;

	if (sql[0] == '\0')
		g_snprintf(sql, sizeof sql, "%sWHERE ?1 IS NULL OR t.status = ?1 ORDER BY t.id",
		           ticket_columns);
	st = stmt(s, sql);
	if (st == NULL)
		return MD_TEMPFAIL;
	bind_text(st, 1, status);
	return collect_tickets(s, st, tickets_r, "ticket list");
}

MdStatus
store_ticket_messages(MdStore *s, gint64 ticket, GPtrArray *rows_r)
{
	sqlite3_stmt *st = stmt(s, "SELECT id, direction, kind, message_id, from_addr, from_name, "
	                           "to_addrs, cc_addrs, subject, body_text, date, received, "
	                           "parse_error, audience FROM messages WHERE ticket_id = ? ORDER BY id");
	int rc;

	if (st == NULL)
		return MD_TEMPFAIL;
	sqlite3_bind_int64(st, 1, ticket);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		MdMessageRow *r = g_new0(MdMessageRow, 1);

		r->id = sqlite3_column_int64(st, 0);
		r->direction = col_text(st, 1);
		r->kind = col_text(st, 2);
		r->message_id = col_text(st, 3);
		r->from_addr = col_text(st, 4);
		r->from_name = col_text(st, 5);
		r->to_addrs = col_text(st, 6);
		r->cc_addrs = col_text(st, 7);
		r->subject = col_text(st, 8);
		r->text = col_text(st, 9);
		r->date = sqlite3_column_int64(st, 10);
		r->received = sqlite3_column_int64(st, 11);
		r->parse_error = col_text(st, 12);
		r->audience = col_text(st, 13);
		g_ptr_array_add(rows_r, r);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MD_OK : fail(s, rc, "ticket messages");
}

MdStatus
store_ticket_count(MdStore *s, gint64 *count_r)
{
	sqlite3_stmt *st = stmt(s, "SELECT count(*) FROM tickets");
	gboolean found;

	if (st == NULL)
		return MD_TEMPFAIL;
	return query_two_ints(s, st, "ticket count", count_r, NULL, &found);
}
