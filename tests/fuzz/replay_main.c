/*
 * replay_main.c - the main() a harness gets in a build without libFuzzer:
 * runs LLVMFuzzerTestOneInput() once on each file named on the command
 * line, in order and in one process (as libFuzzer does with its corpus,
 * so state a harness keeps between inputs is exercised the same way).
 *
 * tests/fuzz/replay.sh uses it to replay the seeds and every crasher kept
 * in tests/fuzz/regressions/ in each `make check`.  Each file's name goes
 * to stderr before it runs, so the log of a crash ends with its culprit.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fuzz.h"

int
main(int argc, char **argv)
{
	int failed = 0;

	fuzz_replaying = TRUE;

	for (int i = 1; i < argc; i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *data = NULL;
		gsize len = 0;

		fprintf(stderr, "replay: %s\n", argv[i]);
		if (!g_file_get_contents(argv[i], &data, &len, &error)) {
			fprintf(stderr, "replay: %s\n", error->message);
			failed = 1;
			continue;
		}
		{
			/* exactly len bytes, as libFuzzer passes them: ASan then
			 * catches a read of the byte after the input */
			g_autofree guint8 *exact = g_malloc(len > 0 ? len : 1);

			memcpy(exact, data, len);

			LLVMFuzzerTestOneInput(exact, len);
		}
	}
	return failed;
}
