/* Unit tests: fetch.c's pure parts, the envelope recipient of a fetched
 * message and the local line ends (the network parts: tests/e2e/fetch.py). */
#include "config.h"

#include <string.h>

#include "fetch.h"
#include "parse.h"

static char *
recipient_of(const char *raw)
{
	return fetch_envelope_recipient((const guint8 *)raw, strlen(raw), "support@example.com",
	                                256 * 1024);
}

static void
test_recipient(void)
{
	g_autofree char *plain = recipient_of("From: a@b.example\nTo: support@example.com\n\nhi\n");
	g_autofree char *to = recipient_of("From: a@b.example\n"
	                                   "To: \"Support\" <Support+12-abcdef@Example.com>\n\nhi\n");
	g_autofree char *delivered = recipient_of("Delivered-To: support+7-note-xyz@example.com\n"
	                                          "From: a@b.example\n"
	                                          "To: support+12-abcdef@example.com\n\nhi\n");
	g_autofree char *other = recipient_of("From: a@b.example\n"
	                                      "To: sales+12-abcdef@example.com, x@y.example\n"
	                                      "Cc: support+3-c0ffee@example.com\n\nhi\n");
	g_autofree char *body_only = recipient_of("From: a@b.example\nTo: support@example.com\n\n"
	                                          "To: support+1-forged@example.com\n");
	g_autofree char *crlf = recipient_of("From: a@b.example\r\nSubject: x\r\n\r\n"
	                                     "To: support+1-forged@example.com\r\n");
	g_autofree char *garbage = recipient_of("\x01\x02 not mail at all");

	g_assert_cmpstr(plain, ==, "support@example.com");
	g_assert_cmpstr(to, ==, "Support+12-abcdef@Example.com");
	/* Delivered-To, written by the mailbox's own MTA, comes first */
	g_assert_cmpstr(delivered, ==, "support+7-note-xyz@example.com");
	/* another queue's extended address is not this mailbox's */
	g_assert_cmpstr(other, ==, "support+3-c0ffee@example.com");
	/* only the header counts */
	g_assert_cmpstr(body_only, ==, "support@example.com");
	g_assert_cmpstr(crlf, ==, "support@example.com");
	g_assert_cmpstr(garbage, ==, "support@example.com");
}

static void
test_crlf(void)
{
	GByteArray *a = g_byte_array_new();
	const char *in = "A: b\r\n\r\nline\r\nbare\rcr\n\r\r\nend\r";
	/* only CRLF pairs change; a lone CR stays */
	const char *want = "A: b\n\nline\nbare\rcr\n\r\nend\r";

	g_byte_array_append(a, (const guint8 *)in, strlen(in));
	fetch_crlf_to_lf(a);
	g_assert_cmpmem(a->data, a->len, want, strlen(want));
	g_byte_array_unref(a);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	parse_init();
	g_test_add_func("/fetch/envelope-recipient", test_recipient);
	g_test_add_func("/fetch/crlf", test_crlf);
	return g_test_run();
}
