/*
 * fuzz_agentcmd.c - the "#command" lines of agents' mail: agentcmd_parse()
 * on hostile text.
 *
 * The first byte sets the agent's UTC offset: (byte - '@') * 15 minutes,
 * so '@' is UTC, 'D' +01:00, '<' -01:00, and the extremes lie beyond the
 * +-23:59 that agentcmd_parse() treats as UTC.  The rest is the text; the
 * clock is fixed at FUZZ_NOW.
 *
 * Checked, from agentcmd.h: never NULL; the body is the input's own tail
 * ("handed back exactly as it was"), so valid UTF-8 when the input is,
 * and it starts with no command line (parsing it again finds nothing);
 * errors are non-NULL UTF-8 text; at most AGENTCMD_MAX_COMMANDS commands,
 * one per kind but #cc and #uncc, which take one address a line
 * (repeats are dropped, contradictions refused: #cc and #uncc of one
 * address included), never #assign with #take unrefused; each argument
 * as documented for its kind and every ETA no earlier than now.
 */
#include "config.h"

#include <string.h>

#include "agentcmd.h"
#include "fuzz.h"

static const char *const statuses[] = { "open", "pending", "on-hold", "solved", "closed", NULL };
static const char *const priorities[] = { "low", "normal", "high", "urgent", NULL };

static void
check_command(const MdAgentCmd *cmd, gint64 now)
{
	FUZZ_CHECK((guint)cmd->kind <= AGENTCMD_UNCC, "kind %d", cmd->kind);
	FUZZ_CHECK(agentcmd_name(cmd->kind) != NULL, "no name for kind %d", cmd->kind);
	FUZZ_CHECK(cmd->line != NULL && g_utf8_validate(cmd->line, -1, NULL),
	           "#%s: line NULL or not UTF-8", agentcmd_name(cmd->kind));
	switch (cmd->kind) {
	case AGENTCMD_ASSIGN:
	case AGENTCMD_QUEUE:
		FUZZ_CHECK(cmd->arg != NULL && *cmd->arg != '\0', "#%s without an argument",
		           agentcmd_name(cmd->kind));
		break;
	case AGENTCMD_CC:
	case AGENTCMD_UNCC:
		FUZZ_CHECK(cmd->arg != NULL && *cmd->arg != '\0' && strpbrk(cmd->arg, "<> \t") == NULL,
		           "#%s \"%s\" is not one bare address", agentcmd_name(cmd->kind),
		           cmd->arg ? cmd->arg : "(null)");
		break;
	case AGENTCMD_STATUS:
		FUZZ_CHECK(cmd->arg != NULL && g_strv_contains(statuses, cmd->arg),
		           "#status \"%s\" is not canonical", cmd->arg ? cmd->arg : "(null)");
		break;
	case AGENTCMD_PRIORITY:
		FUZZ_CHECK(cmd->arg != NULL && g_strv_contains(priorities, cmd->arg),
		           "#priority \"%s\" is not canonical", cmd->arg ? cmd->arg : "(null)");
		break;
	case AGENTCMD_TAKE:
	case AGENTCMD_ETA:
	case AGENTCMD_NOTE:
		FUZZ_CHECK(cmd->arg == NULL, "#%s has an argument", agentcmd_name(cmd->kind));
		break;
	}
	if (cmd->kind == AGENTCMD_ETA)
		FUZZ_CHECK(cmd->eta >= now, "#eta %" G_GINT64_FORMAT " is before now %" G_GINT64_FORMAT,
		           cmd->eta, now);
	else
		FUZZ_CHECK(cmd->eta == 0, "#%s has an eta", agentcmd_name(cmd->kind));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const gint64 now = FUZZ_NOW;
	int tz_minutes = 0;
	g_autofree char *text = NULL;
	g_autoptr(MdAgentCmds) c = NULL;
	g_autoptr(MdAgentCmds) again = NULL;
	gboolean seen[AGENTCMD_UNCC + 1] = { FALSE };
	gsize len;

	fuzz_init();
	if (size > 0) {
		tz_minutes = ((int)data[0] - '@') * 15;
		data++;
		size--;
	}
	text = fuzz_string(data, size);
	len = strlen(text);
	c = agentcmd_parse(text, now, tz_minutes);

	FUZZ_CHECK(c != NULL && c->cmds != NULL && c->errors != NULL && c->body != NULL,
	           "agentcmd_parse() left something NULL");
	FUZZ_CHECK(strlen(c->body) <= len && strcmp(text + len - strlen(c->body), c->body) == 0,
	           "the body is not the tail of the text");
	if (g_utf8_validate(text, -1, NULL))
		FUZZ_CHECK(g_utf8_validate(c->body, -1, NULL), "UTF-8 text, body not UTF-8");
	for (guint i = 0; i < c->errors->len; i++)
		FUZZ_CHECK(c->errors->pdata[i] != NULL &&
		               g_utf8_validate(c->errors->pdata[i], -1, NULL),
		           "error %u NULL or not UTF-8", i);
	FUZZ_CHECK(c->cmds->len <= AGENTCMD_MAX_COMMANDS, "%u commands", c->cmds->len);
	for (guint i = 0; i < c->cmds->len; i++) {
		const MdAgentCmd *cmd = c->cmds->pdata[i];

		check_command(cmd, now);
		if (cmd->kind == AGENTCMD_CC || cmd->kind == AGENTCMD_UNCC) {
			/* one address a line: the same address again is a repeat
			 * (dropped) or, in the other command, a contradiction (refused
			 * and dropped): never twice in cmds */
			for (guint j = 0; j < i; j++) {
				const MdAgentCmd *prev = c->cmds->pdata[j];

				FUZZ_CHECK(!((prev->kind == AGENTCMD_CC || prev->kind == AGENTCMD_UNCC) &&
				             g_ascii_strcasecmp(prev->arg, cmd->arg) == 0),
				           "#%s %s with an earlier #%s of it in cmds", agentcmd_name(cmd->kind),
				           cmd->arg, agentcmd_name(prev->kind));
			}
			continue;
		}
		FUZZ_CHECK(!seen[cmd->kind], "#%s twice in cmds", agentcmd_name(cmd->kind));
		seen[cmd->kind] = TRUE;
	}
	FUZZ_CHECK(!(seen[AGENTCMD_ASSIGN] && seen[AGENTCMD_TAKE]) || c->errors->len > 0,
	           "#assign and #take together, not refused");

	/* the body begins after the last command line: nothing left to read */
	again = agentcmd_parse(c->body, now, tz_minutes);
	FUZZ_CHECK(again->cmds->len == 0 && again->errors->len == 0 &&
	               strcmp(again->body, c->body) == 0,
	           "the body starts with a command line (%u commands, %u errors on re-reading)",
	           again->cmds->len, again->errors->len);

	g_clear_pointer(&again, agentcmd_free);
	again = agentcmd_parse(NULL, now, tz_minutes);
	FUZZ_CHECK(again->cmds->len == 0 && *again->body == '\0', "NULL is not empty");
	return 0;
}
