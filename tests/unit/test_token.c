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

/* Agent and note addresses name the person they were issued to. */
static void
test_person(void)
{
	g_autoptr(GBytes) key = secret("0123456789abcdef0123456789abcdef");
	g_autoptr(GBytes) other = secret("another secret of enough length!");
	g_autofree char *alice = token_person_purpose(key, TOKEN_NOTE, "Alice@Example.com");
	g_autofree char *alice2 = token_person_purpose(key, TOKEN_NOTE, "alice@example.com");
	g_autofree char *bob = token_person_purpose(key, TOKEN_NOTE, "bob@example.com");
	g_autofree char *agent = token_person_purpose(key, TOKEN_AGENT, "alice@example.com");
	g_autofree char *foreign = token_person_purpose(other, TOKEN_NOTE, "alice@example.com");
	g_autofree char *addr = token_address(key, "support@example.com", 9, alice);
	g_autofree char *got = NULL;
	gint64 t = 0;

	g_assert_true(g_str_has_prefix(alice, "note-"));
	g_assert_cmpuint(strlen(alice), ==, strlen("note-") + TOKEN_PERSON_ID_HEX);
	g_assert_cmpstr(alice, ==, alice2); /* addresses in any case */
	g_assert_cmpstr(alice, !=, bob);
	g_assert_cmpstr(alice, !=, foreign);
	g_assert_cmpstr(agent + strlen("agent"), ==, alice + strlen("note"));

	/* the address round-trips with its purpose, dashes and all */
	g_assert_true(g_str_has_prefix(addr, "support+9-note-"));
	g_assert_true(token_verify(key, addr, &t, &got));
	g_assert_cmpint(t, ==, 9);
	g_assert_cmpstr(got, ==, alice);

	g_assert_cmpstr(token_agent_kind(alice), ==, TOKEN_NOTE);
	g_assert_cmpstr(token_agent_kind(agent), ==, TOKEN_AGENT);
	g_assert_cmpstr(token_agent_kind("note"), ==, TOKEN_NOTE);
	g_assert_cmpstr(token_agent_kind("agent"), ==, TOKEN_AGENT);
	g_assert_null(token_agent_kind("notes"));
	g_assert_null(token_agent_kind("agentx-1"));
	g_assert_null(token_agent_kind("reply"));
	g_assert_null(token_agent_kind("csat5"));
	g_assert_null(token_agent_kind(NULL));

	g_assert_true(token_purpose_names(key, alice, "alice@example.com"));
	g_assert_true(token_purpose_names(key, agent, "ALICE@example.com"));
	g_assert_false(token_purpose_names(key, alice, "bob@example.com"));
	g_assert_false(token_purpose_names(other, alice, "alice@example.com"));
	/* the unnamed form names nobody */
	g_assert_false(token_purpose_names(key, "note", "alice@example.com"));
	g_assert_false(token_purpose_names(key, "agent", "alice@example.com"));
	g_assert_false(token_purpose_names(key, "reply", "alice@example.com"));
	g_assert_false(token_purpose_names(key, "note-", "alice@example.com"));

	/* a dash at either end of a purpose is no token */
	{
		g_autofree char *p = NULL;
		g_autofree char *mac = g_strndup(strrchr(addr, '-') + 1, TOKEN_MAC_HEX);
		g_autofree char *dash_end = g_strdup_printf("support+9-note--%s@example.com", mac);
		g_autofree char *dash_start = g_strdup_printf("support+9--note-%s@example.com", mac);

		g_assert_false(token_present(dash_end));
		g_assert_false(token_present(dash_start));
		g_assert_false(token_verify(key, dash_end, &t, &p));
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/token/round-trip", test_round_trip);
	g_test_add_func("/token/forgeries", test_forgeries);
	g_test_add_func("/token/csat", test_csat);
	g_test_add_func("/token/person", test_person);
	return g_test_run();
}
