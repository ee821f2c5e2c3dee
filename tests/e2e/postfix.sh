#!/bin/bash
# End to end through a real Postfix: swaks -> private Postfix instance on
# 127.0.0.1 -> the pipe(8) service of contrib/postfix/master.cf.snippet ->
# maildesk deliver -> ticket; maildesk send -> the same Postfix -> the
# customer's Maildir; the customer's reply to the signed Reply-To threads
# into the ticket; a database the pipe user cannot reach defers (never
# bounces) and the message arrives after "postqueue -f".  Then the same
# through Postfix's LMTP client (the maildesk-lmtp service of the
# snippet) to a running "maildesk lmtpd": several recipients in one
# transaction, several messages, and a stopped lmtpd defers.
#
# Uses contrib/postfix/{main.cf,master.cf}.snippet and transport.example
# with only their paths and user substituted, so a broken snippet fails
# here.  Needs root (pipe(8) needs a user to switch to; we create
# maildesk-test), postfix and swaks (scripts/install-deps.sh).
. "$MAILDESK_SRCDIR/tests/lib.sh"

MDUSER=maildesk-test
LOCK=/tmp/maildesk-postfix-test.lock
T=
PF=

# --- prerequisites: a missing one is a failure, never a skip
[ "$(id -u)" = 0 ] || bail "tests/e2e/postfix.sh must run as root (pipe(8) switches to an unprivileged user)"
for p in /usr/sbin/postfix /usr/sbin/postconf /usr/sbin/postmap /usr/sbin/postqueue; do
	[ -x "$p" ] || bail "$p missing: install postfix (scripts/install-deps.sh)"
done
command -v swaks >/dev/null || bail "swaks missing: install swaks (scripts/install-deps.sh)"
command -v sqlite3 >/dev/null || bail "sqlite3 missing (scripts/install-deps.sh)"
command -v runuser >/dev/null || bail "runuser missing (util-linux)"
command -v flock >/dev/null || bail "flock missing (util-linux)"
command -v setpriv >/dev/null || bail "setpriv missing (util-linux)"

# Adds (add) or removes (del) $PF in the default instance's
# alternate_config_directories; also forgets directories of earlier runs
# that no longer exist.  Serialised with other runs by a lock.
alt_dirs() {
	(
		flock -w 30 9 || exit 1
		[ -f /etc/postfix/main.cf ] || printf 'compatibility_level = 3.6\n' >/etc/postfix/main.cf
		local v new= d
		v=$(postconf -h alternate_config_directories 2>/dev/null | tr ',' ' ')
		for d in $v; do
			[ "$d" = "$PF" ] && continue
			case $d in /tmp/maildesk-postfix-*) [ -d "$d" ] || continue ;; esac
			new="$new $d"
		done
		[ "$1" = add ] && new="$new $PF"
		if [ -n "$new" ]; then
			postconf -e "alternate_config_directories =${new}"
		else
			postconf -X alternate_config_directories
		fi
	) 9>"$LOCK"
}

cleanup() {
	local pid= i
	trap '' INT TERM HUP
	[ -n "${LMTPD_PID:-}" ] && kill "$LMTPD_PID" 2>/dev/null && wait "$LMTPD_PID" 2>/dev/null
	[ -n "$T" ] || return
	if [ -f "$T/queue/pid/master.pid" ]; then
		pid=$(tr -dc 0-9 <"$T/queue/pid/master.pid")
		timeout 20 postfix -c "$PF" stop >/dev/null 2>&1
		for i in $(seq 100); do
			[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	fi
	if [ "$TAP_FAILED" != 0 ] && [ -f "$T/maillog" ]; then
		diag "--- end of the Postfix log"
		tail -40 "$T/maillog" | sed 's/^/# /'
	fi
	alt_dirs del
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
# every wait below ends by this deadline, whatever its own timeout
DEADLINE=$((SECONDS + 180))

# --- the pipe user
if ! getent passwd "$MDUSER" >/dev/null; then
	useradd --system --user-group --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin "$MDUSER" 2>/dev/null ||
		getent passwd "$MDUSER" >/dev/null || bail "cannot create the user $MDUSER"
fi
MDUID=$(id -u "$MDUSER")
MDGID=$(id -g "$MDUSER")

# --- a directory the pipe user can traverse.  Always under /tmp: the
# queue's socket paths must stay short, and $TMPDIR may be private.
T=$(mktemp -d /tmp/maildesk-postfix-XXXXXX) || bail "mktemp failed"
chmod 755 "$T"
cd "$T" || bail "cd $T"
PF=$T/etc
SITE=$T/site
CONF=$SITE/maildesk.conf
DB=$SITE/data/maildesk.db
LOG=$T/maillog
MAILDIR=$T/vmail/customer.test/alice
AGENTDIR=$T/vmail/staff.test/pat
PORT=$(free_port)

mkdir -p "$PF" "$T/queue" "$T/bin" "$T/out" "$SITE/data" "$T/vmail"
cp "$MAILDESK_BIN" "$T/bin/maildesk" && chmod 755 "$T/bin/maildesk" || bail "cannot copy $MAILDESK_BIN"
# the snippet's pipe runs the lean program, which starts "maildesk send" beside it
cp "$(dirname "$MAILDESK_BIN")/maildesk-deliver" "$T/bin/maildesk-deliver" &&
	chmod 755 "$T/bin/maildesk-deliver" || bail "cannot copy maildesk-deliver"
cp -r "$MAILDESK_SRCDIR/templates" "$T/templates" && chmod -R a+rX "$T/templates" || bail "cannot copy templates"

# --- maildesk's site, owned by the pipe user
cat >"$CONF" <<CONF
[maildesk]
database = data/maildesk.db
secret_file = secret
hostname = help.test
templates = $T/templates
default_language = en
site_name = Test Support
send_after_deliver = no

[smtp]
url = smtp://127.0.0.1:$PORT
starttls = never
timeout = 10

[queue support]
address = support@help.test

[agent pat]
address = pat@staff.test
name = Pat Agent
queues = support
max_open = 5

[queue billing]
address = billing@help.test

[agent xena]
address = xena@staff.test
queues = billing
max_open = 2

[agent yuri]
address = yuri@staff.test
queues = billing
max_open = 2

[agent zoe]
address = zoe@staff.test
queues = billing
max_open = 2
CONF
chown -R "$MDUSER:$MDGID" "$SITE" "$T/vmail"
chmod 750 "$SITE" "$SITE/data"

md() { runuser -u "$MDUSER" -- "$T/bin/maildesk" -c "$CONF" "$@"; }
# mdq NAME ARGS...: md with its output kept in out/NAME, shown on failure
mdq() {
	local name=$1; shift
	md "$@" >"$T/out/$name" 2>&1 && return 0
	sed 's/^/# /' "$T/out/$name"
	return 1
}
# sqlite3 as the pipe user too: files SQLite creates (-wal, -shm) must
# stay writable for maildesk
sql() { runuser -u "$MDUSER" -- sqlite3 -batch -noheader "$DB" "$@"; }

check "maildesk init as $MDUSER" mdq init init
check "check-config accepts the site" mdq check-config check-config

# --- the private Postfix instance
alt_dirs add || bail "cannot add $PF to alternate_config_directories in /etc/postfix/main.cf"
cat >"$PF/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $T/queue
data_directory = $T/data
meta_directory = /etc/postfix
maillog_file = $LOG
maillog_file_prefixes = $T
myhostname = mail.help.test
mydomain = help.test
myorigin = help.test
mydestination = help.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
alias_maps =
alias_database =
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
smtpd_peername_lookup = no
biff = no
append_dot_mydomain = no
delay_warning_time = 0
virtual_mailbox_domains = customer.test staff.test
virtual_mailbox_base = $T/vmail
virtual_mailbox_maps = inline:{ alice@customer.test=customer.test/alice/, pat@staff.test=staff.test/pat/,
	xena@staff.test=staff.test/xena/, yuri@staff.test=staff.test/yuri/, zoe@staff.test=staff.test/zoe/ }
virtual_uid_maps = static:$MDUID
virtual_gid_maps = static:$MDGID
virtual_minimum_uid = $MDUID
# the sanitizer build must see the same options under pipe(8) as in make check
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ XAUTHORITY DISPLAY LANG=C POSTLOG_SERVICE POSTLOG_HOSTNAME ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
export_environment = TZ MAIL_CONFIG LANG ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS

# ---- contrib/postfix/main.cf.snippet, paths substituted
CF
sed -e "s|/etc/postfix/transport|$PF/transport|g" \
	-e 's|^#local_recipient_maps = |local_recipient_maps = |' \
	"$MAILDESK_SRCDIR/contrib/postfix/main.cf.snippet" >>"$PF/main.cf"

# Postfix's own defaults, never the host's master.cf: a host whose Postfix
# already routes to maildesk has a maildesk service there, and ours would
# be a second one
cp /usr/share/postfix/master.cf.dist "$PF/master.cf" || bail "no /usr/share/postfix/master.cf.dist to start from"
sed -i "s/^smtp\( *\)inet /$PORT\1inet /" "$PF/master.cf"
grep -q "^$PORT *inet .*smtpd" "$PF/master.cf" || bail "no smtpd inet service in master.cf.dist"
grep -q '^postlog *unix-dgram' "$PF/master.cf" ||
	echo 'postlog   unix-dgram n  -       n       -       1       postlogd' >>"$PF/master.cf"
# not chrooted: the private queue directory has no copy of /etc
postconf -c "$PF" -F '*/*/chroot = n'
sed -e "s|/usr/sbin/maildesk|$T/bin/maildesk|g" \
	-e "s|/etc/maildesk/maildesk.conf|$CONF|g" \
	-e "s/user=maildesk\([[:space:]]\|$\)/user=$MDUSER\1/" \
	"$MAILDESK_SRCDIR/contrib/postfix/master.cf.snippet" >>"$PF/master.cf"
grep -E '^[^#]' "$MAILDESK_SRCDIR/contrib/postfix/transport.example" |
	sed 's/@example\.com/@help.test/' >"$PF/transport"

is "the snippet sets recipient_delimiter" "$(postconf -c "$PF" -h recipient_delimiter)" "+"
is "the snippet sets the recipient limit" "$(postconf -c "$PF" -h maildesk_destination_recipient_limit)" 1
is "the snippet's transport_maps is used" "$(postconf -c "$PF" -h transport_maps)" "hash:$PF/transport"
is "the snippet's pipe service is there" "$(postconf -c "$PF" -M maildesk/unix | awk '{print $8}')" pipe
is "the pipe runs maildesk-deliver" "$(postconf -c "$PF" -M maildesk/unix | grep -o 'argv=[^ ]*')" "argv=$T/bin/maildesk-deliver"
postmap -c "$PF" "hash:$PF/transport" || bail "postmap $PF/transport failed"
is "transport.example routes support@" "$(postmap -c "$PF" -q support@help.test "hash:$PF/transport")" "maildesk:"

timeout 60 postfix -c "$PF" post-install create-missing >"$T/out/post-install" 2>&1 ||
	{ sed 's/^/# /' "$T/out/post-install"; bail "postfix post-install create-missing failed"; }
timeout 60 postfix -c "$PF" set-permissions >>"$T/out/post-install" 2>&1 ||
	{ sed 's/^/# /' "$T/out/post-install"; bail "postfix set-permissions failed"; }
if ! timeout 60 postfix -c "$PF" check >"$T/out/check" 2>&1; then
	sed 's/^/# /' "$T/out/check"
	not_ok "postfix check"
else
	ok "postfix check"
fi
timeout 60 postfix -c "$PF" start >"$T/out/start" 2>&1 ||
	{ sed 's/^/# /' "$T/out/start"; [ -f "$LOG" ] && sed 's/^/# /' "$LOG"; bail "postfix start failed"; }
up=
for _ in $(seq 100); do
	if python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('127.0.0.1',$PORT)))" 2>/dev/null; then
		up=1
		break
	fi
	sleep 0.1
done
[ -n "$up" ] || { [ -f "$LOG" ] && sed 's/^/# /' "$LOG"; bail "Postfix does not listen on 127.0.0.1:$PORT"; }
ok "private Postfix listens on 127.0.0.1:$PORT"

# --- helpers
# wait_for SECONDS COMMAND...: polls every 0.2s until COMMAND succeeds
wait_for() {
	local end=$((SECONDS + $1)); shift
	[ "$end" -gt "$DEADLINE" ] && end=$DEADLINE
	while ! "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.2
	done
}
# smtp NAME SWAKS-ARGS...: submits a mail, prints its Postfix queue id
smtp() {
	local name=$1; shift
	timeout 20 swaks --server 127.0.0.1 --port "$PORT" --helo client.customer.test \
		--timeout 15 "$@" >"$T/out/$name.swaks" 2>&1
	sed -n 's/.*<- *250 .*queued as \([0-9A-Za-z]*\).*/\1/p' "$T/out/$name.swaks" | tail -1
}
# pipe_line QID: the last maillog line of the maildesk pipe delivery of QID
pipe_line() { grep -E " $1: to=<[^>]*>, relay=maildesk,.* status=" "$LOG" 2>/dev/null | tail -1; }
pipe_done() { [ -n "$(pipe_line "$1")" ]; }
# submit NAME SWAKS-ARGS...: submits a mail, checks that Postfix queued it
# and that its pipe delivery to maildesk finished; sets QID
submit() {
	local name=$1
	QID=$(smtp "$@")
	check "Postfix accepted $name (queue id '$QID')" test -n "$QID"
	check "the pipe delivery of $name finished" wait_for 30 pipe_done "$QID"
}
pipe_status() { pipe_line "$1" | sed -n 's/.* status=\([a-z]*\).*/\1/p'; }
pipe_sent() { [ "$(pipe_status "$1")" = sent ]; }
# headers FILE: "name: value" lines of a mail file, unfolded, lower-case
# names, RFC 2047 decoded; hdr FILE NAME: one of them
headers() {
	python3 -c 'import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
for k, v in m.items():
    print(k.lower() + ": " + " ".join(str(v).split()))' "$1" >"$1.hdr"
}
hdr() { awk -v n="$(tr A-Z a-z <<<"$2"): " 'index($0, n) == 1 { print substr($0, length(n) + 1); exit }' "$1.hdr"; }
in_deferred() { postqueue -c "$PF" -j 2>/dev/null | grep -E "\"queue_name\": *\"deferred\"" | grep -qE "\"queue_id\": *\"$1\""; }
# maildir_count [DIR], has_mail N [DIR]: alice's Maildir unless DIR
maildir_count() { find "${1:-$MAILDIR}/new" "${1:-$MAILDIR}/cur" -type f 2>/dev/null | wc -l; }
has_mail() { [ "$(maildir_count "${2:-}")" -ge "$1" ]; }
# mail_with DIR TEXT...: the first mail of a Maildir whose subject and
# decoded text hold every TEXT
mail_with() {
	python3 - "$@" <<'PY'
import email, email.policy, glob, sys
for path in sorted(glob.glob(sys.argv[1] + "/new/*") + glob.glob(sys.argv[1] + "/cur/*")):
    m = email.message_from_binary_file(open(path, "rb"), policy=email.policy.default)
    text = "\n".join(p.get_content() for p in m.walk() if p.get_content_maintype() == "text")
    if all(t in text + str(m["Subject"]) for t in sys.argv[2:]):
        print(path)
        break
PY
}
# body FILE: the decoded text parts of a mail
body() {
	python3 -c 'import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print("\n".join(p.get_content() for p in m.walk() if p.get_content_maintype() == "text"))' "$1"
}

# --- a new question from alice
Q1_ID="q1.$$.$RANDOM@customer.test"
submit q1 --from alice@customer.test --to support@help.test \
	--header "Subject: Printer on fire" --header "Message-Id: <$Q1_ID>" \
	--body "Hello, my printer is broken. Please help."
QID1=$QID
is "pipe(8) delivered it to maildesk" "$(pipe_status "$QID1")" sent
diag "$(pipe_line "$QID1")"
is "one ticket" "$(sql 'SELECT count(*) FROM tickets')" 1
is "the customer is alice" "$(sql 'SELECT c.address FROM tickets t JOIN customers c ON c.id = t.customer_id WHERE t.id = 1')" alice@customer.test
is "the message is stored on ticket 1" "$(sql "SELECT ticket_id || ' ' || direction || ' ' || kind FROM messages WHERE message_id = '$Q1_ID'")" "1 in customer"
is "the envelope came through pipe(8)" "$(sql "SELECT env_sender || ' ' || env_recipient FROM messages WHERE message_id = '$Q1_ID'")" \
	"alice@customer.test support@help.test"
is "flag R: the stored message starts with Return-Path" \
	"$(sql "SELECT CAST(substr(raw, 1, 34) AS TEXT) FROM messages WHERE message_id = '$Q1_ID'")" "Return-Path: <alice@customer.test>"
is "flags D and O are left out" "$(sql "SELECT instr(CAST(raw AS TEXT), 'Delivered-To:') + instr(CAST(raw AS TEXT), 'X-Original-To:') FROM messages WHERE message_id = '$Q1_ID'")" 0
is "the body is stored" "$(sql "SELECT instr(body_text, 'my printer is broken') > 0 FROM messages WHERE message_id = '$Q1_ID'")" 1
is "one acknowledgement queued" "$(sql "SELECT count(*) FROM outbox WHERE ticket_id = 1 AND status = 'queued' AND kind = 'ack'")" 1
is "and one mail to the agent it is assigned to" "$(sql "SELECT rcpts FROM outbox WHERE ticket_id = 1 AND kind = 'agent-assigned'")" pat@staff.test

# --- the acknowledgement goes out through Postfix into alice's Maildir
check "send --once as $MDUSER" mdq send send --once
is "the outbox rows are sent" "$(sql "SELECT group_concat(DISTINCT status) FROM outbox WHERE ticket_id = 1")" sent
check "the acknowledgement reached alice's Maildir" wait_for 30 has_mail 1
is "exactly one mail for alice" "$(maildir_count)" 1
cp "$(find "$MAILDIR/new" "$MAILDIR/cur" -type f 2>/dev/null | head -1)" "$T/out/ack.eml" 2>/dev/null
ACK=$T/out/ack.eml
headers "$ACK"
ACK_SUBJECT=$(hdr "$ACK" Subject)
ACK_MID=$(hdr "$ACK" Message-ID)
ACK_RT=$(hdr "$ACK" Reply-To)
REPLY_TO=$(grep -oE 'support\+1-[0-9a-f]{16}@help\.test' <<<"$ACK_RT")
check "the ack's Subject carries [#1]: '$ACK_SUBJECT'" grep -qF '[#1]' <<<"$ACK_SUBJECT"
is "the ack is Auto-Submitted: auto-replied" "$(hdr "$ACK" Auto-Submitted)" auto-replied
check "the ack's Reply-To is signed: '$ACK_RT'" grep -qE '^(.*<)?support\+1-[0-9a-f]{16}@help\.test>?$' <<<"$ACK_RT"
is "the ack's In-Reply-To is alice's Message-ID" "$(hdr "$ACK" In-Reply-To)" "<$Q1_ID>"
check "the ack has our own Message-ID: '$ACK_MID'" grep -qE '^<[^@<>]+@help\.test>$' <<<"$ACK_MID"
check "the ack's envelope sender is the signed bounce address" \
	grep -qE '^<support\+1-bounce-[0-9a-f]{16}@help\.test>$' <<<"$(hdr "$ACK" Return-Path)"
check "Postfix logged the virtual delivery to alice" \
	grep -qE 'to=<alice@customer\.test>, relay=virtual,.* status=sent' "$LOG"

# --- alice replies to the signed address
Q2_ID="q2.$$.$RANDOM@customer.test"
submit q2 --from alice@customer.test --to "${REPLY_TO:-support+1-missing@help.test}" \
	--header "Subject: Re: $ACK_SUBJECT" --header "Message-Id: <$Q2_ID>" \
	--header "In-Reply-To: $ACK_MID" --header "References: <$Q1_ID> $ACK_MID" \
	--body "It is still burning."
QID2=$QID
is "recipient_delimiter routed the signed address to maildesk" "$(pipe_status "$QID2")" sent
is "the reply is on ticket 1" "$(sql "SELECT ticket_id FROM messages WHERE message_id = '$Q2_ID'")" 1
is "ticket 1 has two incoming messages" "$(sql "SELECT count(*) FROM messages WHERE ticket_id = 1 AND direction = 'in'")" 2
is "still one ticket" "$(sql 'SELECT count(*) FROM tickets')" 1
is "the reply kept its signed recipient" "$(sql "SELECT env_recipient FROM messages WHERE message_id = '$Q2_ID'")" "$REPLY_TO"
is "no second acknowledgement queued" "$(sql "SELECT count(*) FROM outbox WHERE kind = 'ack'")" 1
is "the agent is told of the reply" "$(sql "SELECT count(*) FROM outbox WHERE kind = 'agent-customer-replied' AND rcpts = 'pat@staff.test'")" 1

# --- a database the pipe user cannot reach: deferred, not bounced
chmod 000 "$SITE/data"
Q3_ID="q3.$$.$RANDOM@customer.test"
submit q3 --from bob@customer.test --to support@help.test \
	--header "Subject: Another question" --header "Message-Id: <$Q3_ID>" \
	--body "Is anybody there?"
QID3=$QID
L3=$(pipe_line "$QID3")
diag "$L3"
is "it is deferred" "$(pipe_status "$QID3")" deferred
check "with a 4.x.x status" grep -qE ' dsn=4\.[0-9]+\.[0-9]+, ' <<<"$L3"
is "nothing bounced" "$(grep -c 'status=bounced' "$LOG")" 0
check "the message waits in the deferred queue" wait_for 5 in_deferred "$QID3"
chmod 750 "$SITE/data"
postqueue -c "$PF" -f
check "after postqueue -f the message is delivered" wait_for 30 pipe_sent "$QID3"
is "it made ticket 2 for bob" \
	"$(sql "SELECT t.id || ' ' || c.address FROM messages m JOIN tickets t ON t.id = m.ticket_id JOIN customers c ON c.id = t.customer_id WHERE m.message_id = '$Q3_ID'")" \
	"2 bob@customer.test"

# --- a bounce (null sender): null_sender= gives an empty --sender
Q4_ID="q4.$$.$RANDOM@customer.test"
submit q4 --from '<>' --to support@help.test \
	--header "From: MAILER-DAEMON@customer.test" --header "Subject: Undelivered Mail Returned to Sender" \
	--header "Message-Id: <$Q4_ID>" --body "This is a bounce."
QID4=$QID
is "it was delivered to maildesk" "$(pipe_status "$QID4")" sent
is "the stored envelope sender is empty" "$(sql "SELECT quote(env_sender) FROM messages WHERE message_id = '$Q4_ID'")" "''"
is "Return-Path: <> is stored" \
	"$(sql "SELECT CAST(substr(raw, 1, 15) AS TEXT) FROM messages WHERE message_id = '$Q4_ID'")" "Return-Path: <>"
is "no acknowledgement to a bounce" \
	"$(sql "SELECT count(*) FROM outbox o JOIN messages m ON m.ticket_id = o.ticket_id WHERE m.message_id = '$Q4_ID' AND o.kind = 'ack'")" 0

# --- the agent works ticket 1 from their own mail client
check "send --once delivers the agent mail" mdq send2 send --once
check "the agent's Maildir has the 'assigned' and 'replied' mails" wait_for 30 has_mail 2 "$AGENTDIR"
NOTE=$(mail_with "$AGENTDIR" "Printer on fire")
check "the 'assigned to you' mail is in the agent's Maildir" test -n "$NOTE"
headers "$NOTE"
AGENT_RT=$(hdr "$NOTE" Reply-To)
AGENT_REPLY=$(grep -oE 'support\+1-agent-[0-9a-f]{8}-[0-9a-f]{16}@help\.test' <<<"$AGENT_RT")
check "the agent mail's Reply-To is ticket 1's agent address: '$AGENT_RT'" test -n "$AGENT_REPLY"
body "$NOTE" >"$NOTE.txt"
check "it is the 'assigned to you' mail" grep -q 'assigned to you' "$NOTE.txt"
check "the agent mail shows the note address" grep -qE 'support\+1-note-[0-9a-f]{8}-[0-9a-f]{16}@help\.test' "$NOTE.txt"
n_alice=$(maildir_count)
i=0
for client in outlook gmail thunderbird; do
	i=$((i + 1))
	python3 "$MAILDESK_SRCDIR/tests/e2e/mailclients.py" "$client" "Pat Agent <pat@staff.test>" "$NOTE" \
		"Answer number $i from $client: please unplug the printer." >"$T/out/r$i.eml"
	submit "the $client reply" --from pat@staff.test --to "$AGENT_REPLY" --data "@$T/out/r$i.eml"
	is "the $client reply reached maildesk" "$(pipe_status "$QID")" sent
done
NOTE_ADDR=$(grep -oE 'support\+1-note-[0-9a-f]{8}-[0-9a-f]{16}@help\.test' "$NOTE.txt" | head -1)
submit "a note" --from pat@staff.test --to "$NOTE_ADDR" \
	--header "Subject: note" --body "NOTE-MARKER-e2e the customer is a VIP"
submit "a spoofed agent mail" --from pat@staff.test --to support@help.test \
	--header "Subject: Re: $ACK_SUBJECT" --header "In-Reply-To: <$Q1_ID>" \
	--body "$(printf '#status closed\n\nSPOOF-MARKER-e2e free printers for all')"
is "the spoofed mail closed nothing" "$(sql 'SELECT status FROM tickets WHERE id = 1')" open
check "send --once delivers the replies" mdq send3 send --once
check "alice's Maildir gets the three replies" wait_for 30 has_mail $((n_alice + 3))
is "and nothing more" "$(maildir_count)" $((n_alice + 3))
for i in 1 2 3; do
	F=$(mail_with "$MAILDIR" "Answer number $i ")
	check "reply $i is in alice's Maildir" test -n "$F"
	[ -n "$F" ] || continue
	headers "$F"
	check "reply $i comes from the support address in Pat's name" grep -qE '^"?Pat Agent via Test Support"? <support@help\.test>$' <<<"$(hdr "$F" From)"
	is "reply $i is threaded to alice's last message" "$(hdr "$F" In-Reply-To)" "<$Q2_ID>"
	check "reply $i's References hold alice's first message" grep -qF "<$Q1_ID>" <<<"$(hdr "$F" References)"
	is "reply $i has none of the quoted agent mail" "$(body "$F" | grep -ciE 'wrote:|^> |From: |Sent: |##-|assigned to you|note address|my printer is broken')" 0
done
is "no mail to alice holds the note or the spoof" "$(mail_with "$MAILDIR" NOTE-MARKER)$(mail_with "$MAILDIR" SPOOF-MARKER)" ""
agent_warned() { [ -n "$(mail_with "$AGENTDIR" SPOOF-MARKER-e2e)" ]; }
check "the agent is warned of the spoofed mail" wait_for 30 agent_warned

# --- fair assignment: three agents with max_open = 2, eight tickets
first=$(( $(sql 'SELECT max(id) FROM tickets') + 1 ))
for i in 1 2 3 4 5 6 7 8; do
	submit "billing question $i" --from alice@customer.test --to billing@help.test \
		--header "Subject: Invoice question $i" --body "Question number $i about my invoice."
done
is "eight billing tickets, six assigned in turn, two waiting" \
	"$(sql "SELECT group_concat(coalesce(assignee, '-'), ' ') FROM (SELECT assignee FROM tickets WHERE queue = 'billing' ORDER BY id)")" \
	"xena@staff.test yuri@staff.test zoe@staff.test xena@staff.test yuri@staff.test zoe@staff.test - -"
check "send --once delivers the agent mail" mdq send4 send --once
for a in xena yuri zoe; do
	check "$a's Maildir gets two 'assigned' and two 'waiting' mails" wait_for 30 has_mail 4 "$T/vmail/staff.test/$a"
	is "and nothing more" "$(maildir_count "$T/vmail/staff.test/$a")" 4
done
W1=$((first + 6))
YURI1=$(mail_with "$T/vmail/staff.test/yuri" "Invoice question 2")
check "yuri has the mail for his first ticket" test -n "$YURI1"
headers "$YURI1"
python3 "$MAILDESK_SRCDIR/tests/e2e/mailclients.py" thunderbird "yuri@staff.test" "$YURI1" \
	"$(printf '#status solved\n\nThe invoice is corrected.')" >"$T/out/yuri.eml"
submit "yuri solves his first ticket" --from yuri@staff.test --to "$(hdr "$YURI1" Reply-To | tr -d '<>')" --data "@$T/out/yuri.eml"
is "ticket $((first + 1)) is solved" "$(sql "SELECT status FROM tickets WHERE id = $((first + 1))")" solved
is "the oldest waiting ticket ($W1) now is yuri's" "$(sql "SELECT assignee FROM tickets WHERE id = $W1")" yuri@staff.test
is "the other one still waits" "$(sql "SELECT coalesce(assignee, '-') FROM tickets WHERE id = $((W1 + 1))")" -
is "nobody holds more than two" "$(sql "SELECT count(*) FROM (SELECT assignee FROM tickets WHERE queue = 'billing' AND status NOT IN ('solved','closed') AND assignee IS NOT NULL GROUP BY assignee HAVING count(*) > 2)")" 0
check "send --once delivers yuri's new ticket" mdq send5 send --once
yuri_has_it() { [ -n "$(mail_with "$T/vmail/staff.test/yuri" "[#$W1]" "assigned to you")" ]; }
check "yuri's Maildir gets the 'assigned' mail of the waiting ticket" wait_for 30 yuri_has_it

# --- the LMTP transport: Postfix's lmtp client -> maildesk lmtpd
mkdir -p "$T/run" && chown "$MDUSER:$MDGID" "$T/run" && chmod 755 "$T/run"
LMTP_SOCK=$T/run/lmtp.sock
# setpriv execs, so $! is lmtpd itself (runuser would stand between)
start_lmtpd() {
	setpriv --reuid="$MDUID" --regid="$MDGID" --init-groups -- "$T/bin/maildesk" -c "$CONF" lmtpd --listen "unix:$LMTP_SOCK" \
		>>"$T/out/lmtpd" 2>&1 &
	LMTPD_PID=$!
	wait_for 20 test -S "$LMTP_SOCK"
}
stop_lmtpd() { kill "$LMTPD_PID" && wait "$LMTPD_PID"; local rc=$?; LMTPD_PID=; return $rc; }
check "lmtpd starts as $MDUSER on $LMTP_SOCK" start_lmtpd
is "the snippet's LMTP service is there" "$(postconf -c "$PF" -M maildesk-lmtp/unix | awk '{print $8}')" lmtp
sed -i "s|^help@help.test .*|help@help.test maildesk-lmtp:unix:$LMTP_SOCK|" "$PF/transport"
postmap -c "$PF" "hash:$PF/transport" || bail "postmap $PF/transport failed"
postfix -c "$PF" reload >/dev/null 2>&1 || bail "postfix reload failed"
# lmtp_line QID RCPT: the last maillog line of the LMTP delivery of QID to RCPT
lmtp_line() { grep -F " $1: to=<$2>, " "$LOG" 2>/dev/null | grep -E 'postfix/lmtp\[[0-9]+\]: .* status=' | tail -1; }
lmtp_status() { lmtp_line "$1" "$2" | sed -n 's/.* status=\([a-z]*\).*/\1/p'; }
lmtp_sent() { [ "$(lmtp_status "$1" "$2")" = sent ]; }
lmtp_done() { [ -n "$(lmtp_line "$1" "$2")" ]; }
L1_ID="l1.$$.$RANDOM@customer.test"
QID=$(smtp l1 --from carol@customer.test --to "help@help.test,help+x@help.test" \
	--header "Subject: Over LMTP" --header "Message-Id: <$L1_ID>" --body "Sent through lmtpd.")
check "Postfix accepted the LMTP message (queue id '$QID')" test -n "$QID"
check "LMTP delivery to help@ finished" wait_for 30 lmtp_done "$QID" help@help.test
check "LMTP delivery to help+x@ finished" wait_for 30 lmtp_done "$QID" help+x@help.test
diag "$(lmtp_line "$QID" help@help.test)"
is "help@ sent over LMTP" "$(lmtp_status "$QID" help@help.test)" sent
is "help+x@ sent in the same LMTP transaction" "$(lmtp_status "$QID" help+x@help.test)" sent
check "lmtpd's per-recipient reply names the ticket" grep -qE "\(250 2\.0\.0 <help\+x@help\.test> Ok ticket=[0-9]+\)" <<<"$(lmtp_line "$QID" help+x@help.test)"
is "stored once, a ticket for carol" \
	"$(sql "SELECT count(*) || ' ' || min(c.address) FROM messages m JOIN tickets t ON t.id = m.ticket_id JOIN customers c ON c.id = t.customer_id WHERE m.message_id = '$L1_ID'")" \
	"1 carol@customer.test"
is "Return-Path first, as with pipe(8) flags=R" \
	"$(sql "SELECT CAST(substr(raw, 1, 34) AS TEXT) FROM messages WHERE message_id = '$L1_ID'")" "Return-Path: <carol@customer.test>"
is "carol's acknowledgement queued" \
	"$(sql "SELECT count(*) FROM outbox o JOIN messages m ON m.ticket_id = o.ticket_id WHERE m.message_id = '$L1_ID' AND o.kind = 'ack'")" 1
LQIDS=
for i in 1 2 3 4 5; do
	LQIDS="$LQIDS $(smtp "lm$i" --from "dan$i@customer.test" --to help@help.test \
		--header "Subject: LMTP batch $i" --header "Message-Id: <lm$i.$$@customer.test>" --body "Message $i.")"
done
all_lmtp_sent() { local q; for q in $LQIDS; do lmtp_sent "$q" help@help.test || return 1; done; }
check "five more messages delivered over LMTP" wait_for 30 all_lmtp_sent
is "five more tickets" "$(sql "SELECT count(DISTINCT ticket_id) FROM messages WHERE message_id LIKE 'lm_.$$@customer.test'")" 5
check "lmtpd stops on SIGTERM with exit 0" stop_lmtpd
L2_ID="l2.$$.$RANDOM@customer.test"
QID=$(smtp l2 --from erin@customer.test --to help@help.test \
	--header "Subject: While lmtpd is down" --header "Message-Id: <$L2_ID>" --body "Anyone?")
check "with lmtpd down the LMTP delivery is tried" wait_for 30 lmtp_done "$QID" help@help.test
is "and deferred, not bounced" "$(lmtp_status "$QID" help@help.test)" deferred
check "lmtpd starts again" start_lmtpd
postqueue -c "$PF" -f
check "after postqueue -f it arrives over LMTP" wait_for 30 lmtp_sent "$QID" help@help.test
is "stored once" "$(sql "SELECT count(*) FROM messages WHERE message_id = '$L2_ID'")" 1
check "lmtpd stops again" stop_lmtpd

# --- the log overall
is "every pipe delivery to maildesk ended sent" \
	"$(grep -cE 'relay=maildesk,.* status=sent' "$LOG")" 18
is "Postfix bounced nothing" "$(grep -c 'status=bounced' "$LOG")" 0
is "no fatal or panic in the Postfix log" "$(grep -cE ': (fatal|panic):' "$LOG")" 0
grep -E ': warning:' "$LOG" | head -5 | sed 's/^/# /'

done_testing
