/*
 * parse_bounds.c - shapes of raw mail that GMime cannot take within
 * bounds, found and defused before GMime sees the bytes (see the header).
 *
 * Everything here is one forward pass over the bytes, so its own cost is
 * linear whatever the input.  It is not a MIME or address parser: it
 * only looks at the starts of lines for address field names and counts
 * characters in those fields, and at a few fixed spellings for charset
 * names.
 */
#include "config.h"

#include <string.h>

#include "parse_bounds.h"

#define CHARSET_NAME_MAX 64

static const char *const address_fields[] = { "from", "sender", "to", "cc", "bcc", "return-path" };
/* Resent-To, Reply-To, Delivered-To, Disposition-Notification-To,
 * Resent-From, Resent-Cc, ...: any field so named may be read as
 * addresses by someone */
static const char *const address_suffixes[] = { "-to", "-from", "-sender", "-cc", "-bcc" };

static gboolean
is_address_field(const guint8 *name, gsize n)
{
	for (gsize i = 0; i < G_N_ELEMENTS(address_fields); i++) {
		if (strlen(address_fields[i]) == n && g_ascii_strncasecmp((const char *)name, address_fields[i], n) == 0)
			return TRUE;
	}
	for (gsize i = 0; i < G_N_ELEMENTS(address_suffixes); i++) {
		gsize k = strlen(address_suffixes[i]);

		if (n > k && g_ascii_strncasecmp((const char *)name + n - k, address_suffixes[i], k) == 0)
			return TRUE;
	}
	return FALSE;
}

/* End of the line starting at p: past its '\n', or end. */
static const guint8 *
line_end(const guint8 *p, const guint8 *end)
{
	const guint8 *nl = memchr(p, '\n', (gsize)(end - p));

	return nl != NULL ? nl + 1 : end;
}

/*
 * When the line at p starts an address field ("Name:", blanks allowed
 * before the colon as GMime allows them), returns where its value starts;
 * else NULL.
 */
static const guint8 *
address_field_value(const guint8 *p, const guint8 *end)
{
	const guint8 *name = p, *name_end;

	while (p < end && *p > ' ' && *p < 0x7f && *p != ':')
		p++;
	name_end = p;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end || *p != ':' || name_end == name || !is_address_field(name, (gsize)(name_end - name)))
		return NULL;
	return p + 1;
}

/* ---- header blocks ---- */

static gboolean
blank_line(const guint8 *p, const guint8 *end)
{
	return p < end && (p[0] == '\n' || (p[0] == '\r' && p + 1 < end && p[1] == '\n'));
}

/* Does [p, end) hold word (lower case), in any case? */
static gboolean
holds_word(const guint8 *p, const guint8 *end, const char *word)
{
	gsize n = strlen(word);

	for (; (gsize)(end - p) >= n; p++) {
		if (g_ascii_tolower(*p) == word[0] && g_ascii_strncasecmp((const char *)p, word, n) == 0)
			return TRUE;
	}
	return FALSE;
}

/* Past blanks, line ends and comments, as GMime skips them before a
 * Content-Type's type (g_mime_skip_cfws). */
static const guint8 *
skip_cfws(const guint8 *p, const guint8 *end)
{
	while (p < end) {
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
			p++;
		} else if (*p == '(') {
			guint depth = 1;

			for (p++; p < end && depth > 0; p++) {
				if (*p == '\\' && p + 1 < end)
					p++;
				else if (*p == '(')
					depth++;
				else if (*p == ')')
					depth--;
			}
		} else {
			break;
		}
	}
	return p;
}

typedef struct {
	gboolean has_type;  /* a Content-Type field */
	gboolean message;   /* one whose type is message (rfc822, global...) */
	gboolean digest;    /* one that says digest */
} BlockTypes;

/* What the Content-Type fields of the header block [p, end) say. */
static BlockTypes
block_types(const guint8 *p, const guint8 *end)
{
	BlockTypes t = { FALSE, FALSE, FALSE };

	while (p < end) {
		const guint8 *name = p, *value, *field_end;

		while (p < end && *p > ' ' && *p < 0x7f && *p != ':')
			p++;
		value = p;
		while (value < end && (*value == ' ' || *value == '\t'))
			value++;
		if (p - name != 12 || g_ascii_strncasecmp((const char *)name, "content-type", 12) != 0 ||
		    value == end || *value != ':') {
			p = line_end(p, end);
			continue;
		}
		value++;
		field_end = line_end(value, end);
		while (field_end < end && (*field_end == ' ' || *field_end == '\t'))
			field_end = line_end(field_end, end);
		t.has_type = TRUE;
		value = skip_cfws(value, field_end);
		if (field_end - value >= 7 && g_ascii_strncasecmp((const char *)value, "message", 7) == 0)
			t.message = TRUE;
		if (holds_word(value, field_end, "digest"))
			t.digest = TRUE;
		p = field_end;
	}
	return t;
}

/* new_message: the block is the header of a message (the first, or the
 * next of an mbox) */
typedef void (*BlockFunc)(const guint8 *start, const guint8 *end, gboolean new_message, gpointer user_data);

/*
 * Calls fn for each header block of the message, in order: the
 * top-level header, and a superset of the headers of its parts and
 * attached messages (see parse_bounds_header_bytes()), and after a
 * "From " line, of the next message of an mbox.  Address fields
 * and encoded words matter to GMime only in those, and the rest, the
 * bodies, are most of the bytes.
 */
static void
header_blocks(const guint8 *data, gsize len, BlockFunc fn, gpointer user_data)
{
	const guint8 *p = data, *end = data + len;
	const guint8 *block = data;
	gboolean in_header = TRUE, part_header = FALSE, digest = FALSE, new_message = TRUE;

	while (p < end) {
		const guint8 *next = line_end(p, end);

		if (in_header && blank_line(p, end)) {
			/* the end of a header block: is the body a message too? */
			BlockTypes t = block_types(block, p);

			digest = digest || t.digest;
			fn(block, next, new_message, user_data);
			new_message = FALSE;
			in_header = t.message || (digest && part_header && !t.has_type);
			part_header = FALSE;
			block = next;
		} else if (!in_header && next - p >= 2 && p[0] == '-' && p[1] == '-') {
			in_header = TRUE;
			part_header = TRUE;
			block = next;
		} else if (!in_header && next - p >= 5 && memcmp(p, "From ", 5) == 0) {
			/* the next message of an mbox (parse_stream.c) */
			in_header = new_message = TRUE;
			part_header = digest = FALSE;
			block = next;
		}
		p = next;
	}
	if (in_header && block < end)
		fn(block, end, new_message, user_data);
}

static void
add_block_bytes(const guint8 *start, const guint8 *end, gboolean new_message, gpointer user_data)
{
	*(gsize *)user_data += (gsize)(end - start);
}

gsize
parse_bounds_header_bytes(const guint8 *data, gsize len)
{
	gsize total = 0;

	if (data != NULL)
		header_blocks(data, len, add_block_bytes, &total);
	return total;
}

typedef struct {
	gsize limit;
	gsize used; /* header bytes of the current message so far */
} Flatten;

static void
flatten_block(const guint8 *start, const guint8 *end, gboolean new_message, gpointer user_data)
{
	Flatten *f = user_data;
	guint8 *p;
	const guint8 *line, *nl;

	if (new_message)
		f->used = 0;
	if (f->used + (gsize)(end - start) <= f->limit) {
		f->used += (gsize)(end - start);
		return;
	}
	p = (guint8 *)start + (f->limit - f->used);
	f->used = f->limit;
	/* the start of the line p is in */
	nl = p > start ? memrchr(start, '\n', (gsize)(p - start)) : NULL;
	line = nl != NULL ? nl + 1 : start;
	for (; p + 1 < end; p++) {
		gboolean from_line = (gsize)(end - line) >= 5 && memcmp(line, "From ", 5) == 0;

		if (*p != '\n')
			continue;
		/* the line breaks before the blank line that ends the block, and
		 * those around a "From " line (an mbox's separator) stay */
		if (!from_line && !blank_line(p + 1, end) &&
		    !((gsize)(end - p - 1) >= 5 && memcmp(p + 1, "From ", 5) == 0))
			*p = ' ';
		line = p + 1;
	}
}

void
parse_bounds_flatten(guint8 *data, gsize len, gsize limit)
{
	Flatten f = { limit, 0 };

	if (data != NULL)
		header_blocks(data, len, flatten_block, &f);
}

typedef struct {
	const char *why;  /* out of bounds: the field is blanked */
	guint open_count; /* '(' never closed, at most the depth bound... */
	const guint8 *open[PARSE_BOUNDS_MAX_COMMENT_DEPTH]; /* ...and where */
} FieldShape;

/*
 * Measures the field value [p, end).  The comment count is an upper
 * bound whatever the quoting: every '(' opens, and only a ')' that no
 * backslash escapes closes; so when it ends at 0, no comment GMime
 * could see is left open.  (GMime 3.2.13 leaks the address before an
 * unclosed comment that follows a domain literal, "a@[x] (": the
 * comments left open are repaired, blanked, rather than refused.)  GMime
 * holds a header value as a C string: what follows a NUL byte is not
 * there for it, so the count stops at the first NUL (closing parentheses
 * beyond it close nothing GMime sees).
 */
static FieldShape
measure_field(const guint8 *p, const guint8 *end)
{
	FieldShape f = { NULL, 0, { NULL } };
	guint colons = 0, depth = 0;

	for (const guint8 *start = p; p < end && *p != '\0' && f.why == NULL; p++) {
		if (*p == ':') {
			colons++;
		} else if (*p == '(') {
			if (depth == PARSE_BOUNDS_MAX_COMMENT_DEPTH)
				f.why = "address comments nested too deep";
			else
				f.open[depth++] = p;
		} else if (*p == ')' && depth > 0 && (p == start || p[-1] != '\\')) {
			depth--;
		}
	}
	if (colons > PARSE_BOUNDS_MAX_COLONS)
		f.why = "address groups nested too deep";
	f.open_count = f.why == NULL ? depth : 0;
	return f;
}

typedef struct {
	gboolean defuse;    /* the bytes are writable: blank and repair */
	const char *first;  /* the first reason found */
	gboolean touched;   /* some field needs blanking or repair */
} Walk;

/*
 * The address fields of one header block: the first reason found goes to
 * w->first, w->touched is set when some field needs blanking or repair.
 * With w->defuse, blanks every field out of bounds and every comment left
 * open.
 */
static void
walk_block(const guint8 *p, const guint8 *end, gboolean new_message, gpointer user_data)
{
	Walk *w = user_data;

	while (p < end && (w->defuse || w->first == NULL)) {
		const guint8 *value = address_field_value(p, end);
		const guint8 *field_end;
		FieldShape f;

		if (value == NULL) {
			p = line_end(p, end);
			continue;
		}
		/* the field goes on over its continuation lines */
		field_end = line_end(value, end);
		while (field_end < end && (*field_end == ' ' || *field_end == '\t'))
			field_end = line_end(field_end, end);
		f = measure_field(value, field_end);
		if (f.why != NULL && w->first == NULL)
			w->first = f.why;
		if (f.why != NULL || f.open_count > 0)
			w->touched = TRUE;
		if (w->defuse && f.why != NULL) {
			for (guint8 *q = (guint8 *)value; q < field_end; q++) {
				if (*q != '\n' && *q != '\r')
					*q = ' ';
			}
		} else if (w->defuse) {
			for (guint i = 0; i < f.open_count; i++)
				*(guint8 *)f.open[i] = ' ';
		}
		p = field_end;
	}
}

static const char *
walk_fields(const guint8 *data, gsize len, gboolean defuse, gboolean *touched_r)
{
	Walk w = { defuse, NULL, FALSE };

	header_blocks(data, len, walk_block, &w);
	*touched_r = w.touched;
	return w.first;
}

const char *
parse_bounds_check(const guint8 *data, gsize len)
{
	gboolean touched;

	return data == NULL ? NULL : walk_fields(data, len, FALSE, &touched);
}

gboolean
parse_bounds_needs_defuse(const guint8 *data, gsize len)
{
	gboolean touched = FALSE;

	if (data != NULL)
		walk_fields(data, len, FALSE, &touched);
	return touched;
}

void
parse_bounds_defuse(guint8 *data, gsize len)
{
	gboolean touched;

	if (data != NULL)
		walk_fields(data, len, TRUE, &touched);
}

/* ---- charset names ---- */

/* A byte of a charset name as the three spellings below allow it
 * (RFC 2047's token less '?' and '*', which end it there). */
static gboolean
charset_char(guint8 c)
{
	return g_ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':' || c == '+' || c == '(' ||
	       c == ')';
}

typedef struct {
	GPtrArray *out;
	GHashTable *seen;     /* names kept */
	GHashTable *rejected; /* names keep refused, while few */
	gboolean (*keep)(const char *name);
} Collect;

/* Adds the name at p when it ends in one of the allowed bytes
 * (terminators, "" for any), is new and is kept. */
static void
collect(Collect *c, const guint8 *p, const guint8 *end, const char *terminators)
{
	const guint8 *q = p;
	char *name;

	while (q < end && q - p <= CHARSET_NAME_MAX && charset_char(*q))
		q++;
	if (q == p || q - p > CHARSET_NAME_MAX)
		return;
	if (terminators[0] != '\0' && (q == end || strchr(terminators, *q) == NULL))
		return;
	name = g_ascii_strdown((const char *)p, q - p);
	if (g_hash_table_contains(c->seen, name) || g_hash_table_contains(c->rejected, name)) {
		g_free(name);
		return;
	}
	if (c->keep != NULL && !c->keep(name)) {
		/* remembered while few: junk names must not crowd out real ones */
		if (g_hash_table_size(c->rejected) < PARSE_BOUNDS_MAX_CHARSETS * 8)
			g_hash_table_add(c->rejected, name);
		else
			g_free(name);
		return;
	}
	g_hash_table_add(c->seen, name);
	g_ptr_array_add(c->out, g_strdup(name));
}

static const guint8 *
skip_blanks(const guint8 *p, const guint8 *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

static void
charsets_of_block(const guint8 *p, const guint8 *end, gboolean new_message, gpointer user_data)
{
	Collect *c = user_data;

	for (; p + 1 < end && c->out->len < PARSE_BOUNDS_MAX_CHARSETS; p++) {
		if (p[0] == '=' && p[1] == '?') {
			/* encoded word; "*" starts an RFC 2231 language */
			collect(c, p + 2, end, "?*");
		} else if (p[0] == '*' && p[1] == '=') {
			const guint8 *v = skip_blanks(p + 2, end);

			if (v < end && *v == '"')
				v++;
			collect(c, v, end, "'");
		} else if ((p[0] == 'c' || p[0] == 'C') && (gsize)(end - p) > 7 &&
			   g_ascii_strncasecmp((const char *)p, "charset", 7) == 0) {
			const guint8 *v = skip_blanks(p + 7, end);

			if (v == end || *v != '=')
				continue;
			v = skip_blanks(v + 1, end);
			if (v < end && *v == '"')
				v++;
			collect(c, v, end, "");
		}
	}
}

GPtrArray *
parse_bounds_charsets(const guint8 *data, gsize len, gboolean (*keep)(const char *name))
{
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) rejected = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	Collect c = { g_ptr_array_new_with_free_func(g_free), seen, rejected, keep };

	/* a body's charset is converted once per part; only what headers
	 * name is decoded word by word */
	if (data != NULL)
		header_blocks(data, len, charsets_of_block, &c);
	return c.out;
}
