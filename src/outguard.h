/*
 * outguard.h - the outbound guard: the last check of every mail to a
 * non-agent (stage "outbox", applied by outmail.c before the row is
 * queued).
 *
 * Whatever the quote cutter and the attachment rules upstream let
 * through, a mail to a customer must never carry what was written for
 * agents.  The guard reads the composed mail as its recipient's client
 * would: every header of every level, every part decoded (base64,
 * quoted-printable, any charset; HTML also as text; message/rfc822 and
 * attachments that are mail, recursively; binary parts as UTF-8 and as
 * UTF-16LE text, the way Outlook's winmail.dat keeps its body), and
 * refuses it when it holds
 *
 *  - the text of a note: notes are compared as words (runs of letters
 *    and digits, case-folded, NFKC; each Chinese or Japanese character
 *    a word of its own), so quoting prefixes ("> ", "AB> ",
 *    "|"), re-wrapped lines, QP soft breaks, HTML markup and punctuation
 *    change nothing.  A note of OUTGUARD_WINDOW words or more is found
 *    when any OUTGUARD_WINDOW consecutive words of it appear in that
 *    order; a shorter note when all of it does.  A note of fewer than
 *    OUTGUARD_MIN_WORDS words or OUTGUARD_MIN_CHARS letters and digits
 *    is not compared: it cannot be told from ordinary words ("ok",
 *    "called him");
 *  - a note or agent address of any ticket: a signed address that
 *    verifies with the site secret and whose purpose is an agent kind
 *    (token.h), named or not, whatever its domain or case, also
 *    %-encoded or as an HTML entity.  Agents' own addresses are no
 *    secret (their name signs every reply) and are allowed;
 *  - our agent-mail marker: the header COMPOSE_AGENT_MARKER (in any
 *    header block, or as text in any part), the cut line of agent mail
 *    ("##- ... -##", quote.h) in any part (not in a header: a customer's
 *    own subject may hold one) or the Message-ID of a ticket's agent
 *    thread ("t<N>.agents@<hostname>") anywhere.
 *
 * A mail nested deeper than max_depth, with more than max_parts parts,
 * or that GMime cannot read is refused too: what cannot be checked does
 * not go.  Zip files, .docx and other compressed containers are not
 * opened.  Pure: no I/O, no store; GMime must be initialised.
 */
#ifndef MD_OUTGUARD_H
#define MD_OUTGUARD_H

#include <glib.h>

#define OUTGUARD_WINDOW 8
#define OUTGUARD_MIN_WORDS 3
#define OUTGUARD_MIN_CHARS 20

typedef struct {
	GBytes *secret;           /* the site secret: which signed addresses are ours */
	const char *const *notes; /* the note texts (NULL-terminated), or NULL */
	const char *hostname;     /* of agent thread Message-IDs, or NULL */
	guint max_depth;          /* MIME nesting, message/rfc822 included */
	guint max_parts;
} MdOutguardFacts;

/*
 * Checks the composed mail raw/len against f.  NULL when it may go; else
 * why not, for people ("it quotes an internal note (in part 2,
 * text/html)"; printable, no note text in it).  Caller frees with g_free().
 */
char *outguard_check(const guint8 *raw, gsize len, const MdOutguardFacts *f);

#endif
