#!/bin/sh
# The corpus test with every delivery under valgrind memcheck: any error,
# or any definitely lost block, makes that delivery exit 99 and its check
# fail.  glibc.supp holds only glibc's own loader noise, with the reason.
# Not in TESTS, nor in tests/run-all.sh: it takes ten minutes or more on
# two cores.  `make valgrind` runs it (TAP on stdout).
command -v valgrind >/dev/null || { echo "Bail out! valgrind missing (scripts/install-deps.sh)"; exit 1; }
MAILDESK_WRAP="valgrind -q --suppressions=$MAILDESK_SRCDIR/tests/valgrind/glibc.supp --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite"
export MAILDESK_WRAP
exec python3 "$MAILDESK_SRCDIR/tests/corpus/run.py"
