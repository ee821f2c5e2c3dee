#!/bin/bash
# Storage faults for deliver, on a real (small) file system: the disk
# fills up at any point of a delivery, the file system turns read-only,
# the database is missing or corrupt.  Each must give 75 (or 78 for a
# missing database) with a 4.x.x status line first, leave no partial
# rows, log its cause, and let the retry store the message exactly once.
# (A database locked past busy_timeout is in run.sh.)
. "$MAILDESK_SRCDIR/tests/lib.sh"

# tmpfs mounts need root; skipping would hide that none of this ran
[ "$(id -u)" = 0 ] || bail "storage.sh mounts tmpfs file systems and must run as root"

# lib.sh's cleanup_site reads these
SITE=
SINK_PID=
WORK=$(mktemp -d "${TMPDIR:-/tmp}/maildesk-storage-XXXXXX")
MNT=$WORK/mnt
mkdir "$MNT"
# the mount goes first: nothing else may keep it behind
cleanup() {
	mountpoint -q "$MNT" && umount "$MNT"
	rm -rf "$WORK"
}
trap cleanup EXIT
# room for a site, a 2 MB message twice (WAL and database) and its retry
mount -t tmpfs -o size=16m,mode=755 tmpfs "$MNT" || bail "cannot mount a tmpfs on $MNT"

# A fresh site inside the tmpfs (lib.sh's make_site honours TMPDIR).
new_site() { [ -n "$SITE" ] && rm -rf "$SITE"; TMPDIR=$MNT make_site; }

# Outputs live outside the tmpfs: it is full or read-only when we write them.
OUT=$WORK/deliver.out
ERR=$WORK/deliver.err
# vdeliver FILE: as Postfix runs it, but with -v so that the log line
# reaches stderr ($ERR); the status line goes to $OUT.  A bounded run:
# a hang must fail the test, not stall it (a sanitizer build is slow).
vdeliver() {
	timeout 300 "$MAILDESK_BIN" -v -c "$CONF" deliver --sender "$SENDER" \
		--recipient support@example.com <"$1" >"$OUT" 2>"$ERR"
}
# pdeliver FILE: exactly as pipe(8) runs it, stdout and stderr together
pdeliver() {
	timeout 300 "$MAILDESK_BIN" -c "$CONF" deliver --sender "$SENDER" \
		--recipient support@example.com <"$1" >"$OUT" 2>&1
}
counts() { sql "SELECT (SELECT count(*) FROM messages) || '/' || (SELECT count(*) FROM tickets) || '/' || (SELECT count(*) FROM outbox) || '/' || (SELECT count(*) FROM events) || '/' || (SELECT count(*) FROM customers)"; }
stored() { sql "SELECT count(*) FROM messages WHERE sha256 = '$(sha256sum <"$1" | cut -d' ' -f1)'"; }
# fill_leaving KB: a filler file takes all free space of the tmpfs but KB
fill_leaving() {
	local avail
	rm -f "$MNT/filler"
	avail=$(df -k --output=avail "$MNT" | tail -1)
	[ "$avail" -gt "$1" ] || bail "tmpfs too small: $avail KB free, want to leave $1"
	# tmpfs allocates with fallocate at once; dd is the slow fallback
	fallocate -l $(((avail - $1) * 1024)) "$MNT/filler" 2>/dev/null ||
		dd if=/dev/zero of="$MNT/filler" bs=1024 count=$((avail - $1)) 2>/dev/null
	true
}
unfill() { rm -f "$MNT/filler"; }
# log_names DESCRIPTION REGEX: the -v log says what went wrong
log_names() { check "$1: the log names the cause ($(head -c 160 "$ERR" | tr '\n' ' '))" grep -Eqi "$2" "$ERR"; }

# text_mail FILE ID KB: a plain mail with KB of text (made once per size)
text_mail() {
	local body=$WORK/text-$3.txt
	[ -e "$body" ] || yes 'A line of the question, with some words to fill it up.' | head -c $(($3 * 1024)) >"$body"
	{
		printf 'From: Customer <%s>\nTo: support@example.com\nSubject: Storage %s\nMessage-ID: <%s@example.org>\n\n' \
			"$SENDER" "$2" "$2"
		cat "$body"
	} >"$1"
}
# big_mail FILE ID KB: KB of base64 attachment, so the raw message is the
# bulk; the attachment is made once per size (python is slow to start)
big_mail() {
	local body=$WORK/attachment-$3.b64
	[ -e "$body" ] || python3 -c "
import base64, random, sys
# incompressible and reproducible
sys.stdout.write(base64.encodebytes(random.Random(1).randbytes($3 * 1024 * 3 // 4)).decode())" >"$body"
	{
		printf 'From: Customer <%s>\nTo: support@example.com\nSubject: Big %s\nMessage-ID: <%s@example.org>\n' \
			"$SENDER" "$2" "$2"
		printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n'
		printf 'The log file is attached.\n--b\nContent-Type: application/octet-stream\n'
		printf 'Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=log.bin\n\n'
		cat "$body"
		printf -- '--b--\n'
	} >"$1"
}

SENDER=big@example.org

# --- disk full during the delivery of a 2 MB message
new_site
big_mail "$WORK/big.eml" big1 2048
before=$(counts)
fill_leaving 200
pdeliver "$WORK/big.eml"
is "disk full: exit 75" "$?" 75
is "disk full: a 4.x.x line first, as pipe(8) reads it" "$(head -c 2 "$OUT")" "4."
vdeliver "$WORK/big.eml"
is "disk full (-v): exit 75 again" "$?" 75
log_names "disk full" "full"
unfill
is "disk full: integrity_check" "$(sql 'PRAGMA integrity_check')" ok
is "disk full: no partial rows" "$(counts)" "$before"
vdeliver "$WORK/big.eml"
is "disk freed: the retry exits 0" "$?" 0
is "disk freed: the message is stored once" "$(stored "$WORK/big.eml")" 1
is "disk freed: one ticket, one acknowledgement" "$(sql "SELECT count(*) || '/' || (SELECT count(*) FROM outbox) FROM tickets")" "1/1"
vdeliver "$WORK/big.eml"
is "disk freed: Postfix delivering it once more changes nothing" "$?/$(stored "$WORK/big.eml")/$(sql 'SELECT count(*) FROM tickets')" "0/1/1"

# --- no byte left: the database cannot even set up its WAL index
SENDER=ann@example.org
text_mail "$WORK/small.eml" small1 2
before=$(counts)
fill_leaving 0
# whatever df said, eat the last partial blocks too
dd if=/dev/zero of="$MNT/filler.tail" bs=1 2>/dev/null
vdeliver "$WORK/small.eml"
rc=$?
is "no space at all: exit 75" "$rc" 75
is "no space at all: a 4.x.x line first" "$(head -c 2 "$OUT")" "4."
log_names "no space at all" "full|disk"
rm -f "$MNT/filler.tail"
unfill
is "no space at all: no partial rows" "$(counts)" "$before"
vdeliver "$WORK/small.eml"
is "no space at all, then freed: the retry exits 0 and stores it once" "$?/$(stored "$WORK/small.eml")" "0/1"
is "no space at all, then freed: integrity_check" "$(sql 'PRAGMA integrity_check')" ok

# --- the disk fills at every point of a delivery: with free space from
# none to more than the delivery needs, each run either commits (exit 0,
# stored once) or fails with 75 and leaves nothing; the retry then works
sweep() { # sweep LABEL KIND KB FROM STEP TO
	local label=$1 kind=$2 kb=$3 free=$4 step=$5 to=$6 rc n=0 ok0=0 bad=0 f
	while [ "$free" -le "$to" ]; do
		n=$((n + 1))
		new_site
		f=$WORK/sweep-$label-$free.eml
		$kind "$f" "sweep-$label-$free" "$kb"
		fill_leaving "$free"
		vdeliver "$f"
		rc=$?
		unfill
		if [ "$rc" = 0 ]; then
			ok0=$((ok0 + 1))
			[ "$(stored "$f")" = 1 ] || { bad=$((bad + 1)); diag "$label: $free KB free: exit 0 but stored $(stored "$f") times"; }
		elif [ "$rc" = 75 ] && [ "$(head -c 2 "$OUT")" = 4. ]; then
			[ "$(counts)" = "0/0/0/0/0" ] || { bad=$((bad + 1)); diag "$label: $free KB free: exit 75 left rows $(counts)"; }
			vdeliver "$f"
			[ "$?/$(stored "$f")" = 0/1 ] || { bad=$((bad + 1)); diag "$label: $free KB free: the retry failed"; }
		else
			bad=$((bad + 1))
			diag "$label: $free KB free: exit $rc, output: $(head -c 100 "$OUT")"
		fi
		[ "$(sql 'PRAGMA integrity_check')" = ok ] || { bad=$((bad + 1)); diag "$label: $free KB free: integrity_check failed"; }
		rm -f "$f"
		free=$((free + step))
	done
	is "disk full sweep, $label: every run committed or left nothing ($ok0 of $n committed at once)" "$bad" 0
	check "disk full sweep, $label: both outcomes were reached" test "$ok0" -gt 0 -a "$ok0" -lt "$n"
}
SENDER=sweep@example.org
sweep "64 KB text" text_mail 64 0 32 320
# past the WAL's size the commit holds while the checkpoint into the
# database file at close fails for want of space: still exit 0 and stored
sweep "2 MB attachment" big_mail 2048 0 384 5000

# --- the file system turns read-only (an fsck remount, a failing disk)
SENDER=ro@example.org
new_site
text_mail "$WORK/ro.eml" ro1 2
before=$(counts)
mount -o remount,ro "$MNT" || bail "cannot remount $MNT read-only"
vdeliver "$WORK/ro.eml"
rc=$?
is "read-only file system: exit 75" "$rc" 75
is "read-only file system: a 4.x.x line first" "$(head -c 2 "$OUT")" "4."
log_names "read-only file system" "database"
# SQLite reports only "unable to open database file" for the WAL index it
# cannot create; the errno (EROFS) is what would tell the admin
if grep -Eqi "read-only|readonly" "$ERR"; then
	ok "read-only file system: the log says read-only"
else
	TAP_N=$((TAP_N + 1))
	echo "not ok $TAP_N - read-only file system: the log says read-only (it says: $(head -c 160 "$ERR" | tr '\n' ' ')) # TODO name the errno"
fi
mount -o remount,rw "$MNT" || bail "cannot remount $MNT read-write"
is "read-only file system: no partial rows" "$(counts)" "$before"
vdeliver "$WORK/ro.eml"
is "writable again: the retry exits 0 and stores it once" "$?/$(stored "$WORK/ro.eml")" "0/1"

# --- the database is missing (not initialised, or its file system not
# mounted): a configuration problem, 78 with 4.3.5 so Postfix defers
SENDER=gone@example.org
text_mail "$WORK/gone.eml" gone1 2
mv "$DB" "$WORK/away.db"
pdeliver "$WORK/gone.eml"
is "missing database: exit 78" "$?" 78
is "missing database: the 4.3.5 line comes first" "$(head -c 6 "$OUT")" "4.3.5 "
vdeliver "$WORK/gone.eml"
is "missing database (-v): exit 78" "$?" 78
log_names "missing database" "database .*(No such file|run maildesk init)"
check "missing database: deliver did not create an empty one" test ! -e "$DB"
mv "$WORK/away.db" "$DB"
vdeliver "$WORK/gone.eml"
is "database back: the retry exits 0 and stores it once" "$?/$(stored "$WORK/gone.eml")" "0/1"

# --- a corrupt database.  store.c makes every SQLite error a tempfail, so
# this is 75, not 78: Postfix keeps the mail while the admin restores a
# backup.  Either code defers; what must not happen is a crash or a 0.
SENDER=bad@example.org
text_mail "$WORK/bad.eml" bad1 2
corrupt_case() { # corrupt_case LABEL SEEK_PAGES PAGES REGEX
	new_site
	sql 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
	cp "$DB" "$WORK/good.db"
	# a deterministic garbage, over whole 4 KB pages (the default page size)
	yes 'garbage garbage garbage' | head -c $(($3 * 4096)) |
		dd of="$DB" bs=4096 seek="$2" conv=notrunc 2>/dev/null
	vdeliver "$WORK/bad.eml"
	rc=$?
	check "corrupt database, $1: exit 75 or 78 (got $rc)" test "$rc" = 75 -o "$rc" = 78
	is "corrupt database, $1: exit 75 (every database error is transient)" "$rc" 75
	is "corrupt database, $1: a 4.x.x line first" "$(head -c 2 "$OUT")" "4."
	log_names "corrupt database, $1" "$4"
	# the restored backup shows nothing was acknowledged or kept
	cp "$WORK/good.db" "$DB"
	rm -f "$DB-wal" "$DB-shm"
	vdeliver "$WORK/bad.eml"
	is "corrupt database, $1: after the restore the retry exits 0, stored once, one ack" \
		"$?/$(stored "$WORK/bad.eml")/$(sql 'SELECT count(*) FROM outbox')" "0/1/1"
}
corrupt_case "garbage over its header" 0 3 "not a database|malformed|corrupt"
corrupt_case "garbage over its tables" 1 3 "malformed|corrupt|not a database"

done_testing
