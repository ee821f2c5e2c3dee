/*
 * csat.h - the satisfaction question after "solved": five signed
 * addresses, support+<ticket>-csat<1..5>-<mac>@, one per score, so that
 * a vote is a mail sent from a mailto link and no web page is needed.
 * Pure.
 */
#ifndef MD_CSAT_H
#define MD_CSAT_H

#include <json-glib/json-glib.h>

/* The score a token purpose stands for ("csat1".."csat5"), else 0. */
int csat_score(const char *purpose);

/*
 * The template context of the question: an object with members "s1" to
 * "s5", the signed voting addresses for ticket on base_addr.  Caller
 * unrefs.
 */
JsonObject *csat_links(GBytes *secret, const char *base_addr, gint64 ticket);

#endif
