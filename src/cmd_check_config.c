/*
 * cmd_check_config.c - maildesk check-config: every problem of the
 * configuration, each with file, line and key; exit 0 only when none.
 */
#include "config.h"

#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "address.h"
#include "commands.h"
#include "outmail.h"
#include "privs.h"
#include "template.h"

static const char *const languages[] = { "en", "ru", "lv" };

/*
 * Warns (without failing) when path is readable or writable beyond its
 * owner and, where allowed, its group: the secret signs every ticket
 * address, the database holds every customer's mail.
 */
static void
warn_mode(const char *what, const char *path, mode_t allowed)
{
	struct stat sb;

	if (stat(path, &sb) != 0 || (sb.st_mode & 0777 & ~allowed) == 0)
		return;
	fprintf(stderr, "maildesk: warning: %s %s has mode %04o; %04o at most is safe\n", what, path,
	        (unsigned)(sb.st_mode & 0777), (unsigned)allowed);
}

/* 1 when templates/lang/name is missing or does not render, after saying so. */
static int
check_template(const MdConfig *cfg, const char *lang, const char *name)
{
	g_autofree char *path = g_build_filename(cfg->templates, lang, name, NULL);
	g_autoptr(JsonObject) ctx = json_object_new();
	g_autoptr(MdRendered) r = NULL;
	g_autofree char *error = NULL;

	if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
		fprintf(stderr, "maildesk: %s:0: [maildesk] templates: %s is missing\n", cfg->path,
		        path);
		return 1;
	}
	/* a template that does not render would fail every delivery */
	r = template_render_file(cfg->templates, lang, lang, name, ctx, &error);
	if (r == NULL) {
		fprintf(stderr, "maildesk: %s\n", error);
		return 1;
	}
	return 0;
}

/*
 * Warns when the user we run as (the [maildesk] user, when started as
 * root) could not use the database: SQLite writes its -wal and -shm
 * files, and send its lock file, beside it.
 */
/*
 * People whose address counts as maildesk's own (address.h) would never
 * be written to as a customer: usually [maildesk] hostname set to the
 * domain everyone's mail is at.
 */
static void
warn_own_addresses(const MdConfig *cfg)
{
	for (guint i = 0; i < cfg->agents->len; i++) {
		const MdAgent *a = cfg->agents->pdata[i];

		if (address_is_ours(cfg, a->address))
			fprintf(stderr, "maildesk: warning: [agent %s] address %s counts as one of "
			                "maildesk's own (a queue's subaddress, or at [maildesk] hostname "
			                "%s)\n", a->name, a->address, cfg->hostname);
	}
	for (guint i = 0; i < cfg->queues->len; i++) {
		const MdQueue *q = cfg->queues->pdata[i];
		const char *at = strrchr(q->addresses->pdata[0], '@');

		if (at != NULL && g_ascii_strcasecmp(at + 1, cfg->hostname) == 0)
			fprintf(stderr, "maildesk: warning: [maildesk] hostname %s is the domain of "
			                "[queue %s]: every address at %s counts as maildesk's own and is "
			                "never a customer; give maildesk a name of its own, such as "
			                "help.%s\n", cfg->hostname, q->name, cfg->hostname, cfg->hostname);
	}
}

static void
warn_access(const MdConfig *cfg)
{
	g_autofree char *dir = g_path_get_dirname(cfg->database);
	struct passwd *pw = cfg->user != NULL ? getpwnam(cfg->user) : NULL;

	if (pw != NULL && geteuid() != pw->pw_uid)
		fprintf(stderr, "maildesk: warning: running as uid %u, not as [maildesk] user %s: "
		                "the checks below are for uid %u\n",
		        (unsigned)geteuid(), cfg->user, (unsigned)geteuid());
	if (access(cfg->database, F_OK) == 0 && access(cfg->database, R_OK | W_OK) != 0)
		fprintf(stderr, "maildesk: warning: database %s is not writable by uid %u\n",
		        cfg->database, (unsigned)geteuid());
	if (access(dir, F_OK) == 0 && access(dir, W_OK | X_OK) != 0)
		fprintf(stderr, "maildesk: warning: database directory %s is not writable by uid %u\n",
		        dir, (unsigned)geteuid());
}

int
cmd_check_config(const MdGlobal *g, int argc, char **argv)
{
	GOptionEntry entries[] = { { NULL } };
	g_autoptr(MdConfig) cfg = NULL;
	g_autofree char *error = NULL;
	GBytes *secret;
	int problems = 0;

	if (!commands_parse_options("- validate the configuration", entries, FALSE, &argc, &argv))
		return EX_USAGE;
	if ((cfg = commands_load_config(g, FALSE)) == NULL)
		return EX_CONFIG;
	secret = conf_read_secret(cfg, &error);
	if (secret == NULL) {
		fprintf(stderr, "maildesk: %s:0: [maildesk] secret_file: %s (maildesk init creates it)\n",
		        cfg->path, error);
		problems++;
	} else {
		g_bytes_unref(secret);
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(languages); i++)
		for (unsigned k = 0; outmail_templates[k] != NULL; k++)
			problems += check_template(cfg, languages[i], outmail_templates[k]);
	warn_mode("secret", cfg->secret_file, 0640);
	warn_mode("database", cfg->database, 0660);
	{
		g_autofree char *dir = g_path_get_dirname(cfg->database);

		warn_mode("database directory", dir, 0775);
	}
	for (guint i = 0; i < cfg->mailboxes->len; i++) {
		const MdMailbox *m = cfg->mailboxes->pdata[i];
		g_autofree char *what = g_strdup_printf("[mailbox %s] password_file", m->name);

		if (m->password_file != NULL)
			warn_mode(what, m->password_file, 0640);
		if (m->security == MAILBOX_PLAIN && strcmp(m->host, "127.0.0.1") != 0 &&
		    strcmp(m->host, "::1") != 0 && strcmp(m->host, "localhost") != 0)
			fprintf(stderr, "maildesk: warning: [mailbox %s] security = none sends the "
			                "password to %s in the clear\n", m->name, m->host);
		if (!m->verify_tls && m->security != MAILBOX_PLAIN)
			fprintf(stderr, "maildesk: warning: [mailbox %s] verify_tls = no: anyone on the "
			                "way to %s can read the password\n", m->name, m->host);
	}
	warn_access(cfg);
	warn_own_addresses(cfg);
	/* commands_load_config() left root, or was allowed to keep it */
	if (geteuid() == 0)
		fprintf(stderr, "maildesk: warning: running as root (" PRIVS_ALLOW_ROOT_ENV "=1); "
		                "set [maildesk] user, or run maildesk as its own unprivileged user "
		                "(the one the Postfix service names)\n");
	if (problems > 0)
		return EX_CONFIG;
	printf("%s: configuration OK (%u queues, %u agents)\n", cfg->path, cfg->queues->len,
	       cfg->agents->len);
	return EX_OK;
}
