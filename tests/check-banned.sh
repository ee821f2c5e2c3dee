#!/bin/sh
# Rejects unbounded or unsafe C library calls in src/ (like curl's checksrc).
. "$MAILDESK_SRCDIR/tests/lib.sh"
for fn in strcpy strcat sprintf vsprintf strtok gets atoi atol; do
	hits=$(grep -nE "(^|[^a-z_])$fn[[:space:]]*\(" "$MAILDESK_SRCDIR"/src/*.c "$MAILDESK_SRCDIR"/src/*.h | grep -v '^\s*/\?\*' || true)
	if [ -z "$hits" ]; then ok "no $fn in src/"; else not_ok "no $fn in src/"; echo "$hits" | sed 's/^/# /'; fi
done
done_testing
