/*
 * address.c - the addr-spec rule and maildesk's own addresses.
 *
 * Must never: accept an address whose header form and envelope form can
 * differ (a quoted local part, a literal), or let one of our own
 * mailboxes through as a person: mail to it would come back to us as a
 * new ticket, an acknowledgement to ourselves, a loop.
 */
#include "config.h"

#include <string.h>

#include "address.h"

/* RFC 5322 atext besides letters and digits. */
#define ATEXT_SPECIALS "!#$%&'*+-/=?^_`{|}~"

static gboolean
local_valid(const char *p, gsize n)
{
	if (n == 0 || n > ADDRESS_MAX_LOCAL)
		return FALSE;
	for (gsize i = 0; i < n; i++) {
		guchar c = (guchar)p[i];

		if (c == '.') {
			if (i == 0 || i + 1 == n || p[i + 1] == '.')
				return FALSE;
		} else if (c >= 0x80 || (!g_ascii_isalnum(c) && strchr(ATEXT_SPECIALS, c) == NULL)) {
			return FALSE;
		}
	}
	return TRUE;
}

/*
 * Dot-separated labels of [A-Za-z0-9-], at least two, none empty or over
 * 63, the last not all digits.
 */
static gboolean
ascii_domain_valid(const char *d)
{
	gsize label = 0, labels = 1;

	if (*d == '\0' || strlen(d) > 253)
		return FALSE;
	for (const char *p = d; *p != '\0'; p++) {
		if (*p == '.') {
			if (label == 0 || p[1] == '\0')
				return FALSE;
			label = 0;
			labels++;
		} else if (g_ascii_isalnum(*p) || *p == '-') {
			if (++label > 63)
				return FALSE;
		} else {
			return FALSE;
		}
	}
	if (labels < 2)
		return FALSE;
	/* an all-digit top label is an IP address without its brackets */
	d = strrchr(d, '.') + 1;
	return d[strspn(d, "0123456789")] != '\0';
}

/* The domain as IDNA ASCII, lower case, no trailing dot; NULL if it has none.  Caller frees. */
static char *
domain_ascii(const char *d)
{
	g_autofree char *ascii = NULL;
	gsize n;

	if (d == NULL || *d == '\0' || !g_utf8_validate(d, -1, NULL))
		return NULL;
	ascii = g_hostname_to_ascii(d);
	if (ascii == NULL)
		return NULL;
	n = strlen(ascii);
	if (n > 1 && ascii[n - 1] == '.')
		ascii[n - 1] = '\0';
	return g_ascii_strdown(ascii, -1);
}

gboolean
address_valid(const char *addr)
{
	const char *at;
	g_autofree char *domain = NULL;

	if (addr == NULL || strlen(addr) > ADDRESS_MAX_LEN || !g_utf8_validate(addr, -1, NULL))
		return FALSE;
	at = strchr(addr, '@');
	/* dot-atom has no '@': a second one is a quoted or broken local part */
	if (at == NULL || strchr(at + 1, '@') != NULL || !local_valid(addr, at - addr))
		return FALSE;
	/* a literal, a trailing dot or a space is refused before IDNA sees it */
	if (at[1] == '[' || strpbrk(at + 1, " \t\r\n[]()<>,;:\\\"") != NULL ||
	    g_str_has_suffix(at + 1, "."))
		return FALSE;
	for (const char *p = at + 1; *p != '\0'; p++)
		if ((guchar)*p < 0x20 || *p == 0x7f)
			return FALSE;
	domain = domain_ascii(at + 1);
	return domain != NULL && ascii_domain_valid(domain);
}

/*
 * The local part of addr unquoted ("sup\"port" -> sup"port), lower case,
 * and its domain as domain_ascii(); FALSE for no '@' or no domain.
 */
static gboolean
split_normalized(const char *addr, char **local_r, char **domain_r)
{
	const char *at = strrchr(addr, '@');
	g_autoptr(GString) local = g_string_new(NULL);
	const char *p = addr;

	if (at == NULL || at == addr)
		return FALSE;
	while (p < at) {
		if (*p == '"') {
			p++;
			continue;
		}
		if (*p == '\\' && p + 1 < at)
			p++;
		g_string_append_c(local, g_ascii_tolower(*p));
		p++;
	}
	*domain_r = domain_ascii(at + 1);
	if (*domain_r == NULL)
		return FALSE;
	*local_r = g_string_free(g_steal_pointer(&local), FALSE);
	return TRUE;
}

/* TRUE when local is base, or base then a delimiter character and more. */
static gboolean
local_is_or_extends(const MdConfig *cfg, const char *local, const char *base)
{
	gsize n = strlen(base);
	const char *delims = cfg->recipient_delimiter != NULL ? cfg->recipient_delimiter : "+";

	if (strncmp(local, base, n) != 0)
		return FALSE;
	if (local[n] == '\0')
		return TRUE;
	return local[n] == '+' || strchr(delims, local[n]) != NULL;
}

/* addr equals mine (both normalized), subaddresses of mine included when sub. */
static gboolean
same_mailbox(const MdConfig *cfg, const char *local, const char *domain, const char *mine,
             gboolean sub)
{
	g_autofree char *m_local = NULL;
	g_autofree char *m_domain = NULL;

	if (mine == NULL || !split_normalized(mine, &m_local, &m_domain))
		return FALSE;
	if (strcmp(domain, m_domain) != 0)
		return FALSE;
	return sub ? local_is_or_extends(cfg, local, m_local) : strcmp(local, m_local) == 0;
}

gboolean
address_is_ours(const MdConfig *cfg, const char *addr)
{
	g_autofree char *local = NULL;
	g_autofree char *domain = NULL;
	g_autofree char *host = NULL;

	if (addr == NULL || !g_utf8_validate(addr, -1, NULL) ||
	    !split_normalized(addr, &local, &domain))
		return FALSE;
	host = domain_ascii(cfg->hostname);
	if (host != NULL && strcmp(domain, host) == 0)
		return TRUE;
	for (guint i = 0; i < cfg->queues->len; i++) {
		const MdQueue *q = cfg->queues->pdata[i];

		for (guint k = 0; k < q->addresses->len; k++)
			if (same_mailbox(cfg, local, domain, q->addresses->pdata[k], TRUE))
				return TRUE;
	}
	if (same_mailbox(cfg, local, domain, cfg->smtp_username, TRUE))
		return TRUE;
	for (guint i = 0; cfg->mailboxes != NULL && i < cfg->mailboxes->len; i++) {
		const MdMailbox *m = cfg->mailboxes->pdata[i];

		if (same_mailbox(cfg, local, domain, m->username, TRUE))
			return TRUE;
	}
	return FALSE;
}

static gboolean
usable(const MdConfig *cfg, const char *addr)
{
	return address_valid(addr) && !address_is_ours(cfg, addr);
}

const MdAddress *
address_customer(const MdConfig *cfg, const MdMessage *msg, const char *env_sender,
                 MdAddress *spare)
{
	if (msg->reply_to != NULL && usable(cfg, msg->reply_to->addr))
		return msg->reply_to;
	if (msg->from != NULL && usable(cfg, msg->from->addr))
		return msg->from;
	if (env_sender != NULL && usable(cfg, env_sender)) {
		spare->name = NULL;
		spare->addr = (char *)env_sender;
		return spare;
	}
	return NULL;
}
