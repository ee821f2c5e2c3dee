#!/usr/bin/env python3
"""Every JSON output of maildesk is valid JSON for any stored text (issue
12, point 7).  Mail delivered with `maildesk deliver` carries every C0
control character, DEL, C1 controls, U+2028, U+2029, bytes that are not UTF-8 and NULs
in its subject, its sender's display name, its body (plain, base64, HTML)
and an attachment's file name, both raw and RFC 2047/2231 encoded; an
agent's reply through the agent address carries them too, and so do an
agent's display name in the config and, written by other hands, text
columns of the database.

Then every JSON command (ticket list, ticket list --status, ticket show of
every ticket, agent list, report --format json) must print text that is
UTF-8, that Python's json.loads parses with strict=True, and whose bytes
hold no control character (C0 or C1) but the line feeds between members,
no DEL and no raw U+2028/U+2029.  What JSON shows is what is stored, escaped rather
than dropped: a NUL or a byte that is not UTF-8 in a stored value shows as
U+FFFD.  Output is TAP."""

import base64
import email
import email.policy
import json
import os
import subprocess
import sys
import urllib.parse

BIN = os.environ["MAILDESK_BIN"]
SRC = os.environ["MAILDESK_SRCDIR"]
sys.path.insert(0, os.path.join(SRC, "tests"))
from mdsite import SiteDB  # noqa: E402
from tap import done, eq, result  # noqa: E402

RCPT = "support@example.com"
# every code point JSON or JavaScript cannot carry raw, with letters between
HOSTILE = "".join(f"{chr(c)}" for c in range(0x00, 0x20)) + "\x7f\x85\x9f\u2028\u2029"
HOSTILE_TEXT = "A" + "b".join(HOSTILE) + "Z"
# the same as raw bytes, with what is not UTF-8 (a lone continuation byte,
# a cut sequence, an overlong slash, a surrogate, 0xff)
HOSTILE_BYTES = HOSTILE_TEXT.encode() + b"|\x80|\xe2\x80|\xc0\xaf|\xed\xa0\x80|\xff|"
# in a header line, CR and LF would end it: everything else raw
HEADER_BYTES = HOSTILE_BYTES.replace(b"\r", b"").replace(b"\n", b"")
AGENT_NAME = "Agent\x1f\x7f\u2028\u2029Name"
AGENTS = f"""[agent a]
address = agent@example.com
name = {AGENT_NAME}
queues = support
max_open = 100
"""


def encoded_word(text):
    return "=?UTF-8?B?" + base64.b64encode(text.encode()).decode() + "?="


def hostile_mails():
    """(name, raw message) pairs."""
    date = b"Date: Mon, 23 Nov 2026 10:00:00 +0200\n"
    out = []
    out.append(("raw 8-bit headers and body",
                b"From: " + HEADER_BYTES + b" <raw@customer.test>\nTo: " + RCPT.encode() +
                b"\nSubject: raw " + HEADER_BYTES + b"\n" + date +
                b"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
                b"Content-Transfer-Encoding: 8bit\n\n" + HOSTILE_BYTES + b"\n"))
    out.append(("RFC 2047 headers, base64 body",
                f"From: {encoded_word(HOSTILE_TEXT)} <enc@customer.test>\nTo: {RCPT}\n"
                f"Subject: {encoded_word('enc ' + HOSTILE_TEXT)}\n".encode() + date +
                b"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
                b"Content-Transfer-Encoding: base64\n\n" +
                base64.encodebytes(HOSTILE_BYTES)))
    html = "".join(f"&#x{ord(c):x};" for c in HOSTILE if c != "\0")
    out.append(("HTML-only body with character references",
                f"From: Html <html@customer.test>\nTo: {RCPT}\nSubject: html\n".encode() + date +
                b"MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n"
                b"<html><body><p>A" + html.encode() + b"Z " + HOSTILE_BYTES + b"</p></body></html>\n"))
    fname = urllib.parse.quote(("f" + HOSTILE_TEXT + ".txt").encode(), safe="")
    out.append(("attachment named with controls",
                f"From: Att <att@customer.test>\nTo: {RCPT}\nSubject: att\n".encode() + date +
                b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n\n--XX\n"
                b"Content-Type: text/plain; charset=utf-8\n\nsee file " + HOSTILE_BYTES + b"\n--XX\n"
                b"Content-Type: application/octet-stream\nContent-Disposition: attachment; "
                b"filename*=UTF-8''" + fname.encode() + b"\n\nAAAA\n--XX--\n"))
    return out


class Site(SiteDB):
    def __init__(self):
        super().__init__(BIN, SRC, "maildesk-json-", 1000, AGENTS)
        self.db.text_factory = bytes

    def deliver(self, raw, recipient=RCPT):
        return subprocess.run([BIN, "-c", self.conf, "deliver", "--recipient", recipient],
                              input=raw, capture_output=True).returncode

    def output(self, *args):
        p = subprocess.run([BIN, "-c", self.conf, *args], capture_output=True)
        return p.returncode, p.stdout


def raw_problems(out):
    """What in the bytes of a JSON text no strict reader takes raw."""
    bad = []
    for i, b in enumerate(out):
        if (b < 0x20 and b != 0x0A) or b == 0x7F:
            bad.append(f"byte 0x{b:02x} at {i}")
    for seq, name in ((b"\xe2\x80\xa8", "U+2028"), (b"\xe2\x80\xa9", "U+2029")):
        if seq in out:
            bad.append(f"raw {name}")
    c1 = [c for c in out.decode("utf-8", "replace") if 0x80 <= ord(c) <= 0x9f]
    if c1:
        bad.append(f"raw C1 controls {c1[:3]!r}")
    return bad[:5]


def check_json(name, rc, out):
    """Checks one JSON output; returns the parsed value or None."""
    eq(f"{name}: exit 0", rc, 0)
    try:
        text = out.decode("utf-8", "strict")
    except UnicodeDecodeError as e:
        result(False, f"{name}: output is UTF-8 ({e})")
        return None
    result(True, f"{name}: output is UTF-8")
    eq(f"{name}: no raw control character, DEL, U+2028 or U+2029", raw_problems(out), [])
    try:
        value = json.loads(text, strict=True)
    except ValueError as e:
        result(False, f"{name}: strict json.loads ({e})")
        return None
    result(True, f"{name}: strict json.loads")
    return value


def as_shown(stored):
    """A stored text column as JSON must show it: NULs and bytes that are
    not UTF-8 as U+FFFD."""
    if stored is None:
        return None
    return stored.decode("utf-8", "replace").replace("\0", "\ufffd")


def agent_token(site):
    raw = site.sql("SELECT raw FROM outbox WHERE kind = 'agent-assigned' ORDER BY id LIMIT 1")
    if not raw:
        return None
    m = email.message_from_bytes(raw[0][0], policy=email.policy.default)
    return m["Reply-To"].addresses[0].addr_spec


def main():
    site = Site()
    try:
        for name, raw in hostile_mails():
            eq(f"{name}: delivered", site.deliver(raw), 0)
        token = agent_token(site)
        result(token is not None, "the agent was told, with the agent address")
        if token is not None:
            reply = (f"From: Agent <agent@example.com>\nTo: {token}\nSubject: Re: [#1] x\n"
                     "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
                     "Content-Transfer-Encoding: 8bit\n\n").encode() + HOSTILE_BYTES + b"\n"
            eq("an agent's reply with the same text: delivered", site.deliver(reply, token), 0)
        # text written by other hands: NUL and bytes that are not UTF-8
        site.db.execute("UPDATE messages SET body_text = CAST(X'41004280FF5A1F' AS TEXT), "
                        "from_name = CAST(X'4E00FE' AS TEXT) WHERE id = (SELECT min(id) FROM messages)")
        site.db.execute("UPDATE tickets SET subject = CAST(X'5300E280A8FF' AS TEXT) WHERE id = 1")
        site.db.execute("UPDATE customers SET name = CAST(X'1F00C0' AS TEXT)")
        site.db.commit()

        tickets = [r[0] for r in site.sql("SELECT id FROM tickets ORDER BY id")]
        eq("one ticket a customer mail", len(tickets), 4)
        listed = check_json("ticket list --json", *site.output("ticket", "list", "--json"))
        if listed is not None:
            for t in listed:
                stored = site.sql("SELECT subject FROM tickets WHERE id = ?", t["id"])[0][0]
                eq(f"ticket list: subject of #{t['id']} as stored", t["subject"], as_shown(stored))
        check_json("ticket list --json --status new",
                   *site.output("ticket", "list", "--json", "--status", "new"))
        for tid in tickets:
            shown = check_json(f"ticket show {tid} --json", *site.output("ticket", "show", str(tid), "--json"))
            if shown is None:
                continue
            for m in shown["messages"]:
                row = site.sql("SELECT subject, body_text, from_name FROM messages WHERE id = ?", m["id"])[0]
                got = (m["subject"], m["text"], m["from_name"])
                want = tuple(as_shown(v) for v in row)
                eq(f"ticket show {tid}: message {m['id']} shows subject, text and name as stored", got, want)
            eq(f"ticket show {tid}: customer name as stored", shown["customer_name"],
               as_shown(site.sql("SELECT c.name FROM customers c JOIN tickets t ON t.customer_id = c.id "
                                 "WHERE t.id = ?", tid)[0][0]))
        # the instance of the issue: U+001F escaped, not dropped
        listed_raw = site.output("ticket", "show", str(tickets[1]), "--json")[1]
        result(b"\\u001f" in listed_raw and b"\\u2028" in listed_raw and b"\\u007f" in listed_raw,
               "ticket show: U+001F, U+2028 and DEL are there, escaped")
        agents = check_json("agent list --json", *site.output("agent", "list", "--json"))
        if agents is not None:
            eq("agent list: the display name, escaped, reads back", agents[0]["display_name"], AGENT_NAME)
        check_json("report --format json", *site.output("report", "--format", "json"))
        check_json("report --format json --queue support",
                   *site.output("report", "--format", "json", "--queue", "support"))
    finally:
        site.close()
    return done()


if __name__ == "__main__":
    sys.exit(main())
