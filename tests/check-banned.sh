#!/bin/sh
# Rejects unbounded or unsafe C library calls in src/ (like curl's checksrc).
# Comments and string literals are blanked first (keeping every line where
# it was), so a comment may name a banned call and code may not.
. "$MAILDESK_SRCDIR/tests/lib.sh"
code=$(mktemp -d "${TMPDIR:-/tmp}/maildesk-banned-XXXXXX") || { echo "Bail out! no temporary directory"; exit 1; }
trap 'rm -rf "$code"' EXIT

# blank DIR FILE...: each FILE into DIR under its own name, comments,
# strings and character literals blanked, newlines kept
blank() {
	python3 - "$@" <<'EOF'
import os, re, sys
token = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)
for path in sys.argv[2:]:
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    with open(os.path.join(sys.argv[1], os.path.basename(path)), "w") as f:
        f.write(token.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text))
EOF
}

calls() { # calls REGEX FILE...: the lines that call a function matching REGEX
	re=$1
	shift
	grep -nE "(^|[^a-zA-Z0-9_])($re)[[:space:]]*\(" "$@"
}

mkdir "$code/src" "$code/self"
blank "$code/src" "$MAILDESK_SRCDIR"/src/*.c "$MAILDESK_SRCDIR"/src/*.h || { echo "Bail out! cannot read src/"; exit 1; }
for fn in strcpy strncpy strcat sprintf vsprintf strtok gets atoi atol sscanf; do
	hits=$(cd "$code/src" && calls "$fn" ./*.c ./*.h || true)
	if [ -z "$hits" ]; then ok "no $fn in src/"; else not_ok "no $fn in src/"; echo "$hits" | sed 's/^/# /'; fi
done

# the filter itself: a call in code is found, the same words in comments and strings are not
printf 'int f(void) { /* sscanf( */ return g("strcpy(x)"); } // atoi(\nint h(void) { return atol(s); }\n' \
	>"$code/selftest.c"
blank "$code/self" "$code/selftest.c"
is "before blanking, calls in comments and strings look like calls" \
	"$(calls 'sscanf|strcpy|atoi|atol' "$code/selftest.c" | wc -l)" 2
is "after blanking, only the call in code is left" \
	"$(calls 'sscanf|strcpy|atoi|atol' "$code/self/selftest.c")" "2:int h(void) { return atol(s); }"
done_testing
