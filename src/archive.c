/*
 * archive.c - finding and reading the messages of an mbox or a Maildir
 * (see archive.h).  GMime splits an mbox at its From_ lines; the bytes
 * of each message are then read back from the file as they are (a
 * ">From " line stays as the file has it: mboxo quoting cannot be undone
 * without guessing).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gmime/gmime.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive.h"
#include "parse.h"
#include "parse_stream.h"

void
archive_item_clear(MdArchiveItem *item)
{
	g_free(item->file);
	item->file = NULL;
}

MdStatus
archive_probe(const char *path, MdArchiveKind *kind_r, char **error_r)
{
	struct stat st;
	char head[5];
	ssize_t n;
	int fd;

	if (stat(path, &st) != 0) {
		*error_r = g_strdup_printf("%s: %s", path, g_strerror(errno));
		return MD_NOTFOUND;
	}
	if (S_ISDIR(st.st_mode)) {
		g_autofree char *cur = g_build_filename(path, "cur", NULL);
		g_autofree char *new = g_build_filename(path, "new", NULL);

		if (!g_file_test(cur, G_FILE_TEST_IS_DIR) || !g_file_test(new, G_FILE_TEST_IS_DIR)) {
			*error_r = g_strdup_printf("%s: a directory without cur/ and new/ is no Maildir",
			                           path);
			return MD_DATAERR;
		}
		if (access(cur, R_OK | X_OK) != 0 || access(new, R_OK | X_OK) != 0) {
			*error_r = g_strdup_printf("%s: %s", path, g_strerror(errno));
			return MD_NOTFOUND;
		}
		*kind_r = ARCHIVE_MAILDIR;
		return MD_OK;
	}
	if (!S_ISREG(st.st_mode)) {
		*error_r = g_strdup_printf("%s: neither a file nor a directory", path);
		return MD_DATAERR;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		*error_r = g_strdup_printf("%s: %s", path, g_strerror(errno));
		return MD_NOTFOUND;
	}
	do
		n = read(fd, head, sizeof head);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0) {
		*error_r = g_strdup_printf("%s: %s", path, g_strerror(errno));
		return MD_NOTFOUND;
	}
	if (n > 0 && (n < 5 || memcmp(head, "From ", 5) != 0)) {
		*error_r = g_strdup_printf("%s: not an mbox (it does not start with a \"From \" line)",
		                           path);
		return MD_DATAERR;
	}
	*kind_r = ARCHIVE_MBOX;
	return MD_OK;
}

/* The date of an mbox From_ line ("From sender Sat Jan  3 01:05:34 1996"), or 0. */
static gint64
marker_date(const char *marker)
{
	const char *p = marker;
	g_autoptr(GDateTime) dt = NULL;

	if (p == NULL || strncmp(p, "From ", 5) != 0)
		return 0;
	p += 5;
	while (*p == ' ')
		p++;
	while (*p != '\0' && *p != ' ')
		p++;
	dt = g_mime_utils_header_decode_date(p);
	return dt != NULL ? g_date_time_to_unix(dt) : 0;
}

static gint64
message_date(GMimeMessage *m)
{
	GDateTime *dt = m != NULL ? g_mime_message_get_date(m) : NULL;

	return dt != NULL ? g_date_time_to_unix(dt) : 0;
}

/*
 * Where the next From_ line after offset starts (a line that begins with
 * "From ", GMime's own rule), or the file's size: for the message GMime
 * could not read, whose bytes are still a message to keep.
 */
static gint64
next_from_line(int fd, gint64 offset, gint64 size)
{
	guint8 buf[64 * 1024];
	gint64 at = offset;

	while (at < size) {
		ssize_t n = pread(fd, buf, sizeof buf, (off_t)at);
		const guint8 *p = buf;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		while ((p = memchr(p, '\n', (size_t)(buf + n - p))) != NULL) {
			gsize left = (gsize)(buf + n - p - 1);

			if (left < 5 && at + n < size)
				break; /* read the line's start again with the next chunk */
			if (left >= 5 && memcmp(p + 1, "From ", 5) == 0)
				return at + (p + 1 - buf);
			p++;
		}
		/* a short read that ends in a line's start: step past it rather
		 * than read the same bytes for ever */
		at += p != NULL && p > buf ? (p - buf) : n;
	}
	return size;
}

/*
 * The Date of a message GMime's mbox parser gave up on, read by our own
 * parser (which skips the blank padding that stops GMime's), or 0.  Only
 * its start is read: the header is all that is needed.
 */
static gint64
salvaged_date(int fd, gint64 offset, gint64 length)
{
	gsize want = (gsize)MIN(length, 256 * 1024);
	g_autofree guint8 *buf = g_malloc(want + 1);
	g_autoptr(MdMessage) msg = NULL;
	ssize_t n;

	do
		n = pread(fd, buf, want, (off_t)offset);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return 0;
	msg = parse_message(buf, (gsize)n, NULL);
	return msg->has_date ? msg->date : 0;
}

static MdStatus
scan_mbox(const char *path, guint source, GArray *items, char **error_r)
{
	GMimeStream *stream;
	GMimeParser *parser;
	struct stat st;
	gint64 floor = 0; /* where the last message ended: no message starts before */
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) != 0) {
		*error_r = g_strdup_printf("%s: %s", path, g_strerror(errno));
		if (fd >= 0)
			close(fd);
		return MD_NOTFOUND;
	}
	stream = parse_stream_for_fd(fd); /* owns fd */
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MBOX);
	while (!g_mime_parser_eos(parser)) {
		GMimeMessage *m = g_mime_parser_construct_message(parser, NULL);
		g_autofree char *marker = g_mime_parser_get_mbox_marker(parser);
		gint64 begin = g_mime_parser_get_headers_begin(parser);
		gint64 end = g_mime_parser_tell(parser);
		MdArchiveItem it = { 0 };

		if (m == NULL && begin < 0)
			break;
		if (m != NULL && end <= begin && end >= st.st_size) {
			/* a From_ line with nothing after it ends the file */
			g_object_unref(m);
			break;
		}
		if (begin < floor || (m != NULL && end <= begin)) {
			/* never loop on a parser that went back */
			*error_r = g_strdup_printf("%s: the mbox cannot be split at byte %" G_GINT64_FORMAT,
			                           path, floor);
			if (m != NULL)
				g_object_unref(m);
			g_object_unref(parser);
			g_object_unref(stream);
			return MD_DATAERR;
		}
		if (m == NULL) {
			/* GMime stops at a message it cannot read (no header at its
			 * start): take its bytes up to the next From_ line and
			 * restart the parser there */
			end = next_from_line(fd, begin, st.st_size);
			if (end < st.st_size) {
				g_mime_stream_seek(stream, end, GMIME_STREAM_SEEK_SET);
				g_mime_parser_init_with_stream(parser, stream);
			}
		}
		it.source = source;
		it.offset = begin;
		it.length = end - begin;
		it.when = m != NULL ? message_date(m) : salvaged_date(fd, it.offset, it.length);
		if (it.when <= 0)
			it.when = marker_date(marker);
		if (it.when <= 0)
			it.when = st.st_mtime;
		it.seq = items->len;
		g_array_append_val(items, it);
		if (m != NULL)
			g_object_unref(m);
		floor = end;
		if (end >= st.st_size)
			break;
	}
	g_object_unref(parser);
	g_object_unref(stream);
	return MD_OK;
}

static gint
by_name(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static MdStatus
scan_maildir(const char *path, guint source, GArray *items, char **error_r)
{
	static const char *const subdirs[] = { "cur", "new" };

	for (unsigned s = 0; s < G_N_ELEMENTS(subdirs); s++) {
		g_autofree char *dir = g_build_filename(path, subdirs[s], NULL);
		g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
		g_autoptr(GError) gerr = NULL;
		GDir *d = g_dir_open(dir, 0, &gerr);
		const char *name;

		if (d == NULL) {
			*error_r = g_strdup_printf("%s: %s", dir, gerr->message);
			return MD_NOTFOUND;
		}
		while ((name = g_dir_read_name(d)) != NULL)
			if (name[0] != '.')
				g_ptr_array_add(names, g_strdup(name));
		g_dir_close(d);
		/* Maildir names start with the delivery time: their order is a good tie-break */
		g_ptr_array_sort(names, by_name);
		for (guint i = 0; i < names->len; i++) {
			MdArchiveItem it = { 0 };
			struct stat st;
			GMimeStream *stream;
			GMimeParser *parser;
			GMimeMessage *m;
			int fd;

			it.file = g_build_filename(dir, names->pdata[i], NULL);
			fd = open(it.file, O_RDONLY | O_CLOEXEC);
			if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
				/* gone (a mail client moved it) or not a message: the
				 * directory listing said nothing reliable about it */
				if (fd >= 0)
					close(fd);
				g_free(it.file);
				continue;
			}
			stream = parse_stream_for_fd(fd);
			parser = g_mime_parser_new_with_stream(stream);
			g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
			m = g_mime_parser_construct_message(parser, NULL);
			it.source = source;
			it.length = st.st_size;
			it.when = message_date(m);
			if (it.when <= 0)
				it.when = st.st_mtime;
			it.seq = items->len;
			g_array_append_val(items, it);
			if (m != NULL)
				g_object_unref(m);
			g_object_unref(parser);
			g_object_unref(stream);
		}
	}
	return MD_OK;
}

MdStatus
archive_scan(const char *path, MdArchiveKind kind, guint source, GArray *items, char **error_r)
{
	return kind == ARCHIVE_MBOX ? scan_mbox(path, source, items, error_r)
	                            : scan_maildir(path, source, items, error_r);
}

static gint
by_date(gconstpointer a, gconstpointer b)
{
	const MdArchiveItem *x = a, *y = b;

	if (x->when != y->when)
		return x->when < y->when ? -1 : 1;
	if (x->source != y->source)
		return x->source < y->source ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void
archive_sort(GArray *items)
{
	g_array_sort(items, by_date);
}

MdStatus
archive_read(const char *path, const MdArchiveItem *item, gint64 limit, GByteArray **raw_r,
             gboolean *too_big_r, char **error_r)
{
	const char *file = item->file != NULL ? item->file : path;
	GByteArray *buf;
	gint64 done = 0;
	int fd;

	*raw_r = NULL;
	*too_big_r = item->length > limit;
	if (*too_big_r)
		return MD_OK;
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0) {
		*error_r = g_strdup_printf("%s: %s", file, g_strerror(errno));
		return MD_TEMPFAIL;
	}
	buf = g_byte_array_sized_new((guint)item->length);
	g_byte_array_set_size(buf, (guint)item->length);
	while (done < item->length) {
		ssize_t n = pread(fd, buf->data + done, (size_t)(item->length - done),
		                  (off_t)(item->offset + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*error_r = g_strdup_printf("%s: %s", file,
			                           n < 0 ? g_strerror(errno) : "shorter than it was");
			g_byte_array_unref(buf);
			close(fd);
			return MD_TEMPFAIL;
		}
		done += n;
	}
	close(fd);
	/* an mbox ends each message with a blank line before the next From_
	 * (CRLF in a file written on Windows) */
	if (item->file == NULL && buf->len >= 2 && buf->data[buf->len - 1] == '\n' &&
	    buf->data[buf->len - 2] == '\n')
		g_byte_array_set_size(buf, buf->len - 1);
	else if (item->file == NULL && buf->len >= 4 &&
	         memcmp(buf->data + buf->len - 4, "\r\n\r\n", 4) == 0)
		g_byte_array_set_size(buf, buf->len - 2);
	*raw_r = buf;
	return MD_OK;
}
