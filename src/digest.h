/*
 * digest.h - SHA-256 of message bytes, as lowercase hex.
 *
 * Every message is hashed on its way in (the duplicate check) and every
 * mail we compose on its way out; nettle's SHA-256 uses the CPU's SHA
 * instructions and is about three times as fast as GLib's GChecksum,
 * which matters for lmtpd's rate and for 20 MB messages.
 */
#ifndef MD_DIGEST_H
#define MD_DIGEST_H

#include <glib.h>

/* 64 lowercase hex digits; caller frees with g_free(). */
char *digest_sha256_hex(const void *data, gsize len);

#endif
