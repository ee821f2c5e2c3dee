/*
 * fuzz_common.c - helpers shared by the fuzz harnesses (see fuzz.h).
 */
#include "config.h"

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "fuzz.h"

gboolean fuzz_replaying;

void
fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz: invariant broken: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}

void
fuzz_init(void)
{
	static gboolean done;

	if (done)
		return;
	done = TRUE;
	/* warnings stay warnings: GMime may print some for hostile input */
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
}

char *
fuzz_string(const uint8_t *data, size_t size)
{
	char *s = g_malloc(size + 1);

	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static char *tmpdir;

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

static void
remove_tmpdir(void)
{
	/* depth first, without following links: only what we made goes */
	if (tmpdir != NULL)
		nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	g_clear_pointer(&tmpdir, g_free);
}

const char *
fuzz_tmpdir(void)
{
	g_autoptr(GError) error = NULL;

	if (tmpdir != NULL)
		return tmpdir;
	tmpdir = g_dir_make_tmp("maildesk-fuzz-XXXXXX", &error);
	FUZZ_CHECK(tmpdir != NULL, "temporary directory: %s", error->message);
	/* a crash skips this; run.sh points TMPDIR into its own work dir */
	atexit(remove_tmpdir);
	return tmpdir;
}

char *
fuzz_write_file(const char *name, const void *data, gsize len)
{
	g_autoptr(GError) error = NULL;
	char *path = g_build_filename(fuzz_tmpdir(), name, NULL);

	FUZZ_CHECK(g_file_set_contents(path, data, (gssize)len, &error), "writing %s: %s", path,
	           error->message);
	return path;
}

GBytes *
fuzz_secret(void)
{
	static GBytes *secret;

	if (secret == NULL)
		secret = g_bytes_new_static(FUZZ_SECRET, sizeof FUZZ_SECRET - 1);
	return secret;
}
