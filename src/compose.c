/*
 * compose.c - builds an outgoing RFC 5322 message with GMime.
 *
 * Stage "outbox": intake and tick render a template, then call
 * compose_message() with the threading headers; the bytes go into an
 * outbox row and send.c submits them unchanged.  GMime does the RFC 2047
 * encoding, address quoting, IDN and folding; this file decides which
 * headers exist and what may go in them.
 *
 * Must never: let a value add a header (every value is escaped to one
 * line again here, whatever the template did), let a template override
 * the headers that route or thread the mail, or return bytes that are not
 * 7-bit clean with CRLF line ends.
 */
#include "config.h"

#include <string.h>

#include <gmime/gmime.h>

#include "address.h"
#include "compose.h"
#include "datefmt.h"

#define COMPOSE_MAX_ID_LEN 250     /* a Message-ID that still folds */
#define COMPOSE_MAX_REFERENCES 20  /* the first and the latest 19 */
#define COMPOSE_MAX_7BIT_LINE 998  /* RFC 5322 2.1.1 */

/* Headers compose sets or that route the message: never from a template. */
static const char *const reserved_headers[] = {
	"From", "To", "Cc", "Bcc", "Reply-To", "Message-ID", "In-Reply-To", "References",
	"Date", "MIME-Version", "Sender", "Return-Path", "Auto-Submitted",
	"X-Auto-Response-Suppress", "Subject", "Received", NULL,
};
static const char *const reserved_prefixes[] = { "Content-", "Resent-", "X-Maildesk-", NULL };

static gboolean
header_reserved(const char *name)
{
	for (guint i = 0; reserved_headers[i] != NULL; i++)
		if (g_ascii_strcasecmp(name, reserved_headers[i]) == 0)
			return TRUE;
	for (guint i = 0; reserved_prefixes[i] != NULL; i++)
		if (g_ascii_strncasecmp(name, reserved_prefixes[i], strlen(reserved_prefixes[i])) == 0)
			return TRUE;
	return FALSE;
}

/* The inside of <...>: printable ASCII, no brackets, spaces or specials. */
static gboolean
msgid_valid(const char *id)
{
	if (id == NULL || *id == '\0' || strlen(id) > COMPOSE_MAX_ID_LEN)
		return FALSE;
	for (const char *p = id; *p != '\0'; p++)
		if (*p < 33 || *p > 126 || strchr("<>()[]\\\",;:", *p) != NULL)
			return FALSE;
	return TRUE;
}

/* RFC 5646-ish: letters, digits and hyphens, as Content-Language wants. */
static gboolean
language_valid(const char *lang)
{
	if (lang == NULL || *lang == '\0' || strlen(lang) > 35)
		return FALSE;
	for (const char *p = lang; *p != '\0'; p++)
		if (!g_ascii_isalnum(*p) && *p != '-')
			return FALSE;
	return TRUE;
}

/* Escaped to one control-free line and trimmed; caller frees. */
static char *
header_value(const char *value)
{
	return g_strstrip(template_header_escape(value));
}

static InternetAddress *
mailbox_new(const char *name, const char *addr)
{
	g_autofree char *clean = header_value(name);
	InternetAddress *ia = internet_address_mailbox_new(*clean != '\0' ? clean : NULL, addr);

	internet_address_set_charset(ia, "utf-8");
	return ia;
}

static void
add_mailbox(GMimeMessage *msg, GMimeAddressType type, const char *name, const char *addr)
{
	InternetAddress *ia = mailbox_new(name, addr);

	internet_address_list_add(g_mime_message_get_addresses(msg, type), ia);
	g_object_unref(ia);
}

static void
set_header(GMimeMessage *msg, const char *name, const char *value)
{
	g_autofree char *clean = header_value(value);

	g_mime_object_set_header(GMIME_OBJECT(msg), name, clean, "utf-8");
}

/* "<a> <b> ...": the first reference and the latest ones, valid ids only. */
static char *
references_value(const char *const *refs)
{
	GString *out = g_string_new(NULL);
	g_autoptr(GPtrArray) ok = g_ptr_array_new();

	for (guint i = 0; refs != NULL && refs[i] != NULL; i++)
		if (msgid_valid(refs[i]))
			g_ptr_array_add(ok, (gpointer)refs[i]);
	for (guint i = 0; i < ok->len; i++) {
		if (i > 0 && i + COMPOSE_MAX_REFERENCES - 1 < ok->len)
			continue;
		g_string_append_printf(out, "%s<%s>", out->len > 0 ? " " : "",
		                       (const char *)g_ptr_array_index(ok, i));
	}
	return g_string_free(out, FALSE);
}

/*
 * UTF-8 with LF line ends, ending in a newline, and the transfer encoding
 * it needs to travel 7-bit: 7bit when it is short-lined ASCII already.
 */
static GMimeObject *
text_part_new(const char *subtype, const char *text)
{
	g_autofree char *valid = g_utf8_make_valid(text != NULL ? text : "", -1);
	GString *body = g_string_sized_new(strlen(valid) + 1);
	GMimeContentEncoding enc = GMIME_CONTENT_ENCODING_7BIT;
	GMimeTextPart *part = g_mime_text_part_new_with_subtype(subtype);
	GMimeStream *stream;
	GMimeDataWrapper *wrapper;
	gsize line_len = 0;

	for (const char *p = valid; *p != '\0'; p++) {
		if (*p == '\r') {
			if (p[1] != '\n')
				g_string_append_c(body, '\n');
			continue;
		}
		g_string_append_c(body, *p);
	}
	if (body->len > 0 && body->str[body->len - 1] != '\n')
		g_string_append_c(body, '\n');
	for (gsize i = 0; i < body->len; i++) {
		guchar c = (guchar)body->str[i];

		line_len = c == '\n' ? 0 : line_len + 1;
		if (c >= 0x80 || line_len > COMPOSE_MAX_7BIT_LINE)
			enc = GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
	}

	stream = g_mime_stream_mem_new_with_buffer(body->str, body->len);
	wrapper = g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(GMIME_PART(part), wrapper);
	g_object_unref(wrapper);
	g_object_unref(stream);
	g_string_free(body, TRUE);
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "charset", "utf-8");
	g_mime_part_set_content_encoding(GMIME_PART(part), enc);
	return GMIME_OBJECT(part);
}

/*
 * A multipart with a boundary of ours: g_mime_multipart_new*() open and
 * read /dev/urandom for each one.  "=-" never occurs in quoted-printable
 * or base64 text.
 */
static GMimeMultipart *
multipart_new(const char *subtype)
{
	GMimeMultipart *mp = g_object_new(GMIME_TYPE_MULTIPART, NULL);
	GMimeContentType *type = g_mime_content_type_new("multipart", subtype);
	char boundary[32];

	g_mime_object_set_content_type(GMIME_OBJECT(mp), type);
	g_object_unref(type);
	g_snprintf(boundary, sizeof boundary, "=-%08x%08x%08x", g_random_int(), g_random_int(),
	           g_random_int());
	g_mime_multipart_set_boundary(mp, boundary);
	return mp;
}

/*
 * A MIME entity as the sender wrote it, read back by GMime.  A leaf is
 * re-encoded to base64 (GMime decodes and encodes again), so a part sent
 * as 8bit or binary cannot make the message fail the 7-bit check; a
 * nested message is kept as it is, and the caller tries again without
 * attachments if that one is not 7-bit.
 */
static GMimeObject *
entity_parse(GBytes *entity)
{
	gsize len;
	const guint8 *data = g_bytes_get_data(entity, &len);
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer((const char *)data, len);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeObject *part = g_mime_parser_construct_part(parser, NULL);

	g_object_unref(parser);
	g_object_unref(stream);
	if (part != NULL && GMIME_IS_PART(part))
		g_mime_part_set_content_encoding(GMIME_PART(part), GMIME_CONTENT_ENCODING_BASE64);
	return part;
}

static gboolean
seven_bit_clean(const GByteArray *a)
{
	gsize line_len = 0;

	for (guint i = 0; i < a->len; i++) {
		guint8 c = a->data[i];

		if (c >= 0x80 || c == '\0')
			return FALSE;
		if (c == '\n') {
			if (i == 0 || a->data[i - 1] != '\r')
				return FALSE;
			line_len = 0;
		} else if (++line_len > COMPOSE_MAX_7BIT_LINE + 1) { /* +1: the CR */
			return FALSE;
		}
	}
	return TRUE;
}

GByteArray *
compose_message(const MdRendered *r, const MdComposeHeaders *h)
{
	GMimeMessage *msg;
	GMimeObject *body;
	GMimeStream *mem;
	GMimeFormatOptions *fo;
	GByteArray *bytes;
	g_autofree char *date = NULL;
	g_autofree char *bracketed = NULL;
	g_autofree char *refs = NULL;
	g_autofree char *subject = NULL;

	if (r == NULL || h == NULL || !address_valid(h->from_addr) || !address_valid(h->to_addr) ||
	    (h->reply_to != NULL && !address_valid(h->reply_to)) || !msgid_valid(h->message_id))
		return NULL;

	msg = g_mime_message_new(FALSE);
	add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, h->from_name, h->from_addr);
	add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, h->to_name, h->to_addr);
	for (guint i = 0; h->cc != NULL && h->cc[i] != NULL; i++)
		if (address_valid(h->cc[i]))
			add_mailbox(msg, GMIME_ADDRESS_TYPE_CC, NULL, h->cc[i]);
	if (h->reply_to != NULL)
		add_mailbox(msg, GMIME_ADDRESS_TYPE_REPLY_TO, NULL, h->reply_to);

	subject = header_value(md_rendered_header(r, "Subject"));
	g_mime_message_set_subject(msg, subject, "utf-8");

	date = datefmt_rfc5322(h->date, h->tz_minutes);
	g_mime_object_set_header(GMIME_OBJECT(msg), "Date", date, NULL);
	g_mime_message_set_message_id(msg, h->message_id);
	if (msgid_valid(h->in_reply_to)) {
		bracketed = g_strdup_printf("<%s>", h->in_reply_to);
		g_mime_object_set_header(GMIME_OBJECT(msg), "In-Reply-To", bracketed, NULL);
	}
	refs = references_value(h->references);
	if (*refs != '\0')
		g_mime_object_set_header(GMIME_OBJECT(msg), "References", refs, NULL);
	g_mime_object_set_header(GMIME_OBJECT(msg), "MIME-Version", "1.0", NULL);
	if (language_valid(h->language))
		g_mime_object_set_header(GMIME_OBJECT(msg), "Content-Language", h->language, NULL);
	if (h->ticket_tag != NULL)
		set_header(msg, "X-Maildesk-Ticket", h->ticket_tag);
	if (h->to_agents)
		g_mime_object_set_header(GMIME_OBJECT(msg), COMPOSE_AGENT_MARKER,
		                         COMPOSE_AGENT_MARKER_VALUE, NULL);
	if (h->auto_replied || h->auto_generated) {
		g_mime_object_set_header(GMIME_OBJECT(msg), "Auto-Submitted",
		                         h->auto_replied ? "auto-replied" : "auto-generated", NULL);
		g_mime_object_set_header(GMIME_OBJECT(msg), "X-Auto-Response-Suppress", "All",
		                         NULL);
	}

	for (guint i = 0; r->headers != NULL && i < r->headers->len; i++) {
		const MdHeader *th = g_ptr_array_index(r->headers, i);
		g_autofree char *value = NULL;

		if (!template_header_name_valid(th->name) || header_reserved(th->name))
			continue;
		value = header_value(th->value);
		if (*value != '\0')
			g_mime_object_append_header(GMIME_OBJECT(msg), th->name, value, "utf-8");
	}

	body = text_part_new("plain", r->text);
	if (r->html != NULL) {
		GMimeMultipart *alt = multipart_new("alternative");
		GMimeObject *html = text_part_new("html", r->html);

		g_mime_multipart_add(alt, body);
		g_mime_multipart_add(alt, html);
		g_object_unref(html);
		g_object_unref(body);
		body = GMIME_OBJECT(alt);
	}
	if (h->attachments != NULL && h->attachments->len > 0) {
		GMimeMultipart *mixed = multipart_new("mixed");

		g_mime_multipart_add(mixed, body);
		g_object_unref(body);
		for (guint i = 0; i < h->attachments->len; i++) {
			GMimeObject *part = entity_parse(h->attachments->pdata[i]);

			if (part != NULL) {
				g_mime_multipart_add(mixed, part);
				g_object_unref(part);
			}
		}
		body = GMIME_OBJECT(mixed);
	}
	g_mime_message_set_mime_part(msg, body);
	g_object_unref(body);

	fo = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	mem = g_mime_stream_mem_new();
	g_mime_object_write_to_stream(GMIME_OBJECT(msg), fo, mem);
	g_mime_format_options_free(fo);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
	g_object_unref(mem);
	g_object_unref(msg);

	/* GMime encodes everything above; a byte that is still 8-bit or a
	 * bare LF means something slipped through: send nothing. */
	if (!seven_bit_clean(bytes)) {
		g_byte_array_unref(bytes);
		return NULL;
	}
	return bytes;
}

/* The header block of raw (up to and with its blank line), or all of raw. */
static gsize
header_block_len(const guint8 *raw, gsize len)
{
	for (gsize i = 0; i + 1 < len; i++) {
		if (raw[i] != '\n')
			continue;
		if (raw[i + 1] == '\n')
			return i + 2;
		if (raw[i + 1] == '\r' && i + 2 < len && raw[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

static void
add_recipients(InternetAddressList *list, GPtrArray *out)
{
	int n = list != NULL ? internet_address_list_length(list) : 0;

	for (int i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);
		const char *addr;
		gboolean seen = FALSE;

		/* compose writes no groups; a group read back is nobody's envelope */
		if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
			continue;
		addr = internet_address_mailbox_get_idn_addr(INTERNET_ADDRESS_MAILBOX(ia));
		if (addr == NULL || !address_valid(addr) || !g_str_is_ascii(addr))
			continue;
		for (guint k = 0; k < out->len && !seen; k++)
			seen = g_ascii_strcasecmp(out->pdata[k], addr) == 0;
		if (!seen)
			g_ptr_array_add(out, g_strdup(addr));
	}
}

char **
compose_recipients(const guint8 *raw, gsize len)
{
	GPtrArray *out = g_ptr_array_new();
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;

	if (raw == NULL)
		len = 0;
	stream = g_mime_stream_mem_new_with_buffer((const char *)(raw != NULL ? raw : (const guint8 *)""),
	                                           header_block_len(raw, len));
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	if (msg != NULL) {
		add_recipients(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO), out);
		add_recipients(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_CC), out);
		g_object_unref(msg);
	}
	g_object_unref(parser);
	g_object_unref(stream);
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}
