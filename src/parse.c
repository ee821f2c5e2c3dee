/*
 * parse.c - raw RFC 5322 bytes to an MdMessage, with GMime.
 *
 * Pipeline stage "parse": after the raw bytes are stored, before the
 * guards.  Everything MIME, RFC 2047/2231 and charset related is GMime's
 * work; this file only decides which parts matter and copies the results
 * into plain, valid UTF-8 strings, so that no later stage touches GMime.
 *
 * It must never fail, write, log or keep the caller's bytes: the message is
 * parsed from a memory stream over the caller's buffer (no copy) and every
 * string handed back is our own.  Work is bounded by the caller's limits:
 * the MIME walk stops at max_parts and does not descend past max_depth
 * (parse_error says so), the stored References are capped (see below), and
 * decoded attachment content is only counted, never kept.  What GMime
 * itself would recurse on or hold without bound is dealt with before it
 * sees the bytes (parse_bounds.h: address fields nested too deep are
 * blanked in a copy; too much header in all is parsed from the top-level
 * header only), and the charset converters the message names are kept
 * loaded (charset_pin.h) so that decoding stays linear.
 *
 * Charsets:
 *  - Raw 8-bit header bytes that are not UTF-8 are decoded, word by word,
 *    with the first charset that takes them without error among: UTF-8,
 *    the charset the message declares for its body (the top-level charset
 *    parameter, else that of the first text part), then the caller's
 *    fallback charsets (default windows-1252).  Headers are therefore
 *    decoded after the MIME walk, from GMime's raw values.
 *  - A text part is converted from its declared charset.  When it declares
 *    none, declares us-ascii but holds 8-bit bytes, or names a charset
 *    iconv does not know, the text is tried as UTF-8 and then with the
 *    fallback charsets.  Invalid bytes become U+FFFD (or '?', GMime's
 *    choice when it converts), CRLF becomes LF.
 *
 * Body choice:
 *  - multipart/alternative: the first text/plain unless it is blank, else
 *    the (last, richest) HTML alternative turned into text; a nested
 *    multipart/related counts as an HTML alternative through its root;
 *  - multipart/related: its root (the "start" part, else the first part
 *    of the "type" parameter's type, else the first part);
 *  - multipart/signed: the signed content;
 *  - multipart/encrypted: nothing;
 *  - any other multipart (mixed, report, ...): the first child that is a
 *    body: a nested multipart that yields one, or an inline text/plain or
 *    text/html leaf; in the latter case the first inline text/plain and
 *    text/html siblings are treated as alternatives, as above;
 *  - "inline" means neither Content-Disposition: attachment nor a
 *    filename; message/rfc822 parts are never entered.
 *  Every other leaf, and every message/rfc822 part, is an attachment.
 *
 * Framing: a leading mbox "From " line and blank padding lines before the
 * headers are skipped.  Input GMime makes no message of (no header at
 * all) comes back with parse_failed set and the bytes, decoded as an
 * undeclared text would be, as the text.
 *
 * References: at most PARSE_REFS_MAX ids are kept, the first
 * PARSE_REFS_HEAD (the thread root and its earliest replies) and the
 * newest rest (the direct ancestors), oldest first: threading needs either
 * end, never the middle of an absurd chain.
 */
#include "config.h"

#include <string.h>

#include <gmime/gmime.h>

#include "charset_pin.h"
#include "html2text.h"
#include "parse.h"
#include "parse_bounds.h"
#include "tnef.h"

#define PARSE_DEFAULT_MAX_DEPTH 64
#define PARSE_DEFAULT_MAX_PARTS 10000
#define PARSE_REFS_MAX 1000
#define PARSE_REFS_HEAD 100
#define PARSE_MAX_HEADER_BYTES (4 * 1024 * 1024)
#define PARSE_MAX_SUBJECT 4096

static const char *const default_fallback_charsets[] = { "windows-1252", NULL };

/* The parts chosen as the customer's text; not attachments. */
typedef struct {
	GMimeObject *text;  /* text/plain giving msg->text */
	GMimeObject *html;  /* text/html alternative (msg->html) */
	GMimeObject *blank; /* blank text/plain alternative passed over */
} BodyChoice;

typedef struct {
	MdMessage *msg;
	guint max_depth;
	guint max_parts;
	gboolean keep_attachments;
	const char *const *fallbacks;
	GMimeParserOptions *popts; /* UTF-8, then the fallbacks */
	GMimeParserOptions *hopts; /* UTF-8, declared charset, fallbacks */
	BodyChoice body;
	guint choose_visits;
	gboolean walk_stopped;
	GPtrArray *att_objects;         /* GMimeObject*, borrowed, as msg->attachments */
	const char *first_text_charset; /* borrowed from the GMime tree */
} ParseCtx;

/*
 * GMime 3.2.13 (Debian 12) decodes runs of adjacent B encoded-words as one
 * base64 stream and loses everything after a word that ends in padding:
 * "=?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?=" reads "Hello"
 * (https://github.com/jstedfast/gmime/issues/133).  Mailers split long
 * subjects, names and file names exactly like that.  parse_init() tries
 * the example; when GMime gets it wrong, gmime_input() puts an empty
 * Q encoded-word after every padded word that another encoded-word
 * follows, which ends GMime's run and decodes to nothing (whitespace
 * between encoded-words is dropped anyway).  No decoding happens here.
 */
static gboolean gmime_padded_b_bug;

void
parse_init(void)
{
	static gsize initialised = 0;

	if (g_once_init_enter(&initialised)) {
		char *probe;

		g_mime_init();
		probe = g_mime_utils_header_decode_text(NULL, "=?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?=");
		gmime_padded_b_bug = g_strcmp0(probe, "Hello world") != 0;
		g_free(probe);
		g_once_init_leave(&initialised, 1);
	}
}

/* TRUE when the "=?=" at end closes a B encoded-word: "?B?" and then
 * only base64 characters up to it. */
static gboolean
ends_padded_b_word(const char *start, const char *end)
{
	const char *p = end;

	while (p > start && (g_ascii_isalnum(p[-1]) || p[-1] == '+' || p[-1] == '/' || p[-1] == '='))
		p--;
	return p - start >= 3 && p[-1] == '?' && (p[-2] == 'B' || p[-2] == 'b') && p[-3] == '?';
}

/* raw as GMime should be given it (see above); caller frees. */
static char *
gmime_input(const char *raw)
{
	GString *out;
	const char *p = raw, *hit;

	if (raw == NULL)
		return g_strdup("");
	if (!gmime_padded_b_bug || strstr(raw, "=?=") == NULL)
		return g_strdup(raw);
	out = g_string_sized_new(strlen(raw) + 32);
	while ((hit = strstr(p, "=?=")) != NULL) {
		const char *next = hit + 3;

		g_string_append_len(out, p, next - p);
		while (*next == ' ' || *next == '\t' || *next == '\r' || *next == '\n')
			next++;
		if (next[0] == '=' && next[1] == '?' && ends_padded_b_word(raw, hit + 1))
			g_string_append(out, " =?us-ascii?Q?\?=");
		p = hit + 3;
	}
	g_string_append(out, p);
	return g_string_free(out, FALSE);
}

/* Returns s as valid UTF-8, taking ownership of s. */
static char *
utf8_take(char *s)
{
	char *valid;

	if (s == NULL || g_utf8_validate(s, -1, NULL))
		return s;
	valid = g_utf8_make_valid(s, -1);
	g_free(s);
	return valid;
}

static char *
utf8_dup(const char *s)
{
	return s == NULL ? NULL : utf8_take(g_strdup(s));
}

/* Empty strings become NULL; takes ownership. */
static char *
null_if_empty(char *s)
{
	if (s != NULL && s[0] == '\0') {
		g_free(s);
		return NULL;
	}
	return s;
}

static char *
lower_dup(const char *s)
{
	return s == NULL ? NULL : utf8_take(g_ascii_strdown(s, -1));
}

/* CRLF and lone CR to LF, in place.  A CR ending the text is the half of
 * a CRLF whose LF went with the following boundary line: dropped. */
static void
normalize_newlines(char *s)
{
	char *out = s;

	for (const char *in = s; *in != '\0'; in++) {
		if (*in == '\r') {
			if (in[1] != '\n' && in[1] != '\0')
				*out++ = '\n';
			continue;
		}
		*out++ = *in;
	}
	*out = '\0';
}

static gboolean
is_blank(const char *s)
{
	for (; *s != '\0'; s = g_utf8_next_char(s)) {
		gunichar c = g_utf8_get_char(s);

		if (!g_unichar_isspace(c) && c != 0xfeff && c != 0x200b)
			return FALSE;
	}
	return TRUE;
}

static void
note_defect(ParseCtx *ctx, const char *what)
{
	if (ctx->msg->parse_error == NULL)
		ctx->msg->parse_error = g_strdup(what);
}

static GMimeParserOptions *
options_with_charsets(const char *declared, const char *const *fallbacks)
{
	GMimeParserOptions *o = g_mime_parser_options_new();
	GPtrArray *list = g_ptr_array_new();

	g_ptr_array_add(list, (gpointer) "UTF-8");
	if (declared != NULL && declared[0] != '\0')
		g_ptr_array_add(list, (gpointer)declared);
	for (guint i = 0; fallbacks[i] != NULL; i++)
		g_ptr_array_add(list, (gpointer)fallbacks[i]);
	g_ptr_array_add(list, NULL);

	g_mime_parser_options_set_fallback_charsets(o, (const char **)list->pdata);
	g_mime_parser_options_set_rfc2047_compliance_mode(o, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_address_compliance_mode(o, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(o, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_allow_addresses_without_domain(o, TRUE);
	g_ptr_array_free(list, TRUE);
	return o;
}

/* ---- headers ---- */

static GMimeHeader *
find_header(GMimeObject *obj, const char *name)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(obj);
	int n;

	if (list == NULL)
		return NULL;
	n = g_mime_header_list_get_count(list);
	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(list, i);

		if (g_ascii_strcasecmp(g_mime_header_get_name(h), name) == 0)
			return h;
	}
	return NULL;
}

/* The raw value unfolded and trimmed, bytes as they came; caller frees. */
static char *
header_unfolded(GMimeHeader *h)
{
	const char *raw = g_mime_header_get_raw_value(h);

	if (raw == NULL)
		return g_strdup("");
	return g_strstrip(g_mime_utils_header_unfold(raw));
}

/* The raw value trimmed and made valid UTF-8, or NULL when absent. */
static char *
header_raw_trimmed(GMimeObject *obj, const char *name)
{
	GMimeHeader *h = find_header(obj, name);

	return h == NULL ? NULL : utf8_take(header_unfolded(h));
}

/* An unstructured header decoded (RFC 2047, raw 8-bit), or NULL. */
static char *
header_decoded(ParseCtx *ctx, GMimeObject *obj, const char *name)
{
	GMimeHeader *h = find_header(obj, name);
	g_autofree char *raw = NULL;
	g_autofree char *input = NULL;

	if (h == NULL)
		return NULL;
	raw = header_unfolded(h);
	input = gmime_input(raw);
	return utf8_take(g_strstrip(g_mime_utils_header_decode_text(ctx->hopts, input)));
}

/* Every header called name decoded and joined with ", ", or NULL. */
static char *
header_all_decoded(ParseCtx *ctx, GMimeObject *obj, const char *name)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(obj);
	GString *joined = NULL;
	int n = list != NULL ? g_mime_header_list_get_count(list) : 0;

	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(list, i);
		g_autofree char *raw = NULL;
		g_autofree char *input = NULL;
		g_autofree char *text = NULL;

		if (g_ascii_strcasecmp(g_mime_header_get_name(h), name) != 0)
			continue;
		raw = header_unfolded(h);
		input = gmime_input(raw);
		text = g_strstrip(g_mime_utils_header_decode_text(ctx->hopts, input));
		if (joined == NULL)
			joined = g_string_new(text);
		else if (text[0] != '\0')
			g_string_append_printf(joined, "%s%s", joined->len > 0 ? ", " : "", text);
	}
	return joined == NULL ? NULL : utf8_take(g_string_free(joined, FALSE));
}

static void
addresses_flatten(InternetAddressList *list, GPtrArray *out, guint depth)
{
	int n = internet_address_list_length(list);

	for (int i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			InternetAddressList *members = internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia));

			/* groups cannot nest in RFC 5322; do not trust that */
			if (members != NULL && depth < 4)
				addresses_flatten(members, out, depth + 1);
		} else if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
			char *name = null_if_empty(utf8_dup(internet_address_get_name(ia)));
			MdAddress *a;

			/* a line break left in an address (a bare CR, say) would
			 * break the header or the SMTP command it is written to */
			if (addr != NULL && strpbrk(addr, "\r\n") != NULL) {
				g_free(name);
				continue;
			}
			/* a name is for display: an encoded word may hide any
			 * control character in it */
			for (char *c = name; c != NULL && *c != '\0'; c++) {
				if ((guchar)*c < 0x20 || *c == 0x7f)
					*c = ' ';
			}
			a = g_new0(MdAddress, 1);
			a->name = name != NULL ? g_strstrip(name) : NULL;
			a->name = null_if_empty(a->name);
			a->addr = null_if_empty(utf8_dup(addr));
			g_ptr_array_add(out, a);
		}
	}
}

/* Mailboxes of every header called name, groups flattened, into out. */
static void
addresses_of(ParseCtx *ctx, GMimeObject *obj, const char *name, GPtrArray *out)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(obj);
	int n = list != NULL ? g_mime_header_list_get_count(list) : 0;

	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(list, i);
		InternetAddressList *addrs;
		g_autofree char *unfolded = NULL;
		g_autofree char *input = NULL;

		if (g_ascii_strcasecmp(g_mime_header_get_name(h), name) != 0)
			continue;
		/* unfolded (RFC 5322 2.2.3): a fold inside a quoted local part
		 * would otherwise stay in the address */
		unfolded = header_unfolded(h);
		input = gmime_input(unfolded);
		addrs = internet_address_list_parse(ctx->hopts, input);
		if (addrs == NULL)
			continue;
		addresses_flatten(addrs, out, 0);
		g_object_unref(addrs);
	}
}

static MdAddress *
first_address(ParseCtx *ctx, GMimeObject *obj, const char *name)
{
	g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func((GDestroyNotify)md_address_free);

	addresses_of(ctx, obj, name, all);
	if (all->len == 0)
		return NULL;
	return g_ptr_array_steal_index(all, 0);
}

static char *
message_id_of(GMimeObject *obj, const char *name)
{
	GMimeHeader *h = find_header(obj, name);

	if (h == NULL || g_mime_header_get_raw_value(h) == NULL)
		return NULL;
	return null_if_empty(utf8_take(g_mime_utils_decode_message_id(g_mime_header_get_raw_value(h))));
}

static void
fill_references(ParseCtx *ctx, GMimeObject *obj)
{
	GMimeHeader *h;
	GMimeReferences *refs;
	int n;

	h = find_header(obj, "In-Reply-To");
	if (h != NULL && g_mime_header_get_raw_value(h) != NULL) {
		refs = g_mime_references_parse(ctx->hopts, g_mime_header_get_raw_value(h));
		if (refs != NULL) {
			if (g_mime_references_length(refs) > 0)
				ctx->msg->in_reply_to = null_if_empty(utf8_dup(g_mime_references_get_message_id(refs, 0)));
			g_mime_references_free(refs);
		}
	}

	h = find_header(obj, "References");
	if (h == NULL || g_mime_header_get_raw_value(h) == NULL)
		return;
	refs = g_mime_references_parse(ctx->hopts, g_mime_header_get_raw_value(h));
	if (refs == NULL)
		return;
	n = g_mime_references_length(refs);
	for (int i = 0; i < n; i++) {
		const char *id;

		if (n > PARSE_REFS_MAX && i >= PARSE_REFS_HEAD && i < n - (PARSE_REFS_MAX - PARSE_REFS_HEAD))
			continue;
		id = g_mime_references_get_message_id(refs, i);
		if (id != NULL && id[0] != '\0')
			g_ptr_array_add(ctx->msg->references, utf8_dup(id));
	}
	g_mime_references_free(refs);
}

static void
fill_headers(ParseCtx *ctx, GMimeMessage *message)
{
	GMimeObject *obj = GMIME_OBJECT(message);
	GMimeHeaderList *list = g_mime_object_get_header_list(obj);
	MdMessage *msg = ctx->msg;
	GDateTime *date;

	msg->message_id = message_id_of(obj, "Message-ID");
	fill_references(ctx, obj);

	msg->from = first_address(ctx, obj, "From");
	msg->reply_to = first_address(ctx, obj, "Reply-To");
	addresses_of(ctx, obj, "To", msg->to);
	addresses_of(ctx, obj, "Cc", msg->cc);
	msg->from_header = header_decoded(ctx, obj, "From");
	msg->to_header = header_all_decoded(ctx, obj, "To");
	msg->cc_header = header_all_decoded(ctx, obj, "Cc");
	msg->subject = header_decoded(ctx, obj, "Subject");
	/* it is copied into every mail about the ticket */
	if (msg->subject != NULL && strlen(msg->subject) > PARSE_MAX_SUBJECT) {
		const char *end = g_utf8_find_prev_char(msg->subject, msg->subject + PARSE_MAX_SUBJECT);
		char *cut = g_strdup_printf("%.*s...", (int)(end - msg->subject), msg->subject);

		g_free(msg->subject);
		msg->subject = cut;
	}

	date = g_mime_message_get_date(message);
	if (date != NULL) {
		msg->date = g_date_time_to_unix(date);
		msg->date_tz_minutes = (int)(g_date_time_get_utc_offset(date) / G_TIME_SPAN_MINUTE);
		msg->has_date = TRUE;
	}

	msg->auto_submitted = header_raw_trimmed(obj, "Auto-Submitted");
	msg->precedence = header_raw_trimmed(obj, "Precedence");
	msg->list_id = header_raw_trimmed(obj, "List-Id");
	msg->auto_response_suppress = header_raw_trimmed(obj, "X-Auto-Response-Suppress");
	msg->return_path = header_raw_trimmed(obj, "Return-Path");
	msg->auth_results = header_raw_trimmed(obj, "Authentication-Results");
	msg->content_language = header_raw_trimmed(obj, "Content-Language");
	/* GMime files Content-* headers under the top-level part */
	if (msg->content_language == NULL && g_mime_message_get_mime_part(message) != NULL)
		msg->content_language = header_raw_trimmed(g_mime_message_get_mime_part(message), "Content-Language");
	msg->x_autoreply = list != NULL && (g_mime_header_list_contains(list, "X-Autoreply") ||
					    g_mime_header_list_contains(list, "X-Autorespond"));
}

/* ---- text of a part ---- */

static gboolean
charset_is_utf8(const char *cs)
{
	return g_ascii_strcasecmp(cs, "utf-8") == 0 || g_ascii_strcasecmp(cs, "utf8") == 0;
}

static gboolean
charset_is_ascii(const char *cs)
{
	return g_ascii_strcasecmp(cs, "us-ascii") == 0 || g_ascii_strcasecmp(cs, "ascii") == 0 ||
	       g_ascii_strcasecmp(cs, "ansi_x3.4-1968") == 0;
}

static const char *
part_charset(GMimeObject *part)
{
	const char *cs = g_mime_object_get_content_type_parameter(part, "charset");

	return cs != NULL && cs[0] != '\0' ? cs : NULL;
}

/*
 * Bytes of no (usable) charset as UTF-8: as they are when they are UTF-8,
 * else with the fallback charsets, as for headers.  Caller frees.
 */
static char *
text_undeclared(ParseCtx *ctx, const guint8 *data, gsize len)
{
	g_autofree char *copy = NULL;

	if (g_utf8_validate((const char *)data, len, NULL))
		return g_strndup((const char *)data, len);
	/* GMime's decoder stops at NUL: NULs must go first */
	copy = g_malloc(len + 1);
	for (gsize i = 0; i < len; i++)
		copy[i] = data[i] != '\0' ? (char)data[i] : '?';
	copy[len] = '\0';
	return utf8_take(g_mime_utils_decode_8bit(ctx->popts, copy, len));
}

/*
 * Decoded bytes read from one text part at most: the text is for people
 * and for the store's text column; the raw message keeps everything, and
 * a 30 MB body must not be decoded into memory in full.
 */
#define MAX_PART_TEXT (2 << 20)

/*
 * The decoded text of a leaf part as UTF-8 with LF line ends, cut at
 * MAX_PART_TEXT decoded bytes; never NULL.  Decoding is pulled through
 * GMime's filters chunk by chunk.  Caller frees with g_free().
 */
static char *
part_text(ParseCtx *ctx, GMimeObject *obj)
{
	GMimeDataWrapper *content = g_mime_part_get_content(GMIME_PART(obj));
	const char *charset = part_charset(obj);
	GMimeStream *source, *filtered;
	GMimeContentEncoding encoding;
	g_autoptr(GByteArray) bytes = g_byte_array_new();
	gboolean converted = FALSE, cut = FALSE;
	char *text;

	if (content == NULL || (source = g_mime_data_wrapper_get_stream(content)) == NULL)
		return g_strdup("");
	g_mime_stream_reset(source);
	filtered = g_mime_stream_filter_new(source);
	encoding = g_mime_data_wrapper_get_encoding(content);
	if (encoding == GMIME_CONTENT_ENCODING_BASE64 ||
	    encoding == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    encoding == GMIME_CONTENT_ENCODING_UUENCODE) {
		GMimeFilter *decoder = g_mime_filter_basic_new(encoding, FALSE);

		g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), decoder);
		g_object_unref(decoder);
	}
	if (charset != NULL && !charset_is_utf8(charset) && !charset_is_ascii(charset)) {
		GMimeFilter *filter = g_mime_filter_charset_new(charset, "UTF-8");

		if (filter != NULL) {
			g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), filter);
			g_object_unref(filter);
			converted = TRUE;
		}
	}
	/* read straight into the array: no 64 KiB chunk on the stack to copy */
	for (;;) {
		guint len = bytes->len;
		gssize n;

		g_byte_array_set_size(bytes, len + 64 * 1024);
		n = g_mime_stream_read(filtered, (char *)bytes->data + len, 64 * 1024);
		g_byte_array_set_size(bytes, len + (n > 0 ? (guint)n : 0));
		if (n <= 0)
			break;
		if (bytes->len >= MAX_PART_TEXT) {
			g_byte_array_set_size(bytes, MAX_PART_TEXT);
			cut = TRUE;
			break;
		}
	}
	g_object_unref(filtered);

	if (bytes->len == 0) {
		text = g_strdup("");
	} else if (g_utf8_validate((const char *)bytes->data, bytes->len, NULL)) {
		/* the common case, and what both branches below would copy
		 * unchanged (valid with a length means no NUL either): the
		 * bytes become the text, without a second 2 MiB */
		g_byte_array_append(bytes, (const guint8 *)"", 1);
		text = (char *)g_byte_array_free(g_steal_pointer(&bytes), FALSE);
	} else if (converted || (charset != NULL && charset_is_utf8(charset))) {
		text = g_utf8_make_valid((const char *)bytes->data, bytes->len); /* NUL too */
	} else {
		text = text_undeclared(ctx, bytes->data, bytes->len);
	}
	g_clear_pointer(&bytes, g_byte_array_unref);
	normalize_newlines(text);
	if (cut) {
		static const char marker[] = "\n[...]";
		gsize n = strlen(text);

		/* grown in place (a big block is remapped, not copied) */
		text = g_realloc(text, n + sizeof marker);
		memcpy(text + n, marker, sizeof marker);
	}
	return text;
}

/* ---- body choice ---- */

static gboolean
is_type(GMimeObject *obj, const char *type, const char *subtype)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);

	return ct != NULL && g_mime_content_type_is_type(ct, type, subtype);
}

/* "type/subtype" in lower case, or NULL; caller frees. */
static char *
mime_type_of(GMimeObject *obj)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	g_autofree char *type = ct != NULL ? g_mime_content_type_get_mime_type(ct) : NULL;

	return type == NULL ? NULL : null_if_empty(lower_dup(type));
}

static gboolean
is_leaf(GMimeObject *obj)
{
	return GMIME_IS_PART(obj);
}

static gboolean
is_attachment(GMimeObject *obj)
{
	GMimeContentDisposition *disp = g_mime_object_get_content_disposition(obj);
	const char *name;

	if (disp != NULL && g_mime_content_disposition_is_attachment(disp))
		return TRUE;
	if (!GMIME_IS_PART(obj))
		return FALSE;
	name = g_mime_part_get_filename(GMIME_PART(obj));
	return name != NULL && name[0] != '\0';
}

static gboolean
is_inline_text(GMimeObject *obj, const char *subtype)
{
	return is_leaf(obj) && is_type(obj, "text", subtype) && !is_attachment(obj);
}

static gboolean
part_is_blank(ParseCtx *ctx, GMimeObject *obj)
{
	g_autofree char *text = part_text(ctx, obj);

	return is_blank(text);
}

/* Chooses between a plain and an HTML candidate, as in an alternative. */
static gboolean
prefer(ParseCtx *ctx, const BodyChoice *plain, const BodyChoice *html, BodyChoice *out)
{
	if (plain->text != NULL && (html->html == NULL || !part_is_blank(ctx, plain->text))) {
		*out = *plain;
		if (out->html == NULL)
			out->html = html->html;
		return TRUE;
	}
	if (html->html != NULL) {
		*out = *html;
		out->text = NULL;
		if (out->blank == NULL)
			out->blank = plain->text;
		return TRUE;
	}
	return FALSE;
}

static gboolean choose_body(ParseCtx *ctx, GMimeObject *obj, guint depth, BodyChoice *out);

static gboolean
choose_alternative(ParseCtx *ctx, GMimeMultipart *mp, guint depth, BodyChoice *out)
{
	BodyChoice plain = { 0 }, html = { 0 };
	int n = g_mime_multipart_get_count(mp);

	for (int i = 0; i < n; i++) {
		GMimeObject *child = g_mime_multipart_get_part(mp, i);
		BodyChoice sub = { 0 };

		if (is_leaf(child) && is_type(child, "text", "plain")) {
			if (plain.text == NULL)
				plain.text = child;
		} else if (is_leaf(child) && is_type(child, "text", "html")) {
			html = (BodyChoice){ .html = child };
		} else if (GMIME_IS_MULTIPART(child) && choose_body(ctx, child, depth + 1, &sub)) {
			if (sub.text != NULL && plain.text == NULL)
				plain = sub;
			else if (sub.text == NULL && sub.html != NULL)
				html = sub;
		}
	}
	return prefer(ctx, &plain, &html, out);
}

static gboolean
choose_related(ParseCtx *ctx, GMimeMultipart *mp, guint depth, BodyChoice *out)
{
	const char *start = g_mime_object_get_content_type_parameter(GMIME_OBJECT(mp), "start");
	const char *type = g_mime_object_get_content_type_parameter(GMIME_OBJECT(mp), "type");
	g_autofree char *start_id = start != NULL ? g_mime_utils_decode_message_id(start) : NULL;
	int n = g_mime_multipart_get_count(mp);

	if (n == 0)
		return FALSE;
	if (start_id != NULL) {
		for (int i = 0; i < n; i++) {
			GMimeObject *child = g_mime_multipart_get_part(mp, i);
			const char *cid = g_mime_object_get_content_id(child);

			if (cid != NULL && strcmp(cid, start_id) == 0)
				return choose_body(ctx, child, depth + 1, out);
		}
	}
	/* no usable start: the first part of the root's declared type (some
	 * writers put the images first), else the first part (RFC 2387) */
	if (type != NULL) {
		for (int i = 0; i < n; i++) {
			GMimeObject *child = g_mime_multipart_get_part(mp, i);
			g_autofree char *child_type = mime_type_of(child);

			if (child_type != NULL && g_ascii_strcasecmp(child_type, type) == 0)
				return choose_body(ctx, child, depth + 1, out);
		}
	}
	return choose_body(ctx, g_mime_multipart_get_part(mp, 0), depth + 1, out);
}

static gboolean
choose_mixed(ParseCtx *ctx, GMimeMultipart *mp, guint depth, BodyChoice *out)
{
	int n = g_mime_multipart_get_count(mp);

	for (int i = 0; i < n; i++) {
		GMimeObject *child = g_mime_multipart_get_part(mp, i);

		if (GMIME_IS_MULTIPART(child)) {
			if (choose_body(ctx, child, depth + 1, out))
				return TRUE;
			continue;
		}
		if (is_inline_text(child, "plain") || is_inline_text(child, "html")) {
			BodyChoice plain = { 0 }, html = { 0 };

			/* text and HTML side by side: alternatives in all but name */
			for (int j = i; j < n && (plain.text == NULL || html.html == NULL); j++) {
				GMimeObject *sib = g_mime_multipart_get_part(mp, j);

				if (plain.text == NULL && is_inline_text(sib, "plain"))
					plain.text = sib;
				else if (html.html == NULL && is_inline_text(sib, "html"))
					html.html = sib;
			}
			return prefer(ctx, &plain, &html, out);
		}
	}
	return FALSE;
}

static gboolean
choose_body(ParseCtx *ctx, GMimeObject *obj, guint depth, BodyChoice *out)
{
	if (depth > ctx->max_depth || ctx->choose_visits >= ctx->max_parts)
		return FALSE;
	ctx->choose_visits++;

	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);

		if (GMIME_IS_MULTIPART_ENCRYPTED(obj))
			return FALSE;
		if (GMIME_IS_MULTIPART_SIGNED(obj))
			return g_mime_multipart_get_count(mp) > 0 &&
			       choose_body(ctx, g_mime_multipart_get_part(mp, 0), depth + 1, out);
		if (is_type(obj, "multipart", "alternative"))
			return choose_alternative(ctx, mp, depth, out);
		if (is_type(obj, "multipart", "related"))
			return choose_related(ctx, mp, depth, out);
		return choose_mixed(ctx, mp, depth, out);
	}
	if (is_inline_text(obj, "plain")) {
		*out = (BodyChoice){ .text = obj };
		return TRUE;
	}
	if (is_inline_text(obj, "html")) {
		*out = (BodyChoice){ .html = obj };
		return TRUE;
	}
	return FALSE;
}

/* ---- attachments ---- */

static gboolean
is_body_part(const ParseCtx *ctx, GMimeObject *obj)
{
	return obj == ctx->body.text || obj == ctx->body.html || obj == ctx->body.blank;
}

static void
add_attachment(ParseCtx *ctx, GMimeObject *obj)
{
	MdAttachment *att = md_attachment_new();
	GMimeStream *null = g_mime_stream_null_new();

	att->content_type = mime_type_of(obj);
	if (att->content_type == NULL)
		att->content_type = g_strdup("application/octet-stream");
	att->disposition = lower_dup(g_mime_object_get_disposition(obj));

	/* count the decoded bytes, keep none of them */
	if (GMIME_IS_PART(obj)) {
		GMimeDataWrapper *content = g_mime_part_get_content(GMIME_PART(obj));

		if (content != NULL)
			g_mime_data_wrapper_write_to_stream(content, null);
	} else if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));

		if (inner != NULL)
			g_mime_object_write_to_stream(GMIME_OBJECT(inner), NULL, null);
	}
	att->size = GMIME_STREAM_NULL(null)->written;
	g_object_unref(null);

	if (ctx->keep_attachments) {
		GMimeStream *mem = g_mime_stream_mem_new();
		GByteArray *bytes;

		g_mime_object_write_to_stream(obj, NULL, mem);
		bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
		att->entity = g_bytes_new(bytes->data, bytes->len);
		g_object_unref(mem);
	}

	g_ptr_array_add(ctx->msg->attachments, att);
	g_ptr_array_add(ctx->att_objects, obj);
}

/* Filename from the part's own headers, decoded with the header charsets
 * (raw 8-bit parameter values need them); RFC 2231 and 2047 by GMime. */
static char *
attachment_filename(ParseCtx *ctx, GMimeObject *obj)
{
	GMimeHeader *h;
	char *name = NULL;

	h = find_header(obj, "Content-Disposition");
	if (h != NULL) {
		g_autofree char *raw = header_unfolded(h);
		g_autofree char *input = gmime_input(raw);
		GMimeContentDisposition *disp = g_mime_content_disposition_parse(ctx->hopts, input);

		if (disp != NULL) {
			name = null_if_empty(utf8_dup(g_mime_content_disposition_get_parameter(disp, "filename")));
			g_object_unref(disp);
		}
	}
	h = find_header(obj, "Content-Type");
	if (name == NULL && h != NULL) {
		g_autofree char *raw = header_unfolded(h);
		g_autofree char *input = gmime_input(raw);
		GMimeContentType *ct = g_mime_content_type_parse(ctx->hopts, input);

		if (ct != NULL) {
			name = null_if_empty(utf8_dup(g_mime_content_type_get_parameter(ct, "name")));
			g_object_unref(ct);
		}
	}
	if (name == NULL && GMIME_IS_PART(obj))
		name = null_if_empty(utf8_dup(g_mime_part_get_filename(GMIME_PART(obj))));
	if (name == NULL && GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));

		if (inner != NULL)
			name = null_if_empty(header_decoded(ctx, GMIME_OBJECT(inner), "Subject"));
	}
	return name != NULL ? g_strstrip(name) : NULL;
}

/* ---- delivery status reports ---- */

#define PARSE_MAX_DSN (64 * 1024)

/*
 * The per-recipient blocks of a message/delivery-status part (RFC 3464
 * 2.3): "Final-Recipient: rfc822; addr" and "Action: failed" in the same
 * block make addr a failed recipient.  Blocks are separated by blank
 * lines; the fields are plain "name: value" lines.
 */
static void
dsn_failed_recipients(const char *text, GPtrArray *out)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	g_autofree char *recipient = NULL;
	gboolean failed = FALSE;

	for (guint i = 0;; i++) {
		const char *line = lines[i];
		g_autofree char *clean = line != NULL ? g_strstrip(g_strdup(line)) : NULL;

		if (line == NULL || *clean == '\0') {
			if (failed && recipient != NULL && out->len < 1000)
				g_ptr_array_add(out, g_steal_pointer(&recipient));
			g_clear_pointer(&recipient, g_free);
			failed = FALSE;
			if (line == NULL)
				break;
			continue;
		}
		if (g_ascii_strncasecmp(clean, "Final-Recipient:", 16) == 0) {
			const char *v = strchr(clean + 16, ';');

			g_free(recipient);
			recipient = g_strstrip(g_strdup(v != NULL ? v + 1 : clean + 16));
			if (*recipient == '<' && recipient[strlen(recipient) - 1] == '>') {
				char *inner = g_strndup(recipient + 1, strlen(recipient) - 2);

				g_free(recipient);
				recipient = inner;
			}
		} else if (g_ascii_strncasecmp(clean, "Action:", 7) == 0) {
			g_autofree char *v = g_strstrip(g_strdup(clean + 7));

			failed = g_ascii_strncasecmp(v, "failed", 6) == 0;
		}
	}
}

static void
read_dsn(ParseCtx *ctx, GMimeObject *obj)
{
	GMimeStream *mem = g_mime_stream_mem_new();
	GByteArray *bytes;
	g_autofree char *text = NULL;

	if (GMIME_IS_PART(obj)) {
		GMimeDataWrapper *content = g_mime_part_get_content(GMIME_PART(obj));

		if (content != NULL)
			g_mime_data_wrapper_write_to_stream(content, mem);
	} else if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));

		if (inner != NULL)
			g_mime_object_write_to_stream(GMIME_OBJECT(inner), NULL, mem);
	}
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	if (bytes->len == 0) {
		g_object_unref(mem);
		return;
	}
	text = g_utf8_make_valid((const char *)bytes->data, MIN(bytes->len, PARSE_MAX_DSN));
	g_object_unref(mem);
	normalize_newlines(text);
	dsn_failed_recipients(text, ctx->msg->failed_recipients);
}

static void
walk(ParseCtx *ctx, GMimeObject *obj, guint depth)
{
	if (ctx->walk_stopped)
		return;
	if (depth > ctx->max_depth) {
		note_defect(ctx, "MIME nesting too deep");
		return;
	}
	if (ctx->msg->part_count >= ctx->max_parts) {
		note_defect(ctx, "too many MIME parts");
		ctx->walk_stopped = TRUE;
		return;
	}
	ctx->msg->part_count++;

	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);

		for (int i = 0; i < n && !ctx->walk_stopped; i++)
			walk(ctx, g_mime_multipart_get_part(mp, i), depth + 1);
		return;
	}
	if (GMIME_IS_PART(obj) && is_type(obj, "text", "*") && ctx->first_text_charset == NULL)
		ctx->first_text_charset = part_charset(obj);
	if (ctx->msg->is_report && is_type(obj, "message", "delivery-status"))
		read_dsn(ctx, obj);
	if (is_type(obj, "message", "disposition-notification"))
		ctx->msg->has_mdn = TRUE;
	if (ctx->msg->tnef_class == NULL && GMIME_IS_PART(obj))
		ctx->msg->tnef_class = tnef_part_class(obj);
	if (is_body_part(ctx, obj))
		return;
	add_attachment(ctx, obj);
}

/* ---- the whole ---- */

static void
fill_body(ParseCtx *ctx)
{
	MdMessage *msg = ctx->msg;
	GMimeObject *chosen = ctx->body.text != NULL ? ctx->body.text : ctx->body.html;

	if (ctx->body.html != NULL)
		msg->html = part_text(ctx, ctx->body.html);
	if (ctx->body.text != NULL) {
		g_free(msg->text);
		msg->text = part_text(ctx, ctx->body.text);
	} else if (msg->html != NULL) {
		g_free(msg->text);
		msg->text = html_to_text(msg->html, strlen(msg->html));
		msg->text_from_html = TRUE;
	}
	if (chosen != NULL)
		msg->body_charset = lower_dup(part_charset(chosen));
}

/*
 * Deeper than limit, counting multipart and message/rfc822 levels alike?
 * walk() and choose_body() never enter an attached message, and GMime
 * stops nesting on its own only at 1024 levels; an explicit stack and a
 * visit budget keep this walk itself bounded.  (GMime's warning callback
 * would say so too, but setting one makes GMime check every parameter
 * list for duplicates, quadratic in their number, and decode every
 * header while parsing.)
 */
static gboolean
nesting_too_deep(GMimeObject *top, guint limit, guint budget)
{
	g_autoptr(GArray) stack = g_array_new(FALSE, FALSE, sizeof(gpointer) * 2);
	gpointer entry[2] = { top, GUINT_TO_POINTER(0) };

	g_array_append_val(stack, entry);
	while (stack->len > 0 && budget-- > 0) {
		gpointer *e = &g_array_index(stack, gpointer, (stack->len - 1) * 2);
		GMimeObject *obj = e[0];
		guint depth = GPOINTER_TO_UINT(e[1]);

		g_array_set_size(stack, stack->len - 1);
		if (obj == NULL)
			continue;
		if (depth > limit)
			return TRUE;
		if (GMIME_IS_MULTIPART(obj)) {
			int n = g_mime_multipart_get_count(GMIME_MULTIPART(obj));

			for (int i = 0; i < n; i++) {
				gpointer child[2] = { g_mime_multipart_get_part(GMIME_MULTIPART(obj), i),
						      GUINT_TO_POINTER(depth + 1) };

				g_array_append_val(stack, child);
			}
		} else if (GMIME_IS_MESSAGE_PART(obj)) {
			GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
			gpointer child[2] = { inner != NULL ? g_mime_message_get_mime_part(inner) : NULL,
					      GUINT_TO_POINTER(depth + 1) };

			g_array_append_val(stack, child);
		}
	}
	return FALSE;
}

static void
parse_tree(ParseCtx *ctx, GMimeMessage *message)
{
	MdMessage *msg = ctx->msg;
	GMimeObject *top = g_mime_message_get_mime_part(message);
	const char *declared = NULL;

	if (top != NULL) {
		GMimeContentType *ct = g_mime_object_get_content_type(top);

		if (ct != NULL) {
			msg->content_type = mime_type_of(top);
			if (g_mime_content_type_is_type(ct, "multipart", "report")) {
				msg->is_report = TRUE;
				msg->report_type = null_if_empty(lower_dup(g_mime_content_type_get_parameter(ct, "report-type")));
			}
		}
		choose_body(ctx, top, 0, &ctx->body);
		walk(ctx, top, 0);
		if (nesting_too_deep(top, ctx->max_depth, ctx->max_parts * 4 + 64))
			note_defect(ctx, "MIME nesting too deep");
		declared = part_charset(top);
	}
	if (declared == NULL)
		declared = ctx->first_text_charset;

	ctx->hopts = options_with_charsets(declared, ctx->fallbacks);
	fill_headers(ctx, message);
	for (guint i = 0; i < msg->attachments->len; i++) {
		MdAttachment *att = g_ptr_array_index(msg->attachments, i);

		att->filename = attachment_filename(ctx, g_ptr_array_index(ctx->att_objects, i));
	}
	fill_body(ctx);
}

static gboolean
has_headers(GMimeMessage *message)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(GMIME_OBJECT(message));
	GMimeObject *top = g_mime_message_get_mime_part(message);

	if (list != NULL && g_mime_header_list_get_count(list) > 0)
		return TRUE;
	/* GMime files Content-* headers under the top-level part */
	list = top != NULL ? g_mime_object_get_header_list(top) : NULL;
	return list != NULL && g_mime_header_list_get_count(list) > 0;
}

/*
 * Offset of the first header: past a leading mbox "From " line and past
 * lines holding only blanks (some stores pad messages with one).  Only
 * blank lines are skipped, so a message that really starts with its
 * body stays headerless.
 */
static gsize
headers_offset(const guint8 *data, gsize len)
{
	gsize off = 0;

	if (len >= 5 && memcmp(data, "From ", 5) == 0) {
		const guint8 *nl = memchr(data, '\n', len);

		off = nl == NULL ? len : (gsize)(nl - data) + 1;
	}
	for (;;) {
		gsize i = off;

		while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r'))
			i++;
		/* a line of nothing at all is the header/body separator of an
		 * empty header: not ours to skip */
		if (i >= len || data[i] != '\n' || i == off || (i == off + 1 && data[off] == '\r'))
			return off;
		off = i + 1;
	}
}

/* Where the body starts: past the first empty line, or len without one. */
static gsize
header_block_len(const guint8 *data, gsize len)
{
	for (gsize i = 0; i < len; i++) {
		if (data[i] != '\n')
			continue;
		if (i + 1 < len && data[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && data[i + 1] == '\r' && data[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

/* More than limit lines that start with "--" (boundary delimiters)? */
static gboolean
too_many_delimiters(const guint8 *data, gsize len, gsize limit)
{
	gsize n = 0;

	for (const guint8 *p = data, *end = data + len; p + 2 <= end;) {
		const guint8 *nl;

		if (p[0] == '-' && p[1] == '-' && ++n > limit)
			return TRUE;
		nl = memchr(p, '\n', (gsize)(end - p));
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return FALSE;
}

/*
 * GMime builds the whole tree before maildesk can count anything, and
 * holds every header line whole, as objects of some 45 bytes for each
 * byte of header: a message of 200,000 tiny parts, a 20 MB Subject or
 * 20 MB of parameters in the header of an attachment would cost hundreds
 * of MB.  Such a message is parsed from the start of its headers only,
 * its body not at all (the raw message is stored whole and the ticket
 * flagged).  Returns the reason, or NULL when
 * it can be parsed in full.
 */
static const char *
too_costly(const guint8 *data, gsize len, gsize body_at, guint max_parts)
{
	if (body_at > PARSE_MAX_HEADER_BYTES)
		return "headers too large";
	if (too_many_delimiters(data + body_at, len - body_at, (gsize)max_parts * 2 + 16))
		return "too many MIME parts";
	/* those of the parts and attached messages count too */
	if (parse_bounds_header_bytes(data, len) > PARSE_MAX_HEADER_BYTES)
		return "headers too large";
	return NULL;
}

MdMessage *
parse_message(const guint8 *data, gsize len, const MdParseOptions *opts)
{
	MdMessage *msg = md_message_new();
	ParseCtx ctx = { 0 };
	GByteArray *array;
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *message;
	gsize skip;
	const char *costly, *bounds;
	g_autofree guint8 *reduced = NULL;
	g_autoptr(GPtrArray) charsets = NULL;

	ctx.msg = msg;
	ctx.max_depth = opts != NULL && opts->max_depth > 0 ? opts->max_depth : PARSE_DEFAULT_MAX_DEPTH;
	ctx.max_parts = opts != NULL && opts->max_parts > 0 ? opts->max_parts : PARSE_DEFAULT_MAX_PARTS;
	ctx.keep_attachments = opts != NULL && opts->keep_attachments;
	ctx.fallbacks = opts != NULL && opts->fallback_charsets != NULL ? opts->fallback_charsets
									: default_fallback_charsets;

	if (data == NULL)
		len = 0;
	skip = headers_offset(data, len);
	if (len - skip == 0) {
		msg->parse_failed = TRUE;
		msg->parse_error = g_strdup("empty message");
		return msg;
	}
	if (len - skip > G_MAXUINT) {
		msg->parse_failed = TRUE;
		msg->parse_error = g_strdup("message too large");
		return msg;
	}

	data += skip;
	len -= skip;
	costly = too_costly(data, len, header_block_len(data, len), ctx.max_parts);
	if (costly != NULL) {
		gsize keep = MIN(header_block_len(data, len), PARSE_MAX_HEADER_BYTES);
		const guint8 *nl = keep > 0 ? memrchr(data, '\n', keep) : NULL;

		keep = nl != NULL ? (gsize)(nl - data) + 1 : 0;
		reduced = g_malloc(keep + 1);
		memcpy(reduced, data, keep);
		reduced[keep] = '\n';
		data = reduced;
		len = keep + 1;
		msg->parse_error = g_strdup(costly);
	}

	/* address fields GMime would recurse on without bound: blanked in
	 * our own copy (the caller's bytes are not ours to write); comments
	 * left open, which make GMime leak, too */
	if (parse_bounds_needs_defuse(data, len)) {
		bounds = parse_bounds_check(data, len);
		if (reduced == NULL) {
			reduced = g_memdup2(data, len);
			data = reduced;
		}
		parse_bounds_defuse(reduced, len);
		if (bounds != NULL && msg->parse_error == NULL)
			msg->parse_error = g_strdup(bounds);
	}

	parse_init();
	charsets = parse_bounds_charsets(data, len, charset_pin_one);
	charset_pin_list(ctx.fallbacks);
	ctx.popts = options_with_charsets(NULL, ctx.fallbacks);
	ctx.att_objects = g_ptr_array_new();

	/* A GByteArray over the caller's bytes, never freed or written by
	 * the stream (owner FALSE): no copy of the message is made. */
	array = g_byte_array_new_take((guint8 *)data, len);
	stream = g_mime_stream_mem_new_with_byte_array(array);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	message = g_mime_parser_construct_message(parser, ctx.popts);

	if (message == NULL) {
		/* nothing GMime calls a message: keep the bytes as text */
		msg->parse_failed = TRUE;
		msg->parse_error = g_strdup("not a mail message");
		g_free(msg->text);
		msg->text = text_undeclared(&ctx, data, len);
		normalize_newlines(msg->text);
	} else {
		if (!has_headers(message)) {
			msg->parse_failed = TRUE;
			g_free(msg->parse_error);
			msg->parse_error = g_strdup("no header could be parsed");
		}
		/* salvage what there is, even without headers */
		parse_tree(&ctx, message);
		g_object_unref(message);
	}

	g_object_unref(parser);
	g_object_unref(stream);
	g_byte_array_free(array, FALSE); /* hands the caller's bytes back */
	g_ptr_array_free(ctx.att_objects, TRUE);
	if (ctx.hopts != NULL)
		g_mime_parser_options_free(ctx.hopts);
	g_mime_parser_options_free(ctx.popts);
	return msg;
}
