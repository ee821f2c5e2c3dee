/*
 * main.c - maildesk COMMAND [options]: global options and dispatch.
 *
 * Global options come before the command: -c FILE, -v, --version, --help.
 */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "commands.h"
#include "log.h"
#include "parse.h"

static const struct {
	const char *name;
	int (*run)(const MdGlobal *g, int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "init", cmd_init, "create or migrate the database, create the secret" },
	{ "deliver", cmd_deliver, "take one message on stdin (Postfix pipe)" },
	{ "lmtpd", cmd_lmtpd, "serve LMTP (Postfix lmtp:) with group commit" },
	{ "send", cmd_send, "drain the outbox over SMTP" },
	{ "fetch", cmd_fetch, "take mail from IMAP or POP3 mailboxes" },
	{ "ticket", cmd_ticket, "list or show tickets" },
	{ "agent", cmd_agent, "list agents with their load" },
	{ "tick", cmd_tick, "run the SLA clock: warnings, escalations, reminders, surveys" },
	{ "report", cmd_report, "figures: response times, SLA, backlog; the leads' digest" },
	{ "import", cmd_import, "import an mbox file or a Maildir of past mail" },
	{ "check-config", cmd_check_config, "validate the configuration" },
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: maildesk [-c FILE] [-v] COMMAND [options]\n"
	             "       maildesk --version | --help\n\ncommands:\n");
	for (unsigned i = 0; i < G_N_ELEMENTS(commands); i++)
		fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n-c defaults to $MAILDESK_CONFIG, then %s.\n"
	             "Run maildesk COMMAND --help for a command's options.\n",
	        MD_SYSCONFDIR "/maildesk/maildesk.conf");
}

int
main(int argc, char **argv)
{
	MdGlobal g = { NULL, FALSE, argv[0], NULL };
	int i;

	setlocale(LC_ALL, "C.UTF-8");
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--version") == 0) {
			printf("maildesk %s\n", PACKAGE_VERSION);
			return EX_OK;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return EX_OK;
		} else if (!commands_global_option(&g, argc, argv, &i)) {
			fprintf(stderr, "maildesk: unknown option %s\n", argv[i]);
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EX_USAGE;
	}
	if (g.config_path == NULL)
		g.config_path = conf_default_path();

	for (unsigned k = 0; k < G_N_ELEMENTS(commands); k++)
		if (strcmp(argv[i], commands[k].name) == 0) {
			log_open("maildesk", g.verbose);
			parse_init();
			return commands[k].run(&g, argc - i, argv + i);
		}
	fprintf(stderr, "maildesk: unknown command %s\n", argv[i]);
	usage(stderr);
	return EX_USAGE;
}
