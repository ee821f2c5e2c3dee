/*
 * agentcmd.c - the "#command" lines an agent writes above a reply or note
 * (stage "agent commands"; agentmail.c checks and applies the result).
 *
 * Pure: reads only the text, now and the offset it is given.  It must
 * never look at the config, the store or the clock, and never decide what
 * a valid agent or queue is: a mistyped name is the caller's to report.
 *
 * Mail clients dress a typed line up: Outlook turns spaces into no-break
 * spaces, HTML-to-text conversion leaves zero-width spaces and direction
 * marks, and lines end in CRLF.  Command lines are read through all of
 * that; the body is handed back exactly as it was.
 */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "address.h"
#include "agentcmd.h"

/* How much of a line or value an error message repeats. */
#define SHOWN_MAX 80
/* An ETA that names only a day means the end of that working day. */
#define DATE_ONLY_HOUR 17
/* A Date header's offset beyond this is broken; such dates are read as UTC. */
#define MAX_OFFSET_MINUTES (23 * 60 + 59)

static const char *const kind_names[] = {
	[AGENTCMD_ASSIGN] = "assign",
	[AGENTCMD_TAKE] = "take",
	[AGENTCMD_STATUS] = "status",
	[AGENTCMD_PRIORITY] = "priority",
	[AGENTCMD_ETA] = "eta",
	[AGENTCMD_QUEUE] = "queue",
	[AGENTCMD_NOTE] = "note",
	[AGENTCMD_CC] = "cc",
	[AGENTCMD_UNCC] = "uncc",
};

static const char *const statuses[] = {"open", "pending", "on-hold", "solved", "closed", NULL};
static const char *const priorities[] = {"low", "normal", "high", "urgent", NULL};

#define KNOWN_COMMANDS "#assign, #take, #status, #priority, #eta, #queue, #note, #cc, #uncc"
#define STATUS_VALUES "open, pending, on-hold, solved, closed"
#define PRIORITY_VALUES "low, normal, high, urgent"
#define ETA_FORMS "2026-12-01, 2026-12-01 14:30, +2d or +4h"

const char *
agentcmd_name(MdAgentCmdKind k)
{
	g_assert((guint)k < G_N_ELEMENTS(kind_names));
	return kind_names[k];
}

/*
 * Length of the blank character at p (before end), 0 for a visible one;
 * *space_r tells a space (it separates words) from an invisible mark (it
 * separates nothing).  Byte matching rather than g_utf8_get_char() because
 * the text may not be valid UTF-8; every sequence starts with a lead byte,
 * so none can match in the middle of another character.
 */
static gsize
blank_at(const char *p, const char *end, gboolean *space_r)
{
	const guchar *u = (const guchar *)p;
	gsize left = end - p;

	*space_r = TRUE;
	if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f' || *p == '\v')
		return 1;
	if (left >= 2 && u[0] == 0xc2 && u[1] == 0xa0) /* U+00A0 no-break space */
		return 2;
	if (left < 3)
		return 0;
	if (u[0] == 0xe2 && u[1] == 0x80 && u[2] >= 0x80 && u[2] <= 0x8a) /* U+2000..200A */
		return 3;
	if (u[0] == 0xe2 && u[1] == 0x80 && u[2] == 0xaf) /* U+202F narrow no-break space */
		return 3;
	if (u[0] == 0xe2 && u[1] == 0x81 && u[2] == 0x9f) /* U+205F math space */
		return 3;
	if (u[0] == 0xe3 && u[1] == 0x80 && u[2] == 0x80) /* U+3000 ideographic space */
		return 3;
	*space_r = FALSE;
	if (u[0] == 0xe2 && u[1] == 0x80 && u[2] >= 0x8b && u[2] <= 0x8f) /* U+200B..200F */
		return 3;
	if (u[0] == 0xe2 && u[1] == 0x81 && u[2] == 0xa0) /* U+2060 word joiner */
		return 3;
	if (u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf) /* U+FEFF, a BOM mid-text */
		return 3;
	return 0;
}

typedef struct {
	const char *start; /* first visible byte */
	const char *end;   /* after the last visible byte; == start for a blank line */
	gsize raw_len;     /* bytes without the line end */
	const char *next;  /* the following line */
} Line;

static void
line_at(const char *p, Line *l)
{
	const char *nl = strchr(p, '\n');
	const char *end = nl != NULL ? nl : p + strlen(p);
	const char *q = p;

	l->next = nl != NULL ? nl + 1 : end;
	l->raw_len = end - p;
	if (l->raw_len > 0 && end[-1] == '\r')
		l->raw_len--;
	l->start = NULL;
	l->end = p;
	while (q < end) {
		gboolean space;
		gsize n = blank_at(q, end, &space);

		if (n > 0) {
			q += n;
			continue;
		}
		if (l->start == NULL)
			l->start = q;
		q++;
		l->end = q;
	}
	if (l->start == NULL)
		l->start = l->end = end;
}

static gboolean
is_command(const Line *l)
{
	return l->end - l->start >= 2 && l->start[0] == '#' && g_ascii_isalpha(l->start[1]);
}

/*
 * The visible text of [start, end): blank runs made one space, invisible
 * marks dropped, control characters made '?', valid UTF-8.  Caller frees.
 */
static char *
normalize(const char *start, const char *end)
{
	g_autoptr(GString) out = g_string_sized_new(end - start);
	gboolean gap = FALSE;

	for (const char *p = start; p < end;) {
		gboolean space;
		gsize n = blank_at(p, end, &space);

		if (n > 0) {
			gap = gap || space;
			p += n;
			continue;
		}
		if (gap && out->len > 0)
			g_string_append_c(out, ' ');
		gap = FALSE;
		g_string_append_c(out, (guchar)*p < 0x20 || *p == 0x7f ? '?' : *p);
		p++;
	}
	return g_utf8_make_valid(out->str, out->len);
}

/* s (valid UTF-8) cut to SHOWN_MAX bytes on a character boundary.  Caller frees. */
static char *
clip(const char *s)
{
	gsize n = strlen(s);

	if (n <= SHOWN_MAX)
		return g_strdup(s);
	n = SHOWN_MAX;
	while (n > 0 && ((guchar)s[n] & 0xc0) == 0x80)
		n--;
	return g_strdup_printf("%.*s…", (int)n, s);
}

/* Refuses a line: "<line, clipped>: <reason>". */
static void G_GNUC_PRINTF(3, 4)
refuse(MdAgentCmds *c, const char *line, const char *fmt, ...)
{
	g_autofree char *shown = clip(line);
	g_autofree char *reason = NULL;
	va_list ap;

	va_start(ap, fmt);
	reason = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	/* "#status:" then a reason reads better without a second colon */
	g_ptr_array_add(c->errors, g_strdup_printf(g_str_has_suffix(shown, ":") ? "%s %s" : "%s: %s",
	                                           shown, reason));
}

static void
cmd_free(gpointer data)
{
	MdAgentCmd *cmd = data;

	g_free(cmd->arg);
	g_free(cmd->line);
	g_free(cmd);
}

/* The canonical value of word (lower-cased) in values, or NULL. */
static const char *
value_in(const char *const *values, const char *word)
{
	g_autofree char *lower = g_ascii_strdown(word, -1);

	for (int i = 0; values[i] != NULL; i++)
		if (strcmp(values[i], lower) == 0)
			return values[i];
	return NULL;
}

static gboolean
all_digits(const char *s, gsize n)
{
	for (gsize i = 0; i < n; i++)
		if (!g_ascii_isdigit(s[i]))
			return FALSE;
	return TRUE;
}

/* "+90m", "+4h", "+2d", "+1w": plain clock time from now, no business hours. */
static gboolean
eta_relative(const char *text, gint64 now, gint64 *eta_r)
{
	g_autoptr(GDateTime) base = g_date_time_new_from_unix_utc(now);
	g_autoptr(GDateTime) t = NULL;
	gsize len = strlen(text);
	gsize digits = len >= 3 ? len - 2 : 0;
	int n;

	/* nine digits cannot overflow an int; year 9999 comes first anyway */
	if (text[0] != '+' || digits == 0 || digits > 9 || !all_digits(text + 1, digits) ||
	    base == NULL)
		return FALSE;
	n = (int)g_ascii_strtoll(text + 1, NULL, 10);
	switch (g_ascii_tolower(text[1 + digits])) {
	case 'm':
		t = g_date_time_add_minutes(base, n);
		break;
	case 'h':
		t = g_date_time_add_hours(base, n);
		break;
	case 'd':
		t = g_date_time_add_days(base, n);
		break;
	case 'w':
		t = g_date_time_add_weeks(base, n);
		break;
	default:
		return FALSE;
	}
	/* NULL: past year 9999, which no one means */
	if (t == NULL)
		return FALSE;
	*eta_r = g_date_time_to_unix(t);
	return TRUE;
}

/* "2026-12-01": 17:00 that day in tz. */
static gboolean
eta_day(const char *text, GTimeZone *tz, gint64 *eta_r)
{
	g_autoptr(GDateTime) t = NULL;

	if (strlen(text) != 10 || !all_digits(text, 4) || text[4] != '-' ||
	    !all_digits(text + 5, 2) || text[7] != '-' || !all_digits(text + 8, 2))
		return FALSE;
	/* g_date_time_new() refuses month 13 and 30 February for us */
	t = g_date_time_new(tz, (int)g_ascii_strtoll(text, NULL, 10),
	                    (int)g_ascii_strtoll(text + 5, NULL, 10),
	                    (int)g_ascii_strtoll(text + 8, NULL, 10), DATE_ONLY_HOUR, 0, 0);
	if (t == NULL)
		return FALSE;
	*eta_r = g_date_time_to_unix(t);
	return TRUE;
}

/*
 * date_time upper-cased, and "hh:mm" made "hh:mm:00": GLib's ISO 8601
 * parser wants the seconds and a capital T and Z, agents write neither.
 * Caller frees.
 */
static char *
iso_for_glib(const char *date_time)
{
	char *upper = g_ascii_strup(date_time, -1);
	const char *t = strchr(upper, 'T');
	char *out;

	if (t == NULL || strlen(t + 1) < 5 || !all_digits(t + 1, 2) || t[3] != ':' ||
	    !all_digits(t + 4, 2) || strchr("Z+-", t[6]) == NULL)
		return upper;
	/* strchr() finds the terminating NUL too: "14:30" alone qualifies */
	out = g_strdup_printf("%.*s:00%s", (int)(t + 6 - upper), upper, t + 6);
	g_free(upper);
	return out;
}

/*
 * An ETA as written (argv of 1 or 2 words) into *eta_r; FALSE if it is no
 * date at all.  The past is the caller's check so that it can say so.
 */
static gboolean
eta_parse(char **argv, guint argc, gint64 now, GTimeZone *tz, gint64 *eta_r)
{
	g_autofree char *joined = NULL;
	g_autofree char *iso = NULL;
	g_autoptr(GDateTime) t = NULL;

	if (argc == 1 && argv[0][0] == '+')
		return eta_relative(argv[0], now, eta_r);
	if (argc == 1 && eta_day(argv[0], tz, eta_r))
		return TRUE;
	/* "2026-12-01 14:30" is ISO 8601 with a space for the T */
	if (argc == 2)
		joined = g_strconcat(argv[0], "T", argv[1], NULL);
	else if (argc != 1)
		return FALSE;
	iso = iso_for_glib(joined != NULL ? joined : argv[0]);
	t = g_date_time_new_from_iso8601(iso, tz);
	if (t == NULL)
		return FALSE;
	*eta_r = g_date_time_to_unix(t);
	return TRUE;
}

/*
 * Reads the argument(s) of a known command into cmd; FALSE after refusing
 * the line.  rest is what follows the name, argv its words.
 */
static gboolean
read_args(MdAgentCmds *c, MdAgentCmd *cmd, const char *rest, char **argv, guint argc,
          gint64 now, GTimeZone *tz)
{
	const char *value;
	g_autofree char *lower = NULL;

	switch (cmd->kind) {
	case AGENTCMD_TAKE:
	case AGENTCMD_NOTE:
		if (argc > 0) {
			refuse(c, cmd->line, "takes no value");
			return FALSE;
		}
		return TRUE;
	case AGENTCMD_ASSIGN:
	case AGENTCMD_QUEUE:
		if (argc > 1) {
			g_autofree char *shown = clip(rest);

			refuse(c, cmd->line, "one value expected, not \"%s\"", shown);
			return FALSE;
		}
		value = argc == 1 ? argv[0] : "";
		if (cmd->kind == AGENTCMD_ASSIGN && strlen(value) >= 2 && value[0] == '<' &&
		    value[strlen(value) - 1] == '>')
			cmd->arg = g_strndup(value + 1, strlen(value) - 2);
		else
			cmd->arg = g_strdup(value);
		if (*cmd->arg == '\0') {
			refuse(c, cmd->line, "needs %s",
			       cmd->kind == AGENTCMD_ASSIGN ? "an agent's name or address"
			                                    : "a queue name");
			return FALSE;
		}
		return TRUE;
	case AGENTCMD_STATUS:
	case AGENTCMD_PRIORITY: {
		gboolean status = cmd->kind == AGENTCMD_STATUS;
		const char *values = status ? STATUS_VALUES : PRIORITY_VALUES;

		if (argc == 0) {
			refuse(c, cmd->line, "needs one of %s", values);
			return FALSE;
		}
		/* what people type for on-hold when they do not know our spelling */
		lower = g_ascii_strdown(rest, -1);
		if (status && (strcmp(lower, "on hold") == 0 || strcmp(lower, "onhold") == 0)) {
			cmd->arg = g_strdup("on-hold");
			return TRUE;
		}
		if (argc > 1) {
			g_autofree char *shown = clip(rest);

			refuse(c, cmd->line, "one value expected, not \"%s\"", shown);
			return FALSE;
		}
		value = value_in(status ? statuses : priorities, argv[0]);
		if (value == NULL) {
			g_autofree char *shown = clip(argv[0]);

			refuse(c, cmd->line, "\"%s\" is not one of %s", shown, values);
			return FALSE;
		}
		cmd->arg = g_strdup(value);
		return TRUE;
	}
	case AGENTCMD_CC:
	case AGENTCMD_UNCC: {
		g_autofree char *shown = clip(rest);

		if (argc != 1) {
			refuse(c, cmd->line, argc == 0 ? "needs an address such as name@example.org"
			                               : "one address a line, not \"%s\"", shown);
			return FALSE;
		}
		value = argv[0];
		if (strlen(value) >= 2 && value[0] == '<' && value[strlen(value) - 1] == '>')
			cmd->arg = g_strndup(value + 1, strlen(value) - 2);
		else
			cmd->arg = g_strdup(value);
		/* the one rule our mail's header and envelope keep to */
		if (!address_valid(cmd->arg)) {
			refuse(c, cmd->line, "\"%s\" is not a plain address such as name@example.org",
			       shown);
			return FALSE;
		}
		return TRUE;
	}
	case AGENTCMD_ETA: {
		g_autofree char *shown = clip(rest);

		if (argc == 0) {
			refuse(c, cmd->line, "needs a date such as %s", ETA_FORMS);
			return FALSE;
		}
		if (!eta_parse(argv, argc, now, tz, &cmd->eta)) {
			refuse(c, cmd->line, "\"%s\" is not a date such as %s", shown, ETA_FORMS);
			return FALSE;
		}
		if (cmd->eta < now) {
			refuse(c, cmd->line, "%s is in the past", shown);
			return FALSE;
		}
		return TRUE;
	}
	}
	g_assert_not_reached();
	return FALSE;
}

/* Same command, same effect: a repeat. */
static gboolean
same_effect(const MdAgentCmd *a, const MdAgentCmd *b)
{
	switch (a->kind) {
	case AGENTCMD_ASSIGN:
	case AGENTCMD_CC:
	case AGENTCMD_UNCC:
		/* agents' names and addresses both match case-insensitively */
		return g_ascii_strcasecmp(a->arg, b->arg) == 0;
	case AGENTCMD_ETA:
		return a->eta == b->eta;
	default:
		return g_strcmp0(a->arg, b->arg) == 0;
	}
}

/* #cc and #uncc name one address each, and an agent may write several. */
static gboolean
per_address(MdAgentCmdKind k)
{
	return k == AGENTCMD_CC || k == AGENTCMD_UNCC;
}

/* Adds cmd (taking it) unless it repeats or contradicts an earlier command. */
static void
add_command(MdAgentCmds *c, MdAgentCmd *cmd)
{
	for (guint i = 0; i < c->cmds->len; i++) {
		const MdAgentCmd *old = c->cmds->pdata[i];
		gboolean rival = (old->kind == AGENTCMD_ASSIGN && cmd->kind == AGENTCMD_TAKE) ||
		                 (old->kind == AGENTCMD_TAKE && cmd->kind == AGENTCMD_ASSIGN) ||
		                 (per_address(old->kind) && per_address(cmd->kind) &&
		                  old->kind != cmd->kind && same_effect(old, cmd));

		if (old->kind != cmd->kind && !rival)
			continue;
		if (!rival && per_address(cmd->kind) && !same_effect(old, cmd))
			continue;
		if (rival || !same_effect(old, cmd)) {
			g_autofree char *shown = clip(old->line);

			refuse(c, cmd->line, "conflicts with \"%s\"", shown);
		}
		cmd_free(cmd);
		return;
	}
	g_ptr_array_add(c->cmds, cmd);
}

/* One command line, at most AGENTCMD_MAX_LINE bytes. */
static void
read_command(MdAgentCmds *c, const Line *l, gint64 now, GTimeZone *tz)
{
	MdAgentCmd *cmd = g_new0(MdAgentCmd, 1);
	gboolean known = FALSE;
	const char *p;
	g_autofree char *word = NULL;
	g_autofree char *rest = NULL;
	g_auto(GStrv) argv = NULL;
	guint argc;
	gboolean colon;

	cmd->line = normalize(l->start, l->end);
	p = cmd->line + 1;
	while (g_ascii_isalpha(*p))
		p++;
	word = g_ascii_strdown(cmd->line + 1, p - (cmd->line + 1));
	for (guint k = 0; k < G_N_ELEMENTS(kind_names) && !known; k++) {
		known = strcmp(word, kind_names[k]) == 0;
		if (known)
			cmd->kind = k;
	}
	colon = *p == ':';
	if (colon)
		p++;
	/* "#status2" or "#eta-soon" is not #status or #eta with an argument */
	if (!known || (!colon && *p != '\0' && *p != ' ')) {
		refuse(c, cmd->line, "unknown command; the commands are " KNOWN_COMMANDS);
		cmd_free(cmd);
		return;
	}
	rest = g_strstrip(g_strdup(p));
	argv = *rest != '\0' ? g_strsplit(rest, " ", -1) : g_new0(char *, 1);
	argc = g_strv_length(argv);
	if (!read_args(c, cmd, rest, argv, argc, now, tz)) {
		cmd_free(cmd);
		return;
	}
	add_command(c, cmd);
}

/* The shown start of a line too long or too late to read whole.  Caller frees. */
static char *
line_head(const Line *l)
{
	gsize n = MIN((gsize)(l->end - l->start), 4 * SHOWN_MAX);

	return normalize(l->start, l->start + n);
}

MdAgentCmds *
agentcmd_parse(const char *text, gint64 now, int tz_minutes)
{
	MdAgentCmds *c = g_new0(MdAgentCmds, 1);
	g_autoptr(GTimeZone) tz = NULL;
	const char *p = text != NULL ? text : "";
	const char *body = "";
	guint seen = 0;

	if (tz_minutes > MAX_OFFSET_MINUTES || tz_minutes < -MAX_OFFSET_MINUTES)
		tz_minutes = 0;
	tz = g_time_zone_new_offset(tz_minutes * 60);
	c->cmds = g_ptr_array_new_with_free_func(cmd_free);
	c->errors = g_ptr_array_new_with_free_func(g_free);
	while (*p != '\0') {
		Line l;

		line_at(p, &l);
		if (l.start == l.end) {
			p = l.next;
			continue;
		}
		if (!is_command(&l)) {
			body = p;
			break;
		}
		/* every command line is consumed, so the body never starts with one */
		seen++;
		if (seen == AGENTCMD_MAX_COMMANDS + 1) {
			g_autofree char *head = line_head(&l);

			refuse(c, head, "too many commands, at most %d are read", AGENTCMD_MAX_COMMANDS);
		} else if (seen <= AGENTCMD_MAX_COMMANDS && l.raw_len > AGENTCMD_MAX_LINE) {
			g_autofree char *head = line_head(&l);

			refuse(c, head, "line longer than %d bytes", AGENTCMD_MAX_LINE);
		} else if (seen <= AGENTCMD_MAX_COMMANDS) {
			read_command(c, &l, now, tz);
		}
		p = l.next;
	}
	c->body = g_strdup(body);
	return c;
}

void
agentcmd_free(MdAgentCmds *c)
{
	if (c == NULL)
		return;
	g_ptr_array_unref(c->cmds);
	g_ptr_array_unref(c->errors);
	g_free(c->body);
	g_free(c);
}
