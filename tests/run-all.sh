#!/bin/bash
# The whole test suite, as CI runs it: installs the dependencies, builds
# twice (plain, and with AddressSanitizer + UndefinedBehaviorSanitizer),
# runs `make check` in both, then fuzzes each libFuzzer harness for
# MAILDESK_FUZZ_SECONDS (default 60) in a third, clang build whose `make
# check` is tests/fuzz/run.sh, and ends with one line "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/install-deps.sh || { echo "0 passed, 1 failed"; exit 1; }
autoreconf -fi >/dev/null 2>&1 || { echo "autoreconf failed"; echo "0 passed, 1 failed"; exit 1; }

status=0
run_build() {
	local dir=$1; shift
	mkdir -p "$dir"
	(cd "$dir" && "$top/configure" -q "$@" && make -j2 >make.log 2>&1) ||
		{ echo "build in $dir failed"; tail -30 "$dir/make.log"; return 1; }
	(cd "$dir" && make -j2 check >check.log 2>&1)
	local rc=$?
	grep -E '^(PASS|FAIL|XFAIL|XPASS|ERROR|SKIP)' "$dir/check.log" | grep -vE '^PASS' | head -50
	grep -A12 '^Testsuite summary' "$dir/check.log" | grep '^#' | sed "s|^|$dir |"
	return $rc
}
run_build build/plain || status=1
ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run_build build/sanitizers --enable-sanitizers || status=1
# last, so a crasher found there never hides the other builds' results
if ! run_build build/fuzz CC=clang --enable-fuzzer; then
	status=1
	# what broke, and where the input went (or its base64, for CI)
	grep -E '^# (fuzz: |SUMMARY|saved|  replay|base64)' build/fuzz/tests/fuzz/run.sh.log 2>/dev/null
fi

passed=$(cat build/plain/tests/*/*.trs build/plain/tests/*.trs build/sanitizers/tests/*/*.trs \
	build/sanitizers/tests/*.trs build/fuzz/tests/*/*.trs build/fuzz/tests/*.trs 2>/dev/null |
	grep -c '^:test-result: PASS')
failed=$(cat build/plain/tests/*/*.trs build/plain/tests/*.trs build/sanitizers/tests/*/*.trs \
	build/sanitizers/tests/*.trs build/fuzz/tests/*/*.trs build/fuzz/tests/*.trs 2>/dev/null |
	grep -cE '^:test-result: (FAIL|ERROR|XPASS)')
[ "$status" = 0 ] || [ "$failed" -gt 0 ] || failed=1
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
