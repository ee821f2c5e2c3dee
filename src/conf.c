/*
 * conf.c - maildesk.conf reader and validator.
 *
 * GKeyFile does the parsing; we only scan the file once more for line
 * numbers, because GKeyFile does not keep them and an admin needs them.
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

typedef struct {
	const char *path;
	GHashTable *lines; /* "group\nkey" or "group\n" -> line number */
	GPtrArray *problems;
} Loader;

static const char *const known_maildesk_keys[] = {
	"database", "secret_file", "hostname", "templates", "default_language", "site_name",
	"fallback_charsets", "subject_tag_prefix", "reopen_days", "busy_timeout",
	"send_after_deliver", "user", "recipient_delimiter", NULL
};
static const char *const known_limits_keys[] = {
	"autoreply_per_hour", "ticket_mails_per_hour", "max_message_size", "max_mime_depth",
	"max_parts", NULL
};
static const char *const known_lmtpd_keys[] = {
	"listen", "pid_file", "max_connections", "send", "send_interval", "tick_interval", NULL
};
static const char *const known_sla_keys[] = {
	"default_resolution", "warn_at", "slip_extension", "pending_reminder", "pending_close", "csat",
	NULL
};
static const char *const known_smtp_keys[] = {
	"url", "starttls", "username", "password_file", "helo", "timeout", "verify_tls",
	"retry_base", "retry_max", "give_up_after", NULL
};
static const char *const known_queue_keys[] = {
	"address", "lead", "language", "calendar", "urgent_calendar", "first_response", "resolution",
	NULL
};
static const char *const known_calendar_keys[] = { "hours", "timezone", "holidays", NULL };
static const char *const priority_names[] = { "low", "normal", "high", "urgent", NULL };
static const char *const known_agent_keys[] = {
	"address", "name", "queues", "max_open", "lead", "language", "timezone", NULL
};
static const char *const known_mailbox_keys[] = {
	"url", "host", "port", "protocol", "security", "username", "password_file", "folder",
	"recipient", "flag", "move_to", "poll_interval", "timeout", "verify_tls", "ca_file", NULL
};
static const char *const known_agents_keys[] = {
	"notify_notes", "require_dkim", "authserv_id", NULL
};

static void
scan_lines(Loader *ld, const char *text)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	g_autofree char *group = g_strdup("");

	for (int i = 0; lines[i] != NULL; i++) {
		char *line = g_strstrip(lines[i]);
		char *eq;

		if (*line == '[') {
			char *end = strchr(line, ']');

			if (end != NULL) {
				g_free(group);
				group = g_strndup(line + 1, end - line - 1);
				g_hash_table_insert(ld->lines, g_strdup_printf("%s\n", group),
				                    GINT_TO_POINTER(i + 1));
			}
		} else if (*line != '#' && *line != ';' && (eq = strchr(line, '=')) != NULL) {
			g_autofree char *key = g_strstrip(g_strndup(line, eq - line));

			g_hash_table_insert(ld->lines, g_strdup_printf("%s\n%s", group, key),
			                    GINT_TO_POINTER(i + 1));
		}
	}
}

static void G_GNUC_PRINTF(4, 5)
problem(Loader *ld, const char *group, const char *key, const char *fmt, ...)
{
	g_autofree char *lookup = g_strdup_printf("%s\n%s", group, key ? key : "");
	int line = GPOINTER_TO_INT(g_hash_table_lookup(ld->lines, lookup));
	g_autofree char *what = NULL;
	va_list ap;

	if (line == 0) {
		g_autofree char *glookup = g_strdup_printf("%s\n", group);
		line = GPOINTER_TO_INT(g_hash_table_lookup(ld->lines, glookup));
	}
	va_start(ap, fmt);
	what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_ptr_array_add(ld->problems, g_strdup_printf("%s:%d: [%s]%s%s: %s", ld->path, line, group,
	                                              key ? " " : "", key ? key : "", what));
}

static char *
get_string(Loader *ld, GKeyFile *kf, const char *group, const char *key, const char *def)
{
	g_autoptr(GError) error = NULL;
	char *value = g_key_file_get_string(kf, group, key, &error);

	if (value == NULL)
		return g_strdup(def);
	g_strstrip(value);
	return value;
}

static char *
get_path(Loader *ld, GKeyFile *kf, const char *group, const char *key, const char *def)
{
	g_autofree char *value = get_string(ld, kf, group, key, def);
	g_autofree char *dir = NULL;

	if (value == NULL || *value == '\0' || g_path_is_absolute(value))
		return g_steal_pointer(&value);
	dir = g_path_get_dirname(ld->path);
	return g_build_filename(dir, value, NULL);
}

static gint64
get_int(Loader *ld, GKeyFile *kf, const char *group, const char *key, gint64 def, gint64 min,
        gint64 max)
{
	g_autofree char *value = get_string(ld, kf, group, key, NULL);
	char *end;
	gint64 n;

	if (value == NULL)
		return def;
	errno = 0;
	n = g_ascii_strtoll(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || n < min || n > max) {
		problem(ld, group, key, "\"%s\" is not a whole number from %" G_GINT64_FORMAT
		        " to %" G_GINT64_FORMAT, value, min, max);
		return def;
	}
	return n;
}

static gint64
get_duration(Loader *ld, GKeyFile *kf, const char *group, const char *key, gint64 def)
{
	g_autofree char *value = get_string(ld, kf, group, key, NULL);
	gint64 n;

	if (value == NULL)
		return def;
	if (!conf_parse_duration(value, &n)) {
		problem(ld, group, key, "\"%s\" is not a duration such as 90s, 30m, 4h, 2d or 1w",
		        value);
		return def;
	}
	return n;
}

static gboolean
get_bool(Loader *ld, GKeyFile *kf, const char *group, const char *key, gboolean def)
{
	g_autofree char *value = get_string(ld, kf, group, key, NULL);

	if (value == NULL)
		return def;
	if (g_ascii_strcasecmp(value, "yes") == 0 || g_ascii_strcasecmp(value, "true") == 0 ||
	    strcmp(value, "1") == 0)
		return TRUE;
	if (g_ascii_strcasecmp(value, "no") == 0 || g_ascii_strcasecmp(value, "false") == 0 ||
	    strcmp(value, "0") == 0)
		return FALSE;
	problem(ld, group, key, "\"%s\" is not yes or no", value);
	return def;
}

static GPtrArray *
get_list_split(Loader *ld, GKeyFile *kf, const char *group, const char *key, const char *seps)
{
	g_autofree char *value = get_string(ld, kf, group, key, NULL);
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) items = NULL;

	if (value == NULL)
		return out;
	items = g_strsplit_set(value, seps, -1);
	for (int i = 0; items[i] != NULL; i++) {
		char *item = g_strstrip(items[i]);

		if (*item != '\0')
			g_ptr_array_add(out, g_strdup(item));
	}
	return out;
}

static GPtrArray *
get_list(Loader *ld, GKeyFile *kf, const char *group, const char *key)
{
	return get_list_split(ld, kf, group, key, ",");
}

static gboolean
plausible_address(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL && at != addr && at[1] != '\0' && strpbrk(addr, " \t<>,;\"") == NULL;
}

static void
check_known_keys(Loader *ld, GKeyFile *kf, const char *group, const char *const *known)
{
	g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);

	for (int i = 0; keys != NULL && keys[i] != NULL; i++)
		if (!g_strv_contains(known, keys[i]))
			problem(ld, group, keys[i], "unknown key");
}

int
conf_priority_index(const char *priority)
{
	for (int i = 0; priority != NULL && priority_names[i] != NULL; i++)
		if (g_ascii_strcasecmp(priority, priority_names[i]) == 0)
			return i;
	return -1;
}

/*
 * "urgent 30m, high 2h, normal 4h, low 8h": business minutes per priority.
 * Only hours and minutes: a business "day" means different things under
 * different calendars, so it is not offered.
 */
static void
get_targets(Loader *ld, GKeyFile *kf, const char *group, const char *key, gint64 *minutes)
{
	g_autoptr(GPtrArray) items = get_list(ld, kf, group, key);

	for (guint i = 0; i < items->len; i++) {
		g_auto(GStrv) parts = g_strsplit_set(items->pdata[i], " \t", -1);
		g_autoptr(GPtrArray) words = g_ptr_array_new();
		gint64 seconds = 0;
		int p;

		for (guint k = 0; parts[k] != NULL; k++)
			if (*parts[k] != '\0')
				g_ptr_array_add(words, parts[k]);
		p = words->len == 2 ? conf_priority_index(words->pdata[0]) : -1;
		if (p < 0 || !conf_parse_duration(words->pdata[1], &seconds) || seconds < 60 ||
		    strpbrk(words->pdata[1], "dws") != NULL) {
			problem(ld, group, key,
			        "\"%s\" is not a priority and a business time such as \"high 2h\" "
			        "or \"urgent 30m\" (hours and minutes only)",
			        (char *)items->pdata[i]);
			continue;
		}
		minutes[p] = seconds / 60;
	}
}

static void
calendar_conf_free(MdCalendarConf *c)
{
	g_free(c->name);
	calendar_free(c->calendar);
	g_free(c);
}

static const MdCalendar *
calendar_named(const MdConfig *cfg, const char *name)
{
	for (guint i = 0; name != NULL && i < cfg->calendars->len; i++) {
		const MdCalendarConf *c = cfg->calendars->pdata[i];

		if (strcmp(c->name, name) == 0)
			return c->calendar;
	}
	return NULL;
}

static void
load_calendars(Loader *ld, GKeyFile *kf, MdConfig *cfg)
{
	g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);

	for (int i = 0; groups[i] != NULL; i++) {
		const char *g = groups[i];
		g_autoptr(GPtrArray) hours = NULL;
		g_autoptr(GPtrArray) holidays = NULL;
		g_autofree char *tz = NULL;
		g_autofree char *error = NULL;
		MdCalendar *cal;

		if (!g_str_has_prefix(g, "calendar "))
			continue;
		check_known_keys(ld, kf, g, known_calendar_keys);
		/* the hours use commas themselves ("mon,wed 08:00-12:00") */
		hours = get_list_split(ld, kf, g, "hours", ";");
		holidays = get_list(ld, kf, g, "holidays");
		tz = get_string(ld, kf, g, "timezone", NULL);
		g_ptr_array_add(hours, NULL);
		g_ptr_array_add(holidays, NULL);
		cal = calendar_new((const char *const *)hours->pdata, tz,
		                   (const char *const *)holidays->pdata, &error);
		if (cal == NULL) {
			problem(ld, g, NULL, "%s", error);
			continue;
		}
		{
			MdCalendarConf *c = g_new0(MdCalendarConf, 1);

			c->name = g_strstrip(g_strdup(g + 9));
			c->calendar = cal;
			g_ptr_array_add(cfg->calendars, c);
		}
	}
}

static void
load_queue_sla(Loader *ld, GKeyFile *kf, const MdConfig *cfg, const char *g, MdQueue *q)
{
	g_autofree char *cal = get_string(ld, kf, g, "calendar", NULL);
	g_autofree char *urgent = get_string(ld, kf, g, "urgent_calendar", NULL);

	if (cal != NULL && (q->calendar = calendar_named(cfg, cal)) == NULL)
		problem(ld, g, "calendar", "no [calendar %s] group", cal);
	if (urgent != NULL && (q->urgent_calendar = calendar_named(cfg, urgent)) == NULL)
		problem(ld, g, "urgent_calendar", "no [calendar %s] group", urgent);
	get_targets(ld, kf, g, "first_response", q->first_response);
	get_targets(ld, kf, g, "resolution", q->resolution);
	for (int p = 0; p < PRIORITY_COUNT; p++)
		if ((q->first_response[p] > 0 || q->resolution[p] > 0) && q->calendar == NULL &&
		    !(p == PRIORITY_URGENT && q->urgent_calendar != NULL)) {
			problem(ld, g, "calendar", "SLA targets need a calendar to count business time in");
			break;
		}
}

static void
queue_free(MdQueue *q)
{
	g_free(q->name);
	g_ptr_array_unref(q->addresses);
	g_free(q->lead);
	g_free(q->language);
	g_free(q);
}

static void
agent_free(MdAgent *a)
{
	g_free(a->name);
	g_free(a->address);
	g_free(a->display_name);
	g_free(a->language);
	if (a->timezone != NULL)
		g_time_zone_unref(a->timezone);
	g_ptr_array_unref(a->queues);
	g_free(a);
}

static void
mailbox_free(MdMailbox *m)
{
	g_free(m->name);
	g_free(m->host);
	g_free(m->username);
	if (m->password != NULL)
		memset(m->password, 0, strlen(m->password));
	g_free(m->password);
	g_free(m->password_file);
	g_free(m->folder);
	g_free(m->recipient);
	g_strfreev(m->flags);
	g_free(m->move_to);
	g_free(m->ca_file);
	g_free(m);
}

void
conf_free(MdConfig *cfg)
{
	if (cfg == NULL)
		return;
	g_free(cfg->path);
	g_free(cfg->database);
	g_free(cfg->lmtpd_listen);
	g_free(cfg->lmtpd_pid_file);
	g_free(cfg->secret_file);
	g_free(cfg->hostname);
	g_free(cfg->templates);
	g_free(cfg->default_language);
	g_free(cfg->site_name);
	g_strfreev(cfg->fallback_charsets);
	g_free(cfg->subject_tag_prefix);
	g_free(cfg->user);
	g_free(cfg->recipient_delimiter);
	g_free(cfg->smtp_url);
	g_free(cfg->smtp_starttls);
	g_free(cfg->smtp_username);
	g_free(cfg->smtp_password);
	g_free(cfg->smtp_helo);
	g_free(cfg->authserv_id);
	g_ptr_array_unref(cfg->queues);
	g_ptr_array_unref(cfg->agents);
	g_ptr_array_unref(cfg->calendars);
	if (cfg->mailboxes != NULL)
		g_ptr_array_unref(cfg->mailboxes);
	g_free(cfg);
}

static gboolean
valid_language(const char *lang)
{
	size_t n = strlen(lang);

	if (n < 2 || n > 3)
		return FALSE;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_islower(lang[i]))
			return FALSE;
	return TRUE;
}

static void
load_maildesk(Loader *ld, GKeyFile *kf, MdConfig *cfg)
{
	const char *g = "maildesk";
	g_autoptr(GPtrArray) charsets = NULL;
	g_autofree char *hostname = g_strdup(g_get_host_name());

	if (!g_key_file_has_group(kf, g))
		problem(ld, g, NULL, "missing group");
	check_known_keys(ld, kf, g, known_maildesk_keys);
	cfg->database = get_path(ld, kf, g, "database", MD_LOCALSTATEDIR "/lib/maildesk/maildesk.db");
	cfg->secret_file = get_path(ld, kf, g, "secret_file", MD_SYSCONFDIR "/maildesk/secret");
	cfg->hostname = get_string(ld, kf, g, "hostname", hostname);
	cfg->templates = get_path(ld, kf, g, "templates", MD_DATADIR "/templates");
	cfg->default_language = get_string(ld, kf, g, "default_language", "en");
	cfg->site_name = get_string(ld, kf, g, "site_name", "Support");
	cfg->subject_tag_prefix = get_string(ld, kf, g, "subject_tag_prefix", "#");
	cfg->reopen_days = (int)get_int(ld, kf, g, "reopen_days", 30, 0, 36500);
	cfg->busy_timeout_ms = (int)get_int(ld, kf, g, "busy_timeout", 30, 1, 3600) * 1000;
	cfg->send_after_deliver = get_bool(ld, kf, g, "send_after_deliver", TRUE);
	cfg->user = get_string(ld, kf, g, "user", NULL);
	cfg->recipient_delimiter = get_string(ld, kf, g, "recipient_delimiter", "+");
	if (cfg->recipient_delimiter[strspn(cfg->recipient_delimiter, "+-_=.~#%&!$*/^`{|}?'")] !=
	    '\0')
		problem(ld, g, "recipient_delimiter",
		        "\"%s\": only characters such as + or - (as Postfix's recipient_delimiter)",
		        cfg->recipient_delimiter);
	if (*cfg->recipient_delimiter == '\0')
		problem(ld, g, "recipient_delimiter", "empty: + at least");
	if (cfg->user != NULL) {
		struct passwd *pw = *cfg->user != '\0' ? getpwnam(cfg->user) : NULL;

		if (pw == NULL)
			problem(ld, g, "user", "no such user \"%s\"", cfg->user);
		else if (pw->pw_uid == 0 || pw->pw_gid == 0)
			problem(ld, g, "user", "\"%s\" is root's user or group: name an unprivileged user",
			        cfg->user);
	}

	charsets = get_list(ld, kf, g, "fallback_charsets");
	if (charsets->len == 0)
		g_ptr_array_add(charsets, g_strdup("windows-1252"));
	for (guint i = 0; i < charsets->len; i++) {
		GIConv cd = g_iconv_open("UTF-8", charsets->pdata[i]);

		if (cd == (GIConv)-1)
			problem(ld, g, "fallback_charsets", "unknown charset \"%s\"",
			        (char *)charsets->pdata[i]);
		else
			g_iconv_close(cd);
	}
	g_ptr_array_add(charsets, NULL);
	cfg->fallback_charsets = (char **)g_ptr_array_steal(charsets, NULL);

	if (!valid_language(cfg->default_language))
		problem(ld, g, "default_language", "\"%s\" is not a language code such as en",
		        cfg->default_language);
	if (strpbrk(cfg->hostname, " \t<>@\"") != NULL || *cfg->hostname == '\0')
		problem(ld, g, "hostname", "\"%s\" is not a host name", cfg->hostname);
	if (strpbrk(cfg->subject_tag_prefix, "[]\r\n") != NULL)
		problem(ld, g, "subject_tag_prefix", "must not contain brackets or line breaks");
	if (!g_file_test(cfg->templates, G_FILE_TEST_IS_DIR))
		problem(ld, g, "templates", "%s is not a directory", cfg->templates);
}

static void
load_smtp(Loader *ld, GKeyFile *kf, MdConfig *cfg)
{
	const char *g = "smtp";
	g_autofree char *password_file = NULL;

	check_known_keys(ld, kf, g, known_smtp_keys);
	cfg->smtp_url = get_string(ld, kf, g, "url", "smtp://127.0.0.1:25");
	cfg->smtp_starttls = get_string(ld, kf, g, "starttls", "auto");
	cfg->smtp_username = get_string(ld, kf, g, "username", NULL);
	cfg->smtp_helo = get_string(ld, kf, g, "helo", NULL);
	cfg->smtp_timeout = (int)get_int(ld, kf, g, "timeout", 60, 1, 3600);
	cfg->smtp_verify_tls = get_bool(ld, kf, g, "verify_tls", TRUE);
	cfg->retry_base = (int)get_duration(ld, kf, g, "retry_base", 60);
	cfg->retry_max = (int)get_duration(ld, kf, g, "retry_max", 3600);
	cfg->give_up_after = get_duration(ld, kf, g, "give_up_after", 5 * 86400);
	password_file = get_path(ld, kf, g, "password_file", NULL);

	if (!g_str_has_prefix(cfg->smtp_url, "smtp://") && !g_str_has_prefix(cfg->smtp_url, "smtps://"))
		problem(ld, g, "url", "\"%s\" is not an smtp:// or smtps:// URL", cfg->smtp_url);
	if (strcmp(cfg->smtp_starttls, "auto") != 0 && strcmp(cfg->smtp_starttls, "always") != 0 &&
	    strcmp(cfg->smtp_starttls, "never") != 0)
		problem(ld, g, "starttls", "\"%s\" is not auto, always or never", cfg->smtp_starttls);
	if (cfg->retry_base < 1 || cfg->retry_max < cfg->retry_base)
		problem(ld, g, "retry_max", "must be at least retry_base, which must be positive");
	if (password_file != NULL) {
		g_autoptr(GError) error = NULL;
		char *pw = NULL;

		if (!g_file_get_contents(password_file, &pw, NULL, &error))
			problem(ld, g, "password_file", "%s", error->message);
		else
			cfg->smtp_password = g_strstrip(pw);
	}
	if (cfg->smtp_username != NULL && cfg->smtp_password == NULL)
		problem(ld, g, "username", "set, but no password_file");
}

static void
load_queues_and_agents(Loader *ld, GKeyFile *kf, MdConfig *cfg)
{
	g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);

	for (int i = 0; groups[i] != NULL; i++) {
		const char *g = groups[i];

		if (g_str_has_prefix(g, "queue ")) {
			MdQueue *q = g_new0(MdQueue, 1);
			g_autoptr(GPtrArray) addrs = get_list(ld, kf, g, "address");

			check_known_keys(ld, kf, g, known_queue_keys);
			q->name = g_strstrip(g_strdup(g + 6));
			q->addresses = g_ptr_array_new_with_free_func(g_free);
			for (guint k = 0; k < addrs->len; k++) {
				const char *a = addrs->pdata[k];

				if (!plausible_address(a))
					problem(ld, g, "address", "\"%s\" is not an address", a);
				else if (memchr(a, '+', strrchr(a, '@') - a) != NULL)
					/* the '+' separates the address from our ticket
					 * token (support+12-MAC@): one in the queue's own
					 * local part would make every token ambiguous */
					problem(ld, g, "address",
					        "\"%s\": a queue address may not contain '+' before the @ "
					        "(maildesk adds +TICKET-CODE to it)", a);
				else if (conf_queue_for_address(cfg, a) != NULL)
					problem(ld, g, "address", "%s belongs to another queue too", a);
				g_ptr_array_add(q->addresses, g_ascii_strdown(a, -1));
			}
			if (addrs->len == 0)
				problem(ld, g, "address", "a queue needs at least one address");
			q->lead = get_string(ld, kf, g, "lead", NULL);
			if (q->lead != NULL && !plausible_address(q->lead))
				problem(ld, g, "lead", "\"%s\" is not an address", q->lead);
			q->language = get_string(ld, kf, g, "language", NULL);
			load_queue_sla(ld, kf, cfg, g, q);
			if (q->language != NULL && !valid_language(q->language))
				problem(ld, g, "language", "\"%s\" is not a language code", q->language);
			if (conf_queue_by_name(cfg, q->name) != NULL || *q->name == '\0')
				problem(ld, g, NULL, "duplicate or empty queue name");
			g_ptr_array_add(cfg->queues, q);
		}
	}
	if (cfg->queues->len == 0)
		problem(ld, "queue support", NULL, "no [queue NAME] group: at least one is needed");

	for (int i = 0; groups[i] != NULL; i++) {
		const char *g = groups[i];

		if (g_str_has_prefix(g, "agent ")) {
			MdAgent *a = g_new0(MdAgent, 1);

			check_known_keys(ld, kf, g, known_agent_keys);
			a->name = g_strstrip(g_strdup(g + 6));
			/* #assign finds agents by name, whatever its case */
			if (*a->name == '\0' || conf_agent_by_name(cfg, a->name) != NULL)
				problem(ld, g, NULL, "duplicate or empty agent name");
			a->address = get_string(ld, kf, g, "address", NULL);
			if (a->address == NULL || !plausible_address(a->address))
				problem(ld, g, "address", "an agent needs an address");
			else if (conf_agent_by_address(cfg, a->address) != NULL)
				problem(ld, g, "address", "%s is another agent's address too", a->address);
			else if (conf_queue_for_address(cfg, a->address) != NULL)
				problem(ld, g, "address", "%s is a queue address", a->address);
			a->display_name = get_string(ld, kf, g, "name", a->name);
			a->queues = get_list(ld, kf, g, "queues");
			for (guint k = 0; k < a->queues->len; k++)
				if (conf_queue_by_name(cfg, a->queues->pdata[k]) == NULL)
					problem(ld, g, "queues", "no queue named \"%s\"",
					        (char *)a->queues->pdata[k]);
			a->max_open = (int)get_int(ld, kf, g, "max_open", 10, 1, 100000);
			a->lead = get_bool(ld, kf, g, "lead", FALSE);
			a->language = get_string(ld, kf, g, "language", NULL);
			if (a->language != NULL && !valid_language(a->language))
				problem(ld, g, "language", "\"%s\" is not a language code", a->language);
			{
				g_autofree char *tz = get_string(ld, kf, g, "timezone", NULL);

				if (tz != NULL && (a->timezone = g_time_zone_new_identifier(tz)) == NULL)
					problem(ld, g, "timezone",
					        "\"%s\" is not a time zone such as Europe/Riga", tz);
			}
			g_ptr_array_add(cfg->agents, a);
		}
	}
}

/*
 * An IMAP flag we may set after the commit: \Seen, \Flagged, \Answered or
 * a keyword atom such as $maildesk (RFC 3501 atom-char, no backslash).
 * \Deleted is not offered: move_to is the way to take mail away.
 */
static gboolean
valid_flag(const char *flag)
{
	if (g_ascii_strcasecmp(flag, "\\Seen") == 0 || g_ascii_strcasecmp(flag, "\\Flagged") == 0 ||
	    g_ascii_strcasecmp(flag, "\\Answered") == 0)
		return TRUE;
	if (*flag == '\0' || strlen(flag) > 64)
		return FALSE;
	for (const char *p = flag; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 127 || strchr("(){%*\"\\]", *p))
			return FALSE;
	return TRUE;
}

/* url = imaps://host[:port][/folder]: sets what the URL says. */
static void
mailbox_url(Loader *ld, const char *g, const char *url, MdMailbox *m, gboolean *have_security_r)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, &error);
	const char *scheme, *path;

	if (uri == NULL || g_uri_get_host(uri) == NULL || *g_uri_get_host(uri) == '\0') {
		problem(ld, g, "url", "\"%s\" is not a URL such as imaps://imap.example.com/INBOX", url);
		return;
	}
	scheme = g_uri_get_scheme(uri);
	if (g_ascii_strcasecmp(scheme, "imaps") == 0 || g_ascii_strcasecmp(scheme, "pop3s") == 0) {
		m->security = MAILBOX_TLS;
		*have_security_r = TRUE;
	} else if (g_ascii_strcasecmp(scheme, "imap") != 0 && g_ascii_strcasecmp(scheme, "pop3") != 0) {
		problem(ld, g, "url", "\"%s\" is not an imap://, imaps://, pop3:// or pop3s:// URL",
		        url);
		return;
	}
	m->pop3 = g_ascii_strncasecmp(scheme, "pop3", 4) == 0;
	g_free(m->host);
	m->host = g_strdup(g_uri_get_host(uri));
	if (g_uri_get_port(uri) > 0)
		m->port = g_uri_get_port(uri);
	path = g_uri_get_path(uri);
	if (path != NULL && *path == '/' && path[1] != '\0') {
		g_free(m->folder);
		m->folder = g_uri_unescape_string(path + 1, NULL);
	}
}

static void
load_mailboxes(Loader *ld, GKeyFile *kf, MdConfig *cfg)
{
	g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);

	for (int i = 0; groups[i] != NULL; i++) {
		const char *g = groups[i];
		g_autofree char *url = NULL;
		g_autofree char *protocol = NULL;
		g_autofree char *security = NULL;
		g_autofree char *password_file = NULL;
		g_autoptr(GPtrArray) flags = NULL;
		gboolean have_security = FALSE;
		MdMailbox *m;

		if (!g_str_has_prefix(g, "mailbox "))
			continue;
		check_known_keys(ld, kf, g, known_mailbox_keys);
		m = g_new0(MdMailbox, 1);
		m->name = g_strstrip(g_strdup(g + 8));
		if (*m->name == '\0' || conf_mailbox_by_name(cfg, m->name) != NULL)
			problem(ld, g, NULL, "duplicate or empty mailbox name");
		m->security = MAILBOX_TLS;
		url = get_string(ld, kf, g, "url", NULL);
		if (url != NULL)
			mailbox_url(ld, g, url, m, &have_security);
		if ((protocol = get_string(ld, kf, g, "protocol", NULL)) != NULL) {
			if (strcmp(protocol, "imap") == 0 || strcmp(protocol, "pop3") == 0)
				m->pop3 = strcmp(protocol, "pop3") == 0;
			else
				problem(ld, g, "protocol", "\"%s\" is not imap or pop3", protocol);
		}
		if ((security = get_string(ld, kf, g, "security", NULL)) != NULL) {
			if (strcmp(security, "tls") == 0)
				m->security = MAILBOX_TLS;
			else if (strcmp(security, "starttls") == 0)
				m->security = MAILBOX_STARTTLS;
			else if (strcmp(security, "none") == 0)
				m->security = MAILBOX_PLAIN;
			else
				problem(ld, g, "security", "\"%s\" is not tls, starttls or none", security);
		} else if (url != NULL && !have_security) {
			/* imap:// and pop3:// still never send a password in the clear */
			m->security = MAILBOX_STARTTLS;
		}
		{
			g_autofree char *host = get_string(ld, kf, g, "host", NULL);

			if (host != NULL) {
				g_free(m->host);
				m->host = g_steal_pointer(&host);
			}
		}
		if (m->host == NULL || *m->host == '\0' || strpbrk(m->host, " \t/@") != NULL)
			problem(ld, g, "host", "a mailbox needs a host (or a url)");
		m->port = (int)get_int(ld, kf, g, "port", m->port, 1, 65535);
		if (m->port == 0)
			m->port = m->pop3 ? (m->security == MAILBOX_TLS ? 995 : 110)
			                  : (m->security == MAILBOX_TLS ? 993 : 143);
		m->username = get_string(ld, kf, g, "username", NULL);
		if (m->username == NULL || *m->username == '\0')
			problem(ld, g, "username", "a mailbox needs a username");
		password_file = get_path(ld, kf, g, "password_file", NULL);
		if (password_file == NULL) {
			problem(ld, g, "password_file", "a mailbox needs a password_file");
		} else {
			g_autoptr(GError) error = NULL;
			char *pw = NULL;

			if (!g_file_get_contents(password_file, &pw, NULL, &error))
				problem(ld, g, "password_file", "%s", error->message);
			else
				m->password = g_strchomp(pw);
			m->password_file = g_strdup(password_file);
		}
		{
			g_autofree char *folder = get_string(ld, kf, g, "folder", NULL);

			if (folder != NULL && m->pop3)
				problem(ld, g, "folder", "POP3 has no folders");
			if (folder != NULL) {
				g_free(m->folder);
				m->folder = g_steal_pointer(&folder);
			}
			if (m->folder == NULL)
				m->folder = g_strdup("INBOX");
		}
		m->recipient = get_string(ld, kf, g, "recipient", NULL);
		if (m->recipient == NULL && cfg->queues->len > 0)
			m->recipient = g_strdup(((MdQueue *)cfg->queues->pdata[0])->addresses->len > 0
			                                ? ((MdQueue *)cfg->queues->pdata[0])->addresses->pdata[0]
			                                : "");
		if (m->recipient != NULL && conf_queue_for_address(cfg, m->recipient) == NULL)
			problem(ld, g, "recipient", "%s is no queue's address", m->recipient);

		flags = get_list_split(ld, kf, g, "flag", ", \t");
		if (!g_key_file_has_key(kf, g, "flag", NULL) && !m->pop3) {
			g_ptr_array_add(flags, g_strdup("\\Seen"));
			g_ptr_array_add(flags, g_strdup("$maildesk"));
		}
		if (flags->len == 1 && strcmp(flags->pdata[0], "none") == 0)
			g_ptr_array_set_size(flags, 0);
		for (guint k = 0; k < flags->len; k++)
			if (!valid_flag(flags->pdata[k]))
				problem(ld, g, "flag",
				        "\"%s\" is not \\Seen, \\Flagged, \\Answered or a keyword such as "
				        "$maildesk",
				        (char *)flags->pdata[k]);
		if (m->pop3 && flags->len > 0)
			problem(ld, g, "flag", "POP3 has no flags: fetched mail is deleted after its commit");
		g_ptr_array_add(flags, NULL);
		m->flags = (char **)g_ptr_array_steal(flags, NULL);
		m->move_to = get_string(ld, kf, g, "move_to", NULL);
		if (m->move_to != NULL && *m->move_to == '\0')
			g_clear_pointer(&m->move_to, g_free);
		if (m->move_to != NULL && m->pop3)
			problem(ld, g, "move_to", "POP3 has no folders");
		if (m->move_to != NULL && strcmp(m->move_to, m->folder) == 0)
			problem(ld, g, "move_to", "is the folder fetched");
		if (!m->pop3 && m->flags[0] == NULL && m->move_to == NULL)
			problem(ld, g, "flag",
			        "with no flag and no move_to nothing would mark a fetched message");
		m->poll_interval = (int)get_duration(ld, kf, g, "poll_interval", 60);
		if (m->poll_interval < 5 || m->poll_interval > 86400)
			problem(ld, g, "poll_interval", "must be from 5s to 1d");
		m->timeout = (int)get_int(ld, kf, g, "timeout", 60, 1, 3600);
		m->verify_tls = get_bool(ld, kf, g, "verify_tls", TRUE);
		m->ca_file = get_path(ld, kf, g, "ca_file", NULL);
		if (m->ca_file != NULL && !g_file_test(m->ca_file, G_FILE_TEST_IS_REGULAR))
			problem(ld, g, "ca_file", "%s is not a file", m->ca_file);
		if (m->ca_file != NULL && !m->verify_tls)
			problem(ld, g, "ca_file", "set, but verify_tls = no");
		g_ptr_array_add(cfg->mailboxes, m);
	}
}

static void
load_lmtpd(Loader *ld, GKeyFile *kf, MdConfig *cfg)
{
	const char *g = "lmtpd";
	g_autofree char *listen = NULL;

	check_known_keys(ld, kf, g, known_lmtpd_keys);
	listen = get_string(ld, kf, g, "listen", NULL);
	if (listen == NULL)
		cfg->lmtpd_listen = g_strdup("unix:" MD_LOCALSTATEDIR "/run/maildesk/lmtp.sock");
	else if (!conf_listen_valid(listen))
		problem(ld, g, "listen", "\"%s\" is neither unix:/absolute/path nor HOST:PORT", listen);
	else
		cfg->lmtpd_listen = g_steal_pointer(&listen);
	if (cfg->lmtpd_listen == NULL)
		cfg->lmtpd_listen = g_strdup("unix:" MD_LOCALSTATEDIR "/run/maildesk/lmtp.sock");
	cfg->lmtpd_pid_file = get_path(ld, kf, g, "pid_file", NULL);
	cfg->lmtpd_max_connections = (int)get_int(ld, kf, g, "max_connections", 64, 1, 10000);
	cfg->lmtpd_send = get_bool(ld, kf, g, "send", TRUE);
	cfg->lmtpd_send_interval = get_duration(ld, kf, g, "send_interval", 60);
	cfg->lmtpd_tick_interval = get_duration(ld, kf, g, "tick_interval", 0);
}

gboolean
conf_listen_valid(const char *listen)
{
	const char *colon;
	char *end;
	gint64 port;

	if (g_str_has_prefix(listen, "unix:"))
		return g_path_is_absolute(listen + 5);
	colon = strrchr(listen, ':');
	if (colon == NULL || colon == listen)
		return FALSE;
	port = g_ascii_strtoll(colon + 1, &end, 10);
	return end != colon + 1 && *end == '\0' && port > 0 && port < 65536;
}

MdConfig *
conf_load(const char *path, GPtrArray *problems_r)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;
	g_autoptr(GHashTable) lines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_auto(GStrv) groups = NULL;
	Loader ld = { path, lines, problems_r };
	MdConfig *cfg;
	gsize len;

	if (!g_file_get_contents(path, &text, &len, &error)) {
		g_ptr_array_add(problems_r, g_strdup_printf("%s:0: %s", path, error->message));
		return NULL;
	}
	if (!g_key_file_load_from_data(kf, text, len, G_KEY_FILE_NONE, &error)) {
		g_ptr_array_add(problems_r, g_strdup_printf("%s: %s", path, error->message));
		return NULL;
	}
	scan_lines(&ld, text);

	cfg = g_new0(MdConfig, 1);
	cfg->path = g_strdup(path);
	cfg->queues = g_ptr_array_new_with_free_func((GDestroyNotify)queue_free);
	cfg->agents = g_ptr_array_new_with_free_func((GDestroyNotify)agent_free);
	cfg->calendars = g_ptr_array_new_with_free_func((GDestroyNotify)calendar_conf_free);
	cfg->mailboxes = g_ptr_array_new_with_free_func((GDestroyNotify)mailbox_free);

	groups = g_key_file_get_groups(kf, NULL);
	for (int i = 0; groups[i] != NULL; i++) {
		const char *g = groups[i];

		if (strcmp(g, "maildesk") != 0 && strcmp(g, "smtp") != 0 && strcmp(g, "limits") != 0 &&
		    strcmp(g, "lmtpd") != 0 &&
		    strcmp(g, "sla") != 0 && strcmp(g, "agents") != 0 && !g_str_has_prefix(g, "queue ") &&
		    !g_str_has_prefix(g, "calendar ") && !g_str_has_prefix(g, "mailbox ") &&
		    !g_str_has_prefix(g, "agent "))
			problem(&ld, g, NULL, "unknown group");
	}

	load_maildesk(&ld, kf, cfg);
	check_known_keys(&ld, kf, "limits", known_limits_keys);
	cfg->autoreply_per_hour = (int)get_int(&ld, kf, "limits", "autoreply_per_hour", 5, 0, 100000);
	cfg->ticket_mails_per_hour =
		(int)get_int(&ld, kf, "limits", "ticket_mails_per_hour", 10, 1, 100000);
	cfg->max_message_size =
		/* SQLite keeps no blob over 1e9 bytes (SQLITE_MAX_LENGTH) */
		get_int(&ld, kf, "limits", "max_message_size", 64 << 20, 1024, 1000000000);
	cfg->max_mime_depth = (guint)get_int(&ld, kf, "limits", "max_mime_depth", 64, 1, 10000);
	cfg->max_parts = (guint)get_int(&ld, kf, "limits", "max_parts", 10000, 1, 10000000);
	check_known_keys(&ld, kf, "sla", known_sla_keys);
	cfg->default_resolution = get_duration(&ld, kf, "sla", "default_resolution", 2 * 86400);
	cfg->warn_at = (int)get_int(&ld, kf, "sla", "warn_at", 75, 0, 99);
	cfg->slip_extension = get_duration(&ld, kf, "sla", "slip_extension", 4 * 3600);
	cfg->pending_reminder = get_duration(&ld, kf, "sla", "pending_reminder", 3 * 86400);
	cfg->pending_close = get_duration(&ld, kf, "sla", "pending_close", 7 * 86400);
	cfg->csat = get_bool(&ld, kf, "sla", "csat", TRUE);
	if (cfg->slip_extension < 60)
		problem(&ld, "sla", "slip_extension", "must be at least a minute");
	if (cfg->pending_close > 0 && cfg->pending_reminder >= cfg->pending_close)
		problem(&ld, "sla", "pending_reminder",
		        "must come before pending_close (or set it to 0 for no reminder)");
	load_smtp(&ld, kf, cfg);
	load_lmtpd(&ld, kf, cfg);
	load_calendars(&ld, kf, cfg);
	load_queues_and_agents(&ld, kf, cfg);
	load_mailboxes(&ld, kf, cfg);
	check_known_keys(&ld, kf, "agents", known_agents_keys);
	cfg->notify_notes = get_bool(&ld, kf, "agents", "notify_notes", TRUE);
	cfg->require_dkim = get_bool(&ld, kf, "agents", "require_dkim", FALSE);
	cfg->authserv_id = get_string(&ld, kf, "agents", "authserv_id", NULL);
	if (cfg->require_dkim && (cfg->authserv_id == NULL || *cfg->authserv_id == '\0'))
		problem(&ld, "agents", "require_dkim",
		        "needs authserv_id: the name your MTA writes in Authentication-Results");
	return cfg;
}

const char *
conf_default_path(void)
{
	const char *env = g_getenv("MAILDESK_CONFIG");

	if (env != NULL && *env != '\0')
		return env;
	return MD_SYSCONFDIR "/maildesk/maildesk.conf";
}

/* addr without its +extension, lower case. */
static char *
base_address(const char *addr)
{
	const char *at = strrchr(addr, '@');
	const char *plus;

	if (at == NULL)
		return g_ascii_strdown(addr, -1);
	plus = memchr(addr, '+', at - addr);
	if (plus == NULL)
		return g_ascii_strdown(addr, -1);
	{
		g_autofree char *joined = g_strdup_printf("%.*s%s", (int)(plus - addr), addr, at);
		return g_ascii_strdown(joined, -1);
	}
}

const MdQueue *
conf_queue_for_address(const MdConfig *cfg, const char *addr)
{
	g_autofree char *base = NULL;

	if (addr == NULL)
		return NULL;
	base = base_address(addr);
	for (guint i = 0; i < cfg->queues->len; i++) {
		const MdQueue *q = cfg->queues->pdata[i];

		for (guint k = 0; k < q->addresses->len; k++)
			if (strcmp(q->addresses->pdata[k], base) == 0)
				return q;
	}
	return NULL;
}

const MdQueue *
conf_queue_by_name(const MdConfig *cfg, const char *name)
{
	for (guint i = 0; i < cfg->queues->len; i++) {
		const MdQueue *q = cfg->queues->pdata[i];

		if (strcmp(q->name, name) == 0)
			return q;
	}
	return NULL;
}

const MdMailbox *
conf_mailbox_by_name(const MdConfig *cfg, const char *name)
{
	for (guint i = 0; name != NULL && i < cfg->mailboxes->len; i++) {
		const MdMailbox *m = cfg->mailboxes->pdata[i];

		if (strcmp(m->name, name) == 0)
			return m;
	}
	return NULL;
}

const MdAgent *
conf_agent_by_name(const MdConfig *cfg, const char *name)
{
	for (guint i = 0; name != NULL && i < cfg->agents->len; i++) {
		const MdAgent *a = cfg->agents->pdata[i];

		if (g_ascii_strcasecmp(a->name, name) == 0)
			return a;
	}
	return NULL;
}

gboolean
conf_agent_serves(const MdAgent *a, const char *queue)
{
	for (guint i = 0; queue != NULL && i < a->queues->len; i++)
		if (strcmp(a->queues->pdata[i], queue) == 0)
			return TRUE;
	return FALSE;
}

const MdAgent *
conf_agent_by_address(const MdConfig *cfg, const char *addr)
{
	if (addr == NULL)
		return NULL;
	for (guint i = 0; i < cfg->agents->len; i++) {
		const MdAgent *a = cfg->agents->pdata[i];

		if (a->address != NULL && g_ascii_strcasecmp(a->address, addr) == 0)
			return a;
	}
	return NULL;
}

gboolean
conf_parse_duration(const char *text, gint64 *seconds_r)
{
	char *end;
	gint64 n;

	errno = 0;
	n = g_ascii_strtoll(text, &end, 10);
	if (errno != 0 || end == text || n < 0 || n > G_GINT64_CONSTANT(1) << 40)
		return FALSE;
	if (strcmp(end, "s") == 0 || (strcmp(end, "") == 0 && n == 0))
		*seconds_r = n;
	else if (strcmp(end, "m") == 0)
		*seconds_r = n * 60;
	else if (strcmp(end, "h") == 0)
		*seconds_r = n * 3600;
	else if (strcmp(end, "d") == 0)
		*seconds_r = n * 86400;
	else if (strcmp(end, "w") == 0)
		*seconds_r = n * 7 * 86400;
	else
		return FALSE;
	return TRUE;
}

GBytes *
conf_read_secret(const MdConfig *cfg, char **error_r)
{
	g_autoptr(GError) error = NULL;
	char *data = NULL;
	gsize len = 0;

	if (!g_file_get_contents(cfg->secret_file, &data, &len, &error)) {
		*error_r = g_strdup_printf("secret_file %s: %s", cfg->secret_file, error->message);
		return NULL;
	}
	if (len < 16) {
		g_free(data);
		*error_r = g_strdup_printf("secret_file %s: shorter than 16 bytes", cfg->secret_file);
		return NULL;
	}
	return g_bytes_new_take(data, len);
}
