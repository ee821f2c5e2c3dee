/* Unit tests: schema, migrations, locking and the statements intake uses. */
#include "config.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

static char *tmpdir;

static char *
db_path(const char *name)
{
	return g_build_filename(tmpdir, name, NULL);
}

static MdStore *
open_db(const char *name, gboolean create)
{
	g_autofree char *path = db_path(name);
	g_autofree char *error = NULL;
	MdStatus st;
	MdStore *s = store_open(path, 200, create, &st, &error);

	if (s == NULL)
		g_test_message("%s", error);
	return s;
}

static void
test_missing_database(void)
{
	g_autofree char *path = db_path("missing.db");
	g_autofree char *error = NULL;
	MdStatus st = MD_OK;

	g_assert_null(store_open(path, 200, FALSE, &st, &error));
	g_assert_cmpint(st, ==, MD_CONFIG);
	g_assert_nonnull(strstr(error, "maildesk init"));
}

static void
test_fresh_schema(void)
{
	MdStore *s = open_db("fresh.db", TRUE);

	g_assert_cmpint(store_schema_version(s), ==, 0);
	g_assert_cmpint(store_check_schema(s), ==, MD_CONFIG);
	g_assert_cmpint(store_migrate(s), ==, MD_OK);
	g_assert_cmpint(store_schema_version(s), ==, STORE_SCHEMA_VERSION);
	g_assert_cmpint(store_check_schema(s), ==, MD_OK);
	/* running init again changes nothing */
	g_assert_cmpint(store_migrate(s), ==, MD_OK);
	g_assert_cmpint(store_schema_version(s), ==, STORE_SCHEMA_VERSION);
	store_close(s);
}

/* Every older version migrates forward to the current one, keeping rows. */
static void
test_migrations_from_every_version(void)
{
	for (int from = 0; from < STORE_SCHEMA_VERSION; from++) {
		g_autofree char *name = g_strdup_printf("from-%d.db", from);
		MdStore *s = open_db(name, TRUE);

		g_assert_cmpint(store_migrate_to(s, from), ==, MD_OK);
		g_assert_cmpint(store_schema_version(s), ==, from);
		g_assert_cmpint(store_migrate(s), ==, MD_OK);
		g_assert_cmpint(store_schema_version(s), ==, STORE_SCHEMA_VERSION);
		store_close(s);
	}
}

/* A schema-1 database with a ticket, its message, attachment, id and outbox row. */
static const char v1_rows[] =
	"INSERT INTO customers (id, address, created) VALUES (1, 'c@example.org', 1);"
	"INSERT INTO tickets (id, status, queue, customer_id, created, updated)"
	"  VALUES (1, 'open', 'support', 1, 1, 1);"
	"INSERT INTO messages (id, ticket_id, direction, kind, message_id, received, sha256, size, raw)"
	"  VALUES (7, 1, 'in', 'customer', 'm1@example.org', 1, 'h1', 5, X'48454C4C4F');"
	"INSERT INTO attachments (message_row, filename, size) VALUES (7, 'a.pdf', 3);"
	"INSERT INTO message_ids (message_id, ticket_id, message_row, direction)"
	"  VALUES ('m1@example.org', 1, 7, 'in');"
	"INSERT INTO outbox (ticket_id, message_row, kind, env_from, rcpts, raw, created, next_attempt)"
	"  VALUES (1, 7, 'ack', '', 'c@example.org', X'00', 1, 1);";

static char *
query_text(const char *name, const char *sql)
{
	g_autofree char *path = db_path(name);
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *out = NULL;

	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==, SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		out = g_strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

/* Version 2 rebuilds messages: every row and every reference to it survives. */
static void
test_migration_keeps_rows(void)
{
	MdStore *s = open_db("rows.db", TRUE);
	g_autofree char *path = db_path("rows.db");
	g_autofree char *msg = NULL;
	g_autofree char *refs = NULL;
	g_autofree char *last = NULL;
	sqlite3 *db = NULL;

	g_assert_cmpint(store_migrate_to(s, 1), ==, MD_OK);
	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(db, v1_rows, NULL, NULL, NULL), ==, SQLITE_OK);
	sqlite3_close(db);
	g_assert_cmpint(store_migrate(s), ==, MD_OK);
	store_close(s);

	msg = query_text("rows.db", "SELECT id || ' ' || kind || ' ' || audience || ' ' || "
	                            "CAST(raw AS TEXT) FROM messages");
	g_assert_cmpstr(msg, ==, "7 customer customer HELLO");
	refs = query_text("rows.db", "SELECT (SELECT count(*) FROM attachments WHERE message_row = 7)"
	                             " || (SELECT count(*) FROM message_ids WHERE message_row = 7)"
	                             " || (SELECT count(*) FROM outbox WHERE message_row = 7)");
	g_assert_cmpstr(refs, ==, "111");
	/* raw stays the last column: SQLite keeps a zeroblob there unbuilt */
	last = query_text("rows.db", "SELECT name FROM pragma_table_info('messages') "
	                             "ORDER BY cid DESC LIMIT 1");
	g_assert_cmpstr(last, ==, "raw");

	/* version 4 rebuilds the outbox: its row survives, raw moves last,
	 * and a mail can be held */
	g_clear_pointer(&msg, g_free);
	g_clear_pointer(&last, g_free);
	msg = query_text("rows.db", "SELECT kind || ' ' || status || ' ' || rcpts || ' ' || "
	                            "CAST(raw AS TEXT) FROM outbox WHERE message_row = 7");
	g_assert_nonnull(msg);
	g_assert_nonnull(strstr(msg, " queued "));
	last = query_text("rows.db", "SELECT name FROM pragma_table_info('outbox') "
	                             "ORDER BY cid DESC LIMIT 1");
	g_assert_cmpstr(last, ==, "raw");
	{
		g_autoptr(GPtrArray) held = g_ptr_array_new_with_free_func((GDestroyNotify)md_held_mail_free);
		g_autofree char *status = NULL;
		gint64 id = 0, ticket = 0;

		s = open_db("rows.db", FALSE);
		g_assert_nonnull(s);
		g_clear_pointer(&last, g_free);
		last = query_text("rows.db", "SELECT id || ' ' || ticket_id FROM outbox WHERE message_row = 7");
		g_assert_cmpint(sscanf(last, "%" G_GINT64_FORMAT " %" G_GINT64_FORMAT, &id, &ticket), ==, 2);
		g_assert_cmpint(store_outbox_hold(s, id, 1000, "it quotes an internal note"), ==, MD_OK);
		g_assert_cmpint(store_outbox_held(s, ticket, held), ==, MD_OK);
		g_assert_cmpuint(held->len, ==, 1);
		g_assert_cmpstr(((MdHeldMail *)held->pdata[0])->reason, ==, "it quotes an internal note");
		g_assert_cmpint(((MdHeldMail *)held->pdata[0])->message_row, ==, 7);
		store_close(s);
		status = query_text("rows.db", "SELECT status FROM outbox WHERE message_row = 7");
		g_assert_cmpstr(status, ==, "held");
	}
}

static void
test_newer_schema_refused(void)
{
	g_autofree char *path = db_path("newer.db");
	MdStore *s = open_db("newer.db", TRUE);
	sqlite3 *raw;

	g_assert_cmpint(store_migrate(s), ==, MD_OK);
	store_close(s);
	g_assert_cmpint(sqlite3_open(path, &raw), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(raw, "PRAGMA user_version = 999", NULL, NULL, NULL), ==, SQLITE_OK);
	sqlite3_close(raw);
	s = open_db("newer.db", FALSE);
	g_assert_cmpint(store_check_schema(s), ==, MD_CONFIG);
	g_assert_nonnull(strstr(store_error(s), "newer"));
	g_assert_cmpint(store_migrate(s), ==, MD_CONFIG);
	store_close(s);
}

static void
test_busy_is_tempfail(void)
{
	MdStore *a = open_db("busy.db", TRUE);
	MdStore *b;
	gint64 t0;

	g_assert_cmpint(store_migrate(a), ==, MD_OK);
	b = open_db("busy.db", FALSE);
	g_assert_cmpint(store_begin(a), ==, MD_OK);
	t0 = g_get_monotonic_time();
	g_assert_cmpint(store_begin(b), ==, MD_TEMPFAIL);
	g_assert_cmpint(g_get_monotonic_time() - t0, >=, 150 * 1000); /* waited for the timeout */
	store_rollback(a);
	g_assert_cmpint(store_begin(b), ==, MD_OK);
	store_rollback(b);
	store_close(a);
	store_close(b);
}

static void
test_message_flow(void)
{
	MdStore *s = open_db("flow.db", TRUE);
	MdTicket t = { 0 };
	MdNewMessage m = { 0 };
	g_autofree char *lang = NULL;
	const guint8 raw[] = "Subject: x\r\n\r\nbody\0with NUL";
	gint64 row = 0, found_row = 0, found_ticket = 0, tid = 0;
	gboolean own = FALSE, yes = FALSE, found = FALSE;
	int count = -1, q, sent, failed;
	g_autoptr(GPtrArray) due = g_ptr_array_new_with_free_func((GDestroyNotify)md_outbox_row_free);

	g_assert_cmpint(store_migrate(s), ==, MD_OK);
	g_assert_cmpint(store_begin(s), ==, MD_OK);
	g_assert_cmpint(store_customer_upsert(s, "Ann@Example.org", "Ann", &t.customer_id, &lang), ==, MD_OK);
	g_assert_null(lang);
	g_assert_cmpint(store_customer_set_language(s, t.customer_id, "lv"), ==, MD_OK);
	{
		gint64 again = 0;
		g_autofree char *lang2 = NULL;

		/* same customer whatever the case of the address */
		g_assert_cmpint(store_customer_upsert(s, "ann@example.org", NULL, &again, &lang2), ==, MD_OK);
		g_assert_cmpint(again, ==, t.customer_id);
		g_assert_cmpstr(lang2, ==, "lv");
	}
	t.status = g_strdup("new");
	t.queue = g_strdup("support");
	t.subject = g_strdup("Printer");
	t.created = 1000;
	t.eta = 5000;
	g_assert_cmpint(store_ticket_insert(s, &t), ==, MD_OK);
	g_assert_cmpint(t.id, >, 0);

	m.ticket_id = t.id;
	m.direction = "in";
	m.kind = "customer";
	m.message_id = "abc@example.org";
	m.sha256 = "hash1";
	m.received = 1000;
	m.raw = raw;
	m.raw_len = sizeof raw - 1;
	g_assert_cmpint(store_message_insert(s, &m, &row), ==, MD_OK);
	g_assert_cmpint(store_message_id_add(s, "abc@example.org", t.id, row, "in"), ==, MD_OK);
	g_assert_cmpint(store_message_id_add(s, "ours@help", t.id, 0, "out"), ==, MD_OK);
	g_assert_cmpint(store_participant_add(s, t.id, "ann@example.org", "customer"), ==, MD_OK);
	g_assert_cmpint(store_participant_add(s, t.id, "ANN@example.org", "customer"), ==, MD_OK);
	g_assert_cmpint(store_outbox_insert(s, t.id, row, "ack", "", "ann@example.org", raw,
	                                    sizeof raw - 1, 1000, NULL), ==, MD_OK);
	g_assert_cmpint(store_autoreply_log(s, "ann@example.org", 1000), ==, MD_OK);
	g_assert_cmpint(store_commit(s), ==, MD_OK);

	/* the same content hash is found again */
	g_assert_cmpint(store_message_by_hash(s, "hash1", &found_row, &found_ticket), ==, MD_OK);
	g_assert_cmpint(found_row, ==, row);
	g_assert_cmpint(found_ticket, ==, t.id);
	g_assert_cmpint(store_message_by_hash(s, "hash2", &found_row, &found_ticket), ==, MD_OK);
	g_assert_cmpint(found_row, ==, 0);
	/* a second row with the same hash is refused by the schema */
	g_assert_cmpint(store_begin(s), ==, MD_OK);
	g_assert_cmpint(store_message_insert(s, &m, &row), ==, MD_TEMPFAIL);
	store_rollback(s);

	g_assert_cmpint(store_ticket_by_message_id(s, "abc@example.org", &tid), ==, MD_OK);
	g_assert_cmpint(tid, ==, t.id);
	g_assert_cmpint(store_is_own_message_id(s, "abc@example.org", &own), ==, MD_OK);
	g_assert_false(own);
	g_assert_cmpint(store_is_own_message_id(s, "ours@help", &own), ==, MD_OK);
	g_assert_true(own);
	g_assert_cmpint(store_is_participant(s, t.id, "ANN@EXAMPLE.ORG", &yes), ==, MD_OK);
	g_assert_true(yes);
	g_assert_cmpint(store_is_participant(s, t.id + 1, "ann@example.org", &yes), ==, MD_OK);
	g_assert_false(yes);
	{
		g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func(g_free);

		/* a sender of old (role participant) is nobody until named */
		g_assert_cmpint(store_begin(s), ==, MD_OK);
		g_assert_cmpint(store_participant_add(s, t.id, "eve@example.net", "participant"), ==,
		                MD_OK);
		g_assert_cmpint(store_is_participant(s, t.id, "eve@example.net", &yes), ==, MD_OK);
		g_assert_false(yes);
		g_assert_cmpint(store_participant_add(s, t.id, "EVE@example.net", "cc"), ==, MD_OK);
		g_assert_cmpint(store_is_participant(s, t.id, "eve@example.net", &yes), ==, MD_OK);
		g_assert_true(yes);
		/* a customer stays the customer, and cannot be removed */
		g_assert_cmpint(store_participant_add(s, t.id, "ann@example.org", "added"), ==, MD_OK);
		g_assert_cmpint(store_participant_remove(s, t.id, "ANN@example.org"), ==, MD_OK);
		g_assert_cmpint(store_participant_remove(s, t.id, "Eve@Example.net"), ==, MD_OK);
		g_assert_cmpint(store_is_participant(s, t.id, "eve@example.net", &yes), ==, MD_OK);
		g_assert_false(yes);
		g_assert_cmpint(store_ticket_participants(s, t.id, all), ==, MD_OK);
		g_assert_cmpuint(all->len, ==, 1);
		g_assert_cmpstr(all->pdata[0], ==, "ann@example.org");
		g_assert_cmpint(store_commit(s), ==, MD_OK);
	}
	g_assert_cmpint(store_autoreply_count(s, "ann@example.org", 900, &count), ==, MD_OK);
	g_assert_cmpint(count, ==, 1);
	g_assert_cmpint(store_autoreply_count(s, "ann@example.org", 1001, &count), ==, MD_OK);
	g_assert_cmpint(count, ==, 0);

	/* the raw bytes come back byte for byte, NUL included */
	g_assert_cmpint(store_outbox_due(s, 1000, 10, due), ==, MD_OK);
	g_assert_cmpuint(due->len, ==, 1);
	{
		const MdOutboxRow *r = due->pdata[0];
		gsize len;
		const guint8 *data = g_bytes_get_data(r->raw, &len);

		g_assert_cmpmem(data, len, raw, sizeof raw - 1);
		g_assert_cmpstr(r->rcpts[0], ==, "ann@example.org");
		g_assert_cmpint(store_begin(s), ==, MD_OK);
		g_assert_cmpint(store_outbox_retry(s, r->id, 1, 2000, "451 try later"), ==, MD_OK);
		g_assert_cmpint(store_commit(s), ==, MD_OK);
	}
	g_ptr_array_set_size(due, 0);
	g_assert_cmpint(store_outbox_due(s, 1999, 10, due), ==, MD_OK);
	g_assert_cmpuint(due->len, ==, 0);
	g_assert_cmpint(store_outbox_due(s, 2000, 10, due), ==, MD_OK);
	g_assert_cmpuint(due->len, ==, 1);
	g_assert_cmpint(store_outbox_sent(s, ((MdOutboxRow *)due->pdata[0])->id, 2000, "250 ok"), ==, MD_OK);
	g_assert_cmpint(store_outbox_counts(s, &q, &sent, &failed), ==, MD_OK);
	g_assert_cmpint(q, ==, 0);
	g_assert_cmpint(sent, ==, 1);

	{
		MdTicket back = { 0 };

		g_assert_cmpint(store_ticket_set_status(s, t.id, "closed", 3000), ==, MD_OK);
		g_assert_cmpint(store_ticket_get(s, t.id, &back, &found), ==, MD_OK);
		g_assert_true(found);
		g_assert_cmpstr(back.status, ==, "closed");
		g_assert_cmpint(back.closed_at, ==, 3000);
		g_assert_cmpstr(back.customer_addr, ==, "Ann@Example.org");
		md_ticket_clear(&back);
		/* the schema refuses a status that does not exist */
		g_assert_cmpint(store_ticket_set_status(s, t.id, "lost", 3000), ==, MD_TEMPFAIL);
	}
	md_ticket_clear(&t);
	store_close(s);
}

/* The same mail in other bytes (import): every field must agree. */
static void
test_same_message(void)
{
	MdStore *s = open_db("same.db", TRUE);
	MdTicket t = { 0 };
	MdNewMessage m = { 0 };
	g_autofree char *lang = NULL;
	const guint8 raw[] = "Subject: x\n\nhello\n";
	gint64 row = 0, tid = -1;

	g_assert_cmpint(store_migrate(s), ==, MD_OK);
	g_assert_cmpint(store_begin(s), ==, MD_OK);
	g_assert_cmpint(store_customer_upsert(s, "ann@example.org", NULL, &t.customer_id, &lang), ==,
	                MD_OK);
	t.status = g_strdup("new");
	t.queue = g_strdup("support");
	t.created = 1000;
	g_assert_cmpint(store_ticket_insert(s, &t), ==, MD_OK);
	m.ticket_id = t.id;
	m.direction = "in";
	m.kind = "customer";
	m.message_id = "same@example.org";
	m.from_addr = "ann@example.org";
	m.subject = "x";
	m.text = "hello";
	m.date = 900;
	m.sha256 = "hash-same";
	m.received = 1000;
	m.raw = raw;
	m.raw_len = sizeof raw - 1;
	g_assert_cmpint(store_message_insert(s, &m, &row), ==, MD_OK);
	g_assert_cmpint(store_message_id_add(s, m.message_id, t.id, row, "in"), ==, MD_OK);
	g_assert_cmpint(store_attachment_insert(s, row, "a.pdf", "application/pdf", "attachment",
	                                        1234), ==, MD_OK);
	g_assert_cmpint(store_commit(s), ==, MD_OK);

	g_assert_cmpint(store_ticket_by_same_message(s, "same@example.org", "ann@example.org", 900,
	                                             "x", "hello", 1, 1234, &tid), ==, MD_OK);
	g_assert_cmpint(tid, ==, t.id);
	/* one field apart is another message under a reused Message-ID */
	g_assert_cmpint(store_ticket_by_same_message(s, "same@example.org", "ann@example.org", 900,
	                                             "x", "hello", 1, 1235, &tid), ==, MD_OK);
	g_assert_cmpint(tid, ==, 0);
	g_assert_cmpint(store_ticket_by_same_message(s, "same@example.org", "ann@example.org", 900,
	                                             "x", "hello", 0, 0, &tid), ==, MD_OK);
	g_assert_cmpint(tid, ==, 0);
	g_assert_cmpint(store_ticket_by_same_message(s, "same@example.org", "ann@example.org", 0,
	                                             "x", "hello", 1, 1234, &tid), ==, MD_OK);
	g_assert_cmpint(tid, ==, 0);
	g_assert_cmpint(store_ticket_by_same_message(s, "same@example.org", "bob@example.org", 900,
	                                             "x", "hello", 1, 1234, &tid), ==, MD_OK);
	g_assert_cmpint(tid, ==, 0);
	g_assert_cmpint(store_ticket_by_same_message(s, "same@example.org", "ann@example.org", 900,
	                                             "x", "hello!", 1, 1234, &tid), ==, MD_OK);
	g_assert_cmpint(tid, ==, 0);
	g_assert_cmpint(store_ticket_by_same_message(s, "other@example.org", "ann@example.org", 900,
	                                             "x", "hello", 1, 1234, &tid), ==, MD_OK);
	g_assert_cmpint(tid, ==, 0);
	md_ticket_clear(&t);
	store_close(s);
}

int
main(int argc, char **argv)
{
	int rc;

	g_test_init(&argc, &argv, NULL);
	tmpdir = g_dir_make_tmp("maildesk-store-XXXXXX", NULL);
	g_test_add_func("/store/missing", test_missing_database);
	g_test_add_func("/store/fresh", test_fresh_schema);
	g_test_add_func("/store/migrations", test_migrations_from_every_version);
	g_test_add_func("/store/migration-keeps-rows", test_migration_keeps_rows);
	g_test_add_func("/store/newer", test_newer_schema_refused);
	g_test_add_func("/store/busy", test_busy_is_tempfail);
	g_test_add_func("/store/flow", test_message_flow);
	g_test_add_func("/store/same-message", test_same_message);
	rc = g_test_run();
	{
		g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			rc = 1;
	}
	g_free(tmpdir);
	return rc;
}
