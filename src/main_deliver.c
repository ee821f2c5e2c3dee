/*
 * main_deliver.c - maildesk-deliver: "maildesk deliver" in a lean binary.
 *
 * Postfix's pipe(8) starts one process per message, and starting one is
 * most of the cost of a delivery: the dynamic loader maps and relocates
 * every library the binary links.  This program links only what the
 * intake needs (no libcurl with its TLS stack), and starts
 * in about half the time of the full maildesk binary.  It takes the same
 * arguments as "maildesk [-c FILE] [-v] deliver ..." (the word deliver
 * is optional) and behaves the same; its background sender is the
 * maildesk binary beside it.
 */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "commands.h"
#include "log.h"
#include "parse.h"

int
main(int argc, char **argv)
{
	g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
	g_autofree char *dir = exe ? g_path_get_dirname(exe) : NULL;
	g_autofree char *sender = dir ? g_build_filename(dir, "maildesk", NULL) : NULL;
	MdGlobal g = { NULL, FALSE, argv[0], sender };
	int i;

	setlocale(LC_ALL, "C.UTF-8");
	/* up to deliver's own options */
	for (i = 1; i < argc && argv[i][0] == '-'; i++)
		if (!commands_global_option(&g, argc, argv, &i))
			break;
	if (i < argc && strcmp(argv[i], "deliver") == 0)
		i++;
	if (g.config_path == NULL)
		g.config_path = conf_default_path();
	log_open("maildesk", g.verbose);
	parse_init();
	/* cmd_deliver takes argv[0] as the command name */
	argv[i - 1] = (char *)"deliver";
	return cmd_deliver(&g, argc - i + 1, argv + i - 1);
}
