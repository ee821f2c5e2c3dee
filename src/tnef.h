/*
 * tnef.h - what an Outlook TNEF stream (application/ms-tnef, winmail.dat)
 * holds, read with libytnef.
 *
 * Two users: the parse stage wants the message class (Outlook's read
 * receipts are TNEF streams of class REPORT.IPM.Note.IPNRN, with no other
 * sign of being machine mail), and an agent's reply relayed to a customer
 * wants the files an Outlook agent attached, which Outlook's rich text
 * format hides inside the stream next to an RTF body that quotes our agent
 * mail.  tnef_read() is pure (bytes in, a struct out); it never writes,
 * logs or keeps the caller's bytes.
 */
#ifndef MD_TNEF_H
#define MD_TNEF_H

#include <gmime/gmime.h>

/* Bigger streams are not read: TNEF from a mail is bounded by the mail. */
#define TNEF_MAX_BYTES (64u << 20)

typedef struct {
	char *filename;     /* UTF-8, never NULL ("attachment" when it has none) */
	char *content_type; /* "type/subtype": its MIME tag, else guessed */
	GBytes *data;
} MdTnefFile;

typedef struct {
	char *message_class; /* e.g. "IPM.Note", "REPORT.IPM.Note.IPNRN", or NULL */
	char *body;          /* the plain text body (PR_BODY) as UTF-8, or NULL */
	gboolean has_rtf;    /* an RTF body is there too (never read) */
	GPtrArray *files;    /* MdTnefFile*: attached files, in order */
	GPtrArray *skipped;  /* char*: attachments that are not files
	                      * (embedded messages, OLE objects), by name */
} MdTnef;

/* TRUE when data starts with the TNEF signature. */
gboolean tnef_is_tnef(const guint8 *data, gsize len);

/*
 * Reads a TNEF stream.  NULL when data is not TNEF, is larger than
 * TNEF_MAX_BYTES or libytnef finds it corrupt (nothing of a stream we
 * cannot read whole is trusted).  Caller frees with tnef_free().
 */
MdTnef *tnef_read(const guint8 *data, gsize len);
void tnef_free(MdTnef *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MdTnef, tnef_free)

/* The message class of a TNEF stream, or NULL; caller frees with g_free(). */
char *tnef_message_class(const guint8 *data, gsize len);

/*
 * The message class of a MIME leaf that is a TNEF stream (application/
 * ms-tnef, application/vnd.ms-tnef, or a part named winmail.dat), read
 * from its decoded content; NULL for any other part or no class.  For the
 * parse stage, which hands GMime objects to nobody.  Caller frees.
 */
char *tnef_part_class(GMimeObject *part);

/* TRUE for the classes of Outlook's reports: read and non-read receipts
 * (REPORT.IPM.Note.IPNRN, .IPNNRN), delivery and non-delivery reports
 * (.DR, .NDR), and any other class starting with "REPORT.". */
gboolean tnef_class_is_report(const char *message_class);

#endif
