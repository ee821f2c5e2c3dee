/*
 * cmd_common.c - start-up steps shared by the commands.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "clock.h"
#include "commands.h"
#include "log.h"
#include "privs.h"

MdConfig *
commands_load_config(const MdGlobal *g, gboolean quiet)
{
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	MdConfig *cfg = conf_load(g->config_path, problems);

	for (guint i = 0; i < problems->len; i++) {
		if (quiet)
			log_error("%s", (char *)problems->pdata[i]);
		else
			fprintf(stderr, "maildesk: %s\n", (char *)problems->pdata[i]);
	}
	if (problems->len > 0) {
		conf_free(cfg);
		return NULL;
	}
	/* before the database, the secret or any file is opened */
	{
		g_autofree char *error = NULL;
		g_autofree char *warning = NULL;

		if (privs_leave_root(cfg->user, &error, &warning) != MD_OK) {
			if (quiet)
				log_error("%s", error);
			else
				fprintf(stderr, "maildesk: %s\n", error);
			conf_free(cfg);
			return NULL;
		}
		if (warning != NULL)
			log_warning("%s", warning);
	}
	return cfg;
}

MdStore *
commands_open_store(const MdConfig *cfg, gboolean quiet, MdStatus *status_r)
{
	g_autofree char *error = NULL;
	MdStore *store = store_open(cfg->database, cfg->busy_timeout_ms, FALSE, status_r, &error);

	if (store == NULL) {
		if (quiet)
			log_error("%s", error);
		else
			fprintf(stderr, "maildesk: %s\n", error);
		return NULL;
	}
	*status_r = store_check_schema(store);
	if (*status_r != MD_OK) {
		if (quiet)
			log_error("database %s: %s", cfg->database, store_error(store));
		else
			fprintf(stderr, "maildesk: database %s: %s\n", cfg->database, store_error(store));
		store_close(store);
		return NULL;
	}
	return store;
}

gboolean
commands_parse_options(const char *usage, GOptionEntry *entries, gboolean quiet, int *argc,
                       char ***argv)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new(usage);
	g_autoptr(GError) error = NULL;

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, argc, argv, &error)) {
		if (quiet)
			log_error("%s", error->message);
		else
			fprintf(stderr, "maildesk: %s\n", error->message);
		return FALSE;
	}
	return TRUE;
}

/* Starts `maildesk -c CONFIG send --once --if-idle`, fully detached. */
void
commands_kick_sender(const MdGlobal *g)
{
	pid_t pid = fork();

	if (pid < 0) {
		log_warning("cannot start send: %s", g_strerror(errno));
		return;
	}
	if (pid > 0) {
		/* reap the intermediate child; the grandchild is init's */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return;
	}
	if (setsid() < 0 || fork() != 0)
		_exit(0);
	{
		int fd = open("/dev/null", O_RDWR);

		/* Postfix waits for EOF on our output: hold none of it open */
		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			if (fd > STDERR_FILENO)
				close(fd);
		}
		/* our own binary, wherever the MTA found it */
		execl(g->send_exe ? g->send_exe : "/proc/self/exe", g->self, "-c", g->config_path,
		      "send", "--once", "--if-idle",
		      (char *)NULL);
		_exit(EX_OSERR);
	}
}

gboolean
commands_set_now(const char *text, gboolean quiet)
{
	gint64 at;

	if (text == NULL)
		return TRUE;
	if (!clock_parse_iso8601(text, &at)) {
		if (quiet)
			log_error("--now \"%s\" is not an ISO 8601 instant", text);
		else
			fprintf(stderr, "maildesk: --now \"%s\" is not an ISO 8601 instant\n", text);
		return FALSE;
	}
	clock_set(at);
	return TRUE;
}

gboolean
commands_global_option(MdGlobal *g, int argc, char **argv, int *i)
{
	const char *a = argv[*i];

	if (strcmp(a, "-v") == 0)
		g->verbose = TRUE;
	else if (strcmp(a, "-c") == 0 && *i + 1 < argc)
		g->config_path = argv[++*i];
	else if (strncmp(a, "-c", 2) == 0 && a[2] != '\0')
		g->config_path = a + 2;
	else
		return FALSE;
	return TRUE;
}
