/*
 * test_compose.c - compose: the bytes on the wire (7-bit, CRLF, short
 * lines), round trips through GMime's parser with Cyrillic and Latvian
 * text, header injection attempts, reserved headers, threading headers.
 */
#include "config.h"

#include <string.h>

#include <gmime/gmime.h>

#include "compose.h"
#include "datefmt.h"

#define T_2026_11_24_1500 G_GINT64_CONSTANT(1795532400)

static MdRendered *
rendered(const char *subject, const char *text, const char *html)
{
	MdRendered *r = g_new0(MdRendered, 1);

	r->headers = g_ptr_array_new();
	if (subject != NULL) {
		MdHeader *h = g_new0(MdHeader, 1);

		h->name = g_strdup("Subject");
		h->value = g_strdup(subject);
		g_ptr_array_add(r->headers, h);
	}
	r->text = g_strdup(text);
	r->html = g_strdup(html);
	return r;
}

/* Adds a header the way a template would; values are NOT pre-escaped. */
static void
rendered_add(MdRendered *r, const char *name, const char *value)
{
	MdHeader *h = g_new0(MdHeader, 1);

	h->name = g_strdup(name);
	h->value = g_strdup(value);
	g_ptr_array_add(r->headers, h);
}

/* md_rendered_free() frees MdHeader*s through the array's free func,
 * which a hand-built array lacks: free them here. */
static void
rendered_free(MdRendered *r)
{
	for (guint i = 0; i < r->headers->len; i++) {
		MdHeader *h = g_ptr_array_index(r->headers, i);

		g_free(h->name);
		g_free(h->value);
		g_free(h);
	}
	g_ptr_array_set_size(r->headers, 0);
	md_rendered_free(r);
}

static MdComposeHeaders
headers_default(void)
{
	static const char *const refs[] = { "first@example.org", "second@example.org", NULL };
	MdComposeHeaders h = {
		.from_name = "Example Support",
		.from_addr = "support@example.com",
		.to_name = "Anna Customer",
		.to_addr = "anna@example.org",
		.reply_to = "support+42-k3j9x2@example.com",
		.message_id = "t42.m7.abcdef@help.example.com",
		.in_reply_to = "second@example.org",
		.references = refs,
		.date = T_2026_11_24_1500,
		.tz_minutes = 120,
		.auto_replied = TRUE,
		.language = "en",
		.ticket_tag = "42",
	};
	return h;
}

/* 7-bit, no NUL, every line ends in CRLF and is at most 998 octets. */
static void
assert_wire_clean(const GByteArray *a)
{
	gsize line_len = 0;

	g_assert_cmpuint(a->len, >, 0);
	for (guint i = 0; i < a->len; i++) {
		guint8 c = a->data[i];

		g_assert_cmpuint(c, <, 0x80);
		g_assert_cmpuint(c, !=, 0);
		if (c == '\r') {
			g_assert_true(i + 1 < a->len && a->data[i + 1] == '\n');
		} else if (c == '\n') {
			g_assert_true(i > 0 && a->data[i - 1] == '\r');
			line_len = 0;
			continue;
		}
		if (c != '\r')
			g_assert_cmpuint(++line_len, <=, 998);
	}
	g_assert_true(a->data[a->len - 1] == '\n');
}

static GMimeMessage *
parse(const GByteArray *a)
{
	GMimeStream *s = g_mime_stream_mem_new_with_buffer((const char *)a->data, a->len);
	GMimeParser *p = g_mime_parser_new_with_stream(s);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);

	g_object_unref(p);
	g_object_unref(s);
	g_assert_nonnull(m);
	return m;
}

static guint
header_count(GMimeObject *o, const char *name)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(o);
	guint n = 0;

	for (int i = 0; i < g_mime_header_list_get_count(list); i++)
		if (g_ascii_strcasecmp(g_mime_header_get_name(g_mime_header_list_get_header_at(list, i)),
		                       name) == 0)
			n++;
	return n;
}

/* The first mailbox of an address header. */
static InternetAddressMailbox *
mailbox(GMimeMessage *m, GMimeAddressType type)
{
	InternetAddressList *l = g_mime_message_get_addresses(m, type);

	g_assert_cmpint(internet_address_list_length(l), ==, 1);
	g_assert_true(INTERNET_ADDRESS_IS_MAILBOX(internet_address_list_get_address(l, 0)));
	return INTERNET_ADDRESS_MAILBOX(internet_address_list_get_address(l, 0));
}

/* GMime's parser files Content-* headers under the top-level part. */
static const char *
content_language(GMimeMessage *m)
{
	const char *v = g_mime_object_get_header(GMIME_OBJECT(m), "Content-Language");

	return v != NULL ? v
	                 : g_mime_object_get_header(g_mime_message_get_mime_part(m), "Content-Language");
}

/*
 * The decoded value of the first header called name, read from the raw
 * header with GMime decoding each RFC 2047 encoded-word on its own.
 * GMime 3.2.13 (Debian 12) drops everything after a B-encoded word that
 * ends in '=' padding when another encoded-word follows (upstream
 * jstedfast/gmime#133, fixed after 3.2.13), so g_mime_message_get_subject()
 * cannot check long non-ASCII values there; the words GMime writes are
 * self-contained, as RFC 2047 requires, and decoding them one by one is
 * what every other reader does.  Caller frees.
 */
static char *
decode_header(GMimeObject *o, const char *name)
{
	GMimeHeader *hdr = g_mime_header_list_get_header(g_mime_object_get_header_list(o), name);
	GString *out = g_string_new(NULL);
	g_autofree char *unfolded = NULL;
	gboolean prev_encoded = FALSE;
	const char *p;

	g_assert_nonnull(hdr);
	unfolded = g_strdup(g_mime_header_get_raw_value(hdr));
	/* RFC 5322 unfolding: drop the CRLFs, keep the whitespace. */
	{
		char *w = unfolded;

		for (const char *q = unfolded; *q != '\0'; q++)
			if (*q != '\r' && *q != '\n')
				*w++ = *q;
		*w = '\0';
	}
	p = unfolded;
	while (*p == ' ' || *p == '\t')
		p++;
	while (*p != '\0') {
		const char *ws = p, *tok, *end;
		g_autofree char *word = NULL;
		gboolean encoded;

		while (*p == ' ' || *p == '\t')
			p++;
		tok = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		end = p;
		if (tok == end)
			break;
		word = g_strndup(tok, end - tok);
		encoded = g_str_has_prefix(word, "=?") && g_str_has_suffix(word, "?=");
		/* Whitespace between two encoded-words is not part of the text. */
		if (!(encoded && prev_encoded))
			g_string_append_len(out, ws, tok - ws);
		if (encoded) {
			g_autofree char *dec = g_mime_utils_header_decode_text(NULL, word);

			g_assert_true(g_utf8_validate(dec, -1, NULL));
			g_assert_null(strstr(dec, "\xef\xbf\xbd")); /* no split characters */
			g_string_append(out, dec);
		} else {
			g_string_append(out, word);
		}
		prev_encoded = encoded;
	}
	return g_string_free(out, FALSE);
}

/* Compares long strings without printing megabytes on failure. */
static void
assert_same(const char *got, const char *want)
{
	gsize i = 0;

	while (got[i] != '\0' && got[i] == want[i])
		i++;
	if (got[i] != want[i])
		g_error("strings differ at byte %" G_GSIZE_FORMAT " (lengths %" G_GSIZE_FORMAT
		        " and %" G_GSIZE_FORMAT "): got \"%.40s\" want \"%.40s\"",
		        i, strlen(got), strlen(want), got + i, want + i);
}

static char *
wire_string(const GByteArray *a)
{
	return g_strndup((const char *)a->data, a->len);
}

static void
test_basic(void)
{
	MdRendered *r = rendered("[#42] Printer", "Hello,\nwe got it.\n", NULL);
	MdComposeHeaders h = headers_default();
	GByteArray *a;
	GMimeMessage *m;
	GMimeObject *body;
	g_autofree char *wire = NULL;
	g_autofree char *date = datefmt_rfc5322(T_2026_11_24_1500, 120);
	GMimeReferences *refs;

	rendered_add(r, "X-Priority", "3");
	a = compose_message(r, &h);
	g_assert_nonnull(a);
	assert_wire_clean(a);
	wire = wire_string(a);
	m = parse(a);

	g_assert_cmpstr(internet_address_get_name(INTERNET_ADDRESS(mailbox(m, GMIME_ADDRESS_TYPE_FROM))),
	                ==, "Example Support");
	g_assert_cmpstr(internet_address_mailbox_get_addr(mailbox(m, GMIME_ADDRESS_TYPE_FROM)), ==,
	                "support@example.com");
	g_assert_cmpstr(internet_address_get_name(INTERNET_ADDRESS(mailbox(m, GMIME_ADDRESS_TYPE_TO))),
	                ==, "Anna Customer");
	g_assert_cmpstr(internet_address_mailbox_get_addr(mailbox(m, GMIME_ADDRESS_TYPE_TO)), ==,
	                "anna@example.org");
	g_assert_cmpstr(internet_address_mailbox_get_addr(mailbox(m, GMIME_ADDRESS_TYPE_REPLY_TO)),
	                ==, "support+42-k3j9x2@example.com");
	g_assert_cmpstr(g_mime_message_get_subject(m), ==, "[#42] Printer");
	g_assert_cmpstr(g_mime_message_get_message_id(m), ==, "t42.m7.abcdef@help.example.com");
	g_assert_cmpstr(g_mime_object_get_header(GMIME_OBJECT(m), "In-Reply-To"), ==,
	                "<second@example.org>");
	refs = g_mime_references_parse(NULL, g_mime_object_get_header(GMIME_OBJECT(m), "References"));
	g_assert_cmpint(g_mime_references_length(refs), ==, 2);
	g_assert_cmpstr(g_mime_references_get_message_id(refs, 0), ==, "first@example.org");
	g_assert_cmpstr(g_mime_references_get_message_id(refs, 1), ==, "second@example.org");
	g_mime_references_free(refs);
	g_assert_cmpstr(g_mime_object_get_header(GMIME_OBJECT(m), "Date"), ==, date);
	g_assert_cmpstr(date, ==, "Tue, 24 Nov 2026 17:00:00 +0200");
	g_assert_cmpstr(content_language(m), ==, "en");
	g_assert_cmpstr(g_mime_object_get_header(GMIME_OBJECT(m), "X-Maildesk-Ticket"), ==, "42");
	g_assert_cmpstr(g_mime_object_get_header(GMIME_OBJECT(m), "Auto-Submitted"), ==,
	                "auto-replied");
	g_assert_cmpstr(g_mime_object_get_header(GMIME_OBJECT(m), "X-Auto-Response-Suppress"), ==,
	                "All");
	g_assert_cmpstr(g_mime_object_get_header(GMIME_OBJECT(m), "X-Priority"), ==, "3");
	g_assert_cmpuint(header_count(GMIME_OBJECT(m), "MIME-Version"), ==, 1);
	g_assert_cmpuint(header_count(GMIME_OBJECT(m), "Subject"), ==, 1);
	g_assert_cmpuint(header_count(GMIME_OBJECT(m), "Date"), ==, 1);

	body = g_mime_message_get_mime_part(m);
	g_assert_true(GMIME_IS_TEXT_PART(body));
	g_assert_true(g_mime_content_type_is_type(g_mime_object_get_content_type(body), "text",
	                                          "plain"));
	g_assert_cmpstr(g_mime_object_get_content_type_parameter(body, "charset"), ==, "utf-8");
	g_assert_cmpint(g_mime_part_get_content_encoding(GMIME_PART(body)), ==,
	                GMIME_CONTENT_ENCODING_7BIT);
	{
		g_autofree char *text = g_mime_text_part_get_text(GMIME_TEXT_PART(body));

		g_assert_cmpstr(text, ==, "Hello,\r\nwe got it.\r\n");
	}
	g_assert_true(g_str_has_suffix(wire, "\r\n\r\nHello,\r\nwe got it.\r\n"));

	g_object_unref(m);
	g_byte_array_unref(a);
	rendered_free(r);
}

/* Cyrillic and Latvian names, subject and body survive the round trip. */
static void
test_roundtrip_i18n(void)
{
	static const struct {
		const char *from_name, *to_name, *subject, *text, *lang;
	} cases[] = {
		{ "Служба поддержки Example", "Иван Петров",
		  "[#42] Не работает принтер — срочно, «очень»",
		  "Здравствуйте!\nМы получили Ваше письмо.\n", "ru" },
		{ "Klientu atbalsts", "Jānis Bērziņš", "[#43] Printeris nedarbojas: ķēdes ģērbšana",
		  "Labdien!\nEsam saņēmuši Jūsu vēstuli. Ā Č Ē Ģ Ī Ķ Ļ Ņ Š Ū Ž\n", "lv" },
		{ "Ann \"the\" Agent, via Support", "O'Brien, Pat <pat@x>", "Re: a, b; c \"d\" (e)",
		  "plain\n", "en" },
		{ "Поддержка", "Ольга", "[#44] После обновления перестал печатать принтер в бухгалтерии "
		  "на третьем этаже, просьба срочно посмотреть",
		  "Текст\n", "ru" },
		{ "Atbalsts", "Līga", "[#45] Pēc atjaunināšanas grāmatvedības nodaļā trešajā stāvā "
		  "vairs nedrukā printeris — lūdzu, apskatiet steidzami",
		  "Paldies, Līga!\n", "lv" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		MdRendered *r = rendered(cases[i].subject, cases[i].text, NULL);
		MdComposeHeaders h = headers_default();
		GByteArray *a;
		GMimeMessage *m;
		GMimeObject *body;
		g_autofree char *text = NULL;
		g_autofree char *want_text = NULL;
		g_auto(GStrv) lines = NULL;
		g_autofree char *subject = NULL;

		h.from_name = cases[i].from_name;
		h.to_name = cases[i].to_name;
		h.language = cases[i].lang;
		a = compose_message(r, &h);
		g_assert_nonnull(a);
		assert_wire_clean(a);
		m = parse(a);
		subject = decode_header(GMIME_OBJECT(m), "Subject");
		g_assert_cmpstr(subject, ==, cases[i].subject);
		g_assert_cmpstr(
		    internet_address_get_name(INTERNET_ADDRESS(mailbox(m, GMIME_ADDRESS_TYPE_FROM))), ==,
		    cases[i].from_name);
		g_assert_cmpstr(
		    internet_address_get_name(INTERNET_ADDRESS(mailbox(m, GMIME_ADDRESS_TYPE_TO))), ==,
		    cases[i].to_name);
		g_assert_cmpstr(internet_address_mailbox_get_addr(mailbox(m, GMIME_ADDRESS_TYPE_TO)),
		                ==, "anna@example.org");
		g_assert_cmpstr(content_language(m), ==,
		                cases[i].lang);
		body = g_mime_message_get_mime_part(m);
		g_assert_cmpstr(g_mime_object_get_content_type_parameter(body, "charset"), ==, "utf-8");
		g_assert_cmpint(g_mime_part_get_content_encoding(GMIME_PART(body)), ==,
		                (i == 2 ? GMIME_CONTENT_ENCODING_7BIT
		                        : GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE));
		text = g_mime_text_part_get_text(GMIME_TEXT_PART(body));
		lines = g_strsplit(cases[i].text, "\n", -1);
		want_text = g_strjoinv("\r\n", lines);
		g_assert_cmpstr(text, ==, want_text);
		g_object_unref(m);
		g_byte_array_unref(a);
		rendered_free(r);
	}
}

/* Values that try to add headers, given to compose unescaped. */
static void
test_injection(void)
{
	MdRendered *r = rendered("Hi\r\nBcc: evil@x", "body\n", NULL);
	MdComposeHeaders h = headers_default();
	GByteArray *a;
	GMimeMessage *m;
	g_autofree char *wire = NULL;

	rendered_add(r, "X-Custom", "ok\nBcc: evil2@x\r\n\r\nbody: injected");
	rendered_add(r, "X-Ctl", "a\x01\x1b\x7f\xc2\x85z");
	h.from_name = "Support\r\nBcc: evil3@x";
	h.to_name = "Anna\nCc: evil4@x";
	h.ticket_tag = "42\r\nBcc: evil5@x";
	a = compose_message(r, &h);
	g_assert_nonnull(a);
	assert_wire_clean(a);
	wire = wire_string(a);
	m = parse(a);

	g_assert_null(g_mime_object_get_header(GMIME_OBJECT(m), "Bcc"));
	g_assert_null(g_mime_object_get_header(GMIME_OBJECT(m), "Cc"));
	g_assert_null(strstr(wire, "\nBcc:"));
	g_assert_null(strstr(wire, "\nCc:"));
	g_assert_null(strstr(wire, "\nbody: injected"));
	g_assert_cmpstr(g_mime_message_get_subject(m), ==, "Hi Bcc: evil@x");
	g_assert_cmpstr(g_mime_object_get_header(GMIME_OBJECT(m), "X-Custom"), ==,
	                "ok Bcc: evil2@x body: injected");
	g_assert_cmpstr(g_mime_object_get_header(GMIME_OBJECT(m), "X-Ctl"), ==, "a z");
	g_assert_cmpstr(g_mime_object_get_header(GMIME_OBJECT(m), "X-Maildesk-Ticket"), ==,
	                "42 Bcc: evil5@x");
	g_assert_cmpstr(
	    internet_address_get_name(INTERNET_ADDRESS(mailbox(m, GMIME_ADDRESS_TYPE_FROM))), ==,
	    "Support Bcc: evil3@x");
	g_assert_cmpstr(internet_address_get_name(INTERNET_ADDRESS(mailbox(m, GMIME_ADDRESS_TYPE_TO))),
	                ==, "Anna Cc: evil4@x");
	g_assert_cmpint(internet_address_list_length(
	                    g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_TO)), ==, 1);
	/* Exactly one header block: the first blank line is the body's. */
	g_assert_true(g_str_has_suffix(wire, "\r\n\r\nbody\r\n"));
	g_object_unref(m);
	g_byte_array_unref(a);
	rendered_free(r);
}

/* A template cannot override what routes or threads the message. */
static void
test_reserved_headers(void)
{
	static const char *const reserved[] = {
		"From", "to", "CC", "Bcc", "Reply-To", "Message-ID", "Message-Id", "In-Reply-To",
		"References", "Date", "MIME-Version", "Content-Type", "content-transfer-encoding",
		"Content-Language", "Sender", "Return-Path", "Auto-Submitted",
		"X-Auto-Response-Suppress", "Resent-To", "X-Maildesk-Ticket", "Received",
	};
	MdRendered *r = rendered("S", "body\n", NULL);
	MdComposeHeaders h = headers_default();
	GByteArray *a;
	GMimeMessage *m;
	g_autofree char *wire = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(reserved); i++)
		rendered_add(r, reserved[i], "evil@attacker.example");
	rendered_add(r, "Subject", "second subject");
	rendered_add(r, "Bad Name", "x");
	rendered_add(r, "Bad:Name", "x");
	rendered_add(r, "X-Empty", "  ");
	rendered_add(r, "X-Mailer-Note", "kept");
	h.auto_replied = FALSE;
	a = compose_message(r, &h);
	g_assert_nonnull(a);
	assert_wire_clean(a);
	wire = wire_string(a);
	m = parse(a);

	g_assert_null(strstr(wire, "attacker"));
	g_assert_null(strstr(wire, "second subject"));
	g_assert_null(strstr(wire, "Bad"));
	g_assert_null(strstr(wire, "X-Empty"));
	g_assert_cmpstr(g_mime_object_get_header(GMIME_OBJECT(m), "X-Mailer-Note"), ==, "kept");
	g_assert_cmpstr(g_mime_message_get_subject(m), ==, "S");
	g_assert_null(g_mime_object_get_header(GMIME_OBJECT(m), "Auto-Submitted"));
	g_assert_null(g_mime_object_get_header(GMIME_OBJECT(m), "X-Auto-Response-Suppress"));
	g_assert_null(g_mime_object_get_header(GMIME_OBJECT(m), "Sender"));
	g_assert_cmpuint(header_count(GMIME_OBJECT(m), "From"), ==, 1);
	g_assert_cmpuint(header_count(GMIME_OBJECT(m), "Message-ID"), ==, 1);
	g_assert_cmpstr(g_mime_message_get_message_id(m), ==, "t42.m7.abcdef@help.example.com");
	g_object_unref(m);
	g_byte_array_unref(a);
	rendered_free(r);
}

static void
test_html_alternative(void)
{
	MdRendered *r = rendered("[#42] Привет", "Текст\n",
	                         "<!DOCTYPE html>\n<html><body><p>Текст &amp; HTML</p></body></html>\n");
	MdComposeHeaders h = headers_default();
	GByteArray *a = compose_message(r, &h);
	GMimeMessage *m;
	GMimeObject *body, *plain, *html;
	g_autofree char *t1 = NULL;
	g_autofree char *t2 = NULL;

	g_assert_nonnull(a);
	assert_wire_clean(a);
	m = parse(a);
	body = g_mime_message_get_mime_part(m);
	g_assert_true(GMIME_IS_MULTIPART(body));
	g_assert_true(g_mime_content_type_is_type(g_mime_object_get_content_type(body), "multipart",
	                                          "alternative"));
	g_assert_cmpint(g_mime_multipart_get_count(GMIME_MULTIPART(body)), ==, 2);
	plain = g_mime_multipart_get_part(GMIME_MULTIPART(body), 0);
	html = g_mime_multipart_get_part(GMIME_MULTIPART(body), 1);
	g_assert_true(g_mime_content_type_is_type(g_mime_object_get_content_type(plain), "text",
	                                          "plain"));
	g_assert_true(g_mime_content_type_is_type(g_mime_object_get_content_type(html), "text",
	                                          "html"));
	g_assert_cmpstr(g_mime_object_get_content_type_parameter(html, "charset"), ==, "utf-8");
	t1 = g_mime_text_part_get_text(GMIME_TEXT_PART(plain));
	t2 = g_mime_text_part_get_text(GMIME_TEXT_PART(html));
	g_assert_cmpstr(t1, ==, "Текст\r\n");
	g_assert_cmpstr(t2, ==,
	                "<!DOCTYPE html>\r\n<html><body><p>Текст &amp; HTML</p></body></html>\r\n");
	g_assert_cmpuint(header_count(GMIME_OBJECT(m), "MIME-Version"), ==, 1);
	g_object_unref(m);
	g_byte_array_unref(a);
	rendered_free(r);
}

/* 10,000-character subject, name and body line still give short lines. */
static void
test_long_values(void)
{
	g_autoptr(GString) ascii = g_string_new(NULL);
	g_autoptr(GString) cyr = g_string_new(NULL);
	g_autoptr(GString) words = g_string_new(NULL);
	g_autoptr(GString) text = g_string_new(NULL);

	for (int i = 0; i < 10000; i++)
		g_string_append_c(ascii, "abcdefghij"[i % 10]);
	for (int i = 0; i < 10000; i++)
		g_string_append(cyr, i % 7 == 6 ? " " : "ж");
	for (int i = 0; i < 2000; i++)
		g_string_append(words, "word ");
	g_string_truncate(words, words->len - 1);
	g_string_append_printf(text, "%s\n%s\n", ascii->str, cyr->str);

	const char *const subjects[] = { ascii->str, cyr->str, words->str };
	for (guint i = 0; i < G_N_ELEMENTS(subjects); i++) {
		MdRendered *r = rendered(subjects[i], i == 2 ? ascii->str : text->str, NULL);
		MdComposeHeaders h = headers_default();
		GByteArray *a;
		GMimeMessage *m;
		g_autofree char *got = NULL;
		g_autofree char *subject = NULL;
		g_autofree char *to = NULL;
		g_autofree char *want_to = NULL;

		h.to_name = subjects[i];
		a = compose_message(r, &h);
		g_assert_nonnull(a);
		assert_wire_clean(a);
		m = parse(a);
		subject = decode_header(GMIME_OBJECT(m), "Subject");
		assert_same(subject, subjects[i]);
		/* A structured header: GMime folds a phrase with a TAB, which
		 * means the same as the space it replaced. */
		to = g_strdelimit(decode_header(GMIME_OBJECT(m), "To"), "\t", ' ');
		want_to = g_strdup_printf("%s <anna@example.org>", subjects[i]);
		assert_same(to, want_to);
		g_assert_cmpint(g_mime_part_get_content_encoding(GMIME_PART(g_mime_message_get_mime_part(m))),
		                ==, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
		got = g_mime_text_part_get_text(GMIME_TEXT_PART(g_mime_message_get_mime_part(m)));
		if (i == 2) {
			g_autofree char *want = g_strconcat(ascii->str, "\r\n", NULL);

			assert_same(got, want);
		} else {
			g_autofree char *want =
			    g_strdup_printf("%s\r\n%s\r\n", ascii->str, cyr->str);

			assert_same(got, want);
		}
		g_object_unref(m);
		g_byte_array_unref(a);
		rendered_free(r);
	}
}

static void
test_references(void)
{
	g_autoptr(GPtrArray) refs = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *too_long = g_strnfill(300, 'x');
	MdRendered *r = rendered("S", "b\n", NULL);
	MdComposeHeaders h = headers_default();
	GByteArray *a;
	GMimeMessage *m;
	GMimeReferences *parsed;
	g_autofree char *wire = NULL;

	g_ptr_array_add(refs, g_strdup("root@example.org"));
	g_ptr_array_add(refs, g_strdup("bad id@example.org"));
	g_ptr_array_add(refs, g_strdup("<bracketed@example.org>"));
	g_ptr_array_add(refs, g_strdup("a\r\nBcc: evil@x"));
	g_ptr_array_add(refs, g_strdup(""));
	g_ptr_array_add(refs, g_strdup(too_long));
	for (int i = 0; i < 40; i++)
		g_ptr_array_add(refs, g_strdup_printf("m%d.a-fairly-long-message-id@mail.example.org", i));
	g_ptr_array_add(refs, NULL);
	h.references = (const char *const *)refs->pdata;
	h.in_reply_to = "evil>\r\nBcc: x@y";
	a = compose_message(r, &h);
	g_assert_nonnull(a);
	assert_wire_clean(a);
	wire = wire_string(a);
	m = parse(a);

	g_assert_null(g_mime_object_get_header(GMIME_OBJECT(m), "In-Reply-To"));
	g_assert_null(g_mime_object_get_header(GMIME_OBJECT(m), "Bcc"));
	parsed = g_mime_references_parse(NULL, g_mime_object_get_header(GMIME_OBJECT(m), "References"));
	g_assert_cmpint(g_mime_references_length(parsed), ==, 20);
	g_assert_cmpstr(g_mime_references_get_message_id(parsed, 0), ==, "root@example.org");
	g_assert_cmpstr(g_mime_references_get_message_id(parsed, 1), ==,
	                "m21.a-fairly-long-message-id@mail.example.org");
	g_assert_cmpstr(g_mime_references_get_message_id(parsed, 19), ==,
	                "m39.a-fairly-long-message-id@mail.example.org");
	g_mime_references_free(parsed);
	/* Folded: no line of the header block is longer than 78. */
	{
		g_auto(GStrv) lines = g_strsplit(wire, "\r\n", -1);

		for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++)
			g_assert_cmpuint(strlen(lines[i]), <=, 78);
	}
	g_object_unref(m);
	g_byte_array_unref(a);
	rendered_free(r);
}

static void
test_optional_headers(void)
{
	MdRendered *r = rendered(NULL, "", NULL);
	MdComposeHeaders h = headers_default();
	GByteArray *a;
	GMimeMessage *m;
	g_autofree char *wire = NULL;

	h.to_name = NULL;
	h.from_name = "";
	h.reply_to = NULL;
	h.in_reply_to = NULL;
	h.references = NULL;
	h.language = "ru\r\nX: y";
	h.ticket_tag = NULL;
	a = compose_message(r, &h);
	g_assert_nonnull(a);
	assert_wire_clean(a);
	wire = wire_string(a);
	m = parse(a);
	/* No Subject in the template: an empty Subject header. */
	g_assert_cmpuint(header_count(GMIME_OBJECT(m), "Subject"), ==, 1);
	g_assert_cmpstr(g_mime_message_get_subject(m) ? g_mime_message_get_subject(m) : "", ==, "");
	/* Bare addresses when there is no display name. */
	g_assert_nonnull(strstr(wire, "\r\nTo: anna@example.org\r\n"));
	g_assert_true(g_str_has_prefix(wire, "From: support@example.com\r\n"));
	g_assert_null(g_mime_object_get_header(GMIME_OBJECT(m), "Reply-To"));
	g_assert_null(g_mime_object_get_header(GMIME_OBJECT(m), "In-Reply-To"));
	g_assert_null(g_mime_object_get_header(GMIME_OBJECT(m), "References"));
	g_assert_null(content_language(m));
	g_assert_null(g_mime_object_get_header(GMIME_OBJECT(m), "X-Maildesk-Ticket"));
	g_assert_null(strstr(wire, "X: y"));
	g_object_unref(m);
	g_byte_array_unref(a);
	rendered_free(r);
}

/* Bare CR, CRLF and a missing final newline in the body come out CRLF. */
static void
test_body_newlines(void)
{
	MdRendered *r = rendered("S", "a\r\nb\rc\nd", NULL);
	MdComposeHeaders h = headers_default();
	GByteArray *a = compose_message(r, &h);
	g_autofree char *wire = NULL;

	g_assert_nonnull(a);
	assert_wire_clean(a);
	wire = wire_string(a);
	g_assert_true(g_str_has_suffix(wire, "\r\n\r\na\r\nb\r\nc\r\nd\r\n"));
	g_byte_array_unref(a);
	rendered_free(r);
}

static void
test_bad_addresses(void)
{
	static const char *const bad[] = {
		"", "plain", "@example.org", "a@", "a b@example.org", "a@b\r\nBcc: x@y",
		"x@y, z@w", "<x@y>", "Name <x@y>", "ж@example.org", "a..b@example.org",
		".a@example.org", "a@example..org", "a@exa mple.org", "a@[127.0.0.1]",
		"\"quoted\"@example.org", "a(comment)@example.org", "a@b@c",
		/* a dotless domain is the relay's own (root@localhost) */
		"a@b",
	};
	static const char *const good[] = {
		"a@b.c", "first.last+tag@example.org", "o'brien@example.ie", "user@пример.рф",
		"x_y-z=1@sub.example.co.uk",
	};
	MdRendered *r = rendered("S", "b\n", NULL);

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		MdComposeHeaders h = headers_default();

		h.to_addr = bad[i];
		g_assert_null(compose_message(r, &h));
		h = headers_default();
		h.from_addr = bad[i];
		g_assert_null(compose_message(r, &h));
		h = headers_default();
		h.reply_to = bad[i];
		g_assert_null(compose_message(r, &h));
	}
	for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
		MdComposeHeaders h = headers_default();
		GByteArray *a;
		GMimeMessage *m;

		h.to_addr = good[i];
		a = compose_message(r, &h);
		g_assert_nonnull(a);
		assert_wire_clean(a);
		m = parse(a);
		g_assert_nonnull(internet_address_mailbox_get_addr(mailbox(m, GMIME_ADDRESS_TYPE_TO)));
		g_object_unref(m);
		g_byte_array_unref(a);
	}
	{
		MdComposeHeaders h = headers_default();

		h.to_addr = NULL;
		g_assert_null(compose_message(r, &h));
		h = headers_default();
		h.message_id = NULL;
		g_assert_null(compose_message(r, &h));
		h.message_id = "a b@c";
		g_assert_null(compose_message(r, &h));
		h.message_id = "<x@y>";
		g_assert_null(compose_message(r, &h));
		g_assert_null(compose_message(NULL, &h));
	}
	rendered_free(r);
}

/* The shipped templates, rendered and composed, in every language. */
static void
test_ack_end_to_end(void)
{
	static const char *const langs[] = { "en", "ru", "lv" };
	g_autofree char *dir = g_test_build_filename(G_TEST_DIST, "templates", NULL);

	for (guint i = 0; i < G_N_ELEMENTS(langs); i++) {
		g_autoptr(JsonObject) ctx = json_object_new();
		JsonObject *ticket = json_object_new();
		g_autoptr(MdRendered) r = NULL;
		char *error = NULL;
		MdComposeHeaders h = headers_default();
		GByteArray *a;
		GMimeMessage *m;
		g_autofree char *subject = NULL;

		json_object_set_int_member(ticket, "id", 42);
		json_object_set_string_member(ticket, "tag", "[#42]");
		json_object_set_string_member(ticket, "subject", "Hi\r\nBcc: evil@x — ķēde ёж");
		json_object_set_string_member(ticket, "status_text", "new");
		json_object_set_object_member(ctx, "ticket", ticket);
		r = template_render_file(dir, langs[i], "en", "ack", ctx, &error);
		g_assert_null(error);
		h.language = r->language;
		a = compose_message(r, &h);
		g_assert_nonnull(a);
		assert_wire_clean(a);
		m = parse(a);
		subject = decode_header(GMIME_OBJECT(m), "Subject");
		g_assert_cmpstr(subject, ==, "[#42] Hi Bcc: evil@x — ķēde ёж");
		g_assert_null(g_mime_object_get_header(GMIME_OBJECT(m), "Bcc"));
		g_assert_true(GMIME_IS_MULTIPART(g_mime_message_get_mime_part(m)));
		g_object_unref(m);
		g_byte_array_unref(a);
	}
}

/* The envelope of raw as a ", "-joined string.  Caller frees. */
static char *
envelope_of(const guint8 *raw, gsize len)
{
	g_auto(GStrv) rcpts = compose_recipients(raw, len);

	return g_strjoinv(", ", rcpts);
}

/*
 * Customer-supplied Cc addresses in every hostile form: what the header
 * shows and what the envelope holds are the same mailboxes, and no
 * address hidden in a quoted local part, a literal or a group reaches
 * either.
 */
static void
test_recipients_hostile_cc(void)
{
	static const char *const cc[] = {
		"\"a,hidden@evil.example,b\"@example.org",
		"\"a hidden@evil.example\"@example.org",
		"\"a@hidden.example\"@example.org",
		"\"x\\\"\r\nBcc: hidden@evil.example\"@example.org",
		"hidden@[192.0.2.7]",
		"hidden@[IPv6:2001:db8::1]",
		"grp: hidden@evil.example;",
		"Hidden <hidden@evil.example>",
		"hidden@evil.example, other@evil.example",
		"hidden@evil.example\r\nBcc: more@evil.example",
		"@route.example:hidden@evil.example",
		"hidden@localhost",
		"ok1@example.org",
		"OK1@example.org",
		"ok2@пример.рф",
		NULL,
	};
	MdRendered *r = rendered("S", "b\n", NULL);
	MdComposeHeaders h = headers_default();
	GByteArray *a;
	GMimeMessage *m;
	g_autofree char *env = NULL;
	g_autofree char *wire = NULL;
	InternetAddressList *shown;

	h.cc = cc;
	a = compose_message(r, &h);
	g_assert_nonnull(a);
	assert_wire_clean(a);
	wire = wire_string(a);
	env = envelope_of(a->data, a->len);
	g_assert_cmpstr(env, ==, "anna@example.org, ok1@example.org, ok2@xn--e1afmkfd.xn--p1ai");
	g_assert_null(strstr(wire, "hidden"));
	g_assert_null(strstr(env, "hidden"));
	m = parse(a);
	shown = g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_CC);
	/* ok1 twice in the header (as given), once in the envelope */
	g_assert_cmpint(internet_address_list_length(shown), ==, 3);
	g_object_unref(m);
	g_byte_array_unref(a);
	rendered_free(r);
}

/* Read back from header text we did not write: only plain mailboxes count. */
static void
test_recipients_read_back(void)
{
	static const struct {
		const char *header, *want;
	} cases[] = {
		{ "To: a@example.org\r\nCc: \"a,hidden@evil.example,b\"@example.org\r\n",
		  "a@example.org" },
		{ "To: \"quoted space\"@example.org, b@example.org\r\n", "b@example.org" },
		{ "To: c@[127.0.0.1], d@example.org\r\n", "d@example.org" },
		{ "To: undisclosed: e@example.org, f@example.org;\r\n", "" },
		{ "To: =?utf-8?q?Evil=2C_hidden=40evil=2Eexample=2C?= <g@example.org>\r\n",
		  "g@example.org" },
		{ "To: \"Comma, Name\" <h@example.org>\r\nCc: H@EXAMPLE.ORG\r\n", "h@example.org" },
		{ "To: i@example.org (comment, hidden@evil.example)\r\n", "i@example.org" },
		{ "From: j@example.org\r\nBcc: hidden@evil.example\r\nReply-To: k@example.org\r\n",
		  "" },
		{ "To: l@example.org\r\n\r\nCc: hidden@evil.example\r\n", "l@example.org" },
		{ "", "" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *raw = g_strconcat(cases[i].header, "\r\nbody\r\n", NULL);
		g_autofree char *env = envelope_of((const guint8 *)raw, strlen(raw));

		g_test_message("%s", cases[i].header);
		g_assert_cmpstr(env, ==, cases[i].want);
	}
	{
		g_auto(GStrv) none = compose_recipients(NULL, 0);

		g_assert_null(none[0]);
	}
}

int
main(int argc, char **argv)
{
	int rc;

	g_test_init(&argc, &argv, NULL);
	g_mime_init();
	g_test_add_func("/compose/basic", test_basic);
	g_test_add_func("/compose/roundtrip-i18n", test_roundtrip_i18n);
	g_test_add_func("/compose/injection", test_injection);
	g_test_add_func("/compose/reserved-headers", test_reserved_headers);
	g_test_add_func("/compose/html-alternative", test_html_alternative);
	g_test_add_func("/compose/long-values", test_long_values);
	g_test_add_func("/compose/references", test_references);
	g_test_add_func("/compose/optional-headers", test_optional_headers);
	g_test_add_func("/compose/body-newlines", test_body_newlines);
	g_test_add_func("/compose/bad-addresses", test_bad_addresses);
	g_test_add_func("/compose/ack-end-to-end", test_ack_end_to_end);
	g_test_add_func("/compose/recipients-hostile-cc", test_recipients_hostile_cc);
	g_test_add_func("/compose/recipients-read-back", test_recipients_read_back);
	rc = g_test_run();
	g_mime_shutdown();
	return rc;
}
