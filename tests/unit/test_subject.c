/* Unit tests: subject normalisation and our ticket tag. */
#include "config.h"

#include "subject.h"

static void
check_norm(const char *in, const char *prefix, const char *want)
{
	g_autofree char *got = subject_normalize(in, prefix);

	g_assert_cmpstr(got, ==, want);
}

static void
test_prefixes(void)
{
	check_norm("Re: Printer broken", "#", "Printer broken");
	check_norm("RE: re: Fwd: FW: Printer broken", "#", "Printer broken");
	check_norm("AW: WG: Drucker kaputt", "#", "Drucker kaputt");
	check_norm("SV: VS: VB: Skrivare", "#", "Skrivare");
	check_norm("Antw: vraag", "#", "vraag");
	check_norm("R: R: R: I: domanda", "#", "domanda");
	check_norm("Ответ: Отв: Пересл: принтер", "#", "принтер");
	check_norm("ОТВЕТ: принтер", "#", "принтер");
	check_norm("Atb: Pārs: printeris", "#", "printeris");
	check_norm("ATB: PĀRS: printeris", "#", "printeris");
	check_norm("Re[2]: Re(3): Re^4: counted", "#", "counted");
	check_norm("Re : spaced colon", "#", "spaced colon");
	check_norm("Re：full width", "#", "full width");
}

static void
test_not_prefixes(void)
{
	/* words that merely start like a prefix stay */
	check_norm("Reset my password", "#", "Reset my password");
	check_norm("Research: results", "#", "Research: results");
	check_norm("Ideas: many", "#", "Ideas: many");
	check_norm("Re", "#", "Re");
	check_norm(NULL, "#", "");
	check_norm("   ", "#", "");
	check_norm("a   b\t\tc", "#", "a b c");
}

static void
test_tags(void)
{
	gint64 n = 0;
	g_autofree char *tag = subject_tag("Support #", 123);

	g_assert_cmpstr(tag, ==, "[Support #123]");
	check_norm("Re: [#12] Printer", "#", "Printer");
	check_norm("Printer [#12]", "#", "Printer");
	check_norm("Re: [Support #7] AW: Printer", "Support #", "Printer");
	/* someone else's tag is text, not ours */
	check_norm("[JIRA-12] Printer", "#", "[JIRA-12] Printer");

	g_assert_true(subject_find_tag("Re: Printer [#123]", "#", &n));
	g_assert_cmpint(n, ==, 123);
	g_assert_true(subject_find_tag("[x] [Support #45] y", "Support #", &n));
	g_assert_cmpint(n, ==, 45);
	g_assert_false(subject_find_tag("Printer [#abc]", "#", &n));
	g_assert_false(subject_find_tag("Printer [#]", "#", &n));
	g_assert_false(subject_find_tag("Printer [#12", "#", &n));
	g_assert_false(subject_find_tag("Printer [#99999999999999999999999]", "#", &n));
	g_assert_false(subject_find_tag(NULL, "#", &n));
}

static void
test_forward(void)
{
	g_assert_true(subject_is_forward("Fwd: x", "#"));
	g_assert_true(subject_is_forward("FW: x", "#"));
	g_assert_true(subject_is_forward("Re: [#4] WG: x", "#"));
	g_assert_true(subject_is_forward("Пересл: x", "#"));
	g_assert_true(subject_is_forward("PĀRS: x", "#"));
	g_assert_true(subject_is_forward("Fwd[2]: x", "#"));
	g_assert_false(subject_is_forward("Re: x", "#"));
	g_assert_false(subject_is_forward("Fwd x", "#"));
	g_assert_false(subject_is_forward("x Fwd: y", "#"));
	g_assert_false(subject_is_forward("Forward: x", "#"));
	g_assert_false(subject_is_forward(NULL, "#"));
	g_assert_false(subject_is_forward("[#4] status", "#"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/subject/prefixes", test_prefixes);
	g_test_add_func("/subject/not-prefixes", test_not_prefixes);
	g_test_add_func("/subject/tags", test_tags);
	g_test_add_func("/subject/forward", test_forward);
	return g_test_run();
}
