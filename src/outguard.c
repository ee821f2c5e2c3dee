/*
 * outguard.c - the outbound guard: does a mail to a customer carry what
 * was written for agents?  (See outguard.h for what is refused.)
 *
 * Must never: let a part go unread (every leaf is decoded in full, not
 * cut as the stored text is, or padding would hide what follows), take
 * more than linear time in the mail's size, or put a note's words into
 * the reason it gives.
 */
#include "config.h"

#include <string.h>

#include <gmime/gmime.h>

#include "compose.h"
#include "html2text.h"
#include "outguard.h"
#include "parse.h"
#include "quote.h"
#include "token.h"

/* The longest local part and domain a signed address can have (RFC 5321). */
#define MAX_LOCAL 64
#define MAX_DOMAIN 255
/* Header values decoded (RFC 2047) at most; the raw value is always read. */
#define MAX_DECODED_HEADER (64 * 1024)

#define FNV_OFFSET G_GUINT64_CONSTANT(14695981039346656037)
#define FNV_PRIME G_GUINT64_CONSTANT(1099511628211)

typedef struct {
	const MdOutguardFacts *f;
	GHashTable *runs;                      /* guint64*: hashes of the notes' word runs */
	gboolean lengths[OUTGUARD_WINDOW + 1]; /* the run lengths among them */
	char *marker_id;                       /* ".agents@hostname", lower case, or NULL */
	guint parts;
	char *reason;
} Guard;

static void
refuse(Guard *g, char *why)
{
	if (g->reason == NULL)
		g->reason = why;
	else
		g_free(why);
}

/* ---- notes as words ---- */

/*
 * Skips the quoting prefix of a line: any run of blanks, ">" and "|",
 * and supercite's "AB>" (up to four letters before ">").
 */
static const char *
skip_quote_prefix(const char *p)
{
	for (;;) {
		const char *q = p;
		int n = 0;

		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == '>' || *q == '|') {
			p = q + 1;
			continue;
		}
		while (n < 4 && g_ascii_isalpha(q[n]))
			n++;
		if (n > 0 && q[n] == '>') {
			p = q + n + 1;
			continue;
		}
		return p;
	}
}

/*
 * The words of text, as hashes: runs of letters and digits after NFKC
 * and case folding (a wide, CJK, character alone), quoting prefixes
 * skipped.  *chars_r (may be NULL) counts the letters and digits.
 * Caller unrefs.
 */
static GArray *
words_of(const char *text, guint *chars_r)
{
	g_autofree char *norm = g_utf8_normalize(text, -1, G_NORMALIZE_NFKC);
	g_autofree char *folded = g_utf8_casefold(norm != NULL ? norm : "", -1);
	GArray *out = g_array_new(FALSE, FALSE, sizeof(guint64));
	guint64 h = FNV_OFFSET;
	gboolean in_word = FALSE, line_start = TRUE;
	guint chars = 0;
	const char *p = folded;

	while (*p != '\0') {
		const char *next;
		gunichar c;

		if (line_start) {
			line_start = FALSE;
			p = skip_quote_prefix(p);
			continue;
		}
		c = g_utf8_get_char(p);
		next = g_utf8_next_char(p);
		if (g_unichar_iswide(c) && g_unichar_isalnum(c)) {
			/* Chinese and Japanese put no spaces between words: each
			 * wide character counts as a word of its own */
			if (in_word)
				g_array_append_val(out, h);
			h = FNV_OFFSET;
			for (const char *q = p; q < next; q++) {
				h ^= (guchar)*q;
				h *= FNV_PRIME;
			}
			g_array_append_val(out, h);
			h = FNV_OFFSET;
			in_word = FALSE;
			chars++;
		} else if (g_unichar_isalnum(c)) {
			for (const char *q = p; q < next; q++) {
				h ^= (guchar)*q;
				h *= FNV_PRIME;
			}
			in_word = TRUE;
			chars++;
		} else {
			if (in_word)
				g_array_append_val(out, h);
			h = FNV_OFFSET;
			in_word = FALSE;
			line_start = c == '\n';
		}
		p = next;
	}
	if (in_word)
		g_array_append_val(out, h);
	if (chars_r != NULL)
		*chars_r = chars;
	return out;
}

static guint64
run_hash(const guint64 *words, guint n)
{
	guint64 h = G_GUINT64_CONSTANT(0x9e3779b97f4a7c15) ^ n;

	for (guint i = 0; i < n; i++) {
		h ^= words[i];
		h *= FNV_PRIME;
		h ^= h >> 29;
	}
	return h;
}

static void
add_note(Guard *g, const char *text)
{
	guint chars = 0;
	g_autoptr(GArray) w = words_of(text, &chars);
	guint n = MIN(w->len, OUTGUARD_WINDOW);

	if (w->len < OUTGUARD_MIN_WORDS || chars < OUTGUARD_MIN_CHARS)
		return;
	g->lengths[n] = TRUE;
	for (guint i = 0; i + n <= w->len; i++) {
		guint64 *key = g_new(guint64, 1);

		*key = run_hash(&g_array_index(w, guint64, i), n);
		g_hash_table_add(g->runs, key);
	}
}

static gboolean
holds_note(const Guard *g, const char *text)
{
	g_autoptr(GArray) w = NULL;

	if (g_hash_table_size(g->runs) == 0)
		return FALSE;
	w = words_of(text, NULL);
	for (guint n = 1; n <= OUTGUARD_WINDOW; n++) {
		if (!g->lengths[n])
			continue;
		for (guint i = 0; i + n <= w->len; i++) {
			guint64 key = run_hash(&g_array_index(w, guint64, i), n);

			if (g_hash_table_contains(g->runs, &key))
				return TRUE;
		}
	}
	return FALSE;
}

/* ---- addresses and markers ---- */

static gboolean
is_local_char(char c)
{
	return c != '\0' && (g_ascii_isalnum(c) || strchr("!#$%&'*+/=?^_`{|}~.-", c) != NULL);
}

static gboolean
is_domain_char(char c)
{
	return g_ascii_isalnum(c) || c == '.' || c == '-';
}

/*
 * The ticket of the first agent or note address in text (len bytes,
 * NUL-free), or 0.  Every "+" of a local part may start the extension:
 * words glued before the address ("mailto:", "x.") change nothing.
 */
static gint64
agent_address_in(GBytes *secret, const char *text, gsize len)
{
	const char *end = text + len;
	const char *at = memchr(text, '@', len);

	for (; at != NULL; at = at + 1 < end ? memchr(at + 1, '@', end - at - 1) : NULL) {
		const char *l = at, *r = at + 1;

		while (l > text && at - l < MAX_LOCAL && is_local_char(l[-1]))
			l--;
		while (r < end && r - at - 1 < MAX_DOMAIN && is_domain_char(*r))
			r++;
		if (r == at + 1)
			continue;
		for (const char *plus = memchr(l, '+', at - l); plus != NULL;
		     plus = memchr(plus + 1, '+', at - plus - 1)) {
			g_autofree char *candidate = g_strdup_printf("x%.*s", (int)(r - plus), plus);
			g_autofree char *purpose = NULL;
			gint64 ticket = 0;

			if (token_verify(secret, candidate, &ticket, &purpose) &&
			    token_agent_kind(purpose) != NULL)
				return ticket;
		}
	}
	return 0;
}

/* TRUE when lower (len bytes) holds "t<digits>.agents@<hostname>", an agent thread's id. */
static gboolean
has_agent_thread_id(const Guard *g, const char *lower, gsize len)
{
	const char *end = lower + len;
	const char *p = lower;

	if (g->marker_id == NULL)
		return FALSE;
	while (p < end && (p = g_strstr_len(p, end - p, g->marker_id)) != NULL) {
		const char *d = p;

		while (d > lower && g_ascii_isdigit(d[-1]))
			d--;
		if (d < p && d > lower && d[-1] == 't')
			return TRUE;
		p++;
	}
	return FALSE;
}

/*
 * "%40" -> "@", "%2b" -> "+", "%2d" -> "-" in lower: an address in a URL.
 * One pass (g_string_replace() moves the rest for every hit).  Caller frees.
 */
static char *
percent_decoded(const char *lower)
{
	GString *s = g_string_sized_new(strlen(lower));

	for (const char *p = lower; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == '4' && p[2] == '0') {
			g_string_append_c(s, '@');
			p += 2;
		} else if (p[0] == '%' && p[1] == '2' && (p[2] == 'b' || p[2] == 'd')) {
			g_string_append_c(s, p[2] == 'b' ? '+' : '-');
			p += 2;
		} else {
			g_string_append_c(s, *p);
		}
	}
	return g_string_free(s, FALSE);
}

/* What check_text() looks for besides signed addresses and agent thread ids. */
enum {
	LOOK_NOTES = 1 << 0, /* the note texts */
	LOOK_BODY = 1 << 1,  /* the cut line, our header as text: a part's content */
};

/*
 * Checks text (UTF-8, NUL-terminated) found at where.  A header value is
 * not searched for the cut line: a customer's own subject may hold
 * "##-", and would hold every mail to them.
 */
static void
check_text(Guard *g, const char *text, const char *where, unsigned look)
{
	g_autofree char *lower = g_ascii_strdown(text, -1);
	gsize len = strlen(lower);
	gint64 ticket;

	if (g->reason != NULL)
		return;
	if (((look & LOOK_BODY) != 0 &&
	     (strstr(lower, "x-maildesk-audience") != NULL || quote_has_cut_line(lower, len))) ||
	    has_agent_thread_id(g, lower, len)) {
		refuse(g, g_strdup_printf("it carries the text of our mail to agents (in %s)", where));
		return;
	}
	ticket = agent_address_in(g->f->secret, lower, len);
	if (ticket == 0 && strchr(lower, '%') != NULL) {
		g_autofree char *decoded = percent_decoded(lower);

		ticket = agent_address_in(g->f->secret, decoded, strlen(decoded));
	}
	if (ticket > 0) {
		refuse(g, g_strdup_printf("it shows the agent or note address of ticket %" G_GINT64_FORMAT
		                          " (in %s)",
		                          ticket, where));
		return;
	}
	if ((look & LOOK_NOTES) != 0 && holds_note(g, text))
		refuse(g, g_strdup_printf("it quotes an internal note (in %s)", where));
}

/* ---- the MIME walk ---- */

/* len bytes as UTF-8 text: NULs become blanks, invalid bytes U+FFFD.  Caller frees. */
static char *
bytes_as_text(const guint8 *data, gsize len)
{
	g_autofree char *copy = g_malloc(len + 1);

	for (gsize i = 0; i < len; i++)
		copy[i] = data[i] != '\0' ? (char)data[i] : ' ';
	copy[len] = '\0';
	return g_utf8_make_valid(copy, len);
}

/*
 * Bytes read as UTF-16LE text, the way Windows keeps it (TNEF, .msg):
 * runs between NUL units converted by GLib, a unit it cannot convert
 * skipped.  Caller frees.
 */
static char *
utf16le_as_text(const guint8 *data, gsize len)
{
	gsize n = len / 2;
	g_autofree gunichar2 *units = g_new(gunichar2, n + 1);
	GString *out = g_string_sized_new(n);
	gsize at = 0;

	for (gsize i = 0; i < n; i++)
		units[i] = (gunichar2)(data[2 * i] | data[2 * i + 1] << 8);
	units[n] = 0;
	while (at < n) {
		gsize end = at;

		/* GLib stops at a NUL unit: one run at a time */
		while (end < n && units[end] != 0)
			end++;
		while (at < end) {
			glong read = 0, written = 0;
			g_autofree char *chunk =
				g_utf16_to_utf8(units + at, (glong)(end - at), &read, &written, NULL);

			if (chunk != NULL) {
				g_string_append_len(out, chunk, written);
				break;
			}
			/* GLib stops at the bad unit: the good ones before it, then past it */
			if (read > 0) {
				g_autofree char *good = g_utf16_to_utf8(units + at, read, NULL, NULL, NULL);

				if (good != NULL)
					g_string_append(out, good);
			}
			g_string_append_c(out, ' ');
			at += (gsize)read + 1;
		}
		g_string_append_c(out, ' ');
		at = end + 1;
	}
	return g_string_free(out, FALSE);
}

/* The content of a leaf, transfer encoding undone, in full.  Caller unrefs. */
static GByteArray *
decoded_content(GMimeObject *obj)
{
	GMimeDataWrapper *content = g_mime_part_get_content(GMIME_PART(obj));
	GByteArray *bytes = g_byte_array_new();
	GMimeStream *mem;

	if (content == NULL)
		return bytes;
	mem = g_mime_stream_mem_new_with_byte_array(bytes);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
	g_mime_data_wrapper_write_to_stream(content, mem);
	g_object_unref(mem);
	return bytes;
}

/*
 * A text part in its declared charset as UTF-8 (GMime's charset filter,
 * which gets past bad bytes); else the bytes as they are.  Caller frees.
 */
static char *
text_in_charset(GMimeObject *obj, const GByteArray *bytes)
{
	if (GMIME_IS_TEXT_PART(obj)) {
		g_autofree char *utf8 = g_mime_text_part_get_text(GMIME_TEXT_PART(obj));

		if (utf8 != NULL)
			return bytes_as_text((const guint8 *)utf8, strlen(utf8));
	}
	return bytes_as_text(bytes->data, bytes->len);
}

/* Mostly text: no control bytes but blanks (binary is read for addresses only). */
static gboolean
looks_like_text(const GByteArray *bytes)
{
	gsize controls = 0;

	for (gsize i = 0; i < bytes->len; i++) {
		guint8 c = bytes->data[i];

		if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f')
			controls++;
	}
	return controls * 100 <= bytes->len;
}

/* Whether NULs are a quarter of the bytes: UTF-16 text, or binary that may hold some. */
static gboolean
has_many_nuls(const GByteArray *bytes)
{
	gsize nuls = 0;

	for (gsize i = 0; i < bytes->len; i++)
		nuls += bytes->data[i] == '\0';
	return bytes->len >= 2 && nuls * 4 >= bytes->len;
}

/* Whether bytes start like a mail: a header field name and a colon. */
static gboolean
starts_like_mail(const GByteArray *bytes)
{
	gsize i = 0;

	while (i < bytes->len && i < 80 &&
	       (g_ascii_isalnum(bytes->data[i]) || bytes->data[i] == '-'))
		i++;
	return i > 0 && i < bytes->len && bytes->data[i] == ':';
}

static char *
where_part(guint n, GMimeObject *obj)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	g_autofree char *type = ct != NULL ? g_mime_content_type_get_mime_type(ct) : NULL;
	const char *src = type != NULL ? type : "?";
	GString *s = g_string_new(NULL);

	g_string_append_printf(s, "part %u, ", n);
	/* the type is the sender's: printable and short in the reason */
	for (gsize i = 0; src[i] != '\0' && i < 60; i++)
		g_string_append_c(s, g_ascii_isgraph(src[i]) ? g_ascii_tolower(src[i]) : '?');
	return g_string_free(s, FALSE);
}

static void walk_message(Guard *g, GMimeMessage *msg, guint depth, const char *where);

/* Every header of obj: names, raw and decoded values; Subject for notes too. */
static void
check_headers(Guard *g, GMimeObject *obj, const char *where)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(obj);
	int n = list != NULL ? g_mime_header_list_get_count(list) : 0;

	for (int i = 0; i < n && g->reason == NULL; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(list, i);
		const char *name = g_mime_header_get_name(h);
		const char *raw = g_mime_header_get_raw_value(h);
		gboolean subject = name != NULL && g_ascii_strcasecmp(name, "Subject") == 0;
		char *valid_raw;

		if (name != NULL && g_ascii_strcasecmp(name, COMPOSE_AGENT_MARKER) == 0) {
			refuse(g, g_strdup_printf("it carries the header of our mail to agents (in %s)",
			                          where));
			return;
		}
		if (raw == NULL)
			continue;
		valid_raw = bytes_as_text((const guint8 *)raw, strlen(raw));
		check_text(g, valid_raw, where, subject ? LOOK_NOTES : 0);
		g_free(valid_raw);
		if (strstr(raw, "=?") != NULL && strlen(raw) <= MAX_DECODED_HEADER) {
			g_autofree char *decoded = g_mime_utils_header_decode_text(NULL, raw);
			g_autofree char *valid = bytes_as_text((const guint8 *)decoded, strlen(decoded));

			check_text(g, valid, where, subject ? LOOK_NOTES : 0);
		}
	}
}

/* A leaf that is a mail itself (message/rfc822 GMime left alone, an .eml). */
static void
check_as_mail(Guard *g, const GByteArray *bytes, guint depth, const char *where)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;

	if (bytes->len == 0)
		return;
	stream = g_mime_stream_mem_new_with_buffer((const char *)bytes->data, bytes->len);
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(stream);
	if (msg == NULL)
		return;
	walk_message(g, msg, depth, where);
	g_object_unref(msg);
}

static void
check_leaf(Guard *g, GMimeObject *obj, guint depth, const char *where)
{
	g_autoptr(GByteArray) bytes = decoded_content(obj);
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	gboolean text = ct != NULL && g_mime_content_type_is_type(ct, "text", "*");

	if (text) {
		g_autofree char *t = text_in_charset(obj, bytes);

		check_text(g, t, where, LOOK_BODY | LOOK_NOTES);
		if (g_mime_content_type_is_type(ct, "text", "html")) {
			g_autofree char *plain = html_to_text(t, strlen(t));

			check_text(g, plain, where, LOOK_BODY | LOOK_NOTES);
		}
	}
	/* the bytes themselves: a binary part, or what a NUL cut off a text */
	if (!text || (bytes->len > 0 && memchr(bytes->data, '\0', bytes->len) != NULL)) {
		g_autofree char *t = bytes_as_text(bytes->data, bytes->len);

		check_text(g, t, where, LOOK_BODY | (looks_like_text(bytes) ? LOOK_NOTES : 0));
	}
	if (has_many_nuls(bytes)) {
		/* text in a binary file need not start at an even offset */
		g_autofree char *wide = utf16le_as_text(bytes->data, bytes->len);
		g_autofree char *odd = utf16le_as_text(bytes->data + 1, bytes->len - 1);

		check_text(g, wide, where, LOOK_BODY | LOOK_NOTES);
		check_text(g, odd, where, LOOK_BODY | LOOK_NOTES);
	}
	/* a text is read as it is: reading one that starts like a header as
	 * a mail again would cost a pass per level for nothing */
	if (g->reason == NULL &&
	    ((ct != NULL && g_mime_content_type_is_type(ct, "message", "*")) ||
	     (!text && starts_like_mail(bytes))))
		check_as_mail(g, bytes, depth + 1, where);
}

static void
walk(Guard *g, GMimeObject *obj, guint depth)
{
	g_autofree char *where = NULL;

	if (g->reason != NULL)
		return;
	if (depth > g->f->max_depth) {
		refuse(g, g_strdup("it is nested too deeply to be checked"));
		return;
	}
	if (++g->parts > g->f->max_parts) {
		refuse(g, g_strdup("it has too many parts to be checked"));
		return;
	}
	where = where_part(g->parts, obj);
	check_headers(g, obj, where);
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		const char *prologue = g_mime_multipart_get_prologue(mp);
		const char *epilogue = g_mime_multipart_get_epilogue(mp);
		int n = g_mime_multipart_get_count(mp);

		/* no client shows these, but they go out all the same */
		if (prologue != NULL)
			check_text(g, prologue, where, LOOK_BODY | LOOK_NOTES);
		if (epilogue != NULL)
			check_text(g, epilogue, where, LOOK_BODY | LOOK_NOTES);
		for (int i = 0; i < n && g->reason == NULL; i++)
			walk(g, g_mime_multipart_get_part(mp, i), depth + 1);
	} else if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));

		if (inner != NULL)
			walk_message(g, inner, depth + 1, where);
	} else if (GMIME_IS_PART(obj)) {
		check_leaf(g, obj, depth, where);
	}
}

static void
walk_message(Guard *g, GMimeMessage *msg, guint depth, const char *where)
{
	GMimeObject *body = g_mime_message_get_mime_part(msg);
	g_autofree char *headers = where != NULL
	                                   ? g_strdup_printf("the headers of the message in %s", where)
	                                   : g_strdup("the headers of the mail");

	if (depth > g->f->max_depth) {
		refuse(g, g_strdup("it is nested too deeply to be checked"));
		return;
	}
	check_headers(g, GMIME_OBJECT(msg), headers);
	if (body != NULL)
		walk(g, body, depth);
}

char *
outguard_check(const guint8 *raw, gsize len, const MdOutguardFacts *f)
{
	Guard g = { f, g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL), { 0 },
		    NULL, 0, NULL };
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;

	parse_init();
	if (f->hostname != NULL) {
		g_autofree char *host = g_ascii_strdown(f->hostname, -1);

		g.marker_id = g_strdup_printf(".agents@%s", host);
	}
	for (guint i = 0; f->notes != NULL && f->notes[i] != NULL; i++)
		add_note(&g, f->notes[i]);
	stream = g_mime_stream_mem_new_with_buffer(len > 0 ? (const char *)raw : "", len);
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(stream);
	if (msg == NULL)
		refuse(&g, g_strdup("it cannot be read to be checked"));
	else
		walk_message(&g, msg, 0, NULL);
	g_clear_object(&msg);
	g_hash_table_unref(g.runs);
	g_free(g.marker_id);
	return g.reason;
}
