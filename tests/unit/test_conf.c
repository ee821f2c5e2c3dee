/* Unit tests: configuration loading and the problems it reports. */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "conf.h"

static char *tmpdir;

static char *
write_conf(const char *text)
{
	char *path = g_build_filename(tmpdir, "maildesk.conf", NULL);

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	return path;
}

static gboolean
has_problem(GPtrArray *problems, const char *needle)
{
	for (guint i = 0; i < problems->len; i++)
		if (strstr(problems->pdata[i], needle) != NULL)
			return TRUE;
	return FALSE;
}

static void
test_good(void)
{
	g_autofree char *path = write_conf("[maildesk]\n"
	                                   "database = data/md.db\n"
	                                   "secret_file = secret\n"
	                                   "hostname = help.example.com\n"
	                                   "templates = .\n"
	                                   "subject_tag_prefix = Support #\n"
	                                   "[sla]\ndefault_resolution = 4h\n"
	                                   "[smtp]\nurl = smtp://127.0.0.1:2525\n"
	                                   "[queue support]\naddress = Support@Example.com, help@example.com\n"
	                                   "[queue sales]\naddress = sales@example.com\nlanguage = lv\n"
	                                   "[agent alice]\naddress = alice@example.com\nqueues = support\n"
	                                   "max_open = 3\n");
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(MdConfig) cfg = conf_load(path, problems);
	g_autofree char *db = g_build_filename(tmpdir, "data/md.db", NULL);

	for (guint i = 0; i < problems->len; i++)
		g_test_message("%s", (char *)problems->pdata[i]);
	g_assert_cmpuint(problems->len, ==, 0);
	g_assert_nonnull(cfg);
	g_assert_cmpstr(cfg->database, ==, db);
	g_assert_cmpint(cfg->default_resolution, ==, 4 * 3600);
	g_assert_cmpstr(cfg->subject_tag_prefix, ==, "Support #");
	g_assert_cmpstr(conf_queue_for_address(cfg, "support+12-abc@example.com")->name, ==, "support");
	g_assert_cmpstr(conf_queue_for_address(cfg, "HELP@example.com")->name, ==, "support");
	g_assert_cmpstr(conf_queue_for_address(cfg, "sales@example.com")->language, ==, "lv");
	g_assert_null(conf_queue_for_address(cfg, "other@example.com"));
	g_assert_nonnull(conf_agent_by_address(cfg, "ALICE@example.com"));
	g_assert_cmpint(((MdAgent *)cfg->agents->pdata[0])->max_open, ==, 3);
}

static void
test_problems_name_line_and_key(void)
{
	g_autofree char *path = write_conf("[maildesk]\n"          /* 1 */
	                                   "templates = .\n"       /* 2 */
	                                   "default_language = English\n" /* 3 */
	                                   "busy_timeout = soon\n" /* 4 */
	                                   "colour = blue\n"       /* 5 */
	                                   "[smtp]\n"              /* 6 */
	                                   "url = http://x\n"      /* 7 */
	                                   "[sla]\n"               /* 8 */
	                                   "default_resolution = 2 days\n" /* 9 */
	                                   "[queue support]\n"     /* 10 */
	                                   "address = not-an-address\n" /* 11 */
	                                   "[agent bob]\n"         /* 12 */
	                                   "address = bob@example.com\n" /* 13 */
	                                   "queues = nosuch\n"     /* 14 */
	                                   "[frobnicate]\n");      /* 15 */
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(MdConfig) cfg = conf_load(path, problems);
	g_autofree char *l3 = g_strdup_printf("%s:3: [maildesk] default_language", path);
	g_autofree char *l4 = g_strdup_printf("%s:4: [maildesk] busy_timeout", path);
	g_autofree char *l5 = g_strdup_printf("%s:5: [maildesk] colour: unknown key", path);
	g_autofree char *l7 = g_strdup_printf("%s:7: [smtp] url", path);
	g_autofree char *l9 = g_strdup_printf("%s:9: [sla] default_resolution", path);
	g_autofree char *l11 = g_strdup_printf("%s:11: [queue support] address", path);
	g_autofree char *l14 = g_strdup_printf("%s:14: [agent bob] queues", path);
	g_autofree char *l15 = g_strdup_printf("%s:15: [frobnicate]: unknown group", path);

	for (guint i = 0; i < problems->len; i++)
		g_test_message("%s", (char *)problems->pdata[i]);
	g_assert_nonnull(cfg);
	g_assert_true(has_problem(problems, l3));
	g_assert_true(has_problem(problems, l4));
	g_assert_true(has_problem(problems, l5));
	g_assert_true(has_problem(problems, l7));
	g_assert_true(has_problem(problems, l9));
	g_assert_true(has_problem(problems, l11));
	g_assert_true(has_problem(problems, l14));
	g_assert_true(has_problem(problems, l15));
}

static void
test_unparsable(void)
{
	g_autofree char *path = write_conf("this is not a key file\n");
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(MdConfig) cfg = conf_load(path, problems);

	g_assert_null(cfg);
	g_assert_cmpuint(problems->len, ==, 1);
	g_assert_true(has_problem(problems, path));
	{
		g_autoptr(GPtrArray) p2 = g_ptr_array_new_with_free_func(g_free);
		g_autoptr(MdConfig) c2 = conf_load("/nonexistent/maildesk.conf", p2);

		g_assert_null(c2);
		g_assert_true(has_problem(p2, "/nonexistent/maildesk.conf"));
	}
}

/* a message size SQLite could not store is refused up front */
static void
test_message_size_bound(void)
{
	g_autofree char *path = write_conf("[maildesk]\ntemplates = .\n"
	                                   "[limits]\nmax_message_size = 2000000000\n"
	                                   "[queue support]\naddress = support@example.com\n");
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(MdConfig) cfg = conf_load(path, problems);
	g_autofree char *l4 = g_strdup_printf("%s:4: [limits] max_message_size", path);

	g_assert_nonnull(cfg);
	g_assert_true(has_problem(problems, l4));
}

/*
 * A '+' in a queue's own local part: our tokens are support+N-MAC@, so
 * "help+desk@" could never be told from a token (found by the token
 * fuzzer).  Refused with the file and line of the address.
 */
static void
test_queue_address_plus(void)
{
	g_autofree char *path = write_conf("[maildesk]\ntemplates = .\n"  /* 1-2 */
	                                   "[queue support]\n"             /* 3 */
	                                   "address = help+desk@example.com\n" /* 4 */
	                                   "[queue sales]\n"               /* 5 */
	                                   "lead = boss+sales@example.com\n" /* 6 */
	                                   "address = sales@example.com, b2b+x@example.com\n"); /* 7 */
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(MdConfig) cfg = conf_load(path, problems);
	g_autofree char *l4 = g_strdup_printf("%s:4: [queue support] address: \"help+desk@example.com\": "
	                                      "a queue address may not contain '+'", path);
	g_autofree char *l7 = g_strdup_printf("%s:7: [queue sales] address: \"b2b+x@example.com\"", path);

	for (guint i = 0; i < problems->len; i++)
		g_test_message("%s", (char *)problems->pdata[i]);
	g_assert_nonnull(cfg);
	g_assert_true(has_problem(problems, l4));
	g_assert_true(has_problem(problems, l7));
	/* only those two: a '+' elsewhere (a lead, an agent) is no token */
	g_assert_cmpuint(problems->len, ==, 2);
}

/* recipient_delimiter: "+" by default, punctuation only. */
static void
test_recipient_delimiter(void)
{
	static const char *const bad[] = { "+@", "+ -", "+a", "\"", "+(" };
	g_autofree char *good_path = write_conf("[maildesk]\ntemplates = .\nrecipient_delimiter = +-\n"
	                                        "[queue support]\naddress = support@example.com\n");
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(MdConfig) cfg = conf_load(good_path, problems);

	g_assert_cmpuint(problems->len, ==, 0);
	g_assert_cmpstr(cfg->recipient_delimiter, ==, "+-");
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *text = g_strdup_printf("[maildesk]\ntemplates = .\n"
		                                        "recipient_delimiter = %s\n"
		                                        "[queue support]\naddress = s@example.com\n",
		                                        bad[i]);
		g_autofree char *path = write_conf(text);
		g_autoptr(GPtrArray) p = g_ptr_array_new_with_free_func(g_free);
		g_autoptr(MdConfig) c = conf_load(path, p);

		g_test_message("%s", bad[i]);
		g_assert_true(has_problem(p, "[maildesk] recipient_delimiter"));
	}
	{
		g_autofree char *path = write_conf("[maildesk]\ntemplates = .\n"
		                                   "[queue support]\naddress = s@example.com\n");
		g_autoptr(GPtrArray) p = g_ptr_array_new_with_free_func(g_free);
		g_autoptr(MdConfig) c = conf_load(path, p);

		g_assert_cmpstr(c->recipient_delimiter, ==, "+");
	}
}

/* Agents: names #assign can tell apart, queues that exist, DKIM with our authserv-id. */
static void
test_agents(void)
{
	g_autofree char *path = write_conf("[maildesk]\nhostname = h.example.com\n"
	                                   "[queue support]\naddress = support@example.com\n"
	                                   "[agents]\nrequire_dkim = yes\nnotify_notes = no\n"
	                                   "[agent alice]\naddress = alice@example.com\n"
	                                   "queues = support, nowhere\nlanguage = ru\n"
	                                   "timezone = Europe/Riga\n"
	                                   "[agent Alice]\naddress = alice2@example.com\n"
	                                   "[agent bob]\naddress = support@example.com\n"
	                                   "[agent carol]\naddress = carol@example.com\nlanguage = xx-!\n"
	                                   "timezone = Mars/Olympus\n");
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(MdConfig) cfg = conf_load(path, problems);

	for (guint i = 0; i < problems->len; i++)
		g_test_message("%s", (char *)problems->pdata[i]);
	g_assert_true(has_problem(problems, "[agents] require_dkim: needs authserv_id"));
	g_assert_true(has_problem(problems, "[agent alice] queues: no queue named \"nowhere\""));
	g_assert_true(has_problem(problems, "[agent Alice]: duplicate or empty agent name"));
	g_assert_true(has_problem(problems, "[agent bob] address: support@example.com is a queue address"));
	g_assert_true(has_problem(problems, "[agent carol] language:"));
	g_assert_true(has_problem(problems, "[agent carol] timezone: \"Mars/Olympus\""));
	g_assert_nonnull(conf_agent_by_name(cfg, "alice")->timezone);
	g_assert_false(cfg->notify_notes);
	g_assert_cmpstr(conf_agent_by_name(cfg, "ALICE")->address, ==, "alice@example.com");
	g_assert_cmpstr(conf_agent_by_name(cfg, "alice")->language, ==, "ru");
	g_assert_true(conf_agent_serves(conf_agent_by_name(cfg, "alice"), "support"));
	g_assert_false(conf_agent_serves(conf_agent_by_name(cfg, "alice"), "sales"));
	g_assert_null(conf_agent_by_name(cfg, "dave"));
}

/* Calendars and SLA targets: parsed, named, and every mistake reported. */
static void
test_calendars(void)
{
	g_autofree char *path = write_conf("[maildesk]\nhostname = h.example.com\n"
	                                   "[calendar riga]\ntimezone = Europe/Riga\n"
	                                   "hours = mon,wed 08:00-12:00 13:00-17:00; fri 09:00-15:00\n"
	                                   "holidays = 2026-12-24, 2026-12-25\n"
	                                   "[calendar broken]\ntimezone = Europe/Riga\nhours = mon 9-17\n"
	                                   "[queue support]\naddress = support@example.com\n"
	                                   "calendar = riga\nurgent_calendar = nowhere\n"
	                                   "first_response = urgent 30m, normal 4h\n"
	                                   "resolution = normal 16h, high 2d, soon 1h\n"
	                                   "[queue sales]\naddress = sales@example.com\n"
	                                   "resolution = normal 8h\n");
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(MdConfig) cfg = conf_load(path, problems);
	const MdQueue *q;

	for (guint i = 0; i < problems->len; i++)
		g_test_message("%s", (char *)problems->pdata[i]);
	g_assert_true(has_problem(problems, "[calendar broken]: "));
	g_assert_true(has_problem(problems, "[queue support] urgent_calendar: no [calendar nowhere] group"));
	g_assert_true(has_problem(problems, "[queue support] resolution: \"high 2d\""));
	g_assert_true(has_problem(problems, "[queue support] resolution: \"soon 1h\""));
	g_assert_true(has_problem(problems, "[queue sales] calendar: SLA targets need a calendar"));
	g_assert_cmpuint(cfg->calendars->len, ==, 1);
	q = conf_queue_by_name(cfg, "support");
	g_assert_nonnull(q->calendar);
	g_assert_cmpint(q->first_response[PRIORITY_URGENT], ==, 30);
	g_assert_cmpint(q->first_response[PRIORITY_NORMAL], ==, 240);
	g_assert_cmpint(q->resolution[PRIORITY_NORMAL], ==, 960);
	g_assert_cmpint(q->resolution[PRIORITY_HIGH], ==, 0);
	g_assert_cmpint(conf_priority_index("Urgent"), ==, PRIORITY_URGENT);
	g_assert_cmpint(conf_priority_index("soon"), ==, -1);
}

static void
test_durations(void)
{
	gint64 s;

	g_assert_true(conf_parse_duration("90s", &s) && s == 90);
	g_assert_true(conf_parse_duration("15m", &s) && s == 900);
	g_assert_true(conf_parse_duration("4h", &s) && s == 14400);
	g_assert_true(conf_parse_duration("2d", &s) && s == 172800);
	g_assert_true(conf_parse_duration("1w", &s) && s == 604800);
	g_assert_true(conf_parse_duration("0", &s) && s == 0);
	g_assert_false(conf_parse_duration("5", &s));
	g_assert_false(conf_parse_duration("-5m", &s));
	g_assert_false(conf_parse_duration("5 m", &s));
	g_assert_false(conf_parse_duration("m", &s));
	g_assert_false(conf_parse_duration("99999999999999999999d", &s));
}

static void
test_mailboxes(void)
{
	g_autofree char *pw = g_build_filename(tmpdir, "pw", NULL);
	g_autofree char *path = NULL;
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(MdConfig) cfg = NULL;
	const MdMailbox *m;

	g_assert_true(g_file_set_contents(pw, "s3cret\n", -1, NULL));
	path = write_conf("[maildesk]\ntemplates = .\n"
	                  "[queue support]\naddress = support@example.com\n"
	                  "[queue billing]\naddress = billing@example.com\n"
	                  "[mailbox a]\nhost = imap.example.com\nusername = u\npassword_file = pw\n"
	                  "[mailbox b]\nurl = pop3s://pop.example.com/\nusername = u\n"
	                  "password_file = pw\nrecipient = billing@example.com\n"
	                  "[mailbox c]\nurl = imap://imap.example.com:1143/Support%20In\n"
	                  "username = u\npassword_file = pw\nflag = none\nmove_to = Done\n"
	                  "poll_interval = 2m\n");
	cfg = conf_load(path, problems);
	for (guint i = 0; i < problems->len; i++)
		g_test_message("%s", (char *)problems->pdata[i]);
	g_assert_cmpuint(problems->len, ==, 0);
	m = conf_mailbox_by_name(cfg, "a");
	g_assert_false(m->pop3);
	g_assert_cmpint(m->security, ==, MAILBOX_TLS);
	g_assert_cmpint(m->port, ==, 993);
	g_assert_cmpstr(m->password, ==, "s3cret");
	g_assert_cmpstr(m->folder, ==, "INBOX");
	g_assert_cmpstr(m->recipient, ==, "support@example.com");
	g_assert_cmpstr(m->flags[0], ==, "\\Seen");
	g_assert_cmpstr(m->flags[1], ==, "$maildesk");
	g_assert_null(m->flags[2]);
	g_assert_true(m->verify_tls);
	m = conf_mailbox_by_name(cfg, "b");
	g_assert_true(m->pop3);
	g_assert_cmpint(m->port, ==, 995);
	g_assert_null(m->flags[0]);
	g_assert_cmpstr(m->recipient, ==, "billing@example.com");
	m = conf_mailbox_by_name(cfg, "c");
	g_assert_cmpint(m->security, ==, MAILBOX_STARTTLS);
	g_assert_cmpint(m->port, ==, 1143);
	g_assert_cmpstr(m->folder, ==, "Support In");
	g_assert_null(m->flags[0]);
	g_assert_cmpstr(m->move_to, ==, "Done");
	g_assert_cmpint(m->poll_interval, ==, 120);
}

static void
test_mailbox_problems(void)
{
	g_autofree char *path = write_conf("[maildesk]\ntemplates = .\n"
	                                   "[queue support]\naddress = support@example.com\n"
	                                   "[mailbox x]\n"
	                                   "protocol = pop3\nsecurity = ssl\nusername = u\n"
	                                   "password_file = /nonexistent/pw\nflag = \\Seen\n"
	                                   "recipient = someone@example.com\ncolour = red\n"
	                                   "[mailbox y]\nurl = http://imap.example.com/\n"
	                                   "username = u\npassword_file = /nonexistent/pw\n"
	                                   "flag = none\nflag = bad(flag\n"
	                                   "[mailbox z]\nhost = h\nusername = u\n"
	                                   "password_file = /nonexistent/pw\nflag = none\n");
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(MdConfig) cfg = conf_load(path, problems);

	for (guint i = 0; i < problems->len; i++)
		g_test_message("%s", (char *)problems->pdata[i]);
	g_assert_true(has_problem(problems, "[mailbox x] host: a mailbox needs a host"));
	g_assert_true(has_problem(problems, "[mailbox x] security: \"ssl\" is not tls"));
	g_assert_true(has_problem(problems, "[mailbox x] password_file:"));
	g_assert_true(has_problem(problems, "[mailbox x] flag: POP3 has no flags"));
	g_assert_true(has_problem(problems, "[mailbox x] recipient: someone@example.com is no queue"));
	g_assert_true(has_problem(problems, "[mailbox x] colour: unknown key"));
	g_assert_true(has_problem(problems, "[mailbox y] url: \"http://imap.example.com/\""));
	g_assert_true(has_problem(problems, "[mailbox z] flag: with no flag and no move_to"));
}

int
main(int argc, char **argv)
{
	int rc;

	g_test_init(&argc, &argv, NULL);
	tmpdir = g_dir_make_tmp("maildesk-conf-XXXXXX", NULL);
	g_test_add_func("/conf/good", test_good);
	g_test_add_func("/conf/problems", test_problems_name_line_and_key);
	g_test_add_func("/conf/unparsable", test_unparsable);
	g_test_add_func("/conf/durations", test_durations);
	g_test_add_func("/conf/agents", test_agents);
	g_test_add_func("/conf/calendars", test_calendars);
	g_test_add_func("/conf/message-size-bound", test_message_size_bound);
	g_test_add_func("/conf/queue-address-plus", test_queue_address_plus);
	g_test_add_func("/conf/recipient-delimiter", test_recipient_delimiter);
	g_test_add_func("/conf/mailboxes", test_mailboxes);
	g_test_add_func("/conf/mailbox-problems", test_mailbox_problems);
	rc = g_test_run();
	{
		g_autofree char *p = g_build_filename(tmpdir, "maildesk.conf", NULL);
		g_autofree char *pw = g_build_filename(tmpdir, "pw", NULL);
		g_unlink(p);
		g_unlink(pw);
		g_rmdir(tmpdir);
	}
	g_free(tmpdir);
	return rc;
}
