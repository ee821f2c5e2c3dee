#!/bin/bash
# The main job on an embedded default: installs the build dependencies,
# builds maildesk, and runs it on a demo site under ./demo/ with a SQLite
# file and a local SMTP sink (Postfix's smtp-sink) that stores outgoing
# mail under demo/outgoing/.  Feeds example messages through
# `maildesk deliver`, runs `maildesk send`, and prints the tickets and
# where the acknowledgements landed.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
bash scripts/install-deps.sh
[ -x configure ] || autoreconf -fi
mkdir -p build/plain
(cd build/plain && { [ -f Makefile ] || "$top/configure" -q; } && make -j2 -s >/dev/null)
MD=$top/build/plain/maildesk

DEMO=$top/demo
rm -rf "$DEMO"
mkdir -p "$DEMO/outgoing"
chmod 777 "$DEMO/outgoing"
PORT=${MAILDESK_DEMO_PORT:-2526}
cat >"$DEMO/maildesk.conf" <<CONF
[maildesk]
database = maildesk.db
secret_file = secret
hostname = help.example.com
templates = $top/templates
site_name = Example Support
send_after_deliver = no

[smtp]
url = smtp://127.0.0.1:$PORT
starttls = never

[queue support]
address = support@example.com

[agent alice]
address = alice@example.net
name = Alice Agent
queues = support
max_open = 2

[agent dan]
address = dan@example.net
name = Dan Agent
queues = support
max_open = 2
CONF
export MAILDESK_CONFIG=$DEMO/maildesk.conf
# maildesk refuses to run as root unless [maildesk] user names whom to
# become; this throw-away demo, often run as root from a checkout in
# /root where no other user may enter, keeps root on purpose
[ "$(id -u)" = 0 ] && export MAILDESK_ALLOW_ROOT=1

user=
[ "$(id -u)" = 0 ] && user="-u nobody"
/usr/sbin/smtp-sink $user -d "$DEMO/outgoing/%M." "127.0.0.1:$PORT" 10 &
SINK=$!
trap 'kill $SINK 2>/dev/null' EXIT

"$MD" init
deliver() { # deliver FILE SENDER [RECIPIENT]
	local rc=0
	"$MD" deliver --sender "$2" --recipient "${3:-support@example.com}" <"$1" || rc=$?
	printf '  %-28s from %-22s exit %d\n' "$(basename "$1")" "$2" "$rc"
}
M=$top/contrib/demo/messages
echo "Delivering example messages:"
deliver "$M/1-en-question.eml" ann@example.org
deliver "$M/2-ru-question.eml" ivan@example.ru
deliver "$M/3-lv-question.eml" janis@example.lv
# the customer answers the acknowledgement: In-Reply-To its Message-ID,
# sent to its signed Reply-To address
ACK=$(sqlite3 "$DEMO/maildesk.db" "SELECT message_id FROM messages WHERE ticket_id = 1 AND direction = 'out' AND audience = 'customer'")
REPLYTO=$(sqlite3 "$DEMO/maildesk.db" "SELECT cast(raw AS TEXT) FROM messages WHERE ticket_id = 1 AND direction = 'out' AND audience = 'customer'" |
	sed -n 's/^Reply-To: *<\{0,1\}\([^>]*\)>\{0,1\}.*/\1/p' | tr -d '\r')
sed -e "s/^Subject: .*/Subject: Re: [#1] Printer prints blank pages/" \
    -e "s/^Message-ID: .*/Message-ID: <demo-en-2@example.org>\nIn-Reply-To: <$ACK>/" \
    -e "s/^To: .*/To: $REPLYTO/" "$M/1-en-question.eml" >"$DEMO/4-reply.eml"
printf '\nThe toner was empty, sorry. It works now.\n' >>"$DEMO/4-reply.eml"
deliver "$DEMO/4-reply.eml" ann@example.org "$REPLYTO"
echo "  (duplicate redelivery of the first message:)"
deliver "$M/1-en-question.eml" ann@example.org
deliver "$M/5-autoreply.eml" bob@example.com

# the agent answers from her mail client (Gmail-style quoting below her
# words), with a command first; then writes an internal note
echo "The agent works ticket 1 by mail:"
sqlite3 "$DEMO/maildesk.db" "SELECT cast(raw AS TEXT) FROM outbox WHERE ticket_id = 1 AND kind = 'agent-assigned'" >"$DEMO/6-assigned.eml"
AGENT_RT=$(sed -n 's/^Reply-To: *<\{0,1\}\([^>]*\)>\{0,1\}.*/\1/p' "$DEMO/6-assigned.eml" | tr -d '\r')
python3 "$top/tests/e2e/mailclients.py" gmail "Alice Agent <alice@example.net>" "$DEMO/6-assigned.eml" \
	"$(printf '#status pending\n\nHello Ann, glad it works. Please tell us if the\npages come out blank again.')" >"$DEMO/7-agent-reply.eml"
deliver "$DEMO/7-agent-reply.eml" alice@example.net "$AGENT_RT"
NOTE_ADDR=$(python3 -c 'import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print(m.get_body(preferencelist=("plain",)).get_content())' "$DEMO/6-assigned.eml" |
	grep -oE 'support\+1-note-[0-9a-f]{8}-[0-9a-f]{16}@example\.com' | head -1)
printf 'From: Alice Agent <alice@example.net>\nTo: %s\nSubject: note\nMessage-ID: <demo-note-1@example.net>\n\nAnn has called twice about this printer.\n' \
	"$NOTE_ADDR" >"$DEMO/8-note.eml"
deliver "$DEMO/8-note.eml" alice@example.net "$NOTE_ADDR"

echo
echo "Sending the outbox to the local sink (smtp://127.0.0.1:$PORT):"
"$MD" send --once
sleep 0.5
echo
"$MD" ticket list
echo
"$MD" agent list
echo
echo "Ticket 1 holds (the reply threaded in, the redelivery added nothing):"
sqlite3 -separator '  ' "$DEMO/maildesk.db" \
	"SELECT '  ' || direction, kind, coalesce(from_addr, ''), subject FROM messages WHERE ticket_id = 1 ORDER BY id"
echo "Withheld acknowledgements:"
sqlite3 "$DEMO/maildesk.db" "SELECT '  ticket ' || ticket_id || ': ' || new_value FROM events WHERE what = 'ack-withheld'"
echo
echo "Outgoing mail (acknowledgements, agent mail, the agent's reply) landed in $DEMO/outgoing/:"
python3 - "$DEMO/outgoing" <<'PY'
import email, email.policy, os, sys
d = sys.argv[1]
for name in sorted(os.listdir(d)):
    m = email.message_from_bytes(open(os.path.join(d, name), "rb").read(), policy=email.policy.default)
    print(f"  {name}  to {m['X-Rcpt-Args']}  Subject: {m['Subject']}")
PY
echo
echo "Read one:   cat demo/outgoing/<file>     A ticket:   ${MAILDESK_ALLOW_ROOT:+MAILDESK_ALLOW_ROOT=1 }$MD -c $DEMO/maildesk.conf ticket show 1"
