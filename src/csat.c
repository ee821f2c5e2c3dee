/*
 * csat.c - voting addresses.
 */
#include "config.h"

#include <string.h>

#include "csat.h"
#include "token.h"

int
csat_score(const char *purpose)
{
	if (purpose == NULL || strncmp(purpose, "csat", 4) != 0 || purpose[4] < '1' ||
	    purpose[4] > '5' || purpose[5] != '\0')
		return 0;
	return purpose[4] - '0';
}

JsonObject *
csat_links(GBytes *secret, const char *base_addr, gint64 ticket)
{
	JsonObject *links = json_object_new();

	for (int score = 1; score <= 5; score++) {
		char purpose[8], name[4];
		g_autofree char *addr = NULL;

		g_snprintf(purpose, sizeof purpose, "csat%d", score);
		g_snprintf(name, sizeof name, "s%d", score);
		addr = token_address(secret, base_addr, ticket, purpose);
		json_object_set_string_member(links, name, addr);
	}
	return links;
}
