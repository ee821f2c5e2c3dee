#!/bin/bash
# Fault tests for deliver: each fault gives its documented exit code and
# status line, leaves no partial rows, and loses nothing.
. "$MAILDESK_SRCDIR/tests/lib.sh"
trap 'cleanup_site; [ -n "${LOCKER:-}" ] && kill "$LOCKER" 2>/dev/null' EXIT
make_site
sed -i 's/^reopen_days = 30$/reopen_days = 30\nbusy_timeout = 1/' "$CONF"

mail() { # mail N FROM
	printf 'From: %s\nTo: support@example.com\nSubject: Question %s\nMessage-ID: <q%s@example.org>\n\nBody %s\n' "$2" "$1" "$1" "$1"
}
counts() { sql "SELECT (SELECT count(*) FROM messages) || '/' || (SELECT count(*) FROM tickets) || '/' || (SELECT count(*) FROM outbox) || '/' || (SELECT count(*) FROM events)"; }

# --- a database held locked by another writer beyond busy_timeout
mail 1 ann@example.org >"$SITE/m1.eml"
before=$(counts)
python3 -c "
import sqlite3, time, sys
c = sqlite3.connect('$DB', isolation_level=None)
c.execute('BEGIN IMMEDIATE')
print('locked', flush=True)
time.sleep(6)
" >"$SITE/locker.out" &
LOCKER=$!
for _ in $(seq 50); do grep -q locked "$SITE/locker.out" 2>/dev/null && break; sleep 0.1; done
t0=$(date +%s%N)
deliver "$SITE/m1.eml" --recipient support@example.com
rc=$?
t1=$(date +%s%N)
is "locked database: exit 75" "$rc" 75
is "locked database: a 4.x.x line first for Postfix" "$(head -c 6 "$SITE/deliver.out")" "4.3.0 "
check "locked database: waited for busy_timeout (>= 0.9 s)" test $(((t1 - t0) / 1000000)) -ge 900
kill "$LOCKER" 2>/dev/null; wait "$LOCKER" 2>/dev/null; LOCKER=
is "locked database: no partial rows" "$(counts)" "$before"
check "locked database: the retry succeeds" deliver "$SITE/m1.eml" --recipient support@example.com
is "retry stored one message, one ticket, one ack" "$(sql 'SELECT count(*) || "/" || (SELECT count(*) FROM outbox) FROM tickets')" "1/1"

# --- a second delivery of the same message adds nothing
before=$(counts)
check "redelivery exits 0" deliver "$SITE/m1.eml" --recipient support@example.com
is "redelivery adds no row anywhere" "$(counts)" "$before"
# the same Message-ID with other content is a new message, not a duplicate
sed 's/Body 1/Body 1, edited/' "$SITE/m1.eml" >"$SITE/m1b.eml"
check "reused Message-ID with new content delivered" deliver "$SITE/m1b.eml" --recipient support@example.com
is "reused Message-ID with new content is stored" "$(sql "SELECT count(*) FROM messages WHERE message_id = 'q1@example.org'")" 2
# no Message-ID at all: accepted, and identified by content
printf 'From: nomid@example.org\nTo: support@example.com\nSubject: no id\n\nhello\n' >"$SITE/nomid.eml"
check "message without Message-ID delivered" deliver "$SITE/nomid.eml"
check "message without Message-ID redelivered" deliver "$SITE/nomid.eml"
is "message without Message-ID stored once" "$(sql "SELECT count(*) FROM messages WHERE from_addr = 'nomid@example.org'")" 1

# --- the hourly autoreply limit (3 in the test config)
for i in 10 11 12 13 14; do
	mail $i flood@example.org >"$SITE/f$i.eml"
	deliver "$SITE/f$i.eml" --sender flood@example.org --recipient support@example.com || not_ok "flood $i delivered"
done
is "five tickets from one sender stored" "$(sql "SELECT count(*) FROM tickets t JOIN customers c ON c.id = t.customer_id WHERE c.address = 'flood@example.org'")" 5
is "only three acknowledgements within the hour" "$(sql "SELECT count(*) FROM outbox WHERE rcpts = 'flood@example.org'")" 3
is "the others are recorded as withheld" "$(sql "SELECT count(*) FROM events WHERE what = 'ack-withheld' AND new_value = 'rate-limit'")" 2

# --- read-only database directory
chmod 555 "$SITE/data"
chmod 444 "$DB"
mail 20 ro@example.org >"$SITE/ro.eml"
if [ "$(id -u)" = 0 ]; then
	# root ignores file modes: run deliver as an unprivileged user
	chown -R nobody "$SITE"
	chmod 755 "$SITE"
	RUN="setpriv --reuid=nobody --regid=nogroup --clear-groups"
else
	RUN=
fi
$RUN "$MAILDESK_BIN" -c "$CONF" deliver --recipient support@example.com <"$SITE/ro.eml" >"$SITE/ro.out" 2>&1
is "read-only database directory: exit 75" "$?" 75
is "read-only database directory: a 4.x.x line first" "$(cut -c1-2 "$SITE/ro.out" | head -1)" "4."
chmod 755 "$SITE/data"
chmod 644 "$DB"
$RUN "$MAILDESK_BIN" -c "$CONF" deliver --recipient support@example.com <"$SITE/ro.eml" >"$SITE/ro.out" 2>&1
is "writable again: the retry succeeds" "$?" 0
[ "$(id -u)" = 0 ] && chown -R "$(id -u)" "$SITE"

# --- broken configuration and missing database: 78, deferred by Postfix
cp "$CONF" "$SITE/good.conf"
echo "colour = blue" >>"$CONF"
deliver "$SITE/m1.eml"
is "broken config: exit 78" "$?" 78
is "broken config: the 4.3.5 line comes first" "$(head -c 6 "$SITE/deliver.out")" "4.3.5 "
is "broken config: that line is all pipe(8) reads" "$(wc -l <"$SITE/deliver.out")" 1
md check-config >/dev/null 2>"$SITE/cc.err"
is "check-config: exit 78" "$?" 78
check "check-config names file, line and key" grep -q "maildesk.conf:[0-9]*: \[queue sales\] colour: unknown key" "$SITE/cc.err"
cp "$SITE/good.conf" "$CONF"
mv "$DB" "$DB.away"
deliver "$SITE/m1.eml"
is "missing database: exit 78" "$?" 78
is "missing database: the 4.3.5 line comes first" "$(head -c 6 "$SITE/deliver.out")" "4.3.5 "
mv "$DB.away" "$DB"
deliver "$SITE/m1.eml" --recipient support@example.com extra-recipient@example.com
is "stray recipients (no recipient limit in master.cf): exit 78, not silently dropped" "$?" 78

# --- a template that does not render is a configuration problem
cp -r "$MAILDESK_SRCDIR/templates" "$SITE/tpl"
chmod -R u+w "$SITE/tpl"
sed -i "s#^templates = .*#templates = $SITE/tpl#" "$CONF"
echo "{{#ticket.id}} never closed" >>"$SITE/tpl/ru/ack"
md check-config >/dev/null 2>"$SITE/cc.err"
is "broken template: check-config exits 78" "$?" 78
check "broken template: check-config names file and line" grep -q "tpl/ru/ack:[0-9]*: section" "$SITE/cc.err"
cp "$SITE/good.conf" "$CONF"

# --- a message over max_message_size bounces with 5.3.4
sed -i 's/^\[limits\]$/[limits]\nmax_message_size = 2048/' "$CONF"
{ mail 30 big@example.org; head -c 4096 /dev/zero | tr '\0' 'x'; echo; } >"$SITE/big.eml"
deliver "$SITE/big.eml"
is "oversized message: exit 65" "$?" 65
is "oversized message: 5.3.4 line" "$(head -c 6 "$SITE/deliver.out")" "5.3.4 "

# --- an unparsable message is stored raw on a flagged ticket
printf '\x00\x01\x02 not a mail at all\n\xff\xfe' >"$SITE/junk.eml"
check "garbage input delivered" deliver "$SITE/junk.eml" --recipient support@example.com
is "garbage stored raw on a ticket flagged for an agent" \
	"$(sql "SELECT t.needs_attention FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE m.size = $(stat -c %s "$SITE/junk.eml") AND m.parse_error IS NOT NULL")" 1

# --- outbox: 4xx defers with backoff, 5xx fails and is recorded, and the
# ticket's people are told (its assignee, else the queue's lead), never
# about a notice that failed itself
sed -i 's/^address = support@example.com$/address = support@example.com\nlead = lead@example.com/' "$CONF"
printf '\n[agent alice]\naddress = alice@example.com\nname = Alice Agent\nqueues = support\n' >>"$CONF"
check "config with a lead and an agent is valid" md check-config
T_A=$(sql "SELECT min(ticket_id) FROM outbox WHERE status = 'queued'")
G=$(sql "SELECT max(id) FROM outbox WHERE status = 'queued'")
T_G=$(sql "SELECT ticket_id FROM outbox WHERE id = $G")
sql "UPDATE tickets SET assignee = 'alice@example.com' WHERE id = $T_A"
check "two different tickets for the assignee and the lead cases" test "$T_A" != "$T_G"
PORT=$(free_port)
start_sink "$PORT" "$SITE/sink" -r RCPT
sed -i "s#^url = .*#url = smtp://127.0.0.1:$PORT#" "$CONF"
queued=$(sql "SELECT count(*) FROM outbox WHERE status = 'queued'")
md send --once >/dev/null
is "4xx: rows stay queued" "$(sql "SELECT count(*) FROM outbox WHERE status = 'queued'")" "$queued"
is "4xx: attempts counted, retry scheduled later" "$(sql "SELECT count(*) FROM outbox WHERE status = 'queued' AND attempts = 1 AND next_attempt > strftime('%s','now') + 30")" "$queued"
is "4xx: no notice while retrying" "$(sql "SELECT count(*) FROM outbox WHERE kind = 'agent-delivery-failed'")" 0
# one row queued longer than give_up_after (5 days): the next 4xx fails it
sql "UPDATE outbox SET next_attempt = 0, created = created - 6 * 86400 WHERE id = $G"
md send --once >/dev/null
is "4xx past give_up_after: the row failed" "$(sql "SELECT status || '/' || attempts FROM outbox WHERE id = $G")" "failed/2"
is "gave up: one notice, to the queue's lead (the ticket has no assignee)" \
	"$(sql "SELECT count(*) || ' ' || group_concat(rcpts) FROM outbox WHERE kind = 'agent-delivery-failed' AND ticket_id = $T_G")" "1 lead@example.com"
gtext=$(sql "SELECT body_text FROM messages WHERE ticket_id = $T_G AND audience = 'agents' AND to_addrs = 'lead@example.com'")
check "gave up: the notice says maildesk stopped after 2 attempts" grep -q "after 2 attempts maildesk has stopped trying" <<<"$gtext"
check "gave up: the notice gives the relay's 4xx answer" grep -q "^  The server's answer: 4[0-9][0-9] " <<<"$gtext"
is "gave up: the notice itself got the 4xx and waits its turn" \
	"$(sql "SELECT status || '/' || attempts FROM outbox WHERE kind = 'agent-delivery-failed'")" "queued/1"
stop_sink
start_sink "$PORT" "$SITE/sink" -f RCPT
# a reply with a Cc (as an agent's reply copies the customer's Cc): two
# recipients of one row, both refused, make one notice naming each (send
# only sends to whom the mail's own To and Cc show: the Cc is added to it)
sql "INSERT INTO outbox (ticket_id, message_row, kind, env_from, rcpts, raw, created, next_attempt)
	SELECT ticket_id, message_row, 'reply', env_from, rcpts || ', cc@example.org',
	CAST('Cc: cc@example.org' || char(13, 10) || raw AS BLOB), created, 0
	FROM outbox WHERE id = $G"
queued=$((queued + 1))
sql "UPDATE outbox SET next_attempt = 0 WHERE status = 'queued'"
md send --once >/dev/null
is "5xx: rows failed" "$(sql "SELECT count(*) FROM outbox WHERE status = 'failed' AND kind NOT LIKE 'agent-%'")" "$queued"
is "5xx: one notice per failed row, none about a failed notice" \
	"$(sql "SELECT count(*) FROM outbox WHERE kind = 'agent-delivery-failed'")" "$queued"
is "5xx: every failure recorded on its ticket, the notices' too" \
	"$(sql "SELECT count(*) FROM events WHERE what = 'delivery-failed'")" "$((2 * queued))"
is "5xx: the notices were refused as well (same relay), and are only recorded" \
	"$(sql "SELECT count(*) FROM outbox WHERE kind = 'agent-delivery-failed' AND status = 'failed'")" "$queued"
is "5xx: the assigned ticket's notice goes to its assignee only" \
	"$(sql "SELECT group_concat(rcpts) FROM outbox WHERE kind = 'agent-delivery-failed' AND ticket_id = $T_A")" "alice@example.com"
is "5xx: the unassigned tickets' notices go to the queue's lead" \
	"$(sql "SELECT count(*) FROM outbox WHERE kind = 'agent-delivery-failed' AND rcpts = 'lead@example.com'")" "$((queued - 1))"
is "5xx: the failed tickets are flagged" \
	"$(sql "SELECT count(*) FROM tickets WHERE needs_attention = 1 AND id IN (SELECT ticket_id FROM outbox WHERE kind = 'ack')")" \
	"$(sql "SELECT count(DISTINCT ticket_id) FROM outbox WHERE kind = 'ack'")"
cust=$(sql "SELECT c.address FROM tickets t JOIN customers c ON c.id = t.customer_id WHERE t.id = $T_A")
atext=$(sql "SELECT body_text FROM messages WHERE ticket_id = $T_A AND audience = 'agents' AND to_addrs = 'alice@example.com'")
asubj=$(sql "SELECT subject FROM messages WHERE ticket_id = $T_A AND audience = 'agents' AND to_addrs = 'alice@example.com'")
check "5xx notice: subject says not delivered" grep -q "^\[#$T_A\] Not delivered: " <<<"$asubj"
check "5xx notice: which mail (the acknowledgement, its subject)" grep -q "^The mail: the acknowledgement of the customer's request, \"" <<<"$atext"
check "5xx notice: to whom" grep -qx -- "- $cust" <<<"$atext"
check "5xx notice: the relay's answer" grep -q "^  The server's answer: 5[0-9][0-9] " <<<"$atext"
check "5xx notice: refused, not retried" grep -q "refused it, so maildesk will not try again" <<<"$atext"
check "5xx notice: what to do" grep -q "^What you can do: " <<<"$atext"
diag "the notice:"; sed "s/^/#   /" <<<"$atext"
check "5xx notice: agent mail, answered through the agent address" \
	test "$(sql "SELECT count(*) FROM messages WHERE ticket_id = $T_A AND audience = 'agents' AND kind = 'system'")" -ge 1
gcust=$(sql "SELECT rcpts FROM outbox WHERE id = $G")
ctext=$(sql "SELECT body_text FROM messages WHERE ticket_id = $T_G AND audience = 'agents' AND to_addrs = 'lead@example.com' ORDER BY id DESC LIMIT 1")
check "5xx notice of the Cc'd reply: which mail" grep -q "^The mail: a reply to the customer, " <<<"$ctext"
check "5xx notice of the Cc'd reply: the customer on a line of their own" grep -qx -- "- $gcust" <<<"$ctext"
check "5xx notice of the Cc'd reply: the Cc on a line of their own" grep -qx -- "- cc@example.org" <<<"$ctext"
is "5xx notice of the Cc'd reply: each with the relay's answer" "$(grep -c "^  The server's answer: 5" <<<"$ctext")" 2
before=$(counts)
md send --once >/dev/null
is "5xx: a further run changes nothing" "$(counts)" "$before"
stop_sink

# --- a relay that refuses one recipient of two (5xx at RCPT) and takes
# the mail for the other: sent, and one notice names the refused one only
RPORT=$(free_port)
python3 - "$RPORT" <<'PY' &
import socket, sys
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1])))
srv.listen(5)
srv.settimeout(20)
while True:
    try:
        c, _ = srv.accept()
    except socket.timeout:
        break
    try:
        c.sendall(b"220 relay ESMTP\r\n")
        f = c.makefile("rb")
        for line in f:
            cmd = line.decode(errors="replace").strip()
            up = cmd.upper()
            if up.startswith("EHLO"):
                c.sendall(b"250 relay\r\n")
            elif up.startswith("RCPT") and "gone@" in cmd:
                c.sendall(b"550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown\r\n")
            elif up.startswith("DATA"):
                c.sendall(b"354 go on\r\n")
                for body in f:
                    if body in (b".\r\n", b".\n"):
                        break
                c.sendall(b"250 2.0.0 queued\r\n")
            elif up.startswith("QUIT"):
                c.sendall(b"221 bye\r\n")
                break
            else:
                c.sendall(b"250 ok\r\n")
    except OSError:
        pass
    c.close()
PY
RELAYD=$!
for _ in $(seq 50); do python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1',$RPORT)))" 2>/dev/null && break; sleep 0.1; done
sed -i "s#^url = .*#url = smtp://127.0.0.1:$RPORT#" "$CONF"
sql "INSERT INTO outbox (ticket_id, message_row, kind, env_from, rcpts, raw, created, next_attempt)
	SELECT ticket_id, message_row, 'reply', env_from, 'ann@example.org, gone@example.org',
	CAST('Cc: ann@example.org, gone@example.org' || char(13, 10) || raw AS BLOB), created, 0
	FROM outbox WHERE ticket_id = $T_A AND kind = 'ack'"
P=$(sql "SELECT max(id) FROM outbox")
notices=$(sql "SELECT count(*) FROM outbox WHERE kind = 'agent-delivery-failed'")
md send --once >/dev/null
is "one recipient refused of two: the row is sent (to the other)" "$(sql "SELECT status FROM outbox WHERE id = $P")" "sent"
is "one recipient refused of two: one notice more, to the assignee" \
	"$(sql "SELECT count(*) || ' ' || group_concat(rcpts) FROM outbox WHERE kind = 'agent-delivery-failed' AND id > $P")" "1 alice@example.com"
is "one recipient refused of two: no more notices than that" \
	"$(sql "SELECT count(*) FROM outbox WHERE kind = 'agent-delivery-failed'")" "$((notices + 1))"
ptext=$(sql "SELECT body_text FROM messages WHERE ticket_id = $T_A AND audience = 'agents' AND to_addrs = 'alice@example.com' ORDER BY id DESC LIMIT 1")
check "one recipient refused of two: the notice names the refused one" grep -qx -- "- gone@example.org" <<<"$ptext"
check "one recipient refused of two: with the relay's answer" grep -qx -- "  The server's answer: 550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown" <<<"$ptext"
check "one recipient refused of two: not the one who got it" bash -c '! grep -q "^- ann@example.org" <<<"$1"' _ "$ptext"
is "one recipient refused of two: the notice itself was sent" "$(sql "SELECT status FROM outbox WHERE kind = 'agent-delivery-failed' AND id > $P")" "sent"
kill "$RELAYD" 2>/dev/null
wait "$RELAYD" 2>/dev/null

# --- a password is never offered over a plain connection: a relay that
# offers AUTH but no STARTTLS, and records whether a password came
APORT=$(free_port)
python3 - "$APORT" "$SITE/auth.log" <<'PY' &
import socket, sys
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1])))
srv.listen(5)
srv.settimeout(20)
log = open(sys.argv[2], "w")
while True:
    try:
        c, _ = srv.accept()
    except socket.timeout:
        break
    try:
        c.sendall(b"220 relay ESMTP\r\n")
        for line in c.makefile("rb"):
            cmd = line.decode(errors="replace").strip().upper()
            log.write(cmd.split(" ")[0] + "\n")
            log.flush()
            if cmd.startswith("EHLO"):
                c.sendall(b"250-relay\r\n250 AUTH PLAIN LOGIN\r\n")
            elif cmd.startswith("AUTH"):
                c.sendall(b"235 ok\r\n")
            elif cmd.startswith("QUIT"):
                c.sendall(b"221 bye\r\n")
                break
            else:
                c.sendall(b"250 ok\r\n")
    except OSError:
        pass
    c.close()
PY
AUTHD=$!
for _ in $(seq 50); do python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1',$APORT)))" 2>/dev/null && break; sleep 0.1; done
echo "s3cret" >"$SITE/smtp.pw"
sed -i "s#^url = .*#url = smtp://127.0.0.1:$APORT#; s#^\[smtp\]\$#[smtp]\nusername = helpdesk\npassword_file = $SITE/smtp.pw#" "$CONF"
mail 40 tls@example.org >"$SITE/m40.eml"
check "mail for the AUTH case delivered" deliver "$SITE/m40.eml" --recipient support@example.com
md send --once >/dev/null
is "AUTH with starttls=auto and no STARTTLS at the relay: the row stays queued" \
	"$(sql "SELECT count(*) FROM outbox WHERE rcpts = 'tls@example.org' AND status = 'queued' AND attempts = 1")" 1
check "the relay was reached" grep -q EHLO "$SITE/auth.log"
is "no password was offered in the clear" "$(grep -c '^AUTH' "$SITE/auth.log")" 0
kill "$AUTHD" 2>/dev/null
wait "$AUTHD" 2>/dev/null

check "database passes integrity_check" test "$(sql 'PRAGMA integrity_check')" = ok
done_testing
