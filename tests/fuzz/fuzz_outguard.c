/*
 * fuzz_outguard.c - the outbound guard: outguard_check() on hostile
 * composed mail, with fixed notes (FUZZ_NOTE among them) and the fuzz
 * site's secret.
 *
 * Invariants beyond "no crash, no leak, no sanitizer report", on every
 * input:
 *  - the answer is the same when asked twice (it depends on the bytes
 *    alone), and a reason is short, printable UTF-8 on one line, and
 *    never holds a note's words (it goes into agent mail and events,
 *    but also into logs);
 *  - nothing the input holds hides what follows it: the input wrapped
 *    as the first part of a multipart/mixed whose second part is the
 *    note's text (or a note address of ticket 1), as GMime reads that
 *    wrapper, is refused.  (When GMime does not see the second part as
 *    written, the input broke the wrapper's syntax: nothing to check.)
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <gmime/gmime.h>

#include "fuzz.h"
#include "outguard.h"
#include "parse.h"
#include "token.h"

#define FUZZ_NOTE \
	"Between us: the customer is on the legacy contract, finance will not refund before " \
	"the audit closes, so do not promise any date. Code word PELICAN-4417."
#define BOUNDARY "=_maildesk-fuzz-outguard-7f3a9c"
#define MAX_REASON 512

static const char *const notes[] = {
	FUZZ_NOTE,
	"Клиент на старом тарифе, скидку не предлагать до конца проверки.",
	"VIP customer, refund approved",
	"ok",
	NULL,
};

static char *
check(const guint8 *raw, gsize len)
{
	MdOutguardFacts f = { fuzz_secret(), notes, "help.example.com", 20, 500 };

	return outguard_check(raw, len, &f);
}

static void
check_reason(const char *why)
{
	if (why == NULL)
		return;
	FUZZ_CHECK(g_utf8_validate(why, -1, NULL), "reason is not UTF-8");
	FUZZ_CHECK(strlen(why) <= MAX_REASON, "reason of %zu bytes", strlen(why));
	for (const char *p = why; *p != '\0'; p++)
		FUZZ_CHECK((guchar)*p >= 0x20 && *p != 0x7f, "reason with control byte 0x%02x",
		           (guchar)*p);
	FUZZ_CHECK(strstr(why, "PELICAN") == NULL && strstr(why, "legacy") == NULL,
	           "reason carries the note: %s", why);
}

/* The content of the second part of wrapped as GMime reads it, or NULL. */
static char *
second_part(const GString *wrapped)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(wrapped->str, wrapped->len);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
	GMimeObject *body = msg != NULL ? g_mime_message_get_mime_part(msg) : NULL;
	char *out = NULL;

	if (body != NULL && GMIME_IS_MULTIPART(body) &&
	    g_mime_multipart_get_count(GMIME_MULTIPART(body)) == 2) {
		GMimeObject *last = g_mime_multipart_get_part(GMIME_MULTIPART(body), 1);

		if (GMIME_IS_TEXT_PART(last))
			out = g_mime_text_part_get_text(GMIME_TEXT_PART(last));
	}
	g_clear_object(&msg);
	g_object_unref(parser);
	g_object_unref(stream);
	return out;
}

/* The input as part one, then text as part two: must be refused. */
static void
check_not_hidden(const uint8_t *data, size_t size, const char *text)
{
	GString *w = g_string_new("From: support@example.com\nTo: jane@customer.test\n"
	                          "Subject: Re: [#1]\nMIME-Version: 1.0\n"
	                          "Content-Type: multipart/mixed; boundary=\"" BOUNDARY "\"\n\n"
	                          "--" BOUNDARY "\nContent-Type: message/rfc822\n\n");
	g_autofree char *seen = NULL;
	g_autofree char *why = NULL;

	g_string_append_len(w, (const char *)data, (gssize)size);
	g_string_append_printf(w, "\n--" BOUNDARY "\nContent-Type: text/plain; charset=utf-8\n\n"
	                          "%s\n--" BOUNDARY "--\n",
	                       text);
	seen = second_part(w);
	if (seen != NULL && strstr(seen, text) != NULL) {
		why = check((const guint8 *)w->str, w->len);
		check_reason(why);
		FUZZ_CHECK(why != NULL, "the text after the input was not found");
	}
	g_string_free(w, TRUE);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *note_addr = NULL;
	g_autofree char *why = NULL;
	g_autofree char *again = NULL;

	fuzz_init();
	parse_init();
	if (note_addr == NULL) {
		g_autofree char *purpose =
			token_person_purpose(fuzz_secret(), TOKEN_NOTE, "alice@example.com");

		note_addr = token_address(fuzz_secret(), "support@example.com", 1, purpose);
	}
	why = check(data, size);
	check_reason(why);
	if (fuzz_replaying && g_getenv("MAILDESK_FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "outguard: %s\n", why != NULL ? why : "goes");
	again = check(data, size);
	FUZZ_CHECK(g_strcmp0(why, again) == 0, "two answers: %s / %s", why ? why : "(go)",
	           again ? again : "(go)");
	check_not_hidden(data, size, FUZZ_NOTE);
	check_not_hidden(data, size, note_addr);
	return 0;
}
