/* Unit tests: the "#command" lines at the top of an agent's mail. */
#include "config.h"

#include <string.h>

#include "agentcmd.h"

/* Every ETA test runs at this instant, a Monday. */
#define NOW_ISO "2026-11-23T10:00:00Z"

static gint64
utc(const char *iso)
{
	g_autoptr(GDateTime) t = g_date_time_new_from_iso8601(iso, NULL);

	g_assert_nonnull(t);
	return g_date_time_to_unix(t);
}

static MdAgentCmds *
parse_tz(const char *text, int tz_minutes)
{
	return agentcmd_parse(text, utc(NOW_ISO), tz_minutes);
}

static MdAgentCmds *
parse(const char *text)
{
	return parse_tz(text, 0);
}

static const MdAgentCmd *
cmd(const MdAgentCmds *c, guint i)
{
	g_assert_cmpuint(i, <, c->cmds->len);
	return c->cmds->pdata[i];
}

static const char *
error(const MdAgentCmds *c, guint i)
{
	g_assert_cmpuint(i, <, c->errors->len);
	return c->errors->pdata[i];
}

/* text gives exactly one error, and it reads want. */
static void
check_refused(const char *text, const char *want)
{
	g_autoptr(MdAgentCmds) c = parse(text);

	g_assert_cmpuint(c->errors->len, ==, 1);
	g_assert_cmpstr(error(c, 0), ==, want);
}

/* text is one accepted command of kind with argument arg. */
static void
check_one(const char *text, MdAgentCmdKind kind, const char *arg)
{
	g_autoptr(MdAgentCmds) c = parse(text);

	g_assert_cmpuint(c->errors->len, ==, 0);
	g_assert_cmpuint(c->cmds->len, ==, 1);
	g_assert_cmpint(cmd(c, 0)->kind, ==, kind);
	g_assert_cmpstr(cmd(c, 0)->arg, ==, arg);
}

static gint64
eta_ok(const char *text, int tz_minutes)
{
	g_autoptr(MdAgentCmds) c = parse_tz(text, tz_minutes);

	if (c->errors->len > 0)
		g_error("%s: %s", text, error(c, 0));
	g_assert_cmpuint(c->cmds->len, ==, 1);
	g_assert_cmpint(cmd(c, 0)->kind, ==, AGENTCMD_ETA);
	g_assert_null(cmd(c, 0)->arg);
	return cmd(c, 0)->eta;
}

static void
check_eta_refused(const char *text, int tz_minutes, const char *want)
{
	g_autoptr(MdAgentCmds) c = parse_tz(text, tz_minutes);

	g_assert_cmpuint(c->cmds->len, ==, 0);
	g_assert_cmpuint(c->errors->len, ==, 1);
	g_assert_cmpstr(error(c, 0), ==, want);
}

static void
test_basic(void)
{
	g_autoptr(MdAgentCmds) c = parse("#take\n\nOn it, will call you.\n");
	g_autoptr(MdAgentCmds) none = parse("Thanks, fixed.\n");
	g_autoptr(MdAgentCmds) empty = parse(NULL);
	g_autoptr(MdAgentCmds) only = parse("\n#note\n");

	g_assert_cmpuint(c->cmds->len, ==, 1);
	g_assert_cmpint(cmd(c, 0)->kind, ==, AGENTCMD_TAKE);
	g_assert_null(cmd(c, 0)->arg);
	g_assert_cmpint(cmd(c, 0)->eta, ==, 0);
	g_assert_cmpstr(cmd(c, 0)->line, ==, "#take");
	g_assert_cmpuint(c->errors->len, ==, 0);
	g_assert_cmpstr(c->body, ==, "On it, will call you.\n");

	g_assert_cmpuint(none->cmds->len, ==, 0);
	g_assert_cmpstr(none->body, ==, "Thanks, fixed.\n");
	g_assert_cmpuint(empty->cmds->len, ==, 0);
	g_assert_cmpstr(empty->body, ==, "");
	g_assert_cmpint(cmd(only, 0)->kind, ==, AGENTCMD_NOTE);
	g_assert_cmpstr(only->body, ==, "");

	check_one("#assign bob", AGENTCMD_ASSIGN, "bob");
	check_one("#assign bob@example.com", AGENTCMD_ASSIGN, "bob@example.com");
	check_one("#assign <bob@example.com>", AGENTCMD_ASSIGN, "bob@example.com");
	check_one("#status pending", AGENTCMD_STATUS, "pending");
	check_one("#priority urgent", AGENTCMD_PRIORITY, "urgent");
	check_one("#queue Billing", AGENTCMD_QUEUE, "Billing");
	check_one("#note", AGENTCMD_NOTE, NULL);

	g_assert_cmpstr(agentcmd_name(AGENTCMD_ASSIGN), ==, "assign");
	g_assert_cmpstr(agentcmd_name(AGENTCMD_ETA), ==, "eta");
	g_assert_cmpstr(agentcmd_name(AGENTCMD_NOTE), ==, "note");
}

static void
test_several(void)
{
	g_autoptr(MdAgentCmds) c =
	    parse("\n\n  #status pending\n#priority high\n\n#queue billing\n#eta +2d\n\n\n"
	          "Hello,\n\n  indented second line\n");

	g_assert_cmpuint(c->errors->len, ==, 0);
	g_assert_cmpuint(c->cmds->len, ==, 4);
	g_assert_cmpint(cmd(c, 0)->kind, ==, AGENTCMD_STATUS);
	g_assert_cmpint(cmd(c, 1)->kind, ==, AGENTCMD_PRIORITY);
	g_assert_cmpint(cmd(c, 2)->kind, ==, AGENTCMD_QUEUE);
	g_assert_cmpint(cmd(c, 3)->kind, ==, AGENTCMD_ETA);
	g_assert_cmpint(cmd(c, 3)->eta, ==, utc("2026-11-25T10:00:00Z"));
	/* the body is handed over untouched, its own indentation included */
	g_assert_cmpstr(c->body, ==, "Hello,\n\n  indented second line\n");
}

static void
test_case_aliases(void)
{
	g_autoptr(MdAgentCmds) c = parse("#STATUS: Solved\n#Priority:LOW\nDone.");

	g_assert_cmpuint(c->errors->len, ==, 0);
	g_assert_cmpstr(cmd(c, 0)->arg, ==, "solved");
	g_assert_cmpstr(cmd(c, 0)->line, ==, "#STATUS: Solved");
	g_assert_cmpstr(cmd(c, 1)->arg, ==, "low");
	g_assert_cmpstr(c->body, ==, "Done.");

	check_one("#status on hold", AGENTCMD_STATUS, "on-hold");
	check_one("#status On Hold", AGENTCMD_STATUS, "on-hold");
	check_one("#status onhold", AGENTCMD_STATUS, "on-hold");
	check_one("#status ON-HOLD", AGENTCMD_STATUS, "on-hold");
	check_one("#Take:", AGENTCMD_TAKE, NULL);
	check_one("#status\t\tclosed", AGENTCMD_STATUS, "closed");
	/* names and queues keep the case the agent wrote; the caller decides */
	check_one("#assign Bob", AGENTCMD_ASSIGN, "Bob");
}

static void
test_refused_lines(void)
{
	g_autoptr(MdAgentCmds) c = parse("#foo\n#status done\n#take\nBody text\n");

	/* a refused line still belongs to the command block */
	g_assert_cmpuint(c->errors->len, ==, 2);
	g_assert_cmpstr(c->body, ==, "Body text\n");
	g_assert_cmpuint(c->cmds->len, ==, 1);

	check_refused("#foo", "#foo: unknown command; the commands are #assign, #take, #status, "
	                      "#priority, #eta, #queue, #note, #cc, #uncc");
	check_refused("#status2 solved", "#status2 solved: unknown command; the commands are "
	                                 "#assign, #take, #status, #priority, #eta, #queue, #note, "
	                                 "#cc, #uncc");
	check_refused("#status done",
	              "#status done: \"done\" is not one of open, pending, on-hold, solved, closed");
	check_refused("#priority critical",
	              "#priority critical: \"critical\" is not one of low, normal, high, urgent");
	check_refused("#status", "#status: needs one of open, pending, on-hold, solved, closed");
	check_refused("#status:", "#status: needs one of open, pending, on-hold, solved, closed");
	check_refused("#priority", "#priority: needs one of low, normal, high, urgent");
	check_refused("#assign", "#assign: needs an agent's name or address");
	check_refused("#assign <>", "#assign <>: needs an agent's name or address");
	check_refused("#queue", "#queue: needs a queue name");
	check_refused("#eta", "#eta: needs a date such as 2026-12-01, 2026-12-01 14:30, +2d or +4h");
	check_refused("#take now", "#take now: takes no value");
	check_refused("#note please read", "#note please read: takes no value");
	check_refused("#status solved please",
	              "#status solved please: one value expected, not \"solved please\"");
	check_refused("#assign bob alice", "#assign bob alice: one value expected, not \"bob alice\"");
	check_refused("#queue first line", "#queue first line: one value expected, not \"first line\"");
}

static void
test_conflicts(void)
{
	g_autoptr(MdAgentCmds) same = parse("#status solved\n#STATUS Solved\n#take\n#take\n"
	                                    "#eta +1d\n#eta +24h\n#note\n#note\n");
	g_autoptr(MdAgentCmds) same_agent = parse("#assign bob\n#assign BOB\n#assign <bob>\n");
	g_autoptr(MdAgentCmds) both = parse("#assign bob\n#take\n");

	check_refused("#status solved\n#status open", "#status open: conflicts with \"#status solved\"");
	check_refused("#priority low\n#priority high",
	              "#priority high: conflicts with \"#priority low\"");
	check_refused("#queue a\n#queue b", "#queue b: conflicts with \"#queue a\"");
	check_refused("#assign bob\n#assign carol", "#assign carol: conflicts with \"#assign bob\"");
	check_refused("#eta +1d\n#eta +2d", "#eta +2d: conflicts with \"#eta +1d\"");
	check_refused("#take\n#assign bob", "#assign bob: conflicts with \"#take\"");
	check_refused("#assign bob\n#take", "#take: conflicts with \"#assign bob\"");
	/* queue names are the config's, which tells case apart */
	check_refused("#queue a\n#queue A", "#queue A: conflicts with \"#queue a\"");

	/* a repeat with the same effect is harmless and reported once */
	g_assert_cmpuint(same->errors->len, ==, 0);
	g_assert_cmpuint(same->cmds->len, ==, 4);
	g_assert_cmpint(cmd(same, 0)->kind, ==, AGENTCMD_STATUS);
	g_assert_cmpint(cmd(same, 1)->kind, ==, AGENTCMD_TAKE);
	g_assert_cmpint(cmd(same, 2)->kind, ==, AGENTCMD_ETA);
	g_assert_cmpint(cmd(same, 3)->kind, ==, AGENTCMD_NOTE);
	g_assert_cmpuint(same_agent->errors->len, ==, 0);
	g_assert_cmpuint(same_agent->cmds->len, ==, 1);
	g_assert_cmpuint(both->cmds->len, ==, 1);
}

/* #cc and #uncc: one plain address a line, several lines, no contradiction. */
static void
test_cc(void)
{
	g_autoptr(MdAgentCmds) many = parse("#cc ann@example.org\n#cc <Bob@Example.org>\n"
	                                    "#uncc carol@example.org\n#CC: ANN@example.org\n"
	                                    "Text\n");

	g_assert_cmpuint(many->errors->len, ==, 0);
	g_assert_cmpuint(many->cmds->len, ==, 3);
	g_assert_cmpint(cmd(many, 0)->kind, ==, AGENTCMD_CC);
	g_assert_cmpstr(cmd(many, 0)->arg, ==, "ann@example.org");
	g_assert_cmpstr(cmd(many, 1)->arg, ==, "Bob@Example.org");
	g_assert_cmpint(cmd(many, 2)->kind, ==, AGENTCMD_UNCC);
	g_assert_cmpstr(many->body, ==, "Text\n");
	check_one("#uncc <x@example.org>", AGENTCMD_UNCC, "x@example.org");

	check_refused("#cc", "#cc: needs an address such as name@example.org");
	check_refused("#uncc <>", "#uncc <>: \"<>\" is not a plain address such as "
	                          "name@example.org");
	check_refused("#cc a@example.org b@example.org",
	              "#cc a@example.org b@example.org: one address a line, not "
	              "\"a@example.org b@example.org\"");
	check_refused("#cc a@example.org,b@example.org",
	              "#cc a@example.org,b@example.org: \"a@example.org,b@example.org\" is not a "
	              "plain address such as name@example.org");
	check_refused("#cc \"a,hidden@evil.example\"@example.org",
	              "#cc \"a,hidden@evil.example\"@example.org: \"\"a,hidden@evil.example\"@"
	              "example.org\" is not a plain address such as name@example.org");
	check_refused("#cc x@[127.0.0.1]",
	              "#cc x@[127.0.0.1]: \"x@[127.0.0.1]\" is not a plain address such as "
	              "name@example.org");
	check_refused("#cc Ann <ann@example.org>",
	              "#cc Ann <ann@example.org>: one address a line, not \"Ann <ann@example.org>\"");
	check_refused("#cc ann@example.org\n#uncc ANN@example.org",
	              "#uncc ANN@example.org: conflicts with \"#cc ann@example.org\"");
}

static void
test_eta_relative(void)
{
	gint64 now = utc(NOW_ISO);

	g_assert_cmpint(eta_ok("#eta +90m", 0), ==, now + 90 * 60);
	g_assert_cmpint(eta_ok("#eta +4h", 0), ==, now + 4 * 3600);
	g_assert_cmpint(eta_ok("#eta +2d", 0), ==, now + 2 * 86400);
	g_assert_cmpint(eta_ok("#eta +1w", 0), ==, now + 7 * 86400);
	g_assert_cmpint(eta_ok("#eta +2D", 0), ==, now + 2 * 86400);
	g_assert_cmpint(eta_ok("#eta +0m", 0), ==, now);
	/* plain clock time: the agent's offset does not move "+4h" */
	g_assert_cmpint(eta_ok("#eta +4h", 120), ==, now + 4 * 3600);
	g_assert_cmpint(eta_ok("#eta +4h", -300), ==, now + 4 * 3600);
}

static void
test_eta_absolute(void)
{
	/* a bare day means 17:00 in the agent's offset */
	g_assert_cmpint(eta_ok("#eta 2026-12-01", 0), ==, utc("2026-12-01T17:00:00Z"));
	g_assert_cmpint(eta_ok("#eta 2026-12-01", 120), ==, utc("2026-12-01T15:00:00Z"));
	g_assert_cmpint(eta_ok("#eta 2026-12-01", -300), ==, utc("2026-12-01T22:00:00Z"));
	g_assert_cmpint(eta_ok("#eta 2026-11-23", 120), ==, utc("2026-11-23T15:00:00Z"));
	g_assert_cmpint(eta_ok("#eta 2028-02-29", 0), ==, utc("2028-02-29T17:00:00Z"));

	g_assert_cmpint(eta_ok("#eta 2026-12-01 14:30", 120), ==, utc("2026-12-01T12:30:00Z"));
	g_assert_cmpint(eta_ok("#eta 2026-12-01T14:30", 120), ==, utc("2026-12-01T12:30:00Z"));
	g_assert_cmpint(eta_ok("#eta 2026-12-01 14:30", -300), ==, utc("2026-12-01T19:30:00Z"));
	g_assert_cmpint(eta_ok("#eta 2026-12-01 14:30:15", 0), ==, utc("2026-12-01T14:30:15Z"));
	/* a broken Date header offset counts as UTC rather than shifting by days */
	g_assert_cmpint(eta_ok("#eta 2026-12-01 14:30", 100 * 60), ==, utc("2026-12-01T14:30:00Z"));
}

static void
test_eta_iso(void)
{
	/* an explicit offset wins over the agent's */
	g_assert_cmpint(eta_ok("#eta 2026-12-01T14:30:00+02:00", -300), ==,
	                utc("2026-12-01T12:30:00Z"));
	g_assert_cmpint(eta_ok("#eta 2026-12-01T14:30:00Z", 120), ==, utc("2026-12-01T14:30:00Z"));
	g_assert_cmpint(eta_ok("#eta 2026-12-01T14:30-05:00", 0), ==, utc("2026-12-01T19:30:00Z"));
	g_assert_cmpint(eta_ok("#eta 2026-12-01T14:30Z", 120), ==, utc("2026-12-01T14:30:00Z"));
	g_assert_cmpint(eta_ok("#eta 2026-12-01t14:30z", 120), ==, utc("2026-12-01T14:30:00Z"));
	g_assert_cmpint(eta_ok("#eta 2026-12-01 14:30+01:00", 0), ==, utc("2026-12-01T13:30:00Z"));
}

static void
test_eta_past(void)
{
	check_eta_refused("#eta 2020-01-01", 0, "#eta 2020-01-01: 2020-01-01 is in the past");
	check_eta_refused("#eta 2026-11-23T09:59:59Z", 0,
	                  "#eta 2026-11-23T09:59:59Z: 2026-11-23T09:59:59Z is in the past");
	/* 17:00 at UTC+14 was 03:00 UTC, before now; the same day at UTC+2 is later */
	check_eta_refused("#eta 2026-11-23", 14 * 60, "#eta 2026-11-23: 2026-11-23 is in the past");
	/* 11:00 is still ahead in New York but already gone in Riga */
	check_eta_refused("#eta 2026-11-23 11:00", 120,
	                  "#eta 2026-11-23 11:00: 2026-11-23 11:00 is in the past");
	g_assert_cmpint(eta_ok("#eta 2026-11-23 11:00", -300), ==, utc("2026-11-23T16:00:00Z"));
}

static void
test_eta_garbage(void)
{
	static const char *const bad[] = {
	    "soon", "tomorrow", "2026-02-30", "2026-13-01", "26-12-01", "2026-12-1", "+2x", "+d",
	    "+", "-2d", "2d", "+2", "+1234567890d", "2026-12-01 14:30 CET", "2026-12-01 25:00",
	    "01.12.2026", "+999999999w", "2026-12-01T",
	};

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *line = g_strdup_printf("#eta %s", bad[i]);
		g_autofree char *want = g_strdup_printf(
		    "#eta %s: \"%s\" is not a date such as 2026-12-01, 2026-12-01 14:30, +2d or +4h",
		    bad[i], bad[i]);

		check_eta_refused(line, 120, want);
	}
}

static void
test_crlf_nbsp(void)
{
	g_autoptr(MdAgentCmds) c = parse("\r\n#status\xc2\xa0solved\xc2\xa0\r\n"
	                                 "\xe2\x80\x8b#priority high\xe2\x80\x8b\r\n"
	                                 "\xc2\xa0\r\n"
	                                 "\xef\xbb\xbf#queue \xe2\x80\x8c" "billing\r\n"
	                                 "\r\n"
	                                 "Hello,\r\nthanks.\r\n");

	g_assert_cmpuint(c->errors->len, ==, 0);
	g_assert_cmpuint(c->cmds->len, ==, 3);
	g_assert_cmpstr(cmd(c, 0)->arg, ==, "solved");
	g_assert_cmpstr(cmd(c, 0)->line, ==, "#status solved");
	g_assert_cmpstr(cmd(c, 1)->arg, ==, "high");
	g_assert_cmpstr(cmd(c, 1)->line, ==, "#priority high");
	/* an invisible mark inside a word must not become part of the queue name */
	g_assert_cmpstr(cmd(c, 2)->arg, ==, "billing");
	/* the body keeps its CRLF: it is relayed, not re-typed */
	g_assert_cmpstr(c->body, ==, "Hello,\r\nthanks.\r\n");

	check_one("#take\r", AGENTCMD_TAKE, NULL);
	check_one("#status on\xc2\xa0hold\r\n", AGENTCMD_STATUS, "on-hold");
}

static void
test_not_commands(void)
{
	g_autoptr(MdAgentCmds) issue = parse("#123 is broken again\n#take\n");
	g_autoptr(MdAgentCmds) later = parse("#take\nSee ticket #45.\n#status solved\n");
	g_autoptr(MdAgentCmds) quoted = parse("> #take\n> #status solved\n");
	g_autoptr(MdAgentCmds) spaced = parse("# take\n");
	g_autoptr(MdAgentCmds) wide = parse("＃take\n");

	/* "#123" is an issue number: body from there, and what follows is body too */
	g_assert_cmpuint(issue->cmds->len, ==, 0);
	g_assert_cmpuint(issue->errors->len, ==, 0);
	g_assert_cmpstr(issue->body, ==, "#123 is broken again\n#take\n");

	g_assert_cmpuint(later->cmds->len, ==, 1);
	g_assert_cmpuint(later->errors->len, ==, 0);
	g_assert_cmpstr(later->body, ==, "See ticket #45.\n#status solved\n");

	g_assert_cmpuint(quoted->cmds->len, ==, 0);
	g_assert_cmpstr(quoted->body, ==, "> #take\n> #status solved\n");
	g_assert_cmpuint(spaced->cmds->len, ==, 0);
	g_assert_cmpuint(spaced->errors->len, ==, 0);
	g_assert_cmpuint(wide->cmds->len, ==, 0);
	g_assert_cmpuint(wide->errors->len, ==, 0);
}

static void
test_limits(void)
{
	GString *many = g_string_new(NULL);
	GString *long_line = g_string_new("#assign ");
	g_autofree char *at_limit = NULL;
	g_autoptr(MdAgentCmds) c = NULL;
	g_autoptr(MdAgentCmds) twenty = NULL;
	g_autoptr(MdAgentCmds) over = NULL;
	g_autoptr(MdAgentCmds) limit = NULL;

	for (int i = 0; i < AGENTCMD_MAX_COMMANDS; i++)
		g_string_append(many, "#take\n");
	twenty = parse(many->str);
	g_assert_cmpuint(twenty->errors->len, ==, 0);

	g_string_append(many, "#note\n#status solved\nBody\n");
	c = parse(many->str);
	g_assert_cmpuint(c->errors->len, ==, 1);
	g_assert_cmpstr(error(c, 0), ==, "#note: too many commands, at most 20 are read");
	/* lines past the limit are still consumed, not relayed as text */
	g_assert_cmpstr(c->body, ==, "Body\n");
	g_string_free(many, TRUE);

	while (long_line->len < AGENTCMD_MAX_LINE)
		g_string_append_c(long_line, 'b');
	/* exactly at the limit, and the CR of a CRLF does not count */
	at_limit = g_strdup_printf("%s\r\nBody", long_line->str);
	limit = parse(at_limit);
	g_assert_cmpuint(limit->errors->len, ==, 0);
	g_assert_cmpuint(strlen(cmd(limit, 0)->arg), ==, AGENTCMD_MAX_LINE - strlen("#assign "));

	g_string_append(long_line, "b\nBody");
	over = parse(long_line->str);
	g_assert_cmpuint(over->cmds->len, ==, 0);
	g_assert_cmpuint(over->errors->len, ==, 1);
	g_assert_true(g_str_has_suffix(error(over, 0), "…: line longer than 1000 bytes"));
	g_assert_true(g_str_has_prefix(error(over, 0), "#assign bbb"));
	/* the error repeats a bounded part of the line, not all of it */
	g_assert_cmpuint(strlen(error(over, 0)), <, 200);
	g_assert_cmpstr(over->body, ==, "Body");
	g_string_free(long_line, TRUE);
}

static void
test_hostile(void)
{
	g_autoptr(MdAgentCmds) ctl = parse("#queue a\x01\x1b[31mb\n");
	g_autoptr(MdAgentCmds) bad_utf8 = parse("#queue \xff\xfe\n\xc2");
	g_autoptr(MdAgentCmds) long_value = NULL;
	GString *text = g_string_new("#status ");

	/* control characters never reach a reply or a log line */
	g_assert_cmpstr(cmd(ctl, 0)->arg, ==, "a??[31mb");
	g_assert_true(g_utf8_validate(cmd(bad_utf8, 0)->arg, -1, NULL));
	g_assert_true(g_utf8_validate(cmd(bad_utf8, 0)->line, -1, NULL));
	g_assert_cmpstr(bad_utf8->body, ==, "\xc2");

	for (int i = 0; i < 300; i++)
		g_string_append(text, "é");
	long_value = parse(text->str);
	g_assert_cmpuint(long_value->errors->len, ==, 1);
	g_assert_true(g_utf8_validate(error(long_value, 0), -1, NULL));
	g_assert_cmpuint(strlen(error(long_value, 0)), <, 300);
	g_string_free(text, TRUE);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/agentcmd/basic", test_basic);
	g_test_add_func("/agentcmd/several", test_several);
	g_test_add_func("/agentcmd/case-aliases", test_case_aliases);
	g_test_add_func("/agentcmd/refused-lines", test_refused_lines);
	g_test_add_func("/agentcmd/conflicts", test_conflicts);
	g_test_add_func("/agentcmd/cc", test_cc);
	g_test_add_func("/agentcmd/eta-relative", test_eta_relative);
	g_test_add_func("/agentcmd/eta-absolute", test_eta_absolute);
	g_test_add_func("/agentcmd/eta-iso", test_eta_iso);
	g_test_add_func("/agentcmd/eta-past", test_eta_past);
	g_test_add_func("/agentcmd/eta-garbage", test_eta_garbage);
	g_test_add_func("/agentcmd/crlf-nbsp", test_crlf_nbsp);
	g_test_add_func("/agentcmd/not-commands", test_not_commands);
	g_test_add_func("/agentcmd/limits", test_limits);
	g_test_add_func("/agentcmd/hostile", test_hostile);
	return g_test_run();
}
