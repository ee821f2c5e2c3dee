#!/bin/bash
# maildesk never works as root.  Started as root without [maildesk] user
# (and without MAILDESK_ALLOW_ROOT=1, which make check sets for the other
# tests) init, deliver, send and the admin commands refuse with 78 and
# touch nothing; with user = nobody they become nobody before opening
# the database or the secret, so every file they create is nobody's.
. "$MAILDESK_SRCDIR/tests/lib.sh"

# the switch needs root; skipping would hide that none of this ran
[ "$(id -u)" = 0 ] || bail "privs.sh tests leaving root and must run as root"
id nobody >/dev/null 2>&1 || bail "no user nobody"
NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)
NOBODY_GROUP=$(id -gn nobody)

S2=
SEND_PID=
# outputs live apart from the sites, whose every file is compared
WORK=$(mktemp -d "${TMPDIR:-/tmp}/maildesk-privs-out-XXXXXX")
trap 'cleanup_site; [ -n "$SEND_PID" ] && kill "$SEND_PID" 2>/dev/null; [ -n "$S2" ] && rm -rf "$S2"; rm -rf "$WORK"' EXIT
REFUSAL="refusing to run as root: set [maildesk] user, or run as the maildesk user"

# nr ARGS...: maildesk as root, without the tests' permission to stay root
nr() { env -u MAILDESK_ALLOW_ROOT "$MAILDESK_BIN" "$@"; }
# every file of a directory with size, time, mode and owner
snapshot() { find "$1" -printf '%p %s %T@ %m %u:%g\n' | sort; }
mail() { # mail N FROM
	printf 'From: %s\nTo: support@example.com\nSubject: Question %s\nMessage-ID: <p%s@example.org>\n\nBody %s\n' "$2" "$1" "$1" "$1"
}

# --- root without [maildesk] user: init creates nothing
make_site
FRESH=$SITE/fresh
mkdir "$FRESH"
sed -e 's#^database = .*#database = data/maildesk.db#' "$CONF" >"$FRESH/maildesk.conf"
nr -c "$FRESH/maildesk.conf" init >"$WORK/out" 2>"$WORK/err"
is "root, no user: init exits 78" "$?" 78
check "root, no user: init says why" grep -qF "maildesk: $REFUSAL" "$WORK/err"
is "root, no user: init created no secret, no database" "$(ls "$FRESH")" "maildesk.conf"
MAILDESK_ALLOW_ROOT=0 "$MAILDESK_BIN" -c "$FRESH/maildesk.conf" init >/dev/null 2>&1
is "MAILDESK_ALLOW_ROOT=0 is no permission" "$?" 78
is "MAILDESK_ALLOW_ROOT=0: still nothing created" "$(ls "$FRESH")" "maildesk.conf"
rm -rf "$FRESH"

# --- root without [maildesk] user on a working site: deliver, send and
# the admin commands refuse and change no file
mail 1 ann@example.org >"$SITE/m1.eml"
check "with MAILDESK_ALLOW_ROOT=1 root may deliver (as every other test does)" deliver "$SITE/m1.eml" --recipient support@example.com
is "one ack queued" "$(sql "SELECT count(*) FROM outbox WHERE status = 'queued' AND attempts = 0")" 1
mail 2 bob@example.org >"$SITE/m2.eml"
PORT=$(free_port)
start_sink "$PORT" "$SITE/sink"
sed -i "s#^url = .*#url = smtp://127.0.0.1:$PORT#" "$CONF"
before=$(snapshot "$SITE")
nr -c "$CONF" deliver --recipient support@example.com <"$SITE/m2.eml" >"$WORK/out" 2>&1
is "root, no user: deliver exits 78" "$?" 78
is "root, no user: deliver's one line for Postfix is 4.3.5" "$(head -c 6 "$WORK/out")/$(wc -l <"$WORK/out")" "4.3.5 /1"
nr -v -c "$CONF" deliver --recipient support@example.com <"$SITE/m2.eml" >"$WORK/out" 2>"$WORK/err"
check "root, no user: deliver logs why" grep -qF "$REFUSAL" "$WORK/err"
for cmd in "send --once" "tick" "report" "check-config" "ticket list" "agent list" "init"; do
	nr -c "$CONF" $cmd >"$WORK/out" 2>"$WORK/err"
	is "root, no user: $cmd exits 78" "$?" 78
	check "root, no user: $cmd says why" grep -qF "maildesk: $REFUSAL" "$WORK/err"
done
is "root, no user: no file of the site changed (database, secret, lock, sink)" "$(snapshot "$SITE")" "$before"
is "root, no user: the ack was not sent" "$(sql "SELECT status || '/' || attempts FROM outbox")" "queued/0"
is "root, no user: the second message was not stored" "$(sql "SELECT count(*) FROM messages WHERE direction = 'in'")" 1
stop_sink

# --- root with [maildesk] user = nobody: it becomes nobody first
S2=$(mktemp -d "${TMPDIR:-/tmp}/maildesk-privs-XXXXXX")
chmod 755 "$S2"
sed -e 's#^database = .*#database = data/maildesk.db#' -e "s#^url = .*#url = smtp://127.0.0.1:$PORT#" \
	-e 's#^send_after_deliver = no#send_after_deliver = no\nuser = nobody#' "$CONF" >"$S2/maildesk.conf"
chown nobody:"$NOBODY_GROUP" "$S2"
C2=$S2/maildesk.conf
DB2=$S2/data/maildesk.db
check "user = nobody: init as root, without MAILDESK_ALLOW_ROOT" nr -c "$C2" init
check "user = nobody: check-config as root passes" nr -c "$C2" check-config
is "user = nobody: the secret is nobody's, mode 0600" "$(stat -c '%u:%g %a' "$S2/secret")" "$NOBODY_UID:$NOBODY_GID 600"
is "user = nobody: the database is nobody's, mode 0640" "$(stat -c '%u:%g %a' "$DB2")" "$NOBODY_UID:$NOBODY_GID 640"
is "user = nobody: its directory is nobody's" "$(stat -c '%u:%g' "$S2/data")" "$NOBODY_UID:$NOBODY_GID"
nr -c "$C2" deliver --recipient support@example.com <"$SITE/m2.eml" >"$WORK/out" 2>&1
is "user = nobody: deliver as root exits 0" "$?" 0
is "user = nobody: the message is stored" "$(sqlite3 "$DB2" "SELECT count(*) FROM messages WHERE direction = 'in'")" 1
start_sink "$PORT" "$SITE/sink"
nr -c "$C2" send --once >/dev/null 2>&1
is "user = nobody: send as root sent the ack" "$(sqlite3 "$DB2" "SELECT status FROM outbox")" "sent"
stop_sink
check "user = nobody: send made its lock file" test -f "$DB2.send.lock"
is "user = nobody: every file maildesk made is nobody's (only the config, ours, is not)" \
	"$(find "$S2" ! -user nobody -printf '%P\n')" "maildesk.conf"
# a running sender's credentials, from the kernel: real, effective, saved
# and file system ids, and the supplementary groups
env -u MAILDESK_ALLOW_ROOT "$MAILDESK_BIN" -c "$C2" send >/dev/null 2>&1 &
SEND_PID=$!
for _ in $(seq 50); do
	grep -q "^Uid:.*\b$NOBODY_UID\b" "/proc/$SEND_PID/status" 2>/dev/null && break
	sleep 0.1
done
is "user = nobody: uids real/effective/saved/fs" "$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$SEND_PID/status")" "$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID"
is "user = nobody: gids real/effective/saved/fs" "$(awk '/^Gid:/ {print $2, $3, $4, $5}' "/proc/$SEND_PID/status")" "$NOBODY_GID $NOBODY_GID $NOBODY_GID $NOBODY_GID"
is "user = nobody: supplementary groups are nobody's own" "$(awk '/^Groups:/ {$1 = ""; print}' "/proc/$SEND_PID/status" | xargs)" "$(id -G nobody)"
is "user = nobody: no capability left" "$(awk '/^CapEff:/ {print $2}' "/proc/$SEND_PID/status")" "0000000000000000"
kill -TERM "$SEND_PID"
wait "$SEND_PID"
SEND_PID=

# the secret is opened only after the switch: one only root may read
# stops every command, as it would stop the Postfix pipe
chown root:root "$S2/secret"
nr -c "$C2" deliver --recipient support@example.com <"$SITE/m1.eml" >"$WORK/out" 2>&1
is "user = nobody, secret root's own: deliver exits 78" "$?" 78
nr -c "$C2" check-config >/dev/null 2>"$WORK/err"
is "user = nobody, secret root's own: check-config exits 78" "$?" 78
check "user = nobody, secret root's own: check-config says permission denied" grep -q "secret_file: .*Permission denied" "$WORK/err"
chown nobody:"$NOBODY_GROUP" "$S2/secret"
chown root:root "$S2/data"
chmod 755 "$S2/data"
nr -c "$C2" check-config >/dev/null 2>"$WORK/err"
check "user = nobody, database directory root's: check-config warns" grep -q "warning: database directory $S2/data is not writable by uid $NOBODY_UID" "$WORK/err"
chown nobody:"$NOBODY_GROUP" "$S2/data"

# --- a user that does not exist, or root itself, is a config problem
sed -i 's/^user = nobody$/user = no-such-maildesk-user/' "$C2"
nr -c "$C2" check-config >/dev/null 2>"$WORK/err"
is "user = no-such-maildesk-user: check-config exits 78" "$?" 78
check "user = no-such-maildesk-user: file, line and key named" grep -q "maildesk.conf:[0-9]*: \[maildesk\] user: no such user \"no-such-maildesk-user\"" "$WORK/err"
sed -i 's/^user = no-such-maildesk-user$/user = root/' "$C2"
nr -c "$C2" deliver --recipient support@example.com <"$SITE/m1.eml" >"$WORK/out" 2>&1
is "user = root: deliver exits 78" "$?" 78
nr -c "$C2" check-config >/dev/null 2>"$WORK/err"
check "user = root: check-config says it is root" grep -q "\[maildesk\] user: \"root\" is root's user or group" "$WORK/err"
is "nothing of the refused runs stored anything" "$(sqlite3 "$DB2" "SELECT count(*) FROM messages WHERE direction = 'in'")" 1
done_testing
