/*
 * agentparts.c - the agent's own words and files out of their mail (see
 * agentparts.h for the rules).
 *
 * When a part is doubtful it is withheld and named: an agent can send a
 * file again, a leaked note cannot be called back.  Parts are judged by
 * what they are (type, disposition, name) and by what they hold (our
 * marker or signed agent addresses), never by where they sit, because each
 * mail client puts the quoted history somewhere else.
 *
 * The message is parsed again with GMime here rather than in parse.c:
 * only an agent's reply to a customer needs its parts judged, and parse.c
 * hands no GMime objects to later stages.
 */
#include "config.h"

#include <string.h>

#include <gmime/gmime.h>

#include "agentparts.h"
#include "html2text.h"
#include "quote.h"
#include "tnef.h"
#include "token.h"

#define DEFAULT_MAX_DEPTH 64
#define DEFAULT_MAX_PARTS 10000
/* Decoded bytes of one text part read as text at most, as parse.c does:
 * the words of a reply, not a data dump */
#define MAX_PART_TEXT (2u << 20)

typedef struct {
	MdAgentParts *out;
	guint max_depth, max_parts, parts;
	GString *text;
	gboolean saw_text;   /* some text part was read, even an empty one */
	GString *tnef_body;  /* plain bodies of TNEF streams, used only without any text */
} Walk;

/* ---- the marks of our agent mail ---- */

static gboolean
is_hex(guchar c)
{
	return g_ascii_isxdigit(c);
}

/* n hex digits at p, within end. */
static gboolean
hex_run(const char *p, const char *end, gsize n)
{
	if ((gsize)(end - p) < n)
		return FALSE;
	for (gsize k = 0; k < n; k++)
		if (!is_hex((guchar)p[k]))
			return FALSE;
	return TRUE;
}

/*
 * A signed note or agent address at p (just past "+N"): "-note-MAC@", or
 * as issued to one agent (token.h), "-note-ID-MAC@".
 */
static gboolean
agent_token_at(const char *p, const char *end)
{
	static const char *const purposes[] = { "-note-", "-agent-" };

	for (unsigned i = 0; i < G_N_ELEMENTS(purposes); i++) {
		gsize n = strlen(purposes[i]);
		const char *mac = p + n;

		if ((gsize)(end - p) < n || g_ascii_strncasecmp(p, purposes[i], n) != 0)
			continue;
		if (hex_run(mac, end, TOKEN_PERSON_ID_HEX) && mac + TOKEN_PERSON_ID_HEX < end &&
		    mac[TOKEN_PERSON_ID_HEX] == '-')
			mac += TOKEN_PERSON_ID_HEX + 1;
		return hex_run(mac, end, 16) && mac + 16 < end && mac[16] == '@';
	}
	return FALSE;
}

gboolean
agentparts_has_agent_mark(const char *text, gsize len)
{
	const char *end = text + len;

	for (const char *p = memchr(text, '+', len); p != NULL;
	     p = p + 1 < end ? memchr(p + 1, '+', (gsize)(end - p - 1)) : NULL) {
		const char *d = p + 1;

		while (d < end && g_ascii_isdigit(*d))
			d++;
		if (d > p + 1 && agent_token_at(d, end))
			return TRUE;
	}
	return quote_has_cut_line(text, len);
}

/* ---- reading parts ---- */

/* The decoded content of a leaf; caller unrefs. */
static GBytes *
content_of(GMimeObject *obj)
{
	GMimeDataWrapper *content = GMIME_IS_PART(obj) ? g_mime_part_get_content(GMIME_PART(obj))
	                                               : NULL;
	GMimeStream *mem = g_mime_stream_mem_new();
	GByteArray *bytes;
	GBytes *out;

	if (content != NULL)
		g_mime_data_wrapper_write_to_stream(content, mem);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	out = g_bytes_new(bytes->data, bytes->len);
	g_object_unref(mem);
	return out;
}

/* Bytes of a text part as UTF-8 with LF line ends; caller frees. */
static char *
text_of(GMimeObject *obj)
{
	g_autoptr(GBytes) bytes = content_of(obj);
	gsize len = 0;
	const char *data = g_bytes_get_data(bytes, &len);
	const char *charset = g_mime_object_get_content_type_parameter(obj, "charset");
	char *text = NULL;
	char *out, *w;

	if (data == NULL)
		return g_strdup("");
	len = MIN(len, MAX_PART_TEXT);
	if (!g_utf8_validate(data, (gssize)len, NULL) && charset != NULL && *charset != '\0') {
		const char *iconv_name = g_mime_charset_iconv_name(charset);

		text = g_convert(data, (gssize)len, "UTF-8", iconv_name, NULL, NULL, NULL);
	}
	if (text == NULL && !g_utf8_validate(data, (gssize)len, NULL))
		text = g_convert(data, (gssize)len, "UTF-8", "WINDOWS-1252", NULL, NULL, NULL);
	if (text == NULL)
		text = g_utf8_make_valid(data, (gssize)len);
	/* CRLF and lone CR to LF */
	for (out = w = text; *out != '\0'; out++) {
		if (*out == '\r') {
			if (out[1] != '\n')
				*w++ = '\n';
			continue;
		}
		*w++ = *out;
	}
	*w = '\0';
	return text;
}

static char *
mime_type_of(GMimeObject *obj)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	g_autofree char *type = ct != NULL ? g_mime_content_type_get_mime_type(ct) : NULL;

	if (type == NULL)
		return g_strdup("application/octet-stream");
	return g_ascii_strdown(type, -1);
}

static gboolean
is_type(GMimeObject *obj, const char *type, const char *subtype)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);

	return ct != NULL && g_mime_content_type_is_type(ct, type, subtype);
}

static char *
filename_of(GMimeObject *obj)
{
	const char *name = GMIME_IS_PART(obj) ? g_mime_part_get_filename(GMIME_PART(obj)) : NULL;

	return name != NULL && *name != '\0' ? g_utf8_make_valid(name, -1) : NULL;
}

static gboolean
is_attachment(GMimeObject *obj)
{
	GMimeContentDisposition *disp = g_mime_object_get_content_disposition(obj);
	g_autofree char *name = filename_of(obj);

	return (disp != NULL && g_mime_content_disposition_is_attachment(disp)) || name != NULL;
}

static void
withhold(Walk *w, GMimeObject *obj, const char *name, const char *why)
{
	g_autofree char *type = mime_type_of(obj);
	g_autofree char *own = name == NULL ? filename_of(obj) : NULL;

	if (w->out->withheld->len >= 100)
		return;
	g_ptr_array_add(w->out->withheld,
	                g_strdup_printf("%s (%s): %s", name ? name : own ? own : "unnamed part", type,
	                                why));
}

static void
pass_on(Walk *w, GMimeObject *obj)
{
	GMimeStream *mem = g_mime_stream_mem_new();
	GByteArray *bytes;

	g_mime_object_write_to_stream(obj, NULL, mem);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	g_ptr_array_add(w->out->attachments, g_bytes_new(bytes->data, bytes->len));
	g_object_unref(mem);
}

static void
append_text(Walk *w, const char *text)
{
	w->saw_text = TRUE;
	if (w->text->len > 0 && w->text->str[w->text->len - 1] != '\n')
		g_string_append_c(w->text, '\n');
	g_string_append(w->text, text);
}

/* Our marks in 8-bit text, or in UTF-16 (Outlook's .msg files, text
 * saved as Unicode): the bytes are searched again without their NULs. */
static gboolean
has_mark_any_width(const guint8 *data, gsize len)
{
	g_autofree char *narrow = NULL;
	gsize n = 0;

	if (agentparts_has_agent_mark((const char *)data, len))
		return TRUE;
	if (memchr(data, '\0', len) == NULL)
		return FALSE;
	narrow = g_malloc(len);
	for (gsize i = 0; i < len; i++)
		if (data[i] != '\0')
			narrow[n++] = (char)data[i];
	return agentparts_has_agent_mark(narrow, n);
}

/* A saved mail sent as a file: by its type or name (.eml, Outlook's .msg),
 * or because its bytes are a mail's header (GMime reads a From and one of
 * Subject, Date, Message-ID). */
static gboolean
is_mail_file(const char *type, const char *name, const guint8 *data, gsize len)
{
	static const char *const extensions[] = { ".eml", ".msg", ".emlx", ".mbox", ".mbx", ".oft" };
	gsize name_len = name != NULL ? strlen(name) : 0;
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *m;
	gboolean mail = FALSE;

	if (g_ascii_strncasecmp(type, "message/", 8) == 0 ||
	    g_ascii_strcasecmp(type, "application/vnd.ms-outlook") == 0 ||
	    g_ascii_strcasecmp(type, "application/mbox") == 0)
		return TRUE;
	for (unsigned i = 0; i < G_N_ELEMENTS(extensions); i++) {
		gsize n = strlen(extensions[i]);

		if (name_len > n && g_ascii_strcasecmp(name + name_len - n, extensions[i]) == 0)
			return TRUE;
	}
	/* only what starts as a header can be one */
	if (data == NULL || len < 8 || !g_ascii_isalpha(data[0]) ||
	    memchr(data, ':', MIN(len, (gsize)80)) == NULL)
		return FALSE;
	stream = g_mime_stream_mem_new_with_buffer((const char *)data, MIN(len, (gsize)(256 << 10)));
	parser = g_mime_parser_new_with_stream(stream);
	m = g_mime_parser_construct_message(parser, NULL);
	if (m != NULL) {
		GMimeHeaderList *h = g_mime_object_get_header_list(GMIME_OBJECT(m));

		mail = g_mime_header_list_contains(h, "From") &&
		       (g_mime_header_list_contains(h, "Subject") ||
		        g_mime_header_list_contains(h, "Date") ||
		        g_mime_header_list_contains(h, "Message-ID"));
		g_object_unref(m);
	}
	g_object_unref(parser);
	g_object_unref(stream);
	return mail;
}

/* The files of a TNEF stream, each a new MIME part of its own. */
static void
take_tnef(Walk *w, GMimeObject *obj, GBytes *bytes)
{
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(bytes, &len);
	g_autoptr(MdTnef) t = tnef_read(data, len);
	g_autofree char *name = filename_of(obj);
	const char *stream = name != NULL ? name : "winmail.dat";

	if (t == NULL) {
		withhold(w, obj, stream, "a TNEF stream that cannot be read");
		return;
	}
	if (t->body != NULL && *t->body != '\0') {
		g_string_append(w->tnef_body, t->body);
		g_string_append_c(w->tnef_body, '\n');
	}
	/* its RTF (or HTML) body is the rich twin of the text part, with the
	 * quote: dropped without a word, as an HTML twin is */
	for (guint i = 0; i < t->skipped->len && w->out->withheld->len < 100; i++)
		g_ptr_array_add(w->out->withheld,
		                g_strdup_printf("%s (in %s): an attached message or object, not a file",
		                                (const char *)t->skipped->pdata[i], stream));
	for (guint i = 0; i < t->files->len; i++) {
		const MdTnefFile *f = t->files->pdata[i];
		gsize n = 0;
		const char *fdata = g_bytes_get_data(f->data, &n);
		GMimeContentType *ct;
		GMimePart *part;
		GMimeStream *src;
		GMimeDataWrapper *wrapper;

		if ((fdata != NULL && has_mark_any_width((const guint8 *)fdata, n)) ||
		    is_mail_file(f->content_type, f->filename, (const guint8 *)fdata, n) ||
		    g_str_has_prefix(f->content_type, "text/html")) {
			if (w->out->withheld->len < 100)
				g_ptr_array_add(w->out->withheld,
				                g_strdup_printf("%s (%s, in %s): holds mail to agents",
				                                f->filename, f->content_type, stream));
			continue;
		}
		ct = g_mime_content_type_parse(NULL, f->content_type);
		part = g_mime_part_new_with_type(g_mime_content_type_get_media_type(ct),
		                                 g_mime_content_type_get_media_subtype(ct));
		g_object_unref(ct);
		src = g_mime_stream_mem_new_with_buffer(fdata != NULL ? fdata : "", n);
		wrapper = g_mime_data_wrapper_new_with_stream(src, GMIME_CONTENT_ENCODING_DEFAULT);
		g_mime_part_set_content(part, wrapper);
		g_mime_part_set_filename(part, f->filename);
		g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
		pass_on(w, GMIME_OBJECT(part));
		g_object_unref(wrapper);
		g_object_unref(src);
		g_object_unref(part);
	}
}

/* A leaf that is not body text: a file or image passes, unless it holds
 * our marks; a TNEF stream gives its files; everything else is withheld. */
static void
take_leaf(Walk *w, GMimeObject *obj)
{
	g_autoptr(GBytes) bytes = content_of(obj);
	g_autofree char *name = filename_of(obj);
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(bytes, &len);

	if (is_type(obj, "application", "ms-tnef") || is_type(obj, "application", "vnd.ms-tnef") ||
	    tnef_is_tnef(data, len)) {
		take_tnef(w, obj, bytes);
		return;
	}
	if (is_type(obj, "text", "html")) {
		withhold(w, obj, NULL, "HTML, which mail clients fill with the quoted mail");
		return;
	}
	if (is_type(obj, "application", "pkcs7-mime") || is_type(obj, "application", "x-pkcs7-mime")) {
		/* opaque S/MIME: a whole mail, quotes and all, that we cannot read */
		withhold(w, obj, NULL, "a signed or encrypted mail, which cannot be judged");
		return;
	}
	if (is_type(obj, "text", "rfc822-headers")) {
		withhold(w, obj, NULL, "the headers of a mail");
		return;
	}
	if (data != NULL && has_mark_any_width(data, len)) {
		withhold(w, obj, NULL, "holds mail to agents (our marker or a note or agent address)");
		return;
	}
	{
		g_autofree char *type = mime_type_of(obj);

		if (is_mail_file(type, name, data, len)) {
			withhold(w, obj, NULL, "an attached mail");
			return;
		}
	}
	if (is_type(obj, "text", "*")) {
		g_autofree char *text = text_of(obj);
		g_autofree char *fresh = quote_strip(text);

		/* what the quote cutter would cut is quoted mail */
		if (strlen(fresh) < strlen(g_strstrip(text))) {
			withhold(w, obj, NULL, "a text that quotes a mail");
			return;
		}
	}
	if (name == NULL && !is_type(obj, "image", "*")) {
		withhold(w, obj, NULL, "neither a named file nor an image");
		return;
	}
	pass_on(w, obj);
}

static void walk(Walk *w, GMimeObject *obj, guint depth, gboolean want_text);

/* One version of an alternative gives the text: the first plain one that
 * is not blank, else the last other one; every version's files count. */
static void
walk_alternative(Walk *w, GMimeMultipart *mp, guint depth, gboolean want_text)
{
	int n = g_mime_multipart_get_count(mp), chosen = -1;

	for (int i = 0; want_text && i < n && chosen < 0; i++) {
		GMimeObject *c = g_mime_multipart_get_part(mp, i);

		if (GMIME_IS_PART(c) && is_type(c, "text", "plain") && !is_attachment(c)) {
			g_autofree char *t = text_of(c);

			if (*g_strstrip(t) != '\0')
				chosen = i;
		}
	}
	for (int i = n - 1; want_text && i >= 0 && chosen < 0; i--) {
		GMimeObject *c = g_mime_multipart_get_part(mp, i);

		if (!(GMIME_IS_PART(c) && is_type(c, "text", "plain")))
			chosen = i;
	}
	for (int i = 0; i < n; i++)
		walk(w, g_mime_multipart_get_part(mp, i), depth + 1, i == chosen);
}

static void
walk(Walk *w, GMimeObject *obj, guint depth, gboolean want_text)
{
	if (depth > w->max_depth || w->parts >= w->max_parts) {
		withhold(w, obj, NULL, "nested too deep or too many parts to be judged");
		return;
	}
	w->parts++;
	if (GMIME_IS_MULTIPART_ENCRYPTED(obj)) {
		withhold(w, obj, NULL, "encrypted, so it cannot be judged");
		return;
	}
	if (GMIME_IS_MULTIPART_SIGNED(obj)) {
		/* the signature covers the whole mail, which no longer goes as signed */
		if (g_mime_multipart_get_count(GMIME_MULTIPART(obj)) > 0)
			walk(w, g_mime_multipart_get_part(GMIME_MULTIPART(obj), 0), depth + 1, want_text);
		return;
	}
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);
		gboolean has_plain = FALSE;

		if (is_type(obj, "multipart", "alternative")) {
			walk_alternative(w, mp, depth, want_text);
			return;
		}
		/* text and HTML side by side are versions of one text, as in parse.c */
		for (int i = 0; i < n; i++) {
			GMimeObject *c = g_mime_multipart_get_part(mp, i);

			has_plain |= GMIME_IS_PART(c) && is_type(c, "text", "plain") && !is_attachment(c);
		}
		for (int i = 0; i < n; i++) {
			GMimeObject *c = g_mime_multipart_get_part(mp, i);

			if (has_plain && GMIME_IS_PART(c) && is_type(c, "text", "html") && !is_attachment(c))
				continue; /* the HTML twin of a plain text: never passed */
			walk(w, c, depth + 1, want_text);
		}
		return;
	}
	if (GMIME_IS_MESSAGE_PART(obj) || GMIME_IS_MESSAGE_PARTIAL(obj) || is_type(obj, "message", "*")) {
		withhold(w, obj, NULL, "an attached mail");
		return;
	}
	if (!GMIME_IS_PART(obj))
		return;
	if (!is_attachment(obj) && (is_type(obj, "text", "plain") || is_type(obj, "text", "html"))) {
		if (want_text) {
			g_autofree char *text = text_of(obj);

			if (is_type(obj, "text", "html")) {
				g_autofree char *plain = html_to_text(text, strlen(text));

				append_text(w, plain);
			} else {
				append_text(w, text);
			}
		}
		return; /* another version of a text already read, or its HTML */
	}
	take_leaf(w, obj);
}

MdAgentParts *
agentparts_read(const guint8 *raw, gsize len, const MdMessage *msg, guint max_depth,
                guint max_parts)
{
	MdAgentParts *out = g_new0(MdAgentParts, 1);
	Walk w = { out, max_depth ? max_depth : DEFAULT_MAX_DEPTH,
		   max_parts ? max_parts : DEFAULT_MAX_PARTS, 0, NULL, FALSE, NULL };
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *message = NULL;
	GMimeObject *top;

	out->attachments = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	out->withheld = g_ptr_array_new_with_free_func(g_free);
	if (msg->parse_failed || msg->parse_error != NULL || raw == NULL) {
		out->text = g_strdup(msg->text);
		if (msg->attachments->len > 0)
			g_ptr_array_add(out->withheld,
			                g_strdup_printf("%u attachments: the mail could not be read whole, "
			                                "so none is passed on",
			                                msg->attachments->len));
		return out;
	}
	w.text = g_string_new(NULL);
	w.tnef_body = g_string_new(NULL);
	stream = g_mime_stream_mem_new_with_buffer((const char *)raw, len);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	message = g_mime_parser_construct_message(parser, NULL);
	top = message != NULL ? g_mime_message_get_mime_part(message) : NULL;
	if (top != NULL)
		walk(&w, top, 0, TRUE);
	if (!w.saw_text && w.tnef_body->len > 0)
		out->text = g_string_free(g_steal_pointer(&w.tnef_body), FALSE);
	else if (!w.saw_text)
		out->text = g_strdup(msg->text);
	else
		out->text = g_string_free(g_steal_pointer(&w.text), FALSE);
	if (w.text != NULL)
		g_string_free(w.text, TRUE);
	if (w.tnef_body != NULL)
		g_string_free(w.tnef_body, TRUE);
	if (message != NULL)
		g_object_unref(message);
	g_object_unref(parser);
	g_object_unref(stream);
	return out;
}

void
agentparts_free(MdAgentParts *p)
{
	if (p == NULL)
		return;
	g_free(p->text);
	g_ptr_array_unref(p->attachments);
	g_ptr_array_unref(p->withheld);
	g_free(p);
}
