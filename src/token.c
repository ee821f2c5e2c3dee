/*
 * token.c - HMAC-signed ticket addresses.
 */
#include "config.h"

#include <string.h>

#include "token.h"

static void
compute_mac(GBytes *secret, gint64 ticket, const char *purpose, char out[TOKEN_MAC_HEX + 1])
{
	gsize key_len;
	const guint8 *key = g_bytes_get_data(secret, &key_len);
	g_autoptr(GHmac) hmac = g_hmac_new(G_CHECKSUM_SHA256, key, key_len);
	g_autofree char *msg = g_strdup_printf("maildesk-ticket:%" G_GINT64_FORMAT ":%s", ticket, purpose);
	const char *hex;

	g_hmac_update(hmac, (const guchar *)msg, strlen(msg));
	hex = g_hmac_get_string(hmac);
	memcpy(out, hex, TOKEN_MAC_HEX);
	out[TOKEN_MAC_HEX] = '\0';
}

char *
token_address(GBytes *secret, const char *base_addr, gint64 ticket, const char *purpose)
{
	const char *at = strrchr(base_addr, '@');
	char mac[TOKEN_MAC_HEX + 1];
	gboolean reply = purpose == NULL || strcmp(purpose, "reply") == 0;

	compute_mac(secret, ticket, reply ? "reply" : purpose, mac);
	if (at == NULL)
		at = base_addr + strlen(base_addr);
	return g_strdup_printf("%.*s+%" G_GINT64_FORMAT "-%s%s%s%s", (int)(at - base_addr), base_addr,
	                       ticket, reply ? "" : purpose, reply ? "" : "-", mac, at);
}

/* Splits the +extension of addr into ticket, purpose and mac. */
static gboolean
token_split(const char *addr, gint64 *ticket_r, char **purpose_r, char **mac_r)
{
	const char *at, *plus, *p, *dash, *last;
	gint64 n = 0;

	if (addr == NULL || (at = strrchr(addr, '@')) == NULL)
		return FALSE;
	plus = memchr(addr, '+', at - addr);
	if (plus == NULL)
		return FALSE;
	p = plus + 1;
	for (dash = p; dash < at && g_ascii_isdigit(*dash); dash++) {
		if (n > (G_MAXINT64 - 9) / 10)
			return FALSE;
		n = n * 10 + (*dash - '0');
	}
	if (dash == p || dash >= at || *dash != '-' || n <= 0)
		return FALSE;
	last = dash;
	for (const char *q = dash + 1; q < at; q++)
		if (*q == '-')
			last = q;
	if (at - (last + 1) != TOKEN_MAC_HEX)
		return FALSE;
	for (const char *q = last + 1; q < at; q++)
		if (!g_ascii_isxdigit(*q))
			return FALSE;
	if (last == dash) {
		*purpose_r = g_strdup("reply");
	} else {
		/* letters and digits, and inner dashes: "agent-<id>" names a person */
		if (dash[1] == '-' || last[-1] == '-')
			return FALSE;
		for (const char *q = dash + 1; q < last; q++)
			if (!g_ascii_isalnum(*q) && *q != '-')
				return FALSE;
		*purpose_r = g_ascii_strdown(dash + 1, last - dash - 1);
	}
	*ticket_r = n;
	*mac_r = g_ascii_strdown(last + 1, TOKEN_MAC_HEX);
	return TRUE;
}

gboolean
token_present(const char *addr)
{
	gint64 ticket;
	g_autofree char *purpose = NULL;
	g_autofree char *mac = NULL;

	return token_split(addr, &ticket, &purpose, &mac);
}

gboolean
token_verify(GBytes *secret, const char *addr, gint64 *ticket_r, char **purpose_r)
{
	gint64 ticket;
	g_autofree char *purpose = NULL;
	g_autofree char *mac = NULL;
	char want[TOKEN_MAC_HEX + 1];
	unsigned diff = 0;

	if (!token_split(addr, &ticket, &purpose, &mac))
		return FALSE;
	compute_mac(secret, ticket, purpose, want);
	for (int i = 0; i < TOKEN_MAC_HEX; i++)
		diff |= (unsigned)(want[i] ^ mac[i]);
	if (diff != 0)
		return FALSE;
	*ticket_r = ticket;
	*purpose_r = g_steal_pointer(&purpose);
	return TRUE;
}

/* The id of the person at addr: the first hex digits of an HMAC over it. */
static void
person_id(GBytes *secret, const char *addr, char out[TOKEN_PERSON_ID_HEX + 1])
{
	gsize key_len;
	const guint8 *key = g_bytes_get_data(secret, &key_len);
	g_autoptr(GHmac) hmac = g_hmac_new(G_CHECKSUM_SHA256, key, key_len);
	g_autofree char *lower = g_ascii_strdown(addr, -1);
	g_autofree char *msg = g_strdup_printf("maildesk-person:%s", lower);

	g_hmac_update(hmac, (const guchar *)msg, strlen(msg));
	memcpy(out, g_hmac_get_string(hmac), TOKEN_PERSON_ID_HEX);
	out[TOKEN_PERSON_ID_HEX] = '\0';
}

char *
token_person_purpose(GBytes *secret, const char *kind, const char *addr)
{
	char id[TOKEN_PERSON_ID_HEX + 1];

	person_id(secret, addr, id);
	return g_strdup_printf("%s-%s", kind, id);
}

const char *
token_agent_kind(const char *purpose)
{
	static const char *const kinds[] = { TOKEN_AGENT, TOKEN_NOTE };

	for (guint i = 0; purpose != NULL && i < G_N_ELEMENTS(kinds); i++) {
		gsize n = strlen(kinds[i]);

		if (strncmp(purpose, kinds[i], n) == 0 &&
		    (purpose[n] == '\0' || purpose[n] == '-'))
			return kinds[i];
	}
	return NULL;
}

gboolean
token_purpose_names(GBytes *secret, const char *purpose, const char *addr)
{
	const char *kind = token_agent_kind(purpose);
	char id[TOKEN_PERSON_ID_HEX + 1];
	const char *given;

	if (kind == NULL || addr == NULL || purpose[strlen(kind)] != '-')
		return FALSE;
	given = purpose + strlen(kind) + 1;
	if (strlen(given) != TOKEN_PERSON_ID_HEX)
		return FALSE;
	person_id(secret, addr, id);
	return g_ascii_strcasecmp(given, id) == 0;
}
