/*
 * fuzz_intake.c - the whole intake pipeline on raw bytes, the way
 * `maildesk deliver` runs it: parse, guards, threading, agent commands,
 * storing, assignment and the outbox, against one in-memory database.
 *
 * The database and the config are made once per process and kept across
 * inputs: a message that only breaks a ticket some earlier message
 * shaped is a bug too.  Ticket 1 exists from the start (a customer's
 * question, assigned to an agent), so mail to its signed addresses
 * reaches the agent paths at once.
 *
 * The first byte may choose the envelope (Postfix's ${sender} and
 * ${recipient}) and move the clock, when it is a control character no
 * message starts with (0x00-0x1f but TAB, LF, CR):
 *   bits 0-1  recipient: 0 support@example.com, 1 ticket 1's reply
 *             address, 2 ticket 1's note address, 3 none (To/Cc decide)
 *   bit 2     sender "" (a bounce, <>) instead of unknown
 *   bits 3-4  clock step before this message: 1 minute, 1 hour, 1 day,
 *             31 days (past reopen_days)
 * Any other first byte is part of the message, sent to support@ with an
 * unknown sender one minute later.  So the corpus's .eml files are seeds
 * as they are, and tests/fuzz/seeds/intake/ adds agent mail.
 *
 * Invariants beyond "no crash, no leak, no sanitizer report": with a
 * healthy database every message is taken (MD_OK), since a tempfail for
 * some bytes would make Postfix retry that message forever; and taking
 * the same bytes again (Postfix redelivers after a timeout) is a
 * "duplicate" that changes nothing and queues no mail (decision 0001).
 * The same message found in an archive (`maildesk import`, no_ack) is
 * taken too and queues no mail at all, whatever it holds (decision 0010).
 */
#include "config.h"

#include <string.h>

#include "clock.h"
#include "conf.h"
#include "fuzz.h"
#include "intake.h"
#include "parse.h"
#include "store.h"
#include "token.h"

#ifndef MD_FUZZ_TEMPLATES
#error "MD_FUZZ_TEMPLATES must name the source tree's templates directory"
#endif

/* Beyond this much mail taken, start over with an empty database, so a
 * long run stays far below libFuzzer's -rss_limit_mb. */
#define RESET_AFTER_BYTES (64u << 20)
#define RESET_AFTER_MESSAGES 20000u

/* What the header fields of a message may cost under libFuzzer: the sum
 * of their squared lengths (see too_slow_under_asan()). */
#define MAX_HEADER_COST ((guint64)(64 << 10) * (64 << 10))

static const char config_text[] =
	"[maildesk]\n"
	"database = unused.db\n"
	"secret_file = secret\n"
	"hostname = help.example.com\n"
	"templates = " MD_FUZZ_TEMPLATES "\n"
	"default_language = en\n"
	"site_name = Example Support\n"
	"send_after_deliver = no\n"
	"reopen_days = 30\n"
	"[limits]\n"
	"autoreply_per_hour = 3\n"
	"[sla]\n"
	"default_resolution = 2d\n"
	"[smtp]\n"
	"url = smtp://127.0.0.1:9\n"
	"[agents]\n"
	"notify_notes = yes\n"
	"[queue support]\n"
	"address = support@example.com\n"
	"[queue billing]\n"
	"address = billing@example.com\n"
	"language = lv\n"
	"[agent alice]\n"
	"address = alice@example.com\n"
	"name = Alice Example\n"
	"queues = support\n"
	"max_open = 3\n"
	/* an offset, not Europe/Riga: the zone database may be missing */
	"timezone = +02:00\n"
	"[agent carol]\n"
	"address = carol@example.com\n"
	"name = Carol Example\n"
	"queues = support, billing\n"
	"lead = yes\n"
	"language = ru\n";

static const char first_question[] =
	"From: Jane Customer <jane@customer.test>\n"
	"To: support@example.com\n"
	"Subject: The printer is on fire\n"
	"Message-ID: <fuzz-ticket-1@customer.test>\n"
	"Date: Wed, 31 Dec 2025 23:00:00 +0100\n"
	"\n"
	"It smokes since this morning.  What do I do?\n";

static MdConfig *cfg;
static MdStore *store;
static char *recipients[4];
static gint64 now = FUZZ_NOW;
static gsize taken_bytes;
static guint taken_messages;

/*
 * GMime grows its buffer for a header field a line (or a read) at a
 * time, and ASan's realloc() always moves the block: a field of n bytes
 * costs O(n^2) copying under ASan, 6 s of CPU for the corpus's 200 KB
 * folded Subject (flanker-long-header.eml) and minutes at 1 MB, while
 * glibc, growing in place, takes that message in 0.3 s.  That cost is
 * the sanitizer's, not maildesk's, and would only make libFuzzer report
 * timeouts, so under libFuzzer a message whose header fields cost more
 * than one 64 KB field is skipped.  Header blocks are found roughly: the
 * message's own, and after each line starting with "--" (a boundary) up
 * to the next empty line.  Long body lines are still fuzzed, and the
 * replay driver takes every message.
 */
static gboolean
too_slow_under_asan(const guint8 *p, gsize len)
{
	const guint8 *end = p + len;
	gboolean in_header = TRUE;
	guint64 cost = 0, field = 0;

	while (p < end) {
		const guint8 *nl = memchr(p, '\n', end - p);
		gsize n = (nl != NULL ? nl + 1 : end) - p;
		gboolean blank = p[0] == '\n' || (n == 2 && p[0] == '\r');

		if (in_header && !blank && (p[0] == ' ' || p[0] == '\t')) {
			field += n;
		} else {
			cost += field * field;
			field = 0;
			if (in_header && blank)
				in_header = FALSE;
			else if (in_header)
				field = n;
			else if (n >= 2 && p[0] == '-' && p[1] == '-')
				in_header = TRUE;
		}
		if (cost + field * field > MAX_HEADER_COST)
			return TRUE;
		p += n;
	}
	return FALSE;
}

static MdStatus
take(const guint8 *raw, gsize len, const MdEnvelope *env, MdIntakeResult *res)
{
	MdIntake in = { .cfg = cfg, .store = store, .secret = fuzz_secret() };

	return intake_message(&in, raw, len, env, res);
}

/*
 * The message as `maildesk import` takes it from an archive: no_ack, and
 * every ticket it leaves idle closed as history.  A header in front makes
 * its bytes, and so its content hash, differ from the delivered copy.
 */
static MdStatus
take_imported(const guint8 *raw, gsize len, MdIntakeResult *res)
{
	static const char mark[] = "X-Fuzz-Import: 1\n";
	MdIntake in = { .cfg = cfg, .store = store, .secret = fuzz_secret(),
		        .import_started = now + (gint64)cfg->reopen_days * 86400 + 1 };
	MdEnvelope env = { .no_ack = TRUE };
	g_autofree guint8 *copy = g_malloc(sizeof mark - 1 + len);

	memcpy(copy, mark, sizeof mark - 1);
	if (len > 0)
		memcpy(copy + sizeof mark - 1, raw, len);
	return intake_message(&in, copy, sizeof mark - 1 + len, &env, res);
}

/* A new empty database holding ticket 1. */
static void
open_store(void)
{
	g_autofree char *error = NULL;
	MdEnvelope env = { .sender = "jane@customer.test", .recipient = "support@example.com" };
	MdIntakeResult res = { 0 };
	MdStatus st;

	store_close(store);
	/* ":memory:": fast, private, and gone with the process */
	store = store_open(":memory:", cfg->busy_timeout_ms, TRUE, &st, &error);
	FUZZ_CHECK(store != NULL, "store_open(:memory:): %s", error);
	FUZZ_CHECK(store_migrate(store) == MD_OK, "store_migrate: %s", store_error(store));
	clock_set(now);
	st = take((const guint8 *)first_question, sizeof first_question - 1, &env, &res);
	FUZZ_CHECK(st == MD_OK && res.ticket == 1, "the first question: status %d, ticket %" G_GINT64_FORMAT ": %s",
	           st, res.ticket, res.error ? res.error : "");
	md_intake_result_clear(&res);
	taken_bytes = 0;
	taken_messages = 0;
}

static void
init(void)
{
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *conf_path = NULL;
	g_autofree char *secret_path = NULL;
	g_autofree char *error = NULL;
	g_autofree char *agent_purpose = NULL;
	g_autofree char *note_purpose = NULL;
	GBytes *secret;

	fuzz_init();
	parse_init();
	secret_path = fuzz_write_file("secret", FUZZ_SECRET, sizeof FUZZ_SECRET - 1);
	conf_path = fuzz_write_file("maildesk.conf", config_text, sizeof config_text - 1);
	cfg = conf_load(conf_path, problems);
	FUZZ_CHECK(cfg != NULL && problems->len == 0, "the fuzz config does not load: %s",
	           problems->len > 0 ? (char *)problems->pdata[0] : "?");
	/* the same bytes as fuzz_secret(), read the way deliver reads them */
	secret = conf_read_secret(cfg, &error);
	FUZZ_CHECK(secret != NULL && g_bytes_equal(secret, fuzz_secret()), "secret: %s",
	           error ? error : "differs");
	g_bytes_unref(secret);

	recipients[0] = g_strdup("support@example.com");
	/* the agent address, which only agent mail carries, issued to alice
	 * (the seeds' From); the customer's reply address comes in through
	 * the seeds' To with no envelope */
	agent_purpose = token_person_purpose(fuzz_secret(), TOKEN_AGENT, "alice@example.com");
	note_purpose = token_person_purpose(fuzz_secret(), TOKEN_NOTE, "alice@example.com");
	recipients[1] = token_address(fuzz_secret(), "support@example.com", 1, agent_purpose);
	recipients[2] = token_address(fuzz_secret(), "support@example.com", 1, note_purpose);
	recipients[3] = NULL;
	open_store();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const gint64 steps[] = { 60, 3600, 86400, 31 * 86400 };
	MdEnvelope env = { .sender = NULL, .recipient = recipients[0] };
	MdIntakeResult res = { 0 };
	gint64 step = steps[0];
	gint64 first_ticket;
	gboolean first_own;
	MdStatus st;

	if (cfg == NULL)
		init();
	if (size > 0 && data[0] < 0x20 && data[0] != '\t' && data[0] != '\n' && data[0] != '\r') {
		env.recipient = recipients[data[0] & 3];
		env.sender = (data[0] & 4) ? "" : NULL;
		step = steps[(data[0] >> 3) & 3];
		data++;
		size--;
	}
	if (!fuzz_replaying && too_slow_under_asan(data, size))
		return 0;
	if (taken_bytes > RESET_AFTER_BYTES || taken_messages > RESET_AFTER_MESSAGES)
		open_store();
	now += step;
	clock_set(now);

	/* first as found in an archive: a delivered copy would make it a
	 * duplicate by its Message-ID */
	st = take_imported(data, size, &res);
	FUZZ_CHECK(st == MD_OK, "the imported copy returned %d (not MD_OK): %s", st,
	           res.error ? res.error : "(no error text)");
	FUZZ_CHECK(res.mail_queued == 0 && !res.ack_queued,
	           "the imported copy was taken as \"%s\" and queued %u mail",
	           res.action ? res.action : "(null)", res.mail_queued);
	md_intake_result_clear(&res);

	st = take(data, size, &env, &res);
	FUZZ_CHECK(st == MD_OK, "intake_message returned %d (not MD_OK) for a message: %s", st,
	           res.error ? res.error : "(no error text)");
	FUZZ_CHECK(res.action != NULL && res.matched != NULL, "MD_OK without action or match");
	FUZZ_CHECK(res.ticket >= 0 && res.message_row >= 0, "negative ticket or row");
	first_ticket = res.ticket;
	/* a copy of our own mail is never stored, so its redelivery is again
	 * that rather than a duplicate: as idempotent, since it changes nothing */
	first_own = g_strcmp0(res.action, "own-mail") == 0;
	md_intake_result_clear(&res);

	st = take(data, size, &env, &res);
	FUZZ_CHECK(st == MD_OK, "the redelivery returned %d (not MD_OK): %s", st,
	           res.error ? res.error : "(no error text)");
	FUZZ_CHECK(g_strcmp0(res.action, first_own ? "own-mail" : "duplicate") == 0 &&
	               res.mail_queued == 0 &&
	               res.ticket == first_ticket,
	           "the redelivery was taken as \"%s\" for ticket %" G_GINT64_FORMAT
	           " (first: %" G_GINT64_FORMAT "), %u mail queued",
	           res.action ? res.action : "(null)", res.ticket, first_ticket, res.mail_queued);
	md_intake_result_clear(&res);

	taken_bytes += size;
	taken_messages++;
	return 0;
}
