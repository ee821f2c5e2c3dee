/*
 * digest.c - SHA-256 through nettle (see digest.h).
 */
#include "config.h"

#include <nettle/sha2.h>

#include "digest.h"

char *
digest_sha256_hex(const void *data, gsize len)
{
	static const char hex[] = "0123456789abcdef";
	struct sha256_ctx ctx;
	guint8 d[SHA256_DIGEST_SIZE];
	char *out = g_malloc(2 * SHA256_DIGEST_SIZE + 1);
	const guint8 *p = data;

	sha256_init(&ctx);
	/* nettle takes size_t; feed huge inputs in pieces all the same */
	while (len > 0) {
		gsize n = MIN(len, (gsize)1 << 30);

		sha256_update(&ctx, n, p);
		p += n;
		len -= n;
	}
	sha256_digest(&ctx, sizeof d, d);
	for (guint i = 0; i < sizeof d; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[2 * SHA256_DIGEST_SIZE] = '\0';
	return out;
}
