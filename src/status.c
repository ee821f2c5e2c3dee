/*
 * status.c - MdStatus to exit codes: the single mapping table.
 */
#include "config.h"

#include <sysexits.h>

#include "status.h"

static const struct {
	MdStatus status;
	int exit_code;
	const char *enhanced;
} status_table[] = {
	{ MD_OK, EX_OK, "2.0.0" },
	{ MD_TEMPFAIL, EX_TEMPFAIL, "4.3.0" },
	{ MD_CONFIG, EX_CONFIG, "4.3.5" },
	{ MD_USAGE, EX_USAGE, "5.3.0" },
	{ MD_NOTFOUND, EX_NOINPUT, "5.1.1" },
	{ MD_DATAERR, EX_DATAERR, "5.6.0" },
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
