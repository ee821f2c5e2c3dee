/*
 * cmd_init.c - maildesk init: creates the site secret (mode 0600) when it
 * is missing, and creates or migrates the database.  Safe to run again.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "commands.h"

static gboolean
create_secret(const char *path)
{
	guint8 key[32];
	g_autofree char *hex = NULL;
	g_autofree char *dir = g_path_get_dirname(path);
	int fd;
	gsize n;

	if (access(path, F_OK) == 0)
		return TRUE;
	if (getrandom(key, sizeof key, 0) != (ssize_t)sizeof key) {
		fprintf(stderr, "maildesk: random bytes for the secret: %s\n", g_strerror(errno));
		return FALSE;
	}
	hex = g_malloc(sizeof key * 2 + 2);
	for (n = 0; n < sizeof key; n++)
		g_snprintf(hex + 2 * n, 3, "%02x", key[n]);
	hex[2 * n] = '\n';
	hex[2 * n + 1] = '\0';
	if (g_mkdir_with_parents(dir, 0755) != 0) {
		fprintf(stderr, "maildesk: cannot create %s for the secret: %s\n", dir, g_strerror(errno));
		return FALSE;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, hex, strlen(hex)) != (ssize_t)strlen(hex) || fsync(fd) != 0) {
		fprintf(stderr, "maildesk: cannot create secret %s: %s\n", path, g_strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(path);
		}
		return FALSE;
	}
	close(fd);
	printf("created secret %s\n", path);
	return TRUE;
}

int
cmd_init(const MdGlobal *g, int argc, char **argv)
{
	GOptionEntry entries[] = { { NULL } };
	g_autoptr(MdConfig) cfg = NULL;
	g_autofree char *error = NULL;
	g_autofree char *dbdir = NULL;
	MdStatus st;
	MdStore *store;
	int before;

	if (!commands_parse_options("- create or migrate the database", entries, FALSE, &argc, &argv))
		return EX_USAGE;
	if ((cfg = commands_load_config(g, FALSE)) == NULL)
		return EX_CONFIG;
	if (!create_secret(cfg->secret_file))
		return EX_CANTCREAT;
	dbdir = g_path_get_dirname(cfg->database);
	if (g_mkdir_with_parents(dbdir, 0750) != 0) {
		fprintf(stderr, "maildesk: cannot create %s for the database: %s\n", dbdir,
		        g_strerror(errno));
		return EX_CANTCREAT;
	}
	store = store_open(cfg->database, cfg->busy_timeout_ms, TRUE, &st, &error);
	if (store == NULL) {
		fprintf(stderr, "maildesk: %s\n", error);
		return status_exit_code(st);
	}
	/* the database holds every customer's mail: not for other users */
	if (chmod(cfg->database, 0640) != 0) {
		fprintf(stderr, "maildesk: cannot set mode 0640 on %s: %s\n", cfg->database,
		        g_strerror(errno));
		store_close(store);
		return EX_CANTCREAT;
	}
	before = store_schema_version(store);
	st = store_migrate(store);
	if (st != MD_OK) {
		fprintf(stderr, "maildesk: database %s: %s\n", cfg->database, store_error(store));
		store_close(store);
		return status_exit_code(st);
	}
	if (before == STORE_SCHEMA_VERSION)
		printf("database %s is up to date (schema %d)\n", cfg->database, STORE_SCHEMA_VERSION);
	else
		printf("database %s: schema %d -> %d\n", cfg->database, before, STORE_SCHEMA_VERSION);
	store_close(store);
	return EX_OK;
}
