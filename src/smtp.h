/*
 * smtp.h - SMTP submission to the configured relay with libcurl.
 *
 * Used only by the send command.  One MdSmtp keeps one connection open
 * and reuses it for every message sent through it.  Never touches the
 * database; the caller decides what a result means for the outbox.
 */
#ifndef MD_SMTP_H
#define MD_SMTP_H

#include <glib.h>

typedef struct {
	const char *url;      /* smtp://host:port, smtps://host:port */
	const char *starttls; /* "auto" (try), "always" (require), "never";
	                         NULL means "auto", anything else "always" */
	const char *username; /* NULL for no AUTH */
	const char *password;
	const char *helo;     /* name for EHLO, or NULL for curl's default
	                         (the URL's path, else the local host name) */
	long timeout_seconds; /* whole-transaction limit, <= 0 means 60;
	                         connect limit is min(this, 30) */
	gboolean verify_tls;  /* check the relay's certificate */
	gboolean verbose;     /* protocol trace to stderr (AUTH lines and
	                         message bytes are never shown) */
} MdSmtpConfig;

typedef enum {
	SMTP_SENT,     /* accepted for at least one recipient; any refused
	                  ones are listed by smtp_refused() and in detail_r */
	SMTP_TEMPFAIL, /* connection trouble, timeout, 4xx, relay set-up or
	                  AUTH problems, anything unclear: try again later */
	SMTP_PERMFAIL, /* 5xx to MAIL, to every RCPT, to DATA or to the
	                  message: do not retry */
} MdSmtpResult;

/* A recipient the relay refused (or that was never offered to it). */
typedef struct {
	char *rcpt;  /* as passed to smtp_send */
	int code;    /* relay's reply code; 0 when not sent (invalid address) */
	char *reply; /* relay's reply line, printable and length-capped */
} MdSmtpRefusal;

typedef struct MdSmtp MdSmtp;

/* Calls curl_global_init once per process; smtp_new calls it too. */
void smtp_global_init(void);
MdSmtp *smtp_new(const MdSmtpConfig *cfg); /* copies cfg; caller frees with smtp_free */
void smtp_free(MdSmtp *s);                 /* sends QUIT, closes the connection */

/*
 * Submits len bytes (CRLF lines, not dot-stuffed: libcurl stuffs) from
 * env_from ("" or "<>" for the null sender) to the NULL-terminated rcpts.
 * *detail_r receives the relay's last reply or curl's error text for the
 * log, plus the refused recipients if any (caller frees with g_free;
 * printable, no secrets); *code_r the reply code that decided the result
 * (0 when none was received).  A recipient refused while others were
 * accepted does not fail the message: the result is SMTP_SENT and
 * smtp_refused() says who and why.  When every recipient is refused the
 * result is SMTP_PERMFAIL if all refusals were 5xx, else SMTP_TEMPFAIL
 * with a 4xx code in *code_r.  Addresses containing control characters
 * are never sent; they count as refused with code 0.
 */
MdSmtpResult smtp_send(MdSmtp *s, const char *env_from, const char *const *rcpts,
                       const guint8 *data, gsize len, int *code_r, char **detail_r);

/*
 * The recipients refused during the last smtp_send: invalid addresses
 * first, then the relay's refusals in RCPT order (elements
 * MdSmtpRefusal *; empty, never NULL).  Owned by s; valid until
 * the next smtp_send or smtp_free.
 */
const GPtrArray *smtp_refused(const MdSmtp *s);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MdSmtp, smtp_free)

#endif
