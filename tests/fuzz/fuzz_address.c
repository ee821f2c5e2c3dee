/*
 * fuzz_address.c - address fields through parse_message(): groups,
 * comments, quoted local parts, address literals, encoded words, and
 * whatever else the bytes make of a To, Cc, From or Reply-To.
 *
 * The first byte chooses where the rest goes (bits 0-1: To, Cc, From,
 * or all of To, Cc, From and Reply-To at once; bit 2: in the header of an
 * attached message/rfc822 rather than the message's own).  The rest is
 * the field's value as it comes, line breaks included, so that it may
 * fold the field or add fields of its own.
 *
 * Invariants beyond "no crash, no leak, no sanitizer report" (GMime
 * recursed on nested groups until the stack overflowed):
 *  - every address and name is valid UTF-8; no address holds a CR or LF
 *    and no name a control character (they are written into headers and
 *    SMTP commands);
 *  - no more addresses than the input could spell (one byte each at the
 *    very least);
 *  - the decoded From/To/Cc strings are valid UTF-8;
 *  - a field parse_bounds objects to is reported in parse_error.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "parse.h"
#include "parse_bounds.h"

static const char *const fields[] = { "To", "Cc", "From" };

static void
check_address(const MdAddress *a, const char *where)
{
	FUZZ_CHECK(a != NULL, "%s: a NULL address", where);
	if (a->addr != NULL) {
		FUZZ_CHECK(g_utf8_validate(a->addr, -1, NULL), "%s: address not UTF-8", where);
		FUZZ_CHECK(strpbrk(a->addr, "\r\n") == NULL, "%s: address holds a line break: %s", where,
		           a->addr);
	}
	if (a->name != NULL) {
		FUZZ_CHECK(g_utf8_validate(a->name, -1, NULL), "%s: name not UTF-8", where);
		for (const char *c = a->name; *c != '\0'; c++)
			FUZZ_CHECK((guchar)*c >= 0x20 && *c != 0x7f, "%s: name holds control 0x%02x", where,
			           (guchar)*c);
	}
}

static void
check_list(const GPtrArray *list, const char *where, gsize size)
{
	FUZZ_CHECK(list != NULL, "%s: no list", where);
	FUZZ_CHECK(list->len <= size + 1, "%s: %u addresses from %zu bytes", where, list->len, size);
	for (guint i = 0; i < list->len; i++)
		check_address(g_ptr_array_index(list, i), where);
}

static void
check_utf8(const char *s, const char *where)
{
	FUZZ_CHECK(s == NULL || g_utf8_validate(s, -1, NULL), "%s not UTF-8", where);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GString *raw;
	g_autoptr(MdMessage) msg = NULL;
	guint sel;
	gboolean inner;
	const char *bounds;

	fuzz_init();
	parse_init();
	if (size == 0)
		return 0;
	sel = data[0] & 3;
	inner = (data[0] & 4) != 0;
	data++;
	size--;

	raw = g_string_sized_new(size * 4 + 256);
	g_string_append(raw, "Subject: fuzz\nMessage-ID: <fuzz@example.org>\n");
	if (inner)
		g_string_append(raw, "From: outer@example.org\nTo: support@example.com\nMIME-Version: 1.0\n"
		                     "Content-Type: message/rfc822\n\nSubject: inner\n");
	else if (sel != 2 && sel != 3)
		g_string_append(raw, "From: customer@example.org\n");
	for (guint i = 0; i < G_N_ELEMENTS(fields) + 1; i++) {
		const char *name = i < G_N_ELEMENTS(fields) ? fields[i] : "Reply-To";

		if (sel == 3 ? TRUE : i == sel) {
			g_string_append_printf(raw, "%s: ", name);
			g_string_append_len(raw, (const char *)data, size);
			g_string_append_c(raw, '\n');
		}
	}
	g_string_append(raw, "\nthe text\n");

	msg = parse_message((const guint8 *)raw->str, raw->len, NULL);
	FUZZ_CHECK(msg != NULL, "parse_message returned NULL");
	check_list(msg->to, "To", size);
	check_list(msg->cc, "Cc", size);
	if (msg->from != NULL)
		check_address(msg->from, "From");
	if (msg->reply_to != NULL)
		check_address(msg->reply_to, "Reply-To");
	check_utf8(msg->from_header, "from_header");
	check_utf8(msg->to_header, "to_header");
	check_utf8(msg->cc_header, "cc_header");
	check_utf8(msg->subject, "subject");
	check_utf8(msg->parse_error, "parse_error");
	FUZZ_CHECK(msg->text != NULL && g_utf8_validate(msg->text, -1, NULL), "text not UTF-8");

	bounds = parse_bounds_check((const guint8 *)raw->str, raw->len);
	FUZZ_CHECK(bounds == NULL || msg->parse_error != NULL, "bounds hit (%s) but no parse_error", bounds);
	g_string_free(raw, TRUE);
	return 0;
}
