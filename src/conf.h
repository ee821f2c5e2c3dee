/*
 * conf.h - maildesk.conf (a GKeyFile) read into an MdConfig.
 *
 * Loaded once at start-up by every command.  Every problem is reported
 * with the file, line and key it concerns, so check-config can show them
 * all at once; a command that finds any problem exits EX_CONFIG.
 * Relative paths in the file are taken relative to the file's directory.
 */
#ifndef MD_CONF_H
#define MD_CONF_H

#include <glib.h>

#include "calendar.h"

/* Priorities, lowest first: index of the SLA targets. */
typedef enum { PRIORITY_LOW, PRIORITY_NORMAL, PRIORITY_HIGH, PRIORITY_URGENT, PRIORITY_COUNT } MdPriority;

typedef struct {
	char *name;
	MdCalendar *calendar;
} MdCalendarConf;

typedef struct {
	char *name;
	GPtrArray *addresses; /* char*, lower case */
	char *lead;           /* address or NULL */
	char *language;       /* default language of the queue, or NULL */
	const MdCalendar *calendar;        /* business hours of its SLA, or NULL */
	const MdCalendar *urgent_calendar; /* for urgent tickets, or NULL: calendar */
	/* business minutes per MdPriority; 0 when not set */
	gint64 first_response[PRIORITY_COUNT];
	gint64 resolution[PRIORITY_COUNT];
} MdQueue;

typedef struct {
	char *name;
	char *address;
	char *display_name;
	GPtrArray *queues; /* char* queue names */
	int max_open;
	gboolean lead;
	char *language; /* of the mail maildesk writes them, or NULL: the site's */
	GTimeZone *timezone; /* dates in their mail; NULL: UTC */
} MdAgent;

/* How a [mailbox NAME] connection is protected. */
typedef enum { MAILBOX_TLS, MAILBOX_STARTTLS, MAILBOX_PLAIN } MdMailboxSecurity;

/* A remote mailbox `maildesk fetch` takes mail from. */
typedef struct {
	char *name;
	gboolean pop3;          /* protocol pop3, else imap */
	MdMailboxSecurity security;
	char *host;
	int port;
	char *username;
	char *password;         /* read from password_file */
	char *password_file;
	char *folder;           /* imap: the folder fetched, INBOX by default */
	char *recipient;        /* the queue address it stands for: the envelope recipient */
	char **flags;           /* imap: set after the commit (NULL-terminated, may be empty) */
	char *move_to;          /* imap: folder moved to after the commit, or NULL */
	int poll_interval;      /* seconds between looks when the server has no IDLE */
	int timeout;            /* seconds for any one network step */
	gboolean verify_tls;
	char *ca_file;          /* trusted CAs in PEM, or NULL: the system's */
} MdMailbox;

typedef struct {
	char *path; /* the file read */

	/* [maildesk] */
	char *database;
	char *secret_file;
	char *hostname;
	char *templates;
	char *default_language;
	char *site_name;          /* "Example Support": display name of our mail */
	char **fallback_charsets; /* NULL-terminated */
	char *subject_tag_prefix; /* "#" gives [#123] */
	int reopen_days;          /* closed longer than this: new linked ticket */
	int busy_timeout_ms;
	gboolean send_after_deliver;
	char *user;               /* who to become when started as root, or NULL */
	char *recipient_delimiter; /* Postfix's: characters that start a subaddress ("+") */

	/* [limits] */
	int autoreply_per_hour;
	int ticket_mails_per_hour; /* relayed replies, and agent mails, per ticket */
	gint64 max_message_size;
	guint max_mime_depth;
	guint max_parts;

	/* [sla] */
	gint64 default_resolution; /* seconds, for the ETA until calendars exist */
	int warn_at;               /* per cent of a target after which tick warns; 0: never */
	gint64 slip_extension;     /* business seconds a slipped ETA moves on by */
	gint64 pending_reminder;   /* seconds pending on the customer before a reminder; 0: never */
	gint64 pending_close;      /* seconds pending before tick closes the ticket; 0: never */
	gboolean csat;             /* ask solved tickets' customers for a vote */

	/* [smtp] */
	char *smtp_url;
	char *smtp_starttls;
	char *smtp_username;
	char *smtp_password; /* read from password_file */
	char *smtp_helo;
	int smtp_timeout;
	gboolean smtp_verify_tls;
	int retry_base;   /* seconds before the first retry */
	int retry_max;    /* cap of the backoff, seconds */
	gint64 give_up_after; /* seconds after which a queued mail fails */

	/* [agents] */
	gboolean notify_notes; /* internal notes are mailed to the ticket's other agents */
	gboolean require_dkim; /* agent mail also needs dkim=pass from our authserv-id */
	char *authserv_id;

	/* [lmtpd] */
	char *lmtpd_listen;       /* "unix:PATH" or "HOST:PORT" */
	char *lmtpd_pid_file;     /* NULL: none */
	int lmtpd_max_connections;
	gboolean lmtpd_send;      /* drain the outbox inside the daemon */
	gint64 lmtpd_send_interval; /* seconds between drains when nothing kicks it */
	gint64 lmtpd_tick_interval; /* seconds between tick runs; 0: none */

	GPtrArray *calendars; /* MdCalendarConf* */
	GPtrArray *queues; /* MdQueue* */
	GPtrArray *agents; /* MdAgent* */
	GPtrArray *mailboxes; /* MdMailbox* */
} MdConfig;

void conf_free(MdConfig *cfg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MdConfig, conf_free)

/*
 * Reads path.  Returns NULL when the file cannot be read or parsed at all.
 * Every problem found is appended to problems_r as one line of the form
 * "FILE:LINE: [group] key: what is wrong" (caller owns the array).
 * A non-NULL result with problems is still not fit to run with.
 */
MdConfig *conf_load(const char *path, GPtrArray *problems_r);

/* The path -c defaults to: $MAILDESK_CONFIG, else SYSCONFDIR/maildesk/maildesk.conf. */
const char *conf_default_path(void);

/* The queue whose address matches addr (its +extension ignored), or NULL. */
const MdQueue *conf_queue_for_address(const MdConfig *cfg, const char *addr);
const MdQueue *conf_queue_by_name(const MdConfig *cfg, const char *name);
const MdAgent *conf_agent_by_address(const MdConfig *cfg, const char *addr);
const MdAgent *conf_agent_by_name(const MdConfig *cfg, const char *name);
const MdMailbox *conf_mailbox_by_name(const MdConfig *cfg, const char *name);
gboolean conf_agent_serves(const MdAgent *a, const char *queue);

/* An lmtpd listen address: "unix:/absolute/path" or "HOST:PORT". */
gboolean conf_listen_valid(const char *listen);

/* "low", "normal", "high", "urgent" to its index; -1 for anything else. */
int conf_priority_index(const char *priority);

/* "30s", "15m", "4h", "2d", "1w" to seconds; FALSE on anything else. */
gboolean conf_parse_duration(const char *text, gint64 *seconds_r);

/* Reads the site secret file; NULL with *error_r set when unusable. */
GBytes *conf_read_secret(const MdConfig *cfg, char **error_r);

#endif
