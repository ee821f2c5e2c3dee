#!/bin/sh
# The bounded fuzz run: each libFuzzer harness of tests/fuzz for
# MAILDESK_FUZZ_SECONDS (default 60), one TAP line per harness.  `make
# check` runs it in a build configured with CC=clang --enable-fuzzer;
# by hand, from such a build directory:
#   MAILDESK_FUZZ_SECONDS=600 MAILDESK_FUZZ_NAMES="intake quote" sh SRC/tests/fuzz/run.sh
#
# A harness fails on any crash, leak, timeout, out-of-memory or sanitizer
# report (libFuzzer then exits non-zero).  The input that did it is
# copied into the SOURCE tree's tests/fuzz/regressions/NAME/, where
# tests/fuzz/replay.sh replays it in every make check until the bug is
# fixed; its path is printed.  libFuzzer adds what it finds to the first
# corpus directory it is given: that is a temporary one, so neither the
# seeds nor ../shared/corpus are ever written to.
#
# MAILDESK_FUZZ_WORKDIR keeps the grown corpora and the logs in that
# directory instead of a temporary one (a later run starts from them).
set -u

. "$(cd "$(dirname "$0")" && pwd)/paths.sh"
seconds=${MAILDESK_FUZZ_SECONDS:-60}
names=${MAILDESK_FUZZ_NAMES:-intake token template agentcmd quote address outguard}

if [ -n "${MAILDESK_FUZZ_WORKDIR:-}" ]; then
	work=$MAILDESK_FUZZ_WORKDIR
	mkdir -p "$work" || { echo "Bail out! cannot create $work"; exit 1; }
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/maildesk-fuzz-run-XXXXXX") ||
		{ echo "Bail out! no temporary directory"; exit 1; }
	trap 'rm -rf "$work"' EXIT
	trap 'exit 1' HUP INT TERM
fi
# the harnesses' own temporary files, which a crash leaves behind
mkdir -p "$work/tmp"
TMPDIR=$work/tmp
export TMPDIR

# Leaks fail the run whatever the caller's environment says; reports go
# to stderr, which we keep.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:symbolize=1
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
LSAN_OPTIONS=suppressions=$srcdir/tests/fuzz/lsan.supp
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ] && ! command -v llvm-symbolizer >/dev/null 2>&1; then
	for s in /usr/bin/llvm-symbolizer-14 /usr/lib/llvm-14/bin/llvm-symbolizer; do
		if [ -x "$s" ]; then
			ASAN_SYMBOLIZER_PATH=$s
			export ASAN_SYMBOLIZER_PATH
			break
		fi
	done
fi

guard=
# a hang outside any one input (start-up, shutdown) must end too
command -v timeout >/dev/null 2>&1 && guard="timeout -k 10 $((seconds + 300))"

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
diag() { sed 's/^/# /'; }

# The largest input worth trying, per harness: whole messages for intake
# (a megabyte); a few lines for the rest.
max_len() {
	case $1 in
	intake) echo 1048576 ;;
	outguard) echo 262144 ;;
	token) echo 512 ;;
	agentcmd) echo 16384 ;;
	*) echo 65536 ;;
	esac
}

# Seed directories beyond the repository's own seeds.
corpus_dirs() {
	[ -d "$corpus" ] || return 0
	case $1 in
	intake | outguard)
		# every raw message; reply-bodies holds bodies, not messages
		for d in "$corpus"/*/; do
			[ "$(basename "$d")" = reply-bodies ] || echo "${d%/}"
		done
		;;
	quote)
		echo "$corpus/reply-bodies"
		;;
	esac
}

# Copies what libFuzzer wrote for a failure into the source tree (or the
# build tree when the source tree is read-only) and says where.  $1: the
# harness's name.  (No `local`: this is POSIX sh.)
save_artifacts() {
	dest=$srcdir/tests/fuzz/regressions/$1
	saved=0
	for f in "$work/artifacts/$1"/crash-* "$work/artifacts/$1"/leak-* \
		"$work/artifacts/$1"/timeout-* "$work/artifacts/$1"/oom-*; do
		[ -f "$f" ] || continue
		# a kept regression that still fails is found again at start-up
		kept=
		for k in "$dest"/*; do
			[ -f "$k" ] && cmp -s "$f" "$k" && kept=$k && break
		done
		if [ -n "$kept" ]; then
			echo "# the input is the kept regression $kept: still not fixed"
			saved=1
			continue
		fi
		if ! { mkdir -p "$dest" && cp "$f" "$dest/"; } 2>/dev/null; then
			dest=$builddir/tests/fuzz/regressions/$1
			mkdir -p "$dest" && cp "$f" "$dest/"
		fi
		echo "# saved the input as $dest/$(basename "$f")"
		echo "#   replay: $builddir/tests/fuzz/fuzz_$1 $dest/$(basename "$f")"
		# a CI checkout is thrown away: keep a small input in the log too
		if [ "$(wc -c <"$f")" -le 16384 ] && command -v base64 >/dev/null 2>&1; then
			echo "# base64 of the input: $(base64 -w0 "$f")"
		fi
		saved=1
	done
	[ "$saved" = 1 ] || echo "# no input was saved (see the log above)"
}

for name in $names; do
	bin=$builddir/tests/fuzz/fuzz_$name
	log=$work/$name.log
	if [ ! -x "$bin" ]; then
		not_ok "fuzz_$name: not built (make fuzz, in a build configured with CC=clang --enable-fuzzer)"
		continue
	fi
	mkdir -p "$work/corpus/$name" "$work/artifacts/$name"
	# libFuzzer writes new inputs into the first directory only
	set -- "$work/corpus/$name" "$srcdir/tests/fuzz/seeds/$name"
	[ -d "$srcdir/tests/fuzz/regressions/$name" ] && set -- "$@" "$srcdir/tests/fuzz/regressions/$name"
	for d in $(corpus_dirs "$name"); do
		set -- "$@" "$d"
	done
	dict=$srcdir/tests/fuzz/dicts/$name.dict
	[ -f "$dict" ] && set -- "-dict=$dict" "$@"

	$guard "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-max_len="$(max_len "$name")" -print_final_stats=1 \
		-artifact_prefix="$work/artifacts/$name/" "$@" >"$log" 2>&1
	rc=$?
	# the intake harness's maildesk log lines are noise here
	report=$(grep -v '^maildesk: ' "$log")
	if [ "$rc" = 0 ] && ! printf '%s\n' "$report" |
		grep -qE '^==[0-9]+==ERROR|runtime error:|invariant broken'; then
		runs=$(printf '%s\n' "$report" | sed -n 's/^stat::number_of_executed_units: *//p' | tail -1)
		cov=$(printf '%s\n' "$report" | grep -o 'cov: [0-9]*' | tail -1)
		ok "fuzz_$name: ${runs:-?} runs in $seconds s, ${cov:-cov: ?}"
	else
		not_ok "fuzz_$name: failed (exit $rc)"
		# from the first report on, the start of it: what and where;
		# else (libFuzzer refused to start, say) how the log ends
		what=$(printf '%s\n' "$report" |
			sed -n '/invariant broken\|^==[0-9]*==ERROR\|runtime error:\|deadly signal\|libFuzzer: /,$p' |
			grep -v '^#[0-9]' | head -60)
		[ -n "$what" ] || what=$(printf '%s\n' "$report" | tail -20)
		printf '%s\n' "$what" | diag
		[ "$rc" = 124 ] && echo "# killed after $((seconds + 300)) s: the harness did not stop"
		save_artifacts "$name"
	fi
done
echo "1..$n"
[ "$failed" = 0 ]
