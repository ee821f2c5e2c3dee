/* Unit tests: finding and reading the messages of an mbox or a Maildir. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <utime.h>

#include "archive.h"
#include "parse.h"

static char *
temp_dir(void)
{
	g_autoptr(GError) error = NULL;
	char *d = g_dir_make_tmp("maildesk-archive-XXXXXX", &error);

	g_assert_no_error(error);
	return d;
}

static void
write_file(const char *path, const char *data, gsize len)
{
	g_autoptr(GError) error = NULL;

	g_file_set_contents(path, data, (gssize)len, &error);
	g_assert_no_error(error);
}

static void
remove_tree(const char *path)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", path);

	g_assert_cmpint(system(cmd), ==, 0);
}

static GArray *
items_new(void)
{
	GArray *items = g_array_new(FALSE, TRUE, sizeof(MdArchiveItem));

	g_array_set_clear_func(items, (GDestroyNotify)archive_item_clear);
	return items;
}

static GBytes *
read_item(const char *path, GArray *items, guint i)
{
	GByteArray *raw = NULL;
	gboolean too_big = TRUE;
	g_autofree char *error = NULL;

	g_assert_cmpint(archive_read(path, &g_array_index(items, MdArchiveItem, i), 1 << 30, &raw,
	                             &too_big, &error),
	                ==, MD_OK);
	g_assert_false(too_big);
	return g_byte_array_free_to_bytes(raw);
}

static void
assert_bytes(GBytes *b, const char *want)
{
	gsize len;
	const char *data = g_bytes_get_data(b, &len);

	g_assert_cmpmem(data, len, want, strlen(want));
	g_bytes_unref(b);
}

static void
test_probe(void)
{
	g_autofree char *d = temp_dir();
	g_autofree char *mbox = g_build_filename(d, "a.mbox", NULL);
	g_autofree char *empty = g_build_filename(d, "empty", NULL);
	g_autofree char *text = g_build_filename(d, "notes", NULL);
	g_autofree char *maildir = g_build_filename(d, "md", NULL);
	g_autofree char *cur = g_build_filename(maildir, "cur", NULL);
	g_autofree char *new = g_build_filename(maildir, "new", NULL);
	g_autofree char *missing = g_build_filename(d, "missing", NULL);
	MdArchiveKind kind;
	char *error = NULL;

	write_file(mbox, "From a@b Mon Jan  3 10:00:00 2022\nSubject: x\n\nbody\n", (gsize)-1);
	write_file(empty, "", 0);
	write_file(text, "Subject: no From_ line\n", (gsize)-1);
	g_assert_cmpint(archive_probe(mbox, &kind, &error), ==, MD_OK);
	g_assert_cmpint(kind, ==, ARCHIVE_MBOX);
	g_assert_cmpint(archive_probe(empty, &kind, &error), ==, MD_OK);
	g_assert_cmpint(kind, ==, ARCHIVE_MBOX);
	g_assert_cmpint(archive_probe(text, &kind, &error), ==, MD_DATAERR);
	g_clear_pointer(&error, g_free);
	g_assert_cmpint(archive_probe(missing, &kind, &error), ==, MD_NOTFOUND);
	g_clear_pointer(&error, g_free);
	g_assert_cmpint(g_mkdir(maildir, 0700), ==, 0);
	g_assert_cmpint(archive_probe(maildir, &kind, &error), ==, MD_DATAERR);
	g_clear_pointer(&error, g_free);
	g_assert_cmpint(g_mkdir(cur, 0700), ==, 0);
	g_assert_cmpint(g_mkdir(new, 0700), ==, 0);
	g_assert_cmpint(archive_probe(maildir, &kind, &error), ==, MD_OK);
	g_assert_cmpint(kind, ==, ARCHIVE_MAILDIR);
	remove_tree(d);
}

/* Dates: the header, else the From_ line; bytes as they were, the
 * separating blank line dropped, a last message without one kept. */
static void
test_mbox(void)
{
	static const char mbox[] = "From a@b Mon Jan  3 10:00:00 2022\n"
	                           "Subject: one\n"
	                           "Date: Tue, 01 Feb 2022 00:00:00 +0000\n"
	                           "\n"
	                           ">From the start\n"
	                           "\n"
	                           "\n"
	                           "From a@b Mon Jan  3 10:00:00 2022\n"
	                           "Subject: two\n"
	                           "\n"
	                           "no date\n"
	                           "From a@b Sat Jan  1 00:00:00 2000\n"
	                           "Subject: three\n"
	                           "\n"
	                           "last";
	g_autofree char *d = temp_dir();
	g_autofree char *path = g_build_filename(d, "a.mbox", NULL);
	g_autoptr(GArray) items = items_new();
	char *error = NULL;

	write_file(path, mbox, sizeof mbox - 1);
	g_assert_cmpint(archive_scan(path, ARCHIVE_MBOX, 3, items, &error), ==, MD_OK);
	g_assert_cmpuint(items->len, ==, 3);
	g_assert_cmpuint(g_array_index(items, MdArchiveItem, 0).source, ==, 3);
	g_assert_cmpint(g_array_index(items, MdArchiveItem, 0).when, ==, 1643673600);
	g_assert_cmpint(g_array_index(items, MdArchiveItem, 1).when, ==, 1641204000);
	g_assert_cmpint(g_array_index(items, MdArchiveItem, 2).when, ==, 946684800);
	assert_bytes(read_item(path, items, 0),
	             "Subject: one\nDate: Tue, 01 Feb 2022 00:00:00 +0000\n\n>From the start\n\n");
	assert_bytes(read_item(path, items, 1), "Subject: two\n\nno date\n");
	assert_bytes(read_item(path, items, 2), "Subject: three\n\nlast");

	archive_sort(items);
	g_assert_cmpint(g_array_index(items, MdArchiveItem, 0).when, ==, 946684800);
	g_assert_cmpint(g_array_index(items, MdArchiveItem, 2).when, ==, 1643673600);
	remove_tree(d);
}

/* An mbox written with CRLF line ends: its separator is CRLF too. */
static void
test_mbox_crlf(void)
{
	static const char mbox[] = "From a@b Mon Jan  3 10:00:00 2022\r\n"
	                           "Subject: one\r\n"
	                           "\r\n"
	                           "body\r\n"
	                           "\r\n"
	                           "From a@b Mon Jan  3 11:00:00 2022\r\n"
	                           "Subject: two\r\n"
	                           "\r\n"
	                           "two\r\n"
	                           "\r\n";
	g_autofree char *d = temp_dir();
	g_autofree char *path = g_build_filename(d, "crlf.mbox", NULL);
	g_autoptr(GArray) items = items_new();
	char *error = NULL;

	write_file(path, mbox, sizeof mbox - 1);
	g_assert_cmpint(archive_scan(path, ARCHIVE_MBOX, 0, items, &error), ==, MD_OK);
	g_assert_cmpuint(items->len, ==, 2);
	g_assert_cmpint(g_array_index(items, MdArchiveItem, 1).when, ==, 1641207600);
	assert_bytes(read_item(path, items, 0), "Subject: one\r\n\r\nbody\r\n");
	assert_bytes(read_item(path, items, 1), "Subject: two\r\n\r\ntwo\r\n");
	remove_tree(d);
}

/*
 * A message GMime's mbox parser gives up on is kept up to the next From_
 * line, wherever that line falls against the 64 KiB reads that look for it.
 */
static void
test_unreadable(void)
{
	g_autofree char *d = temp_dir();
	g_autofree char *path = g_build_filename(d, "g.mbox", NULL);

	for (int shift = -8; shift <= 8; shift++) {
		static const char head[] = "From a@b Mon Jan  3 10:00:00 2022\n";
		static const char next[] = "From a@b Tue Jan  4 10:00:00 2022\nSubject: ok\n\nfine\n";
		g_autoptr(GArray) items = items_new();
		g_autoptr(GString) mbox = g_string_new(head);
		g_autoptr(GString) bad = g_string_new("   \n\001 no header\n");
		char *error = NULL;
		gsize len;
		GBytes *b;

		/* the next From_ line starts at 64 KiB + shift after the message start */
		while (bad->len < (gsize)(65536 + shift - 1))
			g_string_append_c(bad, bad->len % 61 == 60 ? '\n' : 'x');
		g_string_append_c(bad, '\n');
		g_string_append_len(mbox, bad->str, (gssize)bad->len);
		g_string_append(mbox, next);
		write_file(path, mbox->str, mbox->len);
		g_assert_cmpint(archive_scan(path, ARCHIVE_MBOX, 0, items, &error), ==, MD_OK);
		g_assert_cmpuint(items->len, ==, 2);
		b = read_item(path, items, 0);
		g_bytes_get_data(b, &len);
		g_assert_cmpuint(len, ==, bad->len);
		g_bytes_unref(b);
		g_assert_cmpint(g_array_index(items, MdArchiveItem, 0).when, ==, 1641204000);
		assert_bytes(read_item(path, items, 1), "Subject: ok\n\nfine\n");
		g_assert_cmpint(g_array_index(items, MdArchiveItem, 1).when, ==, 1641290400);
	}
	remove_tree(d);
}

static void
test_maildir(void)
{
	g_autofree char *d = temp_dir();
	g_autofree char *cur = g_build_filename(d, "cur", NULL);
	g_autofree char *new = g_build_filename(d, "new", NULL);
	g_autofree char *a = g_build_filename(cur, "200.M1.host:2,S", NULL);
	g_autofree char *b = g_build_filename(new, "100.M2.host", NULL);
	g_autofree char *hidden = g_build_filename(new, ".seen", NULL);
	g_autoptr(GArray) items = items_new();
	struct utimbuf when = { 1500000000, 1500000000 };
	char *error = NULL;
	gboolean too_big = FALSE;
	GByteArray *raw = NULL;

	g_assert_cmpint(g_mkdir(cur, 0700), ==, 0);
	g_assert_cmpint(g_mkdir(new, 0700), ==, 0);
	write_file(a, "Subject: a\nDate: Sat, 01 Jan 2000 00:00:00 +0000\n\nA\n", (gsize)-1);
	write_file(b, "Subject: b\n\nB\n\n", (gsize)-1);
	write_file(hidden, "x", 1);
	g_assert_cmpint(utime(b, &when), ==, 0);
	g_assert_cmpint(archive_scan(d, ARCHIVE_MAILDIR, 1, items, &error), ==, MD_OK);
	g_assert_cmpuint(items->len, ==, 2);
	g_assert_cmpstr(g_array_index(items, MdArchiveItem, 0).file, ==, a);
	g_assert_cmpint(g_array_index(items, MdArchiveItem, 0).when, ==, 946684800);
	g_assert_cmpint(g_array_index(items, MdArchiveItem, 1).when, ==, 1500000000);
	/* a Maildir file is whole: its trailing blank line is its own */
	assert_bytes(read_item(NULL, items, 1), "Subject: b\n\nB\n\n");
	g_assert_cmpint(archive_read(NULL, &g_array_index(items, MdArchiveItem, 1), 4, &raw,
	                             &too_big, &error),
	                ==, MD_OK);
	g_assert_true(too_big);
	g_assert_null(raw);
	g_assert_cmpint(g_unlink(b), ==, 0);
	g_assert_cmpint(archive_read(NULL, &g_array_index(items, MdArchiveItem, 1), 1 << 20, &raw,
	                             &too_big, &error),
	                ==, MD_TEMPFAIL);
	g_free(error);
	remove_tree(d);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	parse_init();
	g_test_add_func("/archive/probe", test_probe);
	g_test_add_func("/archive/mbox", test_mbox);
	g_test_add_func("/archive/mbox-crlf", test_mbox_crlf);
	g_test_add_func("/archive/unreadable", test_unreadable);
	g_test_add_func("/archive/maildir", test_maildir);
	return g_test_run();
}
