/* Unit tests: the outbound guard (outguard.c). */
#include "config.h"

#include <string.h>

#include "outguard.h"
#include "parse.h"
#include "token.h"

#define SECRET "0123456789abcdef0123456789abcdef"
#define HOST "help.example.com"

static const char NOTE[] =
	"Customer is on the legacy plan, do not offer the discount; finance said "
	"the refund must wait until the audit is finished in March.";
static const char NOTE_RU[] = "Клиент на старом тарифе, скидку не предлагать до конца проверки.";

static GBytes *
secret(void)
{
	return g_bytes_new_static(SECRET, strlen(SECRET));
}

/* The guard's answer for raw with the usual facts; caller frees. */
static char *
check_with(const char *raw, const char *const *notes, guint max_depth)
{
	g_autoptr(GBytes) key = secret();
	MdOutguardFacts f = { key, notes, HOST, max_depth, 100 };

	return outguard_check((const guint8 *)raw, strlen(raw), &f);
}

static char *
check(const char *raw)
{
	static const char *const notes[] = { NOTE, NOTE_RU, "ok", "call back later", NULL };

	return check_with(raw, notes, 10);
}

#define HEAD \
	"From: \"Alice via Support\" <support@example.com>\n" \
	"To: anna@example.org\n" \
	"Subject: Re: [#5] printer\n" \
	"Message-ID: <t5.abc.1@" HOST ">\n" \
	"MIME-Version: 1.0\n"

/* A mail of one text/plain body. */
static char *
plain_mail(const char *body)
{
	return g_strdup_printf(HEAD "Content-Type: text/plain; charset=utf-8\n\n%s\n", body);
}

/* A mail of a short body and an attachment of type, encoding and content. */
static char *
mail_with(const char *type, const char *encoding, const char *content)
{
	return g_strdup_printf(HEAD "Content-Type: multipart/mixed; boundary=\"b1\"\n\n"
	                            "--b1\nContent-Type: text/plain; charset=utf-8\n\n"
	                            "Hello Anna, the printer is fixed.\n"
	                            "--b1\nContent-Type: %s\nContent-Transfer-Encoding: %s\n"
	                            "Content-Disposition: attachment; filename=\"x\"\n\n%s\n--b1--\n",
	                       type, encoding, content);
}

static void
assert_held(char *why, const char *what)
{
	g_assert_nonnull(why);
	g_test_message("held: %s", why);
	g_assert_nonnull(strstr(why, what));
	/* never the note itself in the reason */
	g_assert_null(strstr(why, "legacy"));
	g_free(why);
}

static void
test_clean(void)
{
	g_autofree char *a = plain_mail(
		"Ok, we will call you back later today. The refund is on its way; the audit\n"
		"of your account is finished. Please reply to this mail with the serial number.\n"
		"Write to support+5-0123456789abcdef@example.com or alice@example.com.");
	g_autofree char *b = mail_with("image/png", "base64", "iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB");
	g_autoptr(GBytes) key = secret();
	g_autofree char *reply = token_address(key, "support@example.com", 5, NULL);
	g_autofree char *csat = token_address(key, "support@example.com", 5, "csat4");
	g_autofree char *bounce = token_address(key, "support@example.com", 5, "bounce");
	g_autofree char *c = NULL;

	g_assert_null(check(a));
	g_assert_null(check(b));
	/* our customer-side addresses are the customer's own */
	c = g_strdup_printf(HEAD "Reply-To: %s\nContent-Type: text/plain\n\nVote: %s\nBounce %s\n",
	                    reply, csat, bounce);
	g_assert_null(check(c));
	/* no notes, nothing else: goes */
	g_assert_null(check_with(a, NULL, 10));
}

static void
test_note_plain_and_reflowed(void)
{
	g_autofree char *plain = plain_mail(NOTE);
	/* quoted, re-wrapped at other places, punctuation and case changed */
	g_autofree char *quoted = plain_mail(
		"Hello Anna,\n\n> CUSTOMER is on the legacy\n> plan - do not offer the\n>> discount.\n"
		"> Finance said the refund\n");
	/* supercite prefixes */
	g_autofree char *supercite = plain_mail(
		"AB> customer is on the legacy plan,\nAB> do not offer the discount; finance\n");
	/* eight words of the note in the middle of other text */
	g_autofree char *run = plain_mail("As said before: the refund must wait until the audit is "
	                                  "finished, sorry.");
	/* seven: no */
	g_autofree char *seven = plain_mail("Well, the refund must wait until the audit ends.");

	assert_held(check(plain), "internal note");
	assert_held(check(quoted), "internal note");
	assert_held(check(supercite), "internal note");
	assert_held(check(run), "internal note");
	g_assert_null(check(seven));
}

static void
test_note_short(void)
{
	static const char *const notes[] = { "VIP customer, refund approved", "ok", NULL };
	g_autofree char *whole = plain_mail("Dear VIP customer: refund APPROVED!");
	g_autofree char *part = plain_mail("As a VIP customer your refund is approved.");
	g_autofree char *tiny = plain_mail("ok");

	assert_held(check_with(whole, notes, 10), "internal note");
	g_assert_null(check_with(part, notes, 10));
	g_assert_null(check_with(tiny, notes, 10));
}

/* Chinese has no spaces: each character counts as a word. */
static void
test_note_cjk(void)
{
	static const char *const notes[] = { "客户使用旧合同，财务在审计结束前不会退款，不要承诺任何日期。", NULL };
	g_autofree char *quoted = plain_mail("您好！\n> 财务在审计结束前不会退款，\n> 不要承诺");
	g_autofree char *other = plain_mail("您好！我们会尽快处理您的退款，谢谢您的耐心。");

	assert_held(check_with(quoted, notes, 10), "internal note");
	g_assert_null(check_with(other, notes, 10));
}

static void
test_note_base64_attachment(void)
{
	g_autofree char *b64 = g_base64_encode((const guchar *)NOTE, strlen(NOTE));
	g_autofree char *text = mail_with("text/plain; charset=utf-8", "base64", b64);
	/* a text file sent as binary */
	g_autofree char *octet = mail_with("application/octet-stream", "base64", b64);

	assert_held(check(text), "part 3, text/plain");
	assert_held(check(octet), "application/octet-stream");
}

static void
test_note_qp(void)
{
	/* soft line breaks in the middle of words, =3B for ";" */
	g_autofree char *qp = mail_with(
		"text/plain; charset=utf-8", "quoted-printable",
		"> Customer is on the leg=\nacy plan, do not of=\nfer the discount=3B finance said");

	assert_held(check(qp), "internal note");
}

static void
test_note_html(void)
{
	g_autofree char *html = mail_with(
		"text/html; charset=utf-8", "7bit",
		"<html><body><blockquote><p>Customer&nbsp;is on the <b>legacy</b> plan,<br>do not "
		"offer the <i>dis</i>count&#59; finance said</p></blockquote></body></html>");

	assert_held(check(html), "internal note");
}

static void
test_note_charset(void)
{
	g_autofree char *koi8 = g_convert(NOTE_RU, -1, "KOI8-R", "UTF-8", NULL, NULL, NULL);
	g_autofree char *b64 = g_base64_encode((const guchar *)koi8, strlen(koi8));
	g_autofree char *raw = mail_with("text/plain; charset=koi8-r", "base64", b64);
	/* UTF-16LE inside a binary file (as Outlook keeps text) */
	glong n = 0;
	g_autofree gunichar2 *wide = g_utf8_to_utf16(NOTE, -1, NULL, &n, NULL);
	g_autofree char *wb64 = g_base64_encode((const guchar *)wide, (gsize)n * 2);
	g_autofree char *tnef = mail_with("application/ms-tnef", "base64", wb64);
	/* at an odd offset, after a NUL unit, as TNEF attributes lie */
	GByteArray *odd = g_byte_array_new();
	g_autofree char *ob64 = NULL;
	g_autofree char *odd_mail = NULL;

	g_byte_array_append(odd, (const guint8 *)"\x01IPM\0\0\0", 7);
	g_byte_array_append(odd, (const guint8 *)wide, (guint)n * 2);
	ob64 = g_base64_encode(odd->data, odd->len);
	g_byte_array_unref(odd);
	odd_mail = mail_with("application/ms-tnef", "base64", ob64);
	assert_held(check(odd_mail), "application/ms-tnef");

	assert_held(check(raw), "internal note");
	assert_held(check(tnef), "application/ms-tnef");
}

static void
test_nested_message(void)
{
	g_autofree char *b64 = g_base64_encode((const guchar *)NOTE, strlen(NOTE));
	g_autofree char *inner = g_strdup_printf(
		"From: Support <support@example.com>\nSubject: [#5] note\n"
		"Content-Type: multipart/mixed; boundary=in\n\n--in\nContent-Type: text/plain\n\n"
		"Hi\n--in\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n%s\n--in--\n",
		b64);
	g_autofree char *rfc822 = mail_with("message/rfc822", "7bit", inner);
	/* the same message base64-encoded (no client should, some do) */
	g_autofree char *inner64 = g_base64_encode((const guchar *)inner, strlen(inner));
	g_autofree char *encoded = mail_with("message/rfc822", "base64", inner64);
	/* and as an .eml file of unknown type */
	g_autofree char *eml = mail_with("application/octet-stream", "base64", inner64);

	assert_held(check(rfc822), "internal note");
	assert_held(check(encoded), "internal note");
	assert_held(check(eml), "internal note");
}

static void
test_markers(void)
{
	g_autofree char *header = mail_with(
		"message/rfc822", "7bit",
		"From: Support <support@example.com>\nX-Maildesk-Audience: agents\nSubject: x\n\nhi");
	g_autofree char *cut = mail_with("text/plain", "7bit",
	                                 "> ##- Please type your reply above this line -##\n> hi");
	g_autofree char *cut_ru = plain_mail("##- Пожалуйста, пишите ответ выше этой строки -##");
	g_autofree char *thread = mail_with(
		"message/rfc822", "7bit",
		"From: Support <support@example.com>\nIn-Reply-To: <T12.agents@HELP.example.com>\n"
		"Subject: x\n\nhi");
	/* ## alone, or a thread id of another host or shape, is nothing */
	g_autofree char *harmless = plain_mail("Press ## then -## is not a marker.\n"
	                                       "##- only one side\nids: t5.agents@other.example, "
	                                       "x.agents@" HOST);

	/* a customer's subject that looks like the cut line is theirs */
	g_autofree char *subject = g_strdup_printf(
		"From: support@example.com\nTo: a@example.org\nSubject: Re: [#5] ##- urgent -##\n"
		"MIME-Version: 1.0\nContent-Type: text/plain\n\nHello\n");

	g_assert_null(check(subject));
	assert_held(check(header), "header of our mail to agents");
	assert_held(check(cut), "our mail to agents");
	assert_held(check(cut_ru), "our mail to agents");
	assert_held(check(thread), "our mail to agents");
	g_assert_null(check(harmless));
}

static void
test_addresses(void)
{
	g_autoptr(GBytes) key = secret();
	g_autofree char *purpose = token_person_purpose(key, TOKEN_NOTE, "alice@example.com");
	g_autofree char *note = token_address(key, "support@example.com", 77, purpose);
	g_autofree char *agent_purpose = token_person_purpose(key, TOKEN_AGENT, "bob@example.com");
	g_autofree char *agent = token_address(key, "support@example.com", 5, agent_purpose);
	g_autofree char *old = token_address(key, "support@example.com", 5, "note");
	g_autofree char *upper = g_ascii_strup(agent, -1);
	g_autofree char *a = plain_mail(note);
	g_autofree char *b = g_strdup_printf(HEAD "Content-Type: text/plain\n\nmailto:%s.", upper);
	g_autofree char *c = plain_mail(old);
	g_autofree char *href = g_strdup_printf("<a href=\"mailto:%s\">write to us</a>", agent);
	g_autofree char *d = mail_with("text/html", "7bit", href);
	g_autofree char *escaped = NULL;
	g_autofree char *e = NULL;
	g_autofree char *b64 = g_base64_encode((const guchar *)agent, strlen(agent));
	g_autofree char *f = NULL;
	g_autofree char *forged = g_strdup(note);
	GString *pct = g_string_new(agent);

	g_string_replace(pct, "+", "%2B", 0);
	g_string_replace(pct, "@", "%40", 0);
	escaped = g_strdup_printf("<a href=\"mailto:%s\">x</a>", pct->str);
	g_string_free(pct, TRUE);
	e = mail_with("text/html", "7bit", escaped);
	f = g_strdup_printf("From: support@example.com\nTo: a@example.org\n"
	                    "Subject: =?utf-8?b?%s?=\n\nhi\n", b64);

	assert_held(check(a), "ticket 77");
	assert_held(check(b), "ticket 5");
	assert_held(check(c), "ticket 5");
	assert_held(check(d), "ticket 5");
	assert_held(check(e), "ticket 5");
	assert_held(check(f), "headers of the mail");
	/* an altered mac is nobody's address */
	forged[strlen(forged) - strlen("@example.com") - 1] ^= 1;
	{
		g_autofree char *g = plain_mail(forged);

		g_assert_null(check(g));
	}
}

static void
test_bounds(void)
{
	GString *raw = g_string_new(HEAD "Content-Type: message/rfc822\n\n");

	for (int i = 0; i < 20; i++)
		g_string_append(raw, "Subject: x\nContent-Type: message/rfc822\n\n");
	g_string_append(raw, "Subject: y\n\nhello\n");
	assert_held(check_with(raw->str, NULL, 10), "nested too deeply");
	g_assert_null(check_with(raw->str, NULL, 64));
	g_string_free(raw, TRUE);
}

/* Seconds to check a mail whose body is n copies of unit: the best of three. */
static double
time_body(const char *unit, guint n)
{
	GString *body = g_string_new(NULL);
	g_autofree char *raw = NULL;
	double best = G_MAXDOUBLE;

	for (guint i = 0; i < n; i++)
		g_string_append(body, unit);
	raw = plain_mail(body->str);
	g_string_free(body, TRUE);
	for (int run = 0; run < 3; run++) {
		gint64 t0 = g_get_monotonic_time();
		g_autofree char *why = check(raw);

		best = MIN(best, (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
	}
	return best;
}

/* Shapes that would make a naive search quadratic: twice the size, at most about twice the time. */
static void
test_linear(void)
{
	static const char *const units[] = {
		"##-\n",          /* openings of the cut line, the closing far away */
		"%40%2b",          /* what URL decoding replaces */
		"+1-+1-0123456789abcdef@", /* signed-looking addresses */
		"> AB> | ",        /* quoting prefixes */
	};

	for (guint i = 0; i < G_N_ELEMENTS(units); i++) {
		guint n = (512 * 1024) / (guint)strlen(units[i]);
		double small = time_body(units[i], n);
		double big = time_body(units[i], 2 * n);

		g_test_message("%s: %.3f s, twice: %.3f s", units[i], small, big);
		g_assert_cmpfloat(big, <, 3 * small + 0.05);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	parse_init();
	g_test_add_func("/outguard/clean", test_clean);
	g_test_add_func("/outguard/note-plain-reflowed", test_note_plain_and_reflowed);
	g_test_add_func("/outguard/note-short", test_note_short);
	g_test_add_func("/outguard/note-cjk", test_note_cjk);
	g_test_add_func("/outguard/note-base64", test_note_base64_attachment);
	g_test_add_func("/outguard/note-qp", test_note_qp);
	g_test_add_func("/outguard/note-html", test_note_html);
	g_test_add_func("/outguard/note-charset", test_note_charset);
	g_test_add_func("/outguard/nested-message", test_nested_message);
	g_test_add_func("/outguard/markers", test_markers);
	g_test_add_func("/outguard/addresses", test_addresses);
	g_test_add_func("/outguard/bounds", test_bounds);
	g_test_add_func("/outguard/linear", test_linear);
	return g_test_run();
}
