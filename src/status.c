/*
 * status.c - MdStatus to exit codes and LMTP replies: the single mapping table.
 */
#include "config.h"

#include <sysexits.h>

#include "status.h"

static const struct {
	MdStatus status;
	int exit_code;
	const char *enhanced;
	int reply; /* LMTP/SMTP reply code */
} status_table[] = {
	{ MD_OK, EX_OK, "2.0.0", 250 },
	{ MD_TEMPFAIL, EX_TEMPFAIL, "4.3.0", 451 },
	/* a broken installation defers too, as deliver's EX_CONFIG does */
	{ MD_CONFIG, EX_CONFIG, "4.3.5", 451 },
	{ MD_USAGE, EX_USAGE, "5.3.0", 554 },
	{ MD_NOTFOUND, EX_NOINPUT, "5.1.1", 550 },
	{ MD_DATAERR, EX_DATAERR, "5.6.0", 554 },
};

int
status_exit_code(MdStatus status)
{
	for (unsigned i = 0; i < sizeof status_table / sizeof status_table[0]; i++)
		if (status_table[i].status == status)
			return status_table[i].exit_code;
	return EX_TEMPFAIL;
}

const char *
status_enhanced_code(MdStatus status)
{
	for (unsigned i = 0; i < sizeof status_table / sizeof status_table[0]; i++)
		if (status_table[i].status == status)
			return status_table[i].enhanced;
	return "4.3.0";
}

int
status_reply_code(MdStatus status)
{
	for (unsigned i = 0; i < sizeof status_table / sizeof status_table[0]; i++)
		if (status_table[i].status == status)
			return status_table[i].reply;
	return 451;
}
