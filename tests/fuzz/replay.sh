#!/bin/sh
# Replays the fuzz seeds and every crasher kept in tests/fuzz/regressions
# through the replay programs (each harness linked with replay_main.c
# instead of libFuzzer), in every make check: plain, sanitizers, distcheck.
# A crasher stays here after its fix, so the bug cannot come back.
# TAP: one line per harness for its seeds, one for the ../shared/corpus
# files it takes, and one per regression input.
set -u

. "$(cd "$(dirname "$0")" && pwd)/paths.sh"
names="intake token template agentcmd quote address outguard"

log=$(mktemp "${TMPDIR:-/tmp}/maildesk-replay-XXXXXX") || { echo "Bail out! no temporary file"; exit 1; }
trap 'rm -f "$log"' EXIT

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

# replay DESCRIPTION PROGRAM FIND-ARGS...: runs PROGRAM on the regular
# files find selects (none: nothing to check, still ok).
replay() {
	what=$1 prog=$2
	shift 2
	count=$(find "$@" -type f ! -name .gitkeep ! -name 'README*' | wc -l)
	if find "$@" -type f ! -name .gitkeep ! -name 'README*' -exec "$prog" {} + >"$log" 2>&1; then
		ok "$what ($count files)"
	else
		not_ok "$what"
		# replay_main names each file before it runs: the last one crashed
		grep -v '^maildesk: ' "$log" | tail -40 | sed 's/^/# /'
	fi
}

for name in $names; do
	prog=$builddir/tests/fuzz/replay_$name
	if [ ! -x "$prog" ]; then
		not_ok "replay_$name: not built"
		continue
	fi
	replay "$name: seeds" "$prog" "$srcdir/tests/fuzz/seeds/$name"
	case $name in
	intake)
		if [ -d "$corpus" ]; then
			replay "intake: ../shared/corpus messages" "$prog" "$corpus" \
				! -path '*/reply-bodies/*' \( -name '*.eml' -o -name '*.box' \)
		else
			skip "intake: ../shared/corpus messages" "no corpus at $corpus"
		fi
		;;
	outguard)
		if [ -d "$corpus" ]; then
			replay "outguard: ../shared/corpus messages" "$prog" "$corpus" \
				! -path '*/reply-bodies/*' \( -name '*.eml' -o -name '*.box' \)
		else
			skip "outguard: ../shared/corpus messages" "no corpus at $corpus"
		fi
		;;
	quote)
		if [ -d "$corpus/reply-bodies" ]; then
			replay "quote: ../shared/corpus reply bodies" "$prog" "$corpus/reply-bodies" -name '*.txt'
		else
			skip "quote: ../shared/corpus reply bodies" "no corpus at $corpus"
		fi
		;;
	esac
	# each crasher on its own, in a fresh process: the state it needs is
	# its own (the intake harness starts from ticket 1 alone)
	for f in "$srcdir/tests/fuzz/regressions/$name"/*; do
		[ -f "$f" ] || continue
		case $(basename "$f") in .gitkeep | README*) continue ;; esac
		replay "$name: regression $(basename "$f")" "$prog" "$f"
	done
done
echo "1..$n"
[ "$failed" = 0 ]
