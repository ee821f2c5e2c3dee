#!/bin/bash
# End to end without Postfix: maildesk deliver -> ticket -> outbox ->
# maildesk send over real SMTP to Postfix's smtp-sink on loopback.
# Covers threading (token, references, tag, reopen, new linked), the
# acknowledgement's headers in three languages, guards and the JSON shapes.
. "$MAILDESK_SRCDIR/tests/lib.sh"
trap cleanup_site EXIT

PORT=$(free_port)
make_site "smtp://127.0.0.1:$PORT"
SINK=$SITE/sink
start_sink "$PORT" "$SINK"
SINKMAIL="python3 $MAILDESK_SRCDIR/tests/e2e/sinkmail.py"

msg() { # msg FILE FROM SUBJECT MESSAGE-ID [extra header lines...] ; body from stdin
	local f=$SITE/$1 from=$2 subject=$3 mid=$4; shift 4
	{
		echo "From: $from"
		echo "To: support@example.com"
		echo "Subject: $subject"
		echo "Date: Mon, 23 Nov 2026 10:00:00 +0200"
		[ -n "$mid" ] && echo "Message-ID: <$mid>"
		for h in "$@"; do echo "$h"; done
		echo "MIME-Version: 1.0"
		echo "Content-Type: text/plain; charset=utf-8"
		echo
		cat
	} >"$f"
}

# --- new questions in three languages
msg en.eml "Ann Smith <ann@example.org>" "Printer on fire" "en-1@example.org" <<<"Hello, my printer is broken."
msg ru.eml "Иван <ivan@example.ru>" "Принтер не печатает" "ru-1@example.ru" <<<"Здравствуйте! Принтер не печатает уже второй день."
msg lv.eml "Jānis <janis@example.lv>" "Printeris nedrukā" "lv-1@example.lv" <<<"Labdien! Mūsu printeris nedrukā, lūdzu palīdziet."
check "new English question delivered" deliver "$SITE/en.eml" --sender ann@example.org --recipient support@example.com
check "new Russian question delivered" deliver "$SITE/ru.eml" --sender ivan@example.ru --recipient support@example.com
check "new Latvian question delivered" deliver "$SITE/lv.eml" --sender janis@example.lv --recipient sales@example.com
is "three tickets" "$(sql 'SELECT count(*) FROM tickets')" 3
is "languages detected" "$(sql 'SELECT group_concat(language) FROM (SELECT language FROM tickets ORDER BY id)')" "en,ru,lv"
is "queue from the recipient" "$(sql 'SELECT queue FROM tickets WHERE id = 3')" "sales"
is "three acknowledgements queued" "$(sql "SELECT count(*) FROM outbox WHERE status = 'queued'")" 3

check "send --once drains the outbox" md send --once
is "outbox rows sent" "$(sql "SELECT count(*) FROM outbox WHERE status = 'sent'")" 3
sleep 0.5
$SINKMAIL "$SINK" >"$SITE/sent.json"
python3 - "$SITE/sent.json" "$SITE/secret" >"$SITE/py.out" <<'PY'
import json, sys, re
mails = json.load(open(sys.argv[1]))
n = 0
def t(cond, text):
    global n; n += 1
    print(("ok " if cond else "not ok ") + f"{n} - {text}")
t(len(mails) == 3, f"3 mails reached the relay (got {len(mails)})")
by = {re.sub(r"[<>]", "", m["rcpt_to"]): m for m in mails}
for addr, tid, mid, words in [("ann@example.org", 1, "en-1@example.org", ["#1", "Thank you", "reply"]),
                               ("ivan@example.ru", 2, "ru-1@example.ru", ["#2", "Вы"]),
                               ("janis@example.lv", 3, "lv-1@example.lv", ["#3", "Jūs"])]:
    m = by.get(addr)
    t(m is not None, f"ack to {addr}")
    if m is None: continue
    h = m["headers"]
    t(f"[#{tid}]" in h.get("subject", ""), f"{addr}: subject carries [#{tid}]: {h.get('subject')!r}")
    base = "sales" if tid == 3 else "support"
    t(re.fullmatch(rf"<?{base}\+{tid}-[0-9a-f]{{16}}@example\.com>?", h.get("reply-to", "").strip()) is not None,
      f"{addr}: signed Reply-To {h.get('reply-to')!r}")
    t(h.get("in-reply-to") == f"<{mid}>", f"{addr}: In-Reply-To names the customer's message")
    t(f"<{mid}>" in h.get("references", ""), f"{addr}: References names the customer's message")
    t(re.fullmatch(rf"<t{tid}\.[^@]+@help\.example\.com>", h.get("message-id", "")) is not None,
      f"{addr}: our own Message-ID {h.get('message-id')!r}")
    t(h.get("auto-submitted") == "auto-replied", f"{addr}: Auto-Submitted: auto-replied")
    t(h.get("x-auto-response-suppress") == "All", f"{addr}: X-Auto-Response-Suppress: All")
    t("Example Support" in h.get("from", "") and "support@example.com" in h.get("from", "")
      if tid != 3 else "sales@example.com" in h.get("from", ""), f"{addr}: From the queue address: {h.get('from')!r}")
    t(re.search(rf"<?support\+{tid}-bounce-[0-9a-f]{{16}}@example\.com>?", m["mail_from"]) is not None
      or re.search(rf"<?sales\+{tid}-bounce-[0-9a-f]{{16}}@example\.com>?", m["mail_from"]) is not None,
      f"{addr}: envelope sender is the signed bounce address {m['mail_from']!r}")
    t(m["raw_is_7bit"], f"{addr}: message is 7-bit clean on the wire")
    for w in words:
        t(w in m["text"], f"{addr}: text mentions {w!r}")
    t(re.search(r"20\d\d", m["text"]) is not None, f"{addr}: text states an ETA date")
print(f"# py {n}")
PY
while read -r line; do case $line in ok*) ok "${line#ok [0-9]* - }";; "not ok"*) not_ok "${line#not ok [0-9]* - }";; esac; done <"$SITE/py.out"

# --- replies thread into the right ticket
REPLY_TO=$(sql "SELECT rcpts FROM outbox LIMIT 0"; python3 -c "
import json,re,sys
for m in json.load(open('$SITE/sent.json')):
    if 'ann@' in m['rcpt_to']: print(re.search(r'support\+1-[0-9a-f]+@example\.com', m['headers']['reply-to']).group(0))")
ACK_ID=$(python3 -c "
import json
for m in json.load(open('$SITE/sent.json')):
    if 'ann@' in m['rcpt_to']: print(m['headers']['message-id'].strip('<>'))")
msg r1.eml "Ann Smith <ann@example.org>" "Re: [#1] Printer on fire" "en-2@example.org" <<<"It is still burning."
check "reply to the signed address delivered" deliver "$SITE/r1.eml" --sender ann@example.org --recipient "$REPLY_TO"
is "reply by token lands on ticket 1" "$(sql "SELECT ticket_id FROM messages WHERE message_id = 'en-2@example.org'")" 1
msg r2.eml "Ann Smith <ann@example.org>" "Re: Printer on fire" "en-3@example.org" "In-Reply-To: <$ACK_ID>" <<<"Any news?"
check "reply by In-Reply-To delivered" deliver "$SITE/r2.eml" --sender ann@example.org --recipient support@example.com
is "reply by In-Reply-To lands on ticket 1" "$(sql "SELECT ticket_id FROM messages WHERE message_id = 'en-3@example.org'")" 1
msg r3.eml "Ann Smith <ann@example.org>" "Re: [#1] one more thing" "en-4@example.org" <<<"Also the scanner."
check "tagged mail from a participant delivered" deliver "$SITE/r3.eml" --recipient support@example.com
is "subject tag from a participant threads" "$(sql "SELECT ticket_id FROM messages WHERE message_id = 'en-4@example.org'")" 1
msg e1.eml "Eve <eve@example.net>" "Re: [#1] let me in" "eve-1@example.net" <<<"Show me ticket 1."
check "tagged mail from a stranger delivered" deliver "$SITE/e1.eml" --recipient support@example.com
is "subject tag from a stranger opens a new ticket" "$(sql "SELECT ticket_id != 1 FROM messages WHERE message_id = 'eve-1@example.net'")" 1
msg e2.eml "Eve <eve@example.net>" "Printer on fire" "eve-2@example.net" <<<"Forged token."
check "mail to a forged token delivered" deliver "$SITE/e2.eml" --recipient "support+1-0123456789abcdef@example.com"
is "forged token opens a new flagged ticket" \
	"$(sql "SELECT t.id != 1 AND t.needs_attention FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE m.message_id = 'eve-2@example.net'")" 1
is "no reply was acknowledged again" "$(sql "SELECT count(*) FROM outbox WHERE ticket_id = 1")" 1

msg e3.eml "Eve <eve@example.net>" "Hello" "eve-3@example.net" "X-Maildesk-Ticket: [#1]" "X-Maildesk-Kind: reply" <<<"Our own headers from outside."
check "mail with forged X-Maildesk headers delivered" deliver "$SITE/e3.eml" --recipient support@example.com
is "X-Maildesk-* headers from outside are ignored" \
	"$(sql "SELECT ticket_id != 1 AND kind = 'customer' FROM messages WHERE message_id = 'eve-3@example.net'")" 1
msg v.eml "Vera <vera@example.net>" "Verbose" "v-1@example.net" <<<"Log line."
md -v deliver --recipient support@example.com <"$SITE/v.eml" >/dev/null 2>"$SITE/v.err"
check "deliver -v writes the Postfix-style log line to stderr" \
	grep -qE "ticket=[0-9]+ msgid=<v-1@example.net> from=<vera@example.net> .*action=new" "$SITE/v.err"

# --- solved reopens, closed long ago opens a new linked ticket
sql "UPDATE tickets SET status = 'solved' WHERE id = 2"
msg ru2.eml "Иван <ivan@example.ru>" "Re: [#2] Принтер" "ru-2@example.ru" <<<"Опять не печатает."
check "reply to a solved ticket delivered" deliver "$SITE/ru2.eml" --recipient support@example.com
is "a reply reopens a solved ticket" "$(sql 'SELECT status FROM tickets WHERE id = 2')" open
is "the reopening is an event" "$(sql "SELECT count(*) FROM events WHERE ticket_id = 2 AND what = 'status' AND old_value = 'solved' AND new_value = 'open'")" 1
sql "UPDATE tickets SET status = 'closed', closed_at = strftime('%s','now') - 40*86400 WHERE id = 3"
msg lv2.eml "Jānis <janis@example.lv>" "Re: [#3] Printeris" "lv-2@example.lv" <<<"Atkal nedrukā."
check "reply to a long-closed ticket delivered" deliver "$SITE/lv2.eml" --recipient sales@example.com
NEWT=$(sql "SELECT ticket_id FROM messages WHERE message_id = 'lv-2@example.lv'")
is "a reply to a long-closed ticket opens a new one" "$([ "$NEWT" -gt 3 ] && echo yes)" yes
is "the new ticket links the old" "$(sql "SELECT linked_ticket FROM tickets WHERE id = $NEWT")" 3
is "the old ticket stays closed" "$(sql 'SELECT status FROM tickets WHERE id = 3')" closed

# --- noise gets no acknowledgement but is stored
msg auto.eml "Bob <bob@example.com>" "Out of office" "auto-1@example.com" "Auto-Submitted: auto-replied" <<<"I am away."
msg list.eml "Carl <carl@example.com>" "Weekly digest" "list-1@example.com" "List-Id: <news.example.com>" "Precedence: list" <<<"News."
for f in auto list; do
	check "$f mail delivered" deliver "$SITE/$f.eml" --sender bob@example.com --recipient support@example.com
	is "$f mail stored" "$(sql "SELECT count(*) FROM messages WHERE message_id = '$f-1@example.com'")" 1
	is "$f mail not acknowledged" "$(sql "SELECT count(*) FROM outbox o JOIN messages m ON m.ticket_id = o.ticket_id WHERE m.message_id = '$f-1@example.com'")" 0
done
msg null.eml "Dora <dora@example.com>" "Question" "null-1@example.com" <<<"From the null sender."
check "null-sender mail delivered" deliver "$SITE/null.eml" --sender "" --recipient support@example.com
is "null-sender mail not acknowledged" "$(sql "SELECT count(*) FROM outbox o JOIN messages m ON m.ticket_id = o.ticket_id WHERE m.message_id = 'null-1@example.com'")" 0

# --- header injection through an encoded subject
msg inj.eml "Mallory <mallory@example.com>" "=?UTF-8?Q?Hi=0D=0ABcc:_victim@example.net=0D=0AX-Evil:_1?=" "inj-1@example.com" <<<"Inject."
check "hostile subject delivered" deliver "$SITE/inj.eml" --recipient support@example.com
# --- mbox From_ line and CRLF line ends
{ echo "From mallory@example.com Mon Nov 23 10:00:00 2026"; sed 's/$/\r/' "$SITE/en.eml" | sed 's/en-1@example.org/crlf-1@example.org/'; } >"$SITE/crlf.eml"
check "CRLF message with an mbox From_ line delivered" deliver "$SITE/crlf.eml" --recipient support@example.com
is "CRLF message parsed" "$(sql "SELECT subject FROM messages WHERE message_id = 'crlf-1@example.org'")" "Printer on fire"
is "From_ line not stored" "$(sql "SELECT CAST(substr(raw, 1, 5) AS TEXT) = 'From:' FROM messages WHERE message_id = 'crlf-1@example.org'")" 1

rm -rf "$SINK"/*
check "second send drains the rest" md send --once
sleep 0.5
$SINKMAIL "$SINK" >"$SITE/sent2.json"
is "no header was injected into the acknowledgement" "$(python3 -c "
import json
ms = [m for m in json.load(open('$SITE/sent2.json')) if 'mallory' in m['rcpt_to']]
print(len(ms) == 1 and 'bcc' not in ms[0]['header_names'] and 'x-evil' not in ms[0]['header_names'] and
      'victim' not in ms[0]['rcpt_to'])")" True
is "nothing went to the stranger's injected Bcc" "$(grep -rl 'victim@example.net' "$SINK" | xargs -r grep -l '^X-Rcpt-Args:.*victim' | wc -l)" 0

# --- the JSON interface
md ticket show 1 --json >"$SITE/show.json"
is "ticket show --json has the documented shape" "$(python3 -c "
import json
t = json.load(open('$SITE/show.json'))
keys = {'id','status','priority','queue','customer','assignee','eta','messages'}
mk = {'direction','kind','from','to','subject','message_id','text'}
ok = keys <= t.keys() and t['id'] == 1 and t['customer'] == 'ann@example.org' and t['assignee'] is None
ok = ok and all(mk <= m.keys() for m in t['messages'])
ok = ok and [m['direction'] for m in t['messages']][:2] == ['in', 'out'] and t['messages'][1]['kind'] == 'system'
ok = ok and t['eta'].endswith('Z') and len(t['messages']) == 5
print(ok)")" True
md ticket list --json >"$SITE/list.json"
is "ticket list --json has the documented shape" "$(python3 -c "
import json
l = json.load(open('$SITE/list.json'))
print(len(l) >= 10 and all({'id','status','subject','customer','assignee'} <= t.keys() for t in l))")" True
is "ticket list --status filters" "$(md ticket list --json --status closed | python3 -c 'import json,sys; print([t["id"] for t in json.load(sys.stdin)])')" "[3]"
md ticket show 999 >/dev/null 2>&1
is "ticket show of a missing ticket exits 66" "$?" 66
# --- a delivery status report about our acknowledgement of ticket 1
BOUNCE=$(sql "SELECT env_from FROM outbox WHERE ticket_id = 1 AND kind = 'ack'")
CUST=$(sql "SELECT c.address FROM tickets t JOIN customers c ON c.id = t.customer_id WHERE t.id = 1")
check "the ack's envelope sender is ticket 1's bounce address" grep -qE '^support\+1-bounce-[0-9a-f]{16}@example\.com$' <<<"$BOUNCE"
printf '%s\n' "From: MAILER-DAEMON@mx.example.org" "To: $BOUNCE" "Subject: Undelivered Mail Returned to Sender" \
	"Message-ID: <dsn-1@mx.example.org>" "MIME-Version: 1.0" \
	'Content-Type: multipart/report; report-type=delivery-status; boundary="b"' "" "--b" \
	"Content-Type: text/plain" "" "Your message could not be delivered." "--b" \
	"Content-Type: message/delivery-status" "" "Reporting-MTA: dns; mx.example.org" "" \
	"Final-Recipient: rfc822; $CUST" "Action: failed" "Status: 5.1.1" "" "--b--" >"$SITE/dsn.eml"
outbox_before=$(sql "SELECT count(*) FROM outbox")
check "the report is delivered" deliver "$SITE/dsn.eml" --sender "" --recipient "$BOUNCE"
is "it is kept on ticket 1, for agents" "$(sql "SELECT ticket_id || ' ' || kind || ' ' || audience FROM messages WHERE message_id = 'dsn-1@mx.example.org'")" "1 system agents"
is "the customer is marked as bouncing" "$(sql "SELECT bouncing FROM customers WHERE address = '$CUST'")" 1
is "a bounced event names the address" "$(sql "SELECT new_value FROM events WHERE ticket_id = 1 AND what = 'bounced'")" "$CUST"
is "the report is never answered" "$(sql "SELECT count(*) FROM outbox")" "$outbox_before"
is "ticket 1 needs attention" "$(sql "SELECT needs_attention FROM tickets WHERE id = 1")" 1

# --- the pipe's program (contrib/postfix): maildesk-deliver, with
# send_after_deliver on, starts "maildesk send" beside it, and the
# acknowledgement reaches the relay with no send run by hand
LEAN=$(dirname "$MAILDESK_BIN")/maildesk-deliver
sed -i 's/^send_after_deliver = no$/send_after_deliver = yes/' "$CONF"
msg lean.eml "Lena <lena@example.org>" "Scanner jammed" "lean-1@example.org" <<<"The scanner in room 4 is jammed."
check "maildesk-deliver takes a new question" \
	"$LEAN" -c "$CONF" deliver --sender lena@example.org --recipient support@example.com <"$SITE/lean.eml"
LEAN_T=$(sql "SELECT ticket_id FROM messages WHERE message_id = 'lean-1@example.org'")
ack_status() { sql "SELECT status FROM outbox WHERE ticket_id = '$LEAN_T' AND kind = 'ack'"; }
for _ in $(seq 1 100); do [ "$(ack_status)" = sent ] && break; sleep 0.2; done
is "its background sender sent the acknowledgement" "$(ack_status)" sent
sed -i 's/^send_after_deliver = yes$/send_after_deliver = no/' "$CONF"

check "check-config accepts the test site" md check-config
sed -e "s|^database = .*|database = $SITE/sample/md.db|" -e "s|^secret_file = .*|secret_file = $SITE/sample/secret|" \
	-e "s|^templates = .*|templates = $MAILDESK_SRCDIR/templates|" \
	"$MAILDESK_SRCDIR/contrib/maildesk.conf.sample" >"$SITE/sample.conf"
"$MAILDESK_BIN" -c "$SITE/sample.conf" init >/dev/null 2>&1
check "the sample configuration passes check-config" "$MAILDESK_BIN" -c "$SITE/sample.conf" check-config
is "init made the secret readable by its owner only" "$(stat -c %a "$SITE/secret")" 600
is "init made the database unreadable to others" "$(stat -c %a "$DB")" 640
md check-config >/dev/null 2>"$SITE/cc.err"
is "no warning about modes as init made them" "$(grep -c 'warning: \(secret\|database\)' "$SITE/cc.err")" 0
chmod 644 "$SITE/secret"
chmod 666 "$DB"
md check-config >/dev/null 2>"$SITE/cc.err"
is "looser modes are only warnings" "$?" 0
check "check-config warns about a world-readable secret" grep -q "warning: secret $SITE/secret has mode 0644" "$SITE/cc.err"
check "check-config warns about a world-writable database" grep -q "warning: database $DB has mode 0666" "$SITE/cc.err"
chmod 600 "$SITE/secret"
chmod 640 "$DB"

done_testing
