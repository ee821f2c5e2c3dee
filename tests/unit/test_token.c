/* Unit tests: signed ticket addresses. */
#include "config.h"

#include <string.h>

#include "csat.h"
#include "token.h"

static GBytes *
secret(const char *s)
{
	return g_bytes_new(s, strlen(s));
}

static void
test_round_trip(void)
{
	g_autoptr(GBytes) key = secret("0123456789abcdef0123456789abcdef");
	g_autofree char *addr = token_address(key, "support@example.com", 123, NULL);
	g_autofree char *note = token_address(key, "support@example.com", 123, "note");
	g_autofree char *purpose = NULL;
	g_autofree char *purpose2 = NULL;
	gint64 t = 0;

	g_assert_true(g_str_has_prefix(addr, "support+123-"));
	g_assert_true(g_str_has_suffix(addr, "@example.com"));
	g_assert_cmpuint(strlen(addr), ==, strlen("support+123-@example.com") + TOKEN_MAC_HEX);
	g_assert_true(token_verify(key, addr, &t, &purpose));
	g_assert_cmpint(t, ==, 123);
	g_assert_cmpstr(purpose, ==, "reply");

	g_assert_true(g_str_has_prefix(note, "support+123-note-"));
	g_assert_true(token_verify(key, note, &t, &purpose2));
	g_assert_cmpstr(purpose2, ==, "note");

	/* Postfix may fold the address to upper or lower case */
	{
		g_autofree char *upper = g_ascii_strup(addr, -1);
		g_autofree char *p = NULL;

		g_assert_true(token_verify(key, upper, &t, &p));
	}
}

static void
test_forgeries(void)
{
	g_autoptr(GBytes) key = secret("0123456789abcdef0123456789abcdef");
	g_autoptr(GBytes) other = secret("another secret of enough length!");
	g_autofree char *addr = token_address(key, "support@example.com", 123, NULL);
	g_autofree char *p = NULL;
	gint64 t = 0;
	char *mac;

	/* another site's secret */
	{
		g_autofree char *foreign = token_address(other, "support@example.com", 123, NULL);

		g_assert_false(token_verify(key, foreign, &t, &p));
		g_assert_true(token_present(foreign));
	}
	/* one hex digit changed */
	{
		g_autofree char *bad = g_strdup(addr);

		mac = strchr(bad, '-') + 1;
		mac[0] = mac[0] == 'a' ? 'b' : 'a';
		g_assert_false(token_verify(key, bad, &t, &p));
	}
	/* the mac of ticket 123 does not open ticket 124 */
	{
		g_autofree char *moved = g_strdup(addr);

		moved[strlen("support+12")] = '4';
		g_assert_false(token_verify(key, moved, &t, &p));
	}
	/* the mac of a reply address is no note address */
	{
		g_autofree char *retarget = g_strdup_printf("support+123-note-%s",
		                                            strchr(addr, '-') + 1);

		g_assert_false(token_verify(key, retarget, &t, &p));
	}
	/* malformed */
	g_assert_false(token_verify(key, "support@example.com", &t, &p));
	g_assert_false(token_verify(key, "support+123@example.com", &t, &p));
	g_assert_false(token_verify(key, "support+123-@example.com", &t, &p));
	g_assert_false(token_verify(key, "support+-0123456789abcdef@example.com", &t, &p));
	g_assert_false(token_verify(key, "support+0-0123456789abcdef@example.com", &t, &p));
	g_assert_false(token_verify(key, "support+99999999999999999999-0123456789abcdef@x", &t, &p));
	g_assert_false(token_verify(key, "support+12-zzzzzzzzzzzzzzzz@example.com", &t, &p));
	g_assert_false(token_verify(key, "support+12-no te-0123456789abcdef@example.com", &t, &p));
	g_assert_false(token_verify(key, NULL, &t, &p));
	g_assert_false(token_present("support+hello@example.com"));
}

/* The five voting addresses verify as their own score, and only as it. */
static void
test_csat(void)
{
	g_autoptr(GBytes) key = secret("0123456789abcdef0123456789abcdef");
	g_autoptr(JsonObject) links = csat_links(key, "support@example.com", 42);

	for (int score = 1; score <= 5; score++) {
		char name[4];
		const char *addr;
		g_autofree char *purpose = NULL;
		gint64 t = 0;

		g_snprintf(name, sizeof name, "s%d", score);
		addr = json_object_get_string_member(links, name);
		g_assert_true(g_str_has_prefix(addr, "support+42-csat"));
		g_assert_true(token_verify(key, addr, &t, &purpose));
		g_assert_cmpint(t, ==, 42);
		g_assert_cmpint(csat_score(purpose), ==, score);
	}
	g_assert_cmpint(csat_score("reply"), ==, 0);
	g_assert_cmpint(csat_score("csat"), ==, 0);
	g_assert_cmpint(csat_score("csat0"), ==, 0);
	g_assert_cmpint(csat_score("csat6"), ==, 0);
	g_assert_cmpint(csat_score("csat55"), ==, 0);
	g_assert_cmpint(csat_score(NULL), ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/token/round-trip", test_round_trip);
	g_test_add_func("/token/forgeries", test_forgeries);
	g_test_add_func("/token/csat", test_csat);
	return g_test_run();
}
