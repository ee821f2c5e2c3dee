/*
 * test_quote.c - quote.c: the new words of a reply, without the history.
 *
 * One test per rule (our marker, attributions, Outlook blocks, ">"
 * quoting, forwards, signatures, whitespace), then reply bodies of real
 * mail clients copied from the corpus' replies/ (short excerpts), then
 * the 20 reply bodies of Discourse's email_reply_trimmer with their
 * expected output, read at run time from $MD_CORPUS_DIR or
 * $MAILDESK_CORPUS (default ../shared/corpus beside the source tree).
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "quote.h"

static void
check(const char *in, const char *want)
{
	g_autofree char *got = quote_strip(in);

	g_assert_nonnull(got);
	g_assert_true(g_utf8_validate(got, -1, NULL));
	g_assert_cmpstr(got, ==, want);
}

/* ---- rule 1: our cut marker ---- */

static void
test_marker(void)
{
	check("Thanks, that fixed it.\n\n##- Please type your reply above this line -##\n\n"
	      "Ticket #12 was updated.\nInternal note: customer is difficult.",
	      "Thanks, that fixed it.");
	check("Спасибо!\n##- Пожалуйста, пишите ответ выше этой строки -##\nТекст", "Спасибо!");
	check("Paldies!\n\n##- Lūdzu, rakstiet atbildi virs šīs rindas -##\nTeksts", "Paldies!");
	/* quoted, nested, indented, with a non-breaking space */
	check("Done.\n\n> ##- Please type your reply above this line -##\n> secret",
	      "Done.");
	check("Done.\n>> > ##- Please type your reply above this line -##", "Done.");
	check("Done.\n   \xc2\xa0##- Please type your reply above this line -##  \nsecret",
	      "Done.");
	/* an attribution above it goes too, even without a date */
	check("Fine.\n\nSupport wrote:\n\n##- Please type your reply above this line -##\nsecret",
	      "Fine.");
	check("Fine.\n\nSupport wrote:\n>\n> ##- Please type your reply above this line -##",
	      "Fine.");
	/* and so does an Outlook header block with a rule above it */
	check("Fine.\n________________________________\nFrom: Support <help@example.com>\n"
	      "Sent: Monday, 4 January 2021 10:00\nTo: Customer\nSubject: [#12] Printer\n\n"
	      "##- Please type your reply above this line -##\nsecret",
	      "Fine.");
	/* the marker alone, or first: nothing new was written */
	check("##- Please type your reply above this line -##\nsecret", "");
	check("\n\n##- Please type your reply above this line -##", "");
	/* inside a line (a client joined lines): the words before it stay */
	check("Text ##- Please type your reply above this line -##\nmore", "Text");
	check("Text\n*##- Please type your reply above this line -##* more\nsecret", "Text");
	check("Text\n> x ##- Please type your reply above this line -##", "Text");
	/* not a marker: both ends are needed */
	check("##- not closed\nmore", "##- not closed\nmore");
	check("not opened -##\nmore", "not opened -##\nmore");
	check("##-##", "##-##");
}

/* ---- rule 2: attribution lines ---- */

static void
test_attribution(void)
{
	check("Yes.\n\nOn Mon, Jan 4, 2021 at 10:00 AM Support <help@example.com> wrote:\n\nsecret",
	      "Yes.");
	/* Gmail wraps long ones, inside the address */
	check("Yes.\n\nOn Tue, Jan 5, 2021 at 10:00 AM John Smith <\n"
	      "john@example.com> wrote:\n\n> x",
	      "Yes.");
	check("Yes.\nOn Tue, Jan 5, 2021 at 10:00 AM John Smith <\n"
	      "john@example.com> wrote:\nsecret",
	      "Yes.");
	check("Yes.\n\nOn Wed, Nov 18, 2009 at 1:45 PM, Alexander Botero-Lowry\n"
	      "<alex@example.com> wrote:\nsecret",
	      "Yes.");
	check("Ja.\n\nAm 03.02.2016 3:35 nachm. schrieb Max Mustermann <max@example.com>:\n\nx",
	      "Ja.");
	check("Ja.\n\nmax via Support <help@example.com> schrieb:\n>x", "Ja.");
	check("Да.\n\n5 янв. 2021 г., в 10:00, Иван <ivan@example.com> пишет:\n\nсекрет", "Да.");
	check("Да.\n\nпонедельник, 6 октября 2014 г. пользователь lidel написал:\n\nсекрет", "Да.");
	check("Да.\n02.04.2012 14:20 пользователь \"bob@example.com\" <\nbob@example.com> "
	      "написал(а):\nсекрет",
	      "Да.");
	check("Да.\n\nпн, 4 янв. 2021 г. в 10:00, Иван Иванов <ivan@example.com>:\n\n> секрет",
	      "Да.");
	check("Jā.\n\nOtrd., 2021. g. 5. janv., plkst. 10:00 — lietotājs Jānis "
	      "(<janis@example.com>) rakstīja:\n\nslepens",
	      "Jā.");
	check("Jā.\n\n2021-01-05 10:00, Jānis rakstīja:\n\n> slepens", "Jā.");
	/* French clients wrap it over three lines */
	check("C'est super !\nLe 4 janv. 2016 19:03, \"Neil Lalonde\"\n<info@example.com>\n"
	      "a écrit :\n\nsecret",
	      "C'est super !");
	check("Sí.\n\nEl jueves, 21 de noviembre de 2013, Pablo escribió:\n\nsecreto", "Sí.");
	check("Sì.\n\nIl 26 marzo 2016 alle 13.16 Sam <sam@example.com> ha scritto:\n\nx", "Sì.");
	check("Ja.\n\nOp 2 feb. 2015 om 05:28 schreef Anne <anne@example.com>:\n\nx", "Ja.");
	check("Ja.\n\nOp 2 feb. 2015 om 05:28 heeft Anne <anne@example.com> het volgende "
	      "geschreven:\n\nx",
	      "Ja.");
	check("Ja.\n\nDen 15. jun. 2016 kl. 20.42 skrev Jeff <jeff@example.com>:\n\nx", "Ja.");
	check("Tak.\n\nDnia 14 lip 2015 o godz. 00:25 Michał <m@example.com> napisał(a):\n\nx",
	      "Tak.");
	check("Sim.\n\nEm 2 de fevereiro de 2015 10:58, discourse <\ninfo@example.com> "
	      "escreveu:\n\nx",
	      "Sim.");
	check("好的。\n\n在 2016年12月12日，下午8:45，Erlend <meta@example.com> 写道：\n\nx", "好的。");
	check("Так.\n\n30 серп. 2016 р. 20:45 \"Arpit\" <no-reply@example.com> пише:\n\nx", "Так.");
	check("Так.\n\n30.08.2016 20:45 Арпіт написав:\n\nx", "Так.");
	check("Tak.\n\nW dniu 14.07.2015 o 00:25, Michał pisze:\n\nx", "Tak.");
	check("OK\n\nJohn Smith/ACME@ACME wrote on 05.01.2021 10:00:00:\n\nsecret", "OK");
	/* a sentence that merely contains the verb is text */
	check("As I wrote yesterday, the printer is broken.\nThanks",
	      "As I wrote yesterday, the printer is broken.\nThanks");
	check("He wrote: it works on 2 May.\nThanks", "He wrote: it works on 2 May.\nThanks");
	/* without a date or an address only a quote below makes it one */
	check("My colleague wrote:\n\nthe printer is broken",
	      "My colleague wrote:\n\nthe printer is broken");
	check("Thanks\nMy colleague wrote:\n> the printer is broken", "Thanks");
	/* the line above a one-line attribution is the author's */
	check("Thanks, 5 stars\nOn Tue, Jan 5, 2021 at 10:00 AM John <j@example.com> wrote:\n> x",
	      "Thanks, 5 stars");
	check("Best regards,\nJohn <j@example.com> wrote:\n> x", "Best regards,");
}

/* ---- rule 3: Outlook ---- */

static void
test_outlook(void)
{
	check("Hello\n\n-----Original Message-----\nFrom: a\nsecret", "Hello");
	check("Hallo\n\n-----Ursprüngliche Nachricht-----\nVon: a\ngeheim", "Hallo");
	check("Привет\n\n-----Исходное сообщение-----\nОт: a\nсекрет", "Привет");
	check("Sveiki\n\n-----Sākotnējais ziņojums-----\nNo: a\nslepens", "Sveiki");
	check("Hello\n\n----- Original Message -----\nsecret", "Hello");
	/* any language's separator, when a header follows */
	check("Ahoj\n\n-----Původní zpráva-----\nOd: a\ntajné", "Ahoj");
	check("Hei\n\n-----Alkuperäinen viesti-----\nLähettäjä: a\nsalainen", "Hei");
	/* Outlook desktop */
	check("Hello\n\nFrom: Support [mailto:help@example.com]\n"
	      "Sent: Monday, 4 January 2021 10:00\nTo: Customer\nSubject: [#12] Printer\n\nsecret",
	      "Hello");
	check("Hello\n\n*From:* Support\n*Sent:* 2016-01-27\n*To:* me\n*Subject:* x\n\nsecret",
	      "Hello");
	check("Hello\n\n ------------------------------\n\n*From:* Support\n"
	      "*Sent:* 2016-01-27\nsecret",
	      "Hello");
	/* HTML conversions may leave blank lines between the headers */
	check("Hello\n\nFrom: Support\n\nSent: 2016-01-27\n\nTo: me\n\nsecret", "Hello");
	/* Outlook web */
	check("Hello\n________________________________\nFrom: Support <help@example.com>\n"
	      "Sent: Thursday, 28 January 2016 8:16 p.m.\nTo: Someone\nSubject: x\n\nsecret",
	      "Hello");
	check("Hello\n________________________________\nFrom: Support <help@example.com>\nsecret",
	      "Hello");
	/* localized blocks */
	check("Hallo\n\nVon: Fritz [mailto:f@example.com]\nGesendet: Donnerstag, 3. Mai 2012\n"
	      "An: John\nBetreff: x\n\ngeheim",
	      "Hallo");
	check("Привет\n\nОт: Поддержка\nОтправлено: 4 января 2021 г. 10:00\nКому: я\n"
	      "Тема: x\n\nсекрет",
	      "Привет");
	check("Sveiki\n\nNo: Atbalsts\nNosūtīts: 2021. gada 4. janvārī 10:00\nKam: es\n"
	      "Tēma: x\n\nx",
	      "Sveiki");
	check("Bonjour\n\nDe : Support\nEnvoyé : lundi 4 janvier 2021 10:00\nÀ : moi\n"
	      "Objet : x\n\nx",
	      "Bonjour");
	check("Ciao\n\nDa: Supporto\nInviato: lunedì 4 gennaio 2021 10:00\nA: io\nOggetto: x\n\nx",
	      "Ciao");
	check("Bună\n\nDe la: Suport\nTrimis: luni, 4 ianuarie 2021 10:00\nCătre: eu\n\nx",
	      "Bună");
	check("Hej\n\nFrån: Foo Bar [mailto:noreply@example.com]\nSkickat: den 5 juni 2017 12:22\n"
	      "Till: someone@example.com\nÄmne: x\n\nx",
	      "Hej");
	/* one header-like line, or two without a date, is text */
	check("From: my home office\nthe printer is broken",
	      "From: my home office\nthe printer is broken");
	check("Subject: printer\nTo: whom it may concern\nIt is broken.",
	      "Subject: printer\nTo: whom it may concern\nIt is broken.");
	check("Note: a rule below\n_____\nnext", "Note: a rule below\n_____\nnext");
}

/* ---- rule 4: ">" quoting ---- */

static void
test_quoted(void)
{
	check("Hello\n> Hi\n> secret", "Hello");
	check("Hello\n\nOn Apr 3, 2012, at 4:19 PM, bob wrote:\n\n> Hi\n", "Hello");
	/* interleaved: everything from the first quote goes */
	check("Hi,\n\n> question one\nanswer one\n> question two\nanswer two", "Hi,");
	/* html2text renders <blockquote> this way */
	check("Thanks!\n\nOn Mon, 4 Jan 2021, Support wrote:\n\n> Your ticket\n>\n> > internal\n",
	      "Thanks!");
	check("Thanks!\n\n> Your ticket\n\n> more", "Thanks!");
	/* supercite */
	check("Ok.\n\n LK> Resulted in errors\n LK> secret", "Ok.");
	/* a line ending in a colon that names no author stays */
	check("Here is the log:\n> error 1", "Here is the log:");
	/* only a quote: nothing new, and text below a quote is not kept */
	check("> Hi\n> there", "");
	check("On 04/02/2012 06:26 PM, Megan One wrote:\n> Hi \nHello", "");
	/* a greater-than sign inside a line is text */
	check("Speed went from 10 -> 20 and a>b\nok", "Speed went from 10 -> 20 and a>b\nok");
}

/* ---- rule 5: forwards ---- */

static void
test_forwarded(void)
{
	check("This email has been forwarded.\n\n---------- Forwarded message ---------\n"
	      "From: Foo <foo@example.com>\nDate: Tue, Jan 01, 2019 at 12:00 PM\nsecret",
	      "This email has been forwarded.");
	check("FYI\n\n-------- Original Message --------\nSubject: x\nsecret", "FYI");
	check("FYI\n\nBegin forwarded message:\n\nFrom: a\nsecret", "FYI");
	check("FYI\n\n---------- Weitergeleitete Nachricht ----------\nVon: a", "FYI");
	check("---------- Forwarded message ---------\nFrom: a\nsecret", "");
	check("Reply here\n\n--- Reply above. Do not remove this line. ---\nsecret", "Reply here");
}

/* ---- rule 6: signatures ---- */

static void
test_signature(void)
{
	check("Hello\n\n-- \nJohn Smith\nACME", "Hello");
	check("Hello\n--\nJohn Smith", "Hello");
	check("Hello\n--  \t\nJohn Smith", "Hello");
	check("-- \nJohn Smith", "");
	/* not signature separators */
	check("Run it with\n--verbose\nplease", "Run it with\n--verbose\nplease");
	check("Hello\n---\nfooter", "Hello\n---\nfooter");
	check("Hello -- bye\nx", "Hello -- bye\nx");
	/* no guessing at other sign-offs */
	check("Hello\n\nSent from my iPhone", "Hello\n\nSent from my iPhone");
}

/* ---- rule 7: whitespace and line ends ---- */

static void
test_whitespace(void)
{
	check(NULL, "");
	check("", "");
	check("\n \n\t\n", "");
	check("no quote at all", "no quote at all");
	check("\n\n  Hello  \n\n\tworld\t\n\n\n", "  Hello  \n\n\tworld");
	check("Hello\xc2\xa0\n\xc2\xa0\n", "Hello");
	check("Email with\r\nwindows\r\nline\r\nendings\r\n", "Email with\nwindows\nline\nendings");
	check("old\rmac\r\r> quote", "old\nmac");
	check("Hello\r\n\r\nOn Mon, Apr 2, 2012 at 6:26 PM, Megan <m@example.com> wrote:\r\n"
	      "\r\n> Hi\r\n",
	      "Hello");
	/* invalid UTF-8 comes back valid */
	check("bad \xff byte\n> q", "bad \xef\xbf\xbd byte");
}

static void
test_hostile(void)
{
	GString *big = g_string_new("Start\n");
	g_autofree char *got = NULL;
	g_autofree char *long_line = g_strnfill(200000, 'x');

	/* header-like lines without a date: linear, and all text */
	for (guint i = 0; i < 100000; i++)
		g_string_append(big, "To: x\n\n");
	g_string_append(big, long_line);
	g_string_append(big, " wrote:\n");
	got = quote_strip(big->str);
	g_assert_true(g_str_has_prefix(got, "Start\nTo: x"));
	g_assert_true(g_str_has_suffix(got, "x wrote:"));
	g_string_free(big, TRUE);
	check(":\n::\n>", ":\n::");
	check("\xef\xbc\x9a", "\xef\xbc\x9a");
	check("--\n", "");
}

/* ---- real clients (bodies copied from the corpus' replies/) ---- */

static void
test_clients(void)
{
	/* talon-outlook.eml */
	check("Hello\n\nFrom: xxx@xxx.mailgun.org [mailto:xxx@xxx.mailgun.org]\n"
	      "Sent: March-09-12 4:22 PM\nTo: Dan Le\n"
	      "Subject: The manager has commented on your Loop\n\nHi dan.le@example.com"
	      "<mailto:dan.le@example.com>,\n\nThe manager's comment:\n",
	      "Hello");
	/* talon-gmail.eml */
	check("Hello\n\nOn Mon, Apr 2, 2012 at 6:26 PM, Megan One <xxx@gmail.com> wrote:\n\n> Hi\n",
	      "Hello");
	/* talon-thunderbird.eml: bottom-posted, so nothing above the quote
	 * (talon keeps "Hello"; we cut at the first quote on purpose) */
	check("On 04/02/2012 06:26 PM, Megan One wrote:\n> Hi \nHello", "");
	/* talon-apple_mail.eml, talon-apple_mail_2.eml */
	check("Hello\n\nOn Apr 3, 2012, at 4:19 PM, bob wrote:\n\n> Hi\n", "Hello");
	check("Hello\n> On 22 Aug 2015, at 19:21, Adam Renberg <tgwizard@gmail.com> wrote:\n>\n"
	      "> Hi there!\n\n",
	      "Hello");
	/* talon-yahoo.eml */
	check("Hello\n\n\n----- Original Message -----\nFrom: \"bob@xxx.mailgun.org\" "
	      "<bob@xxx.mailgun.org>\nTo: xxx@gmail.com; xxx@hotmail.com\nCc: \n"
	      "Sent: Monday, April 2, 2012 5:44 PM\nSubject: Test\n\nHi\n",
	      "Hello");
	/* talon-android.eml */
	check("Hello\n02.04.2012 14:20 пользователь \"bob@xxx.mailgun.org\" <\n"
	      "bob@xxx.mailgun.org> написал:\n\n> Hi\n>\n\n",
	      "Hello");
	/* talon-aol.eml, talon-comcast.eml, talon-hotmail.eml */
	check("Hello\n\n\n\n-----Original Message-----\nFrom: bob <bob@example.com>\n"
	      "To: xxx <xxx@gmail.com>\nSent: Mon, Apr 2, 2012 5:49 pm\nSubject: Test\n\n\n"
	      "Hi\n\n \n",
	      "Hello");
	check("Hello \n\n----- Original Message -----\nFrom: bob@xxx.mailgun.org \n"
	      "To: xxx@gmail.com \nSent: Monday, April 2, 2012 5:44:22 PM \nSubject: Test \n\n"
	      "Hi \n",
	      "Hello");
	check("\nHello\n\n> Subject: Test\n> From: bob@xxx.mailgun.org\n> To: xxx@gmail.com\n"
	      "> Date: Mon, 2 Apr 2012 17:44:22 +0400\n> \n> Hi\n \t\t \t   \t\t  ",
	      "Hello");
	/* talon-iphone.eml: the sign-off stays, as talon expects */
	check("Hello\n\nSent from my iPhone\n\nOn Apr 3, 2012, at 4:19 PM, bob <bob@example.com> "
	      "wrote:\n\n> Hi\n",
	      "Hello\n\nSent from my iPhone");
	/* talon-sparrow.eml: talon keeps the signature, we cut it */
	check("Hello \n\n-- \nxxx\nSent with Sparrow (http://www.sparrowmailapp.com/?sig)\n\n\n"
	      "On Tuesday, April 3, 2012 at 4:55 PM, xxx wrote:\n\n> Hello\n",
	      "Hello");
	/* talon-reply-quotations-share-block.eml: old Yahoo */
	check("Joe XXX\n\n--- On Wed, 4/4/12, xxx@example.com <xxx@example.com> wrote:\n\n\n"
	      "From: xxx@example.com <xxx@example.com>\nSubject: You've got a new booking "
	      "inquiry!\nTo: xxx@yahoo.com\nDate: Wednesday, April 4, 2012, 10:23 PM\n\n"
	      "New Booking Inquiry\n\n",
	      "Joe XXX");
	/* zammad-mail003.box: German Outlook/Exchange, CRLF, long signature */
	check("Hallo Fritz,\r\n\r\nich möchte mich gern für den Beta-Test anmelden.\r\n\r\n\r\n"
	      "Mit freundlichen Grüßen\r\nJohn Günther\r\n\r\n"
	      "_ __ ___ ____________________________ ___ __ _\r\n\r\nExample GmbH\r\n\r\n"
	      "M: +49 (0)  XXX XX XX 70\r\nT: +49 (0) XXX XX XX 22\r\n\r\n"
	      "Von: Fritz Bauer [mailto:me@example.com]\r\n"
	      "Gesendet: Donnerstag, 3. Mai 2012 11:51\r\nAn: John Smith\r\n"
	      "Cc: Smith, John Marian; johnel.stock@example.com\r\n"
	      "Betreff: Re: XXXX::XXX Erweiterung - Anhänge an CI's\r\n\r\nHallo,\r\n\r\n"
	      "-Fritz\r\nOn May 2, 2012, at 14:25 , John Smith wrote:\r\n\r\n\r\nMoin Moin,\r\n",
	      "Hallo Fritz,\n\nich möchte mich gern für den Beta-Test anmelden.\n\n\n"
	      "Mit freundlichen Grüßen\nJohn Günther\n\n"
	      "_ __ ___ ____________________________ ___ __ _\n\nExample GmbH\n\n"
	      "M: +49 (0)  XXX XX XX 70\nT: +49 (0) XXX XX XX 22");
	/* notmuch-threadB-darwin-3-35.eml: Gmail, interleaved */
	check("Hi,\n\nOn Wed, Nov 18, 2009 at 1:45 PM, Alexander Botero-Lowry\n"
	      "<alex.boterolowry at gmail.com> wrote:\n> for getline do you mind trying\n\n"
	      "It seems even _GNU_SOURCE is defined, getline is still not present.\n",
	      "Hi,");
	/* notmuch-threadA-maildir-storage-1-03.eml: mutt, with a signature */
	check("I'm curious if this is expected behavior.\n\nCheers,\n\n-- \n"
	      "Lars Kellogg-Stedman <lars@seas.harvard.edu>\n",
	      "I'm curious if this is expected behavior.\n\nCheers,");
	/* notmuch-threadA-maildir-storage-2-04.eml: Gnus supercite, bottom-posted */
	check("\nTwas brillig at 14:00:54 17.11.2009 UTC-05 when lars@seas.harvard.edu did gyre "
	      "and gimble:\n\n LK> Resulted in 4604 lines of errors along the lines of:\n\n"
	      "See the patch just posted here.\n\n-- \n  http://fossarchy.blogspot.com/\n",
	      "");
	/* redmine-ticket_reply_from_mail.eml: Outlook's doubled address */
	check("This paragraph is before delimiter\n\nOn Wed, 11 Oct at 1:05 PM, Jon Smith "
	      "<jsmith@somenet.foo<mailto:jsmith@somenet.foo>> wrote:\n\n"
	      "This paragraph is after the delimiter\n",
	      "This paragraph is before delimiter");
}

/* ---- the Discourse corpus ---- */

static char *
corpus_dir(void)
{
	const char *env = g_getenv("MD_CORPUS_DIR");
	const char *srcdir = g_getenv("G_TEST_SRCDIR");

	if (env == NULL || env[0] == '\0')
		env = g_getenv("MAILDESK_CORPUS");
	if (env != NULL && env[0] != '\0')
		return g_strdup(env);
	if (srcdir != NULL)
		return g_build_filename(srcdir, "..", "shared", "corpus", NULL);
	return g_strdup("../shared/corpus");
}

typedef enum {
	/* a rule of ours cuts more than Discourse: ours is a prefix of theirs */
	DEVIATE_CUTS_MORE,
	/* we keep author text Discourse guesses is a sign-off: theirs is a
	 * prefix of ours, and ours is all text above any quoted history */
	DEVIATE_KEEPS_SIGNOFF,
} Deviation;

static const struct {
	const char *name;
	Deviation how;
	const char *why;
} deviations[] = {
	{ "embedded_email_norwegian", DEVIATE_KEEPS_SIGNOFF,
	  "\"Sendt fra min iPad\": only \"-- \" starts a signature (rule 6)" },
	{ "signatures", DEVIATE_KEEPS_SIGNOFF,
	  "\"Sent from my iPhone\" and the like: only \"-- \" starts a signature (rule 6)" },
};

static char *
read_file(const char *path)
{
	char *data = NULL;
	g_autoptr(GError) error = NULL;

	if (!g_file_get_contents(path, &data, NULL, &error))
		g_error("%s: %s", path, error->message);
	return data;
}

/* LF line ends and no trailing whitespace, for comparing */
static char *
normalized(const char *text)
{
	g_auto(GStrv) parts = g_strsplit(text, "\r\n", -1);

	return g_strchomp(g_strjoinv("\n", parts));
}

#define PREFIX "discourse-trimmer-"
#define SUFFIX ".trimmed.txt"

static void
test_corpus_discourse(void)
{
	g_autofree char *corpus = corpus_dir();
	g_autofree char *dir = g_build_filename(corpus, "reply-bodies", NULL);
	g_autoptr(GDir) d = NULL;
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	const char *entry;
	guint exact = 0;

	if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
		g_test_skip("corpus reply-bodies not found; set MD_CORPUS_DIR");
		return;
	}
	d = g_dir_open(dir, 0, NULL);
	g_assert_nonnull(d);
	while ((entry = g_dir_read_name(d)) != NULL) {
		gsize len = strlen(entry);

		if (g_str_has_prefix(entry, PREFIX) && g_str_has_suffix(entry, SUFFIX))
			g_ptr_array_add(names, g_strndup(entry + strlen(PREFIX),
			                                 len - strlen(PREFIX) - strlen(SUFFIX)));
	}
	g_assert_cmpuint(names->len, ==, 20);

	for (guint i = 0; i < names->len; i++) {
		const char *name = g_ptr_array_index(names, i);
		g_autofree char *in_name = g_strconcat(PREFIX, name, ".txt", NULL);
		g_autofree char *want_name = g_strconcat(PREFIX, name, SUFFIX, NULL);
		g_autofree char *in_path = g_build_filename(dir, in_name, NULL);
		g_autofree char *want_path = g_build_filename(dir, want_name, NULL);
		g_autofree char *raw = read_file(in_path);
		g_autofree char *raw_want = read_file(want_path);
		g_autofree char *in = normalized(raw);
		g_autofree char *want = normalized(raw_want);
		g_autofree char *got = g_strchomp(quote_strip(raw)); /* CRLF kept: a case too */
		gint dev = -1;

		for (guint j = 0; j < G_N_ELEMENTS(deviations); j++)
			if (strcmp(deviations[j].name, name) == 0)
				dev = (gint)j;
		if (dev < 0) {
			if (strcmp(got, want) != 0)
				g_error("%s:\n--- got\n%s\n--- expected\n%s", in_name, got, want);
			exact++;
			continue;
		}
		g_test_message("%s differs on purpose: %s", in_name, deviations[dev].why);
		if (strcmp(got, want) == 0)
			g_error("%s now matches exactly; drop it from the deviations", in_name);
		if (deviations[dev].how == DEVIATE_CUTS_MORE && !g_str_has_prefix(want, got))
			g_error("%s: ours is not a prefix of the expected:\n%s", in_name, got);
		if (deviations[dev].how == DEVIATE_KEEPS_SIGNOFF &&
		    (!g_str_has_prefix(got, want) || !g_str_has_prefix(in, got)))
			g_error("%s: ours is not the expected and more of the input:\n%s", in_name,
			        got);
	}
	g_test_message("%u of %u Discourse reply bodies match exactly", exact, names->len);
}

/* Words under the quote are cut with it; the caller is told. */
static void
test_below(void)
{
	static const struct {
		const char *text;
		const char *want;
		gboolean below;
	} cases[] = {
		{ "Top answer.\n\nOn Mon, A wrote:\n> question\n", "Top answer.", FALSE },
		{ "On Mon, A wrote:\n> question\n\nBottom answer.\n", "", TRUE },
		{ "Top.\n> q1\nInterleaved.\n> q2\n", "Top.", TRUE },
		{ "Top.\n> q\n\n-- \nJane\n", "Top.", FALSE },
		{ "Top.\n> q\n\n\n", "Top.", FALSE },
		{ "Answer\n\nFrom: A\nSent: Monday\n\nold text\n", "Answer", FALSE },
		{ NULL, "", FALSE },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		gboolean below = !cases[i].below;
		g_autofree char *got = quote_strip_below(cases[i].text, &below);

		g_assert_cmpstr(got, ==, cases[i].want);
		g_assert_cmpint(below, ==, cases[i].below);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/quote/below", test_below);
	g_test_add_func("/quote/marker", test_marker);
	g_test_add_func("/quote/attribution", test_attribution);
	g_test_add_func("/quote/outlook", test_outlook);
	g_test_add_func("/quote/quoted", test_quoted);
	g_test_add_func("/quote/forwarded", test_forwarded);
	g_test_add_func("/quote/signature", test_signature);
	g_test_add_func("/quote/whitespace", test_whitespace);
	g_test_add_func("/quote/hostile", test_hostile);
	g_test_add_func("/quote/clients", test_clients);
	g_test_add_func("/quote/corpus/discourse", test_corpus_discourse);
	return g_test_run();
}
