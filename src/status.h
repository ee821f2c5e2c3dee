/*
 * status.h - the outcome kinds every command and pipeline stage returns,
 * and the one table that maps them to sysexits(3) codes and RFC 3463
 * enhanced status codes for the MTA.
 *
 * Postfix's pipe(8) understands only 0 and the sysexits codes; anything
 * else bounces the customer's mail.  So internal trouble is always a
 * tempfail, never EX_SOFTWARE.
 */
#ifndef MD_STATUS_H
#define MD_STATUS_H

typedef enum {
	MD_OK = 0,
	MD_TEMPFAIL, /* transient: database busy, disk full, read-only, no memory */
	MD_CONFIG,   /* broken or missing configuration */
	MD_USAGE,    /* bad command line */
	MD_NOTFOUND, /* admin command: no such object, or a path it cannot read */
	MD_DATAERR,  /* admin command: input that will not get better (not an mbox) */
} MdStatus;

/* sysexits(3) code for status. */
int status_exit_code(MdStatus status);

/* RFC 3463 code printed for the MTA's log, e.g. "4.3.0"; static string. */
const char *status_enhanced_code(MdStatus status);

/* LMTP reply code for status (250, 451, ...), paired with the code above. */
int status_reply_code(MdStatus status);

#endif
