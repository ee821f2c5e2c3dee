/*
 * commands.h - one function per maildesk command, dispatched from main.c.
 *
 * Each takes the arguments after the command name (argv[0] is the
 * command) and the global options, and returns a sysexits(3) code.
 */
#ifndef MD_COMMANDS_H
#define MD_COMMANDS_H

#include <glib.h>

#include "conf.h"
#include "status.h"
#include "store.h"

typedef struct {
	const char *config_path;
	gboolean verbose;
	const char *self; /* path of our own binary, for deliver's send kick */
	const char *send_exe; /* the maildesk binary for that kick; NULL: ourselves */
} MdGlobal;

/*
 * Takes the global option at argv[*i] (-v, -c FILE or -cFILE) into g, as
 * both programs read them before the command: TRUE when it was one, with
 * *i on its last word.
 */
gboolean commands_global_option(MdGlobal *g, int argc, char **argv, int *i);

int cmd_init(const MdGlobal *g, int argc, char **argv);
int cmd_deliver(const MdGlobal *g, int argc, char **argv);
int cmd_lmtpd(const MdGlobal *g, int argc, char **argv);
int cmd_send(const MdGlobal *g, int argc, char **argv);
int cmd_ticket(const MdGlobal *g, int argc, char **argv);
int cmd_agent(const MdGlobal *g, int argc, char **argv);
int cmd_tick(const MdGlobal *g, int argc, char **argv);
int cmd_report(const MdGlobal *g, int argc, char **argv);
int cmd_check_config(const MdGlobal *g, int argc, char **argv);
int cmd_fetch(const MdGlobal *g, int argc, char **argv);
int cmd_import(const MdGlobal *g, int argc, char **argv);

/*
 * Shared start-up of the commands that need the configuration: loads it,
 * reports every problem (to stderr, or only to the log when quiet: the
 * deliver command's output is read by the MTA, whose status line must
 * come first).  Started as root, it then becomes the [maildesk] user, or
 * refuses (privs.h).  Returns NULL on any problem (the caller exits
 * EX_CONFIG).
 */
MdConfig *commands_load_config(const MdGlobal *g, gboolean quiet);

/* Opens the database of cfg and checks its schema; NULL with *status_r. */
MdStore *commands_open_store(const MdConfig *cfg, gboolean quiet, MdStatus *status_r);

/* Parses the options of one command; FALSE after reporting the problem
 * (to stderr, or only to the log when quiet). */
gboolean commands_parse_options(const char *usage, GOptionEntry *entries, gboolean quiet, int *argc,
                                char ***argv);

/*
 * --now: fixes the clock at the ISO 8601 instant text (nothing when NULL),
 * for tests and simulations.  FALSE after reporting a bad instant (to
 * stderr, or only to the log when quiet).
 */
gboolean commands_set_now(const char *text, gboolean quiet);

/*
 * Starts `maildesk -c CONFIG send --once --if-idle` fully detached, so the
 * caller (an MTA waiting on deliver's output) does not wait for it.
 */
void commands_kick_sender(const MdGlobal *g);

#endif
