/*
 * fuzz_token.c - signed ticket addresses: token_verify() and
 * token_present() on hostile addresses, and the token_address() round
 * trip.
 *
 * The input is up to four lines:
 *   1. an address, checked as it is;
 *   2. a base address for the round trip (default support@example.com);
 *   3. a purpose (default none, i.e. "reply");
 *   4. a ticket number in decimal (default: the input's length + 1).
 * A round trip is only asked of what maildesk itself builds: a base
 * without "+" in its local part (conf.c refuses such a queue address;
 * test_conf's queue-address-plus), a purpose of lower-case letters,
 * digits and inner dashes ("note-1f0c9a2e"), tickets from 1 to 10^15
 * (SQLite row ids; the parser refuses numbers in the last few below
 * 2^63, which no ticket reaches).
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "token.h"

#define MAX_TICKET G_GINT64_CONSTANT(1000000000000000)

/* A purpose token_split() reads back as written: [a-z0-9-]+, no dash at either end. */
static gboolean
purpose_plain(const char *p)
{
	if (*p == '\0' || *p == '-' || p[strlen(p) - 1] == '-')
		return FALSE;
	for (; *p != '\0'; p++)
		if (!g_ascii_isdigit(*p) && !g_ascii_islower(*p) && *p != '-')
			return FALSE;
	return TRUE;
}

/* What token_verify() promises about anything it accepts. */
static void
check_verified(const char *addr, gint64 ticket, const char *purpose)
{
	FUZZ_CHECK(ticket > 0, "verified %s with ticket %" G_GINT64_FORMAT, addr, ticket);
	FUZZ_CHECK(purpose != NULL && purpose_plain(purpose),
	           "verified %s with purpose \"%s\"", addr, purpose ? purpose : "(null)");
	FUZZ_CHECK(token_present(addr), "verified %s but token_present() says no token", addr);
}

static void
check_arbitrary(const char *addr)
{
	gint64 ticket = -1;
	char *purpose = NULL;

	if (token_verify(fuzz_secret(), addr, &ticket, &purpose)) {
		check_verified(addr, ticket, purpose);
		g_free(purpose);
	} else {
		FUZZ_CHECK(purpose == NULL, "token_verify() failed but set a purpose");
	}
	(void)token_present(addr);
	(void)token_verify(fuzz_secret(), NULL, &ticket, &purpose);
	(void)token_present(NULL);
}

/* The mac is the 16 hex digits before the last '@'. */
static char *
mac_of(char *addr)
{
	return strrchr(addr, '@') - TOKEN_MAC_HEX;
}

static void
check_round_trip(const char *base, const char *purpose, gint64 ticket)
{
	const char *want = purpose != NULL ? purpose : "reply";
	g_autofree char *addr = token_address(fuzz_secret(), base, ticket, purpose);
	g_autofree char *upper = g_ascii_strup(addr, -1);
	g_autofree char *bad_mac = g_strdup(addr);
	g_autofree char *other_ticket = NULL;
	g_autoptr(GBytes) other_secret = g_bytes_new_static("another secret, same length 32..", 32);
	char *got_purpose = NULL;
	gint64 got = 0;
	char *m;

	FUZZ_CHECK(token_present(addr), "token_address() gave %s, which has no token", addr);
	FUZZ_CHECK(token_verify(fuzz_secret(), addr, &got, &got_purpose),
	           "token_address() gave %s, which does not verify", addr);
	FUZZ_CHECK(got == ticket && g_strcmp0(got_purpose, want) == 0,
	           "%s verified as ticket %" G_GINT64_FORMAT " purpose %s, made for %" G_GINT64_FORMAT " %s",
	           addr, got, got_purpose, ticket, want);
	g_clear_pointer(&got_purpose, g_free);

	/* documented: the comparison ignores case */
	FUZZ_CHECK(token_verify(fuzz_secret(), upper, &got, &got_purpose) && got == ticket &&
	               g_strcmp0(got_purpose, want) == 0,
	           "%s (upper case) does not verify as %s does", upper, addr);
	g_clear_pointer(&got_purpose, g_free);

	/* a guessed or altered address never verifies */
	m = mac_of(bad_mac);
	m[ticket % TOKEN_MAC_HEX] = m[ticket % TOKEN_MAC_HEX] == '0' ? '1' : '0';
	FUZZ_CHECK(!token_verify(fuzz_secret(), bad_mac, &got, &got_purpose),
	           "%s verifies with an altered mac", bad_mac);
	FUZZ_CHECK(!token_verify(other_secret, addr, &got, &got_purpose),
	           "%s verifies with another secret", addr);
	if (ticket < MAX_TICKET) {
		g_autofree char *next = token_address(fuzz_secret(), base, ticket + 1, purpose);
		g_autofree char *mac = g_strndup(mac_of(addr), TOKEN_MAC_HEX);

		/* ticket + 1 with ticket's mac */
		memcpy(mac_of(next), mac, TOKEN_MAC_HEX);
		other_ticket = g_steal_pointer(&next);
		FUZZ_CHECK(!token_verify(fuzz_secret(), other_ticket, &got, &got_purpose),
		           "%s verifies with the mac of ticket %" G_GINT64_FORMAT, other_ticket,
		           ticket);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autofree char *text = fuzz_string(data, size);
	g_auto(GStrv) lines = g_strsplit(text, "\n", 5);
	guint n = g_strv_length(lines);
	const char *base = n > 1 ? lines[1] : "support@example.com";
	const char *purpose = n > 2 && *lines[2] != '\0' ? lines[2] : NULL;
	gint64 ticket = (gint64)size + 1;
	const char *at;

	fuzz_init();
	check_arbitrary(text);
	if (n > 0)
		check_arbitrary(lines[0]);

	if (n > 3) {
		char *end;
		guint64 t = g_ascii_strtoull(lines[3], &end, 10);

		if (end == lines[3] || *end != '\0' || t < 1 || t > (guint64)MAX_TICKET)
			return 0;
		ticket = (gint64)t;
	}
	at = strrchr(base, '@');
	if (at == NULL || memchr(base, '+', at - base) != NULL)
		return 0;
	if (purpose != NULL && !purpose_plain(purpose))
		return 0;
	check_round_trip(base, purpose, ticket);
	return 0;
}
