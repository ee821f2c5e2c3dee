/*
 * message.h - the parsed form of one mail message.
 *
 * parse.c fills an MdMessage from raw bytes with GMime; every later pipeline
 * stage (guards, threading, templates, store) reads this struct instead of
 * GMime objects, so those stages stay pure and testable.  Every string is
 * UTF-8 (invalid bytes replaced), NUL-terminated and owned by the struct.
 */
#ifndef MD_MESSAGE_H
#define MD_MESSAGE_H

#include <glib.h>

typedef struct {
	char *name; /* display name, UTF-8, or NULL */
	char *addr; /* addr-spec as written (local@domain), or NULL */
} MdAddress;

typedef struct {
	char *filename;     /* decoded (RFC 2047/2231), or NULL when unnamed */
	char *content_type; /* "type/subtype", lower case */
	char *disposition;  /* "attachment", "inline" or NULL */
	gsize size;         /* decoded size in bytes */
	GBytes *entity;     /* the MIME part as sent, headers and encoded body;
	                     * only with MdParseOptions.keep_attachments */
} MdAttachment;

typedef struct {
	char *message_id;      /* without angle brackets, or NULL */
	char *in_reply_to;     /* first id of In-Reply-To, without brackets */
	GPtrArray *references; /* char*, oldest first, without brackets */

	MdAddress *from;     /* first From mailbox, or NULL */
	MdAddress *reply_to; /* first Reply-To mailbox, or NULL */
	GPtrArray *to;       /* MdAddress*, groups flattened */
	GPtrArray *cc;       /* MdAddress* */
	char *from_header;   /* whole From header decoded, or NULL */
	char *to_header;     /* whole To header decoded, or NULL */
	char *cc_header;     /* whole Cc header decoded, or NULL */

	char *subject; /* decoded, or NULL when absent */

	gint64 date;         /* Date header as UTC seconds, 0 when absent/bad */
	int date_tz_minutes; /* the sender's UTC offset in minutes east */
	gboolean has_date;

	char *content_type;   /* top-level "type/subtype", lower case */
	char *body_charset;   /* charset of the chosen text part, or NULL */
	char *text;           /* the customer's text, UTF-8, never NULL */
	char *html;           /* the HTML part as UTF-8 when there was one */
	gboolean text_from_html; /* text was made from HTML */
	GPtrArray *attachments;  /* MdAttachment* */
	guint part_count;

	/* headers the guards look at, raw values trimmed, or NULL */
	char *auto_submitted;
	char *precedence;
	char *list_id;
	gboolean x_autoreply;   /* X-Autoreply or X-Autorespond present */
	gboolean is_report;     /* multipart/report */
	char *report_type;      /* report-type parameter, lower case */
	gboolean has_mdn;       /* a message/disposition-notification part, anywhere */
	char *tnef_class;       /* message class of the first TNEF part (winmail.dat),
	                         * e.g. "REPORT.IPM.Note.IPNRN", or NULL */
	GPtrArray *failed_recipients; /* char*: Final-Recipient of each "Action: failed"
	                               * in a delivery status report (RFC 3464) */
	char *content_language; /* Content-Language header */
	char *auto_response_suppress; /* X-Auto-Response-Suppress (Microsoft) */
	char *return_path;            /* Return-Path header as written, e.g. "<>" */
	char *auth_results; /* the first (topmost) Authentication-Results header */

	gboolean parse_failed; /* GMime could not make sense of it */
	char *parse_error;     /* reason when parse_failed or a defect noted */
} MdMessage;

MdMessage *md_message_new(void);
void md_message_free(MdMessage *msg);
MdAddress *md_address_new(const char *name, const char *addr);
void md_address_free(MdAddress *a);
MdAttachment *md_attachment_new(void);
void md_attachment_free(MdAttachment *att);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MdMessage, md_message_free)

#endif
