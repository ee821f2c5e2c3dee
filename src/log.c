/*
 * log.c - syslog facility mail, and stderr with -v.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "log.h"

static gboolean verbose_flag;
static gboolean opened;

void
log_open(const char *ident, gboolean verbose)
{
	verbose_flag = verbose;
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	opened = TRUE;
}

gboolean
log_verbose(void)
{
	return verbose_flag;
}

static void
log_emit(int priority, const char *fmt, va_list ap)
{
	g_autofree char *line = g_strdup_vprintf(fmt, ap);

	if (opened && priority != LOG_DEBUG)
		syslog(priority, "%s", line);
	if (verbose_flag || !opened)
		fprintf(stderr, "maildesk: %s\n", line);
}

#define LOG_FN(fn, prio)                 \
	void fn(const char *fmt, ...)    \
	{                                \
		va_list ap;              \
		va_start(ap, fmt);       \
		log_emit(prio, fmt, ap); \
		va_end(ap);              \
	}

LOG_FN(log_info, LOG_INFO)
LOG_FN(log_warning, LOG_WARNING)
LOG_FN(log_error, LOG_ERR)

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!verbose_flag)
		return;
	va_start(ap, fmt);
	log_emit(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

char *
log_safe(const char *text)
{
	GString *out;

	if (text == NULL)
		return g_strdup("");
	out = g_string_new(NULL);
	for (const unsigned char *p = (const unsigned char *)text; *p && out->len < 200; p++)
		g_string_append_c(out, (*p >= 0x20 && *p < 0x7f) ? (char)*p : '?');
	return g_string_free(out, FALSE);
}
