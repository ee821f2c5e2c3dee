/*
 * fuzz.h - what the libFuzzer harnesses under tests/fuzz share.
 *
 * Each fuzz_NAME.c defines LLVMFuzzerTestOneInput() and is linked twice:
 * with libFuzzer (-fsanitize=fuzzer, `make fuzz` in a build configured
 * with CC=clang --enable-fuzzer), and with replay_main.c in every other
 * build, so that `make check` replays the seeds and the crashers kept in
 * tests/fuzz/regressions/.  A harness reports a broken invariant by
 * printing why and aborting: libFuzzer saves the input as a crash, and
 * the replay driver dies, which fails the test.
 */
#ifndef MD_FUZZ_H
#define MD_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* TRUE when replay_main.c runs the harness rather than libFuzzer. */
extern gboolean fuzz_replaying;

/* Prints "fuzz: invariant broken: ..." to stderr and aborts. */
G_NORETURN void fuzz_fail(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

#define FUZZ_CHECK(cond, ...)               \
	do {                                \
		if (G_UNLIKELY(!(cond)))    \
			fuzz_fail(__VA_ARGS__); \
	} while (0)

/*
 * Once per process: GLib criticals (a g_return_if_fail() that fired is a
 * bug of the caller) abort like any other broken invariant.
 */
void fuzz_init(void);

/*
 * The input as a NUL-terminated string, the way C callers hand text to
 * the pure modules: a NUL byte inside ends it.  Caller frees with g_free().
 */
char *fuzz_string(const uint8_t *data, size_t size);

/* A private temporary directory, made once per process, removed at exit. */
const char *fuzz_tmpdir(void);

/* Writes len bytes to NAME in fuzz_tmpdir(); returns the path (static owner). */
char *fuzz_write_file(const char *name, const void *data, gsize len);

/*
 * The site secret every harness uses: 32 fixed bytes, the same on every
 * run, so that seed files can carry valid signed addresses (see
 * tests/fuzz/README).  Owned by the callee.
 */
GBytes *fuzz_secret(void);
#define FUZZ_SECRET "maildesk-fuzz-secret-32-bytes-!!"

/* A fixed instant, 2026-01-01T00:00:00Z, for reproducible dates. */
#define FUZZ_NOW G_GINT64_CONSTANT(1767225600)

#endif
