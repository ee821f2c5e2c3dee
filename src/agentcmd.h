/*
 * agentcmd.h - the "#command" lines at the top of an agent's mail to a
 * ticket (stage "agent commands" of the pipeline).
 *
 * Pure: splits the text into commands and the body that follows them and
 * checks only the syntax of each argument.  Whether an agent or queue
 * exists, and whether anyone has room for a ticket, is agentmail.c's
 * question; this module never sees the config, the store or the clock.
 *
 * What an agent may write, one command a line, before any other text:
 *
 *   #assign <agent>    a config name ("bob") or address, "<...>" allowed
 *   #take              assign the ticket to the sender
 *   #status <s>        open, pending, on-hold ("on hold", "onhold"),
 *                      solved, closed
 *   #priority <p>      low, normal, high, urgent
 *   #eta <when>        +90m, +4h, +2d, +1w (from now, plain clock time);
 *                      2026-12-01 (17:00 that day, the end of a working
 *                      day, in the agent's offset); 2026-12-01 14:30 or
 *                      2026-12-01T14:30 (in the agent's offset); ISO 8601
 *                      with its own offset, 2026-12-01T14:30:00+02:00
 *   #queue <name>      move to that queue
 *   #note              the mail is an internal note, not a reply
 *   #cc <address>      copy that address on the answers to the customer
 *                      from now on ("<...>" allowed; one a line, several
 *                      lines allowed; a plain address, see address.h)
 *   #uncc <address>    stop copying it
 *
 * Names are case-insensitive and may end in a colon ("#Status: Solved").
 */
#ifndef MD_AGENTCMD_H
#define MD_AGENTCMD_H

#include <glib.h>

/* At most this many command lines are read; more is an error. */
#define AGENTCMD_MAX_COMMANDS 20
/* A command line longer than this (in bytes, without its line end) is an error. */
#define AGENTCMD_MAX_LINE 1000

typedef enum {
	AGENTCMD_ASSIGN,
	AGENTCMD_TAKE,
	AGENTCMD_STATUS,
	AGENTCMD_PRIORITY,
	AGENTCMD_ETA,
	AGENTCMD_QUEUE,
	AGENTCMD_NOTE,
	AGENTCMD_CC,
	AGENTCMD_UNCC,
} MdAgentCmdKind;

typedef struct {
	MdAgentCmdKind kind;
	/*
	 * assign: the agent's name or address as written, angle brackets
	 * removed; status, priority: the canonical lower-case value; queue:
	 * the name as written; cc, uncc: the address, angle brackets removed;
	 * NULL for the others.
	 */
	char *arg;
	gint64 eta; /* AGENTCMD_ETA: UTC seconds, never before now; else 0 */
	/*
	 * The command line trimmed, runs of spaces (no-break ones too) made
	 * one space, invisible characters removed, valid UTF-8: for messages
	 * to the agent ("#assign carol: there is no agent ...").
	 */
	char *line;
} MdAgentCmd;

typedef struct {
	GPtrArray *cmds; /* MdAgentCmd *, in the order written; repeats of a command dropped */
	/*
	 * char *: one English reason per refused line, starting with that line
	 * (clipped), e.g. "#status done: \"done\" is not one of open, pending,
	 * on-hold, solved, closed".  Empty when all is well; the caller must
	 * apply none of cmds when it is not.
	 */
	GPtrArray *errors;
	char *body; /* the text after the command lines, leading blank lines removed; never NULL */
} MdAgentCmds;

/*
 * Reads the commands at the start of text (UTF-8, LF or CRLF lines; NULL
 * is empty).  now (UTC seconds) anchors "+2d" and the past check;
 * tz_minutes (east positive, the agent's Date header offset) is where
 * dates without an offset are read; beyond +-23:59 it counts as UTC.
 *
 * Leading blank lines are skipped; then each line whose first visible
 * character is '#' followed by a letter is a command line, blank lines
 * between them allowed, and the first other line starts the body.  Every
 * command line is consumed, refused or not, so the body never starts with
 * one.  Refused: unknown commands, a missing, extra or malformed
 * argument, an ETA in the past, two different values for one command,
 * #assign together with #take, a line over AGENTCMD_MAX_LINE bytes and
 * command lines beyond AGENTCMD_MAX_COMMANDS (one error for all of them).
 * #cc and #uncc may each be written for several addresses; #cc and #uncc
 * of one address conflict.
 *
 * Never NULL.  Caller frees with agentcmd_free().
 */
MdAgentCmds *agentcmd_parse(const char *text, gint64 now, int tz_minutes);
void agentcmd_free(MdAgentCmds *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MdAgentCmds, agentcmd_free)

/* The command's name without '#': "assign", "take", ...  Static. */
const char *agentcmd_name(MdAgentCmdKind k);

#endif
