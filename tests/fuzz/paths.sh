# Sourced by tests/fuzz/run.sh and replay.sh: where the sources, the
# built programs and the corpus are.  make check runs the scripts from the
# top build directory, beside MAILDESK_BIN; MAILDESK_BUILDDIR overrides.
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${MAILDESK_SRCDIR:-$(cd "$here/../.." && pwd)}
if [ -n "${MAILDESK_BIN:-}" ]; then
	builddir=$(dirname "$MAILDESK_BIN")
else
	builddir=$PWD
fi
builddir=${MAILDESK_BUILDDIR:-$builddir}
corpus=${MAILDESK_CORPUS:-$srcdir/../shared/corpus}
