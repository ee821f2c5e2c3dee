/*
 * parse.h - raw RFC 5322 bytes to an MdMessage, with GMime.
 *
 * Pipeline stage "parse": runs after the raw bytes are in hand and before
 * the guards.  It never fails: a message GMime cannot make sense of comes
 * back with parse_failed set and whatever could be salvaged, so intake can
 * still store it raw.  It never writes anywhere and never logs.
 */
#ifndef MD_PARSE_H
#define MD_PARSE_H

#include "message.h"

typedef struct {
	/* Charsets tried, in order, for raw 8-bit header bytes that are not
	 * valid UTF-8, after the charset the message declares for its body.
	 * NULL-terminated; NULL means { "windows-1252", NULL }. */
	const char *const *fallback_charsets;
	guint max_depth; /* MIME nesting walked; 0 means 64 */
	guint max_parts; /* MIME parts walked; 0 means 10000 */
	gboolean keep_attachments; /* fill MdAttachment.entity (to pass them on) */
} MdParseOptions;

/* Call once per process before parse_message (initialises GMime). */
void parse_init(void);

/*
 * Parses len bytes at data.  The bytes are not copied and need only live
 * for the duration of the call.  A leading mbox "From " line is skipped.
 * Never returns NULL; caller frees with md_message_free().
 */
MdMessage *parse_message(const guint8 *data, gsize len, const MdParseOptions *opts);

#endif
