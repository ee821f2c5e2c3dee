#!/usr/bin/env python3
"""Who maildesk writes to, under hostile mail (issue 12, points 4 to 6).

Participants: only the customer, whom the customer put in To/Cc, and whom
an agent adds (#cc).  Strangers who write to a ticket's reply, note or
agent address (homoglyphs and look-alike domains of an agent's address
among them) are stored on the ticket and never copied.
Hidden recipients: a Cc with quoted commas, spaces and '@', address
literals, groups and encoded-word display names never puts an address in
an envelope that the header does not show; every outbox row's rcpts are
exactly the mailboxes of its own To and Cc, as Python's email module
reads them, and a relay (a small SMTP sink here) gets exactly those.
Our own addresses: From or Reply-To of support@, of a signed support+N-...@,
of another queue's address, of upper-case, quoted and trailing-dot forms,
of the hostname's domain, never become the customer, a participant or a
recipient.  Output is TAP."""

import email
import email.policy
import os
import re
import shutil
import time
import sqlite3
import subprocess
import sys
import tempfile
from email.utils import formatdate, make_msgid

BIN = os.environ["MAILDESK_BIN"]
SRC = os.environ["MAILDESK_SRCDIR"]
sys.path.insert(0, os.path.join(SRC, "tests"))
from mdsite import SmtpSink, free_port, person_address  # noqa: E402
from tap import done, eq, result  # noqa: E402

SUPPORT = "support@example.com"
AGENTS = {"alice@example.com", "bob@example.com"}
CONF = """[maildesk]
database = maildesk.db
secret_file = secret
hostname = help.example.com
templates = {src}/templates
site_name = Example Support
send_after_deliver = no
recipient_delimiter = +-
[limits]
autoreply_per_hour = 1000
ticket_mails_per_hour = 1000
[smtp]
url = smtp://127.0.0.1:{port}
starttls = never
timeout = 10
username = relay@example.net
password_file = relay.pw
[queue support]
address = support@example.com
[queue billing]
address = billing@example.com
[agent alice]
address = alice@example.com
name = Alice Example
queues = support, billing
max_open = 1000
[agent bob]
address = bob@example.com
name = Bob Example
queues = support, billing
max_open = 1000
"""


def ours(addr):
    """Python's own reading of "one of maildesk's addresses" for this site."""
    a = addr.lower().rstrip(".")
    local, _, domain = a.rpartition("@")
    local = local.replace('"', "").replace("\\", "")
    if domain in ("help.example.com",):
        return True
    for q, d in (("support", "example.com"), ("billing", "example.com"), ("relay", "example.net")):
        if domain == d and (local == q or re.match(re.escape(q) + r"[+-]", local)):
            return True
    return False


class Sink(SmtpSink):
    """The relay: what each transaction's RCPT TO and data were."""

    def got(self):
        """(envelope recipients, message bytes) of each transaction."""
        out = []
        for data in self.dumps():
            rcpts, body = [], []
            for line in data.split(b"\n"):
                if line.startswith(b"X-Rcpt-Args: "):
                    m = re.match(rb"X-Rcpt-Args: (?:TO:)?<([^>]*)>", line, re.I)
                    rcpts.append((m.group(1) if m else line[13:]).decode("latin-1"))
                elif not line.startswith((b"X-Client-Addr: ", b"X-Client-Proto: ", b"X-Helo-Args: ",
                                          b"X-Mail-Args: ")) or body:
                    body.append(line)
            out.append((rcpts, b"\n".join(body)))
        return out


class Site:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="maildesk-people-")
        self.conf = os.path.join(self.dir, "maildesk.conf")
        self.port = free_port()
        with open(os.path.join(self.dir, "relay.pw"), "w") as f:
            f.write("secret\n")
        with open(self.conf, "w") as f:
            f.write(CONF.format(src=SRC, port=self.port))
        subprocess.run([BIN, "-c", self.conf, "init"], check=True, stdout=subprocess.DEVNULL)
        self.db = sqlite3.connect(os.path.join(self.dir, "maildesk.db"))
        self.seen = 0

    def close(self):
        self.db.close()
        shutil.rmtree(self.dir)

    def sql(self, q, *a):
        return self.db.execute(q, a).fetchall()

    def one(self, q, *a):
        rows = self.sql(q, *a)
        return rows[0][0] if rows else None

    def deliver(self, raw, recipient=SUPPORT, sender=None):
        args = [BIN, "-c", self.conf, "deliver", "--recipient", recipient]
        if sender is not None:
            args += ["--sender", sender]
        p = subprocess.run(args, input=raw, capture_output=True)
        return p.returncode

    def new_mail(self):
        rows = self.sql("SELECT id, ticket_id, kind, rcpts, raw FROM outbox WHERE id > ? ORDER BY id",
                        self.seen)
        out = []
        for rid, tid, kind, rcpts, raw in rows:
            self.seen = rid
            out.append(Out(tid, kind, rcpts, raw))
        return out

    def participants(self, tid):
        return sorted(a.lower() for (a,) in self.sql(
            "SELECT address FROM participants WHERE ticket_id = ? AND role <> 'participant'", tid))

    def last_ticket(self):
        return self.one("SELECT max(id) FROM tickets")


class Out:
    def __init__(self, tid, kind, rcpts, raw):
        self.ticket, self.kind, self.raw = tid, kind, raw
        self.rcpts = [r.strip() for r in re.split(r"[,\n]", rcpts) if r.strip()]
        self.msg = email.message_from_bytes(raw, policy=email.policy.default)

    def h(self, name):
        v = self.msg.get(name)
        return str(v) if v is not None else None

    def shown(self):
        """The addr-specs of To and Cc as Python reads the header."""
        out = []
        for name in ("To", "Cc"):
            v = self.msg.get(name)
            if v is None:
                continue
            for g in v.groups:
                for a in g.addresses:
                    out.append(a.addr_spec)
        return out

    def text(self):
        body = self.msg.get_body(preferencelist=("plain",))
        return body.get_content() if body is not None else ""


def mail(headers, body="Hello.\n"):
    hs = [("Date", formatdate()), ("Message-ID", make_msgid(domain="outside.test"))] + headers
    return ("".join(f"{k}: {v}\r\n" for k, v in hs) + "\r\n" + body).encode()


ALL_MAIL = []


def take(site):
    got = site.new_mail()
    ALL_MAIL.extend(got)
    return got


def envelope_is_header(name, mails):
    """Each row's rcpts are exactly the mailboxes its To/Cc show."""
    bad = []
    for m in mails:
        shown = sorted({a.lower() for a in m.shown()})
        env = sorted({r.lower() for r in m.rcpts})
        if shown != env or len(m.rcpts) != len(set(r.lower() for r in m.rcpts)):
            bad.append(f"{m.kind}: rcpts {m.rcpts} header {m.shown()}")
    result(not bad and mails, f"{name}: every envelope is its header's To/Cc ({len(mails)} mails)"
           + (f": {bad[:3]}" if bad else ""))


def agent_addresses(site, tid, agent="alice@example.com"):
    """The agent and note addresses of ticket tid issued to agent."""
    secret = os.path.join(site.dir, "secret")
    return tuple(person_address(secret, SUPPORT, tid, kind, agent) for kind in ("agent", "note"))


def customer_address(tid):
    for m in ALL_MAIL:
        if m.ticket == tid and m.kind == "ack":
            return m.h("Reply-To")
    return None


def new_ticket(site, name, headers, body="Please help.\n", sender=None):
    before = site.last_ticket() or 0
    eq(f"{name}: delivered", site.deliver(mail(headers, body), SUPPORT, sender), 0)
    tid = site.last_ticket()
    result(tid == before + 1, f"{name}: a new ticket")
    return tid, take(site)


def agent_reply(site, tid, text, frm="Alice Example <alice@example.com>"):
    agent_addr, _ = agent_addresses(site, tid)
    raw = mail([("From", frm), ("To", agent_addr), ("Subject", f"Re: [#{tid}] x")], text)
    eq(f"ticket {tid}: agent mail delivered", site.deliver(raw, agent_addr), 0)
    return take(site)


def hidden_recipients(site):
    """Point 5: hostile Cc forms never reach an envelope."""
    cc = ", ".join([
        '"a,hidden1@evil.example,b"@example.org',
        '"a hidden2@evil.example"@example.org',
        '"x@hidden3.example"@example.org',
        '"q\\"hidden4@evil.example"@example.org',
        "hidden5@[192.0.2.7]",
        "hidden6@[IPv6:2001:db8::1]",
        "=?utf-8?q?Evil=2C_hidden7=40evil=2Eexample=2C?= <ok1@example.org>",
        '"Comma, Name" <ok2@example.org>',
        "ok3@example.org (a comment, hidden8@evil.example)",
        "OK1@EXAMPLE.ORG",
        "hidden9@localhost",
        "@route.example:hidden10@evil.example",
        "hidden11@evil.example\u00a0",
        "жук@example.org",
        "undisclosed-recipients:;",
        "Team: grp1@example.org, \"g,hidden15@evil.example\"@example.org;",
    ])
    tid, got = new_ticket(site, "hostile Cc", [
        ("From", "Cara <cara@customer.test>"), ("To", "support@example.com, ok4@example.org"),
        ("Cc", cc), ("Subject", "Hostile Cc")])
    envelope_is_header("hostile Cc ack", [m for m in got if m.kind == "ack"])
    parts = site.participants(tid)
    eq("hostile Cc: participants are the customer and the plain addresses it named",
       parts, ["cara@customer.test", "grp1@example.org", "ok1@example.org", "ok2@example.org",
               "ok3@example.org", "ok4@example.org"])
    got = agent_reply(site, tid, "Here is the answer.\n")
    replies = [m for m in got if m.kind == "reply"]
    eq("hostile Cc: one reply", len(replies), 1)
    envelope_is_header("hostile Cc reply", replies)
    if replies:
        eq("hostile Cc: the reply's envelope", sorted(replies[0].rcpts),
           ["cara@customer.test", "grp1@example.org", "ok1@example.org", "ok2@example.org",
            "ok3@example.org", "ok4@example.org"])
        result(b"hidden" not in replies[0].raw.split(b"\r\n\r\n")[0],
               "hostile Cc: no hidden address in the reply's header")

    # a participant row as an older maildesk (or a bug) could have left it:
    # the header drops it, and so does the envelope, with an event
    for bad in ['"x,hidden12@evil.example"@example.org', "hidden13@[10.0.0.1]",
                "support+99-zz@example.com", "SUPPORT@example.com.", "x@help.example.com"]:
        site.db.execute("INSERT INTO participants (ticket_id, address, role) VALUES (?, ?, 'cc')",
                        (tid, bad))
    site.db.commit()
    got = agent_reply(site, tid, "Second answer.\n")
    replies = [m for m in got if m.kind == "reply"]
    envelope_is_header("planted participants reply", replies)
    if replies:
        result(all("hidden" not in r and not ours(r) for r in replies[0].rcpts),
               f"planted participants: none in the envelope ({replies[0].rcpts})")
    # (a queue's own subaddress is left out before, by the Cc list itself)
    eq("planted participants: each dropped with an event",
       site.one("SELECT count(*) FROM events WHERE ticket_id = ? AND what = 'recipient-dropped'",
                tid), 4)
    return tid


def fan_out(site):
    """A customer's mail to 300 people makes at most 100 participants."""
    to = ",\r\n ".join(f"p{i}@many.example" for i in range(150))
    cc = ",\r\n ".join(f"P{i}@Many.example" for i in range(150, 300))
    tid, got = new_ticket(site, "300 in To and Cc", [
        ("From", "Ria <ria@customer.test>"), ("To", "support@example.com,\r\n " + to),
        ("Cc", cc), ("Subject", "Everyone")])
    eq("300 in To and Cc: the acknowledgement goes to the customer alone",
       [m.rcpts for m in got if m.kind == "ack"], [["ria@customer.test"]])
    eq("300 in To and Cc: 100 participants, the customer included", len(site.participants(tid)),
       100)
    result("ria@customer.test" in site.participants(tid), "300 in To and Cc: the customer is one")
    eq("300 in To and Cc: the cap is an event", site.one(
        "SELECT new_value FROM events WHERE ticket_id = ? AND what = 'participants-capped'", tid),
        "201")
    got = agent_reply(site, tid, "To all of you.\n")
    replies = [m for m in got if m.kind == "reply"]
    eq("300 in To and Cc: the reply goes to 100", [len(m.rcpts) for m in replies], [100])
    envelope_is_header("300 in To and Cc reply", replies)


def machine_stranger(site):
    """An autoresponder writing to a ticket adds nobody and flags nothing."""
    tid, got = new_ticket(site, "a ticket an autoresponder answers", [
        ("From", "Uma <uma@customer.test>"), ("To", SUPPORT), ("Subject", "Quiet")])
    reply_addr = customer_address(tid)
    raw = mail([("From", "vacation@elsewhere.example"), ("To", reply_addr),
                ("Cc", "more@elsewhere.example"), ("Auto-Submitted", "auto-replied"),
                ("Subject", "Out of office")])
    eq("autoresponder: delivered", site.deliver(raw, reply_addr), 0)
    eq("autoresponder: nobody becomes a participant", site.participants(tid),
       ["uma@customer.test"])
    eq("autoresponder: not flagged as a stranger", site.one(
        "SELECT needs_attention FROM tickets WHERE id = ?", tid), 0)
    eq("autoresponder: nothing to the customer",
       [m.kind for m in take(site) if not set(r.lower() for r in m.rcpts) <= AGENTS], [])


def strangers(site):
    """Point 4: nobody but the customer (and agents' #cc) makes participants."""
    tid, got = new_ticket(site, "customer with To and Cc", [
        ("From", "Dan <dan@customer.test>"), ("To", "support@example.com, colleague@customer.test"),
        ("Cc", "boss@customer.test, billing@example.com, alice@example.com, "
               "relay@example.net, x@help.example.com"),
        ("Subject", "Printer")])
    base = ["boss@customer.test", "colleague@customer.test", "dan@customer.test"]
    eq("customer's To and Cc are participants, no agent, no address of ours",
       site.participants(tid), base)
    reply_addr = customer_address(tid)
    agent_addr, note_addr = agent_addresses(site, tid)
    result(reply_addr and agent_addr and note_addr, "the ticket's three addresses are known")
    cases = [
        ("a stranger to the reply address", "Eve <eve@evil.example>", reply_addr),
        ("a stranger to the note address", "eve2@evil.example", note_addr),
        ("a stranger to the agent address", "eve3@evil.example", agent_addr),
        ("a Cyrillic homoglyph of alice to the agent address", "Alice <аlice@example.com>",
         agent_addr),
        ("a look-alike domain of alice to the agent address", "alice@exаmple.com", agent_addr),
        ("alice at a lookalike host to the note address", "alice@example.com.evil.example",
         note_addr),
        ("a homoglyph of the customer to the reply address", "Dan <dаn@customer.test>", reply_addr),
        ("upper-case stranger to the reply address", "EVE@EVIL.EXAMPLE", reply_addr),
    ]
    for name, frm, to in cases:
        before = site.one("SELECT count(*) FROM messages WHERE ticket_id = ? AND direction = 'in'",
                          tid)
        raw = mail([("From", frm), ("To", to), ("Cc", "evilfriend@evil.example"),
                    ("Subject", f"Re: [#{tid}] Printer")], "#status closed\nLet me in.\n")
        eq(f"{name}: delivered", site.deliver(raw, to), 0)
        eq(f"{name}: stored on the ticket",
           site.one("SELECT count(*) FROM messages WHERE ticket_id = ? AND direction = 'in'", tid),
           before + 1)
        eq(f"{name}: nobody becomes a participant", site.participants(tid), base)
        got = take(site)
        result(all(m.kind.startswith("agent-") for m in got),
               f"{name}: only agents hear of it ({[m.kind for m in got]})")
    eq("strangers: the ticket is flagged", site.one(
        "SELECT needs_attention FROM tickets WHERE id = ?", tid), 1)
    # at the reply address a stranger's; at an agent or note address a leaked one's
    eq("strangers: each stranger's mail is an event", site.one(
        "SELECT count(*) FROM events WHERE ticket_id = ? AND what IN ('stranger-mail', "
        "'unverified-agent-mail')", tid), len(cases))
    eq("strangers: no status was run", site.one("SELECT status FROM tickets WHERE id = ?", tid),
       "new")

    # a participant the customer named may write; it adds nobody
    raw = mail([("From", "colleague@customer.test"), ("To", reply_addr),
                ("Cc", "newcomer@customer.test"), ("Subject", f"Re: [#{tid}] Printer")])
    eq("a participant's mail: delivered", site.deliver(raw, reply_addr), 0)
    eq("a participant's mail adds nobody", site.participants(tid), base)
    take(site)

    # the stranger who wrote to the ticket cannot thread by tag: rule 3
    before = site.last_ticket()
    raw = mail([("From", "eve@evil.example"), ("To", SUPPORT), ("Subject", f"Re: [#{tid}] Printer")])
    eq("a stranger's tag: delivered", site.deliver(raw, SUPPORT), 0)
    eq("a stranger who wrote before is still no participant: the tag opens a new ticket",
       site.last_ticket(), before + 1)
    take(site)
    # the customer's tag still threads
    raw = mail([("From", "DAN@customer.test"), ("To", SUPPORT), ("Cc", "late@customer.test"),
                ("Subject", f"Re: [#{tid}] Printer")])
    eq("the customer's tag: delivered", site.deliver(raw, SUPPORT), 0)
    eq("the customer's tag threads", site.one(
        "SELECT ticket_id FROM messages ORDER BY id DESC LIMIT 1"), tid)
    base = sorted(base + ["late@customer.test"])
    eq("the customer's later Cc is a participant", site.participants(tid), base)
    take(site)

    # the agent's answer goes to the customer's side only
    got = agent_reply(site, tid, "Fixed.\n")
    replies = [m for m in got if m.kind == "reply"]
    envelope_is_header("strangers' ticket reply", replies)
    if replies:
        eq("the reply goes to the customer and whom the customer named", sorted(
            r.lower() for r in replies[0].rcpts), base)

    # a solved ticket reopened by a stranger: the customer is not told
    agent_reply(site, tid, "#status solved\n")
    raw = mail([("From", "eve@evil.example"), ("To", reply_addr), ("Subject", "Re: ping")])
    eq("a stranger reopens: delivered", site.deliver(raw, reply_addr), 0)
    got = take(site)
    result(all(m.kind.startswith("agent-") for m in got),
           f"a stranger's reopening: the customer hears nothing ({[m.kind for m in got]})")

    # #cc and #uncc
    got = agent_reply(site, tid, "#cc <Extra@Partner.example>\n#uncc boss@customer.test\n"
                                 "Copying our partner.\n")
    replies = [m for m in got if m.kind == "reply"]
    want = sorted([a for a in base if a != "boss@customer.test"] + ["extra@partner.example"])
    eq("#cc/#uncc: participants", site.participants(tid), want)
    eq("#cc/#uncc: the reply written with them goes to the new list",
       sorted(r.lower() for r in replies[0].rcpts) if replies else None, want)
    envelope_is_header("#cc reply", replies)
    for bad, why in [("support+7-abc@example.com", "one of our own"),
                     ("SUPPORT@EXAMPLE.COM", "one of our own"),
                     ("bob@example.com", "an agent"),
                     ("dan@customer.test", "customer"),
                     ('"a,b@evil.example"@example.org', "not a plain address"),
                     ("x@[127.0.0.1]", "not a plain address")]:
        got = agent_reply(site, tid, f"#cc {bad}\nText.\n")
        refused = [m for m in got if m.kind == "agent-refused"]
        result(len(refused) == 1 and why in refused[0].text() and
               not [m for m in got if m.kind == "reply"],
               f"#cc {bad}: refused ({why}), nothing sent")
    eq("#cc refusals changed nothing", site.participants(tid), want)
    got = agent_reply(site, tid, "#uncc nobody@customer.test\n")
    result([m.kind for m in got] == ["agent-refused"], "#uncc of someone not copied: refused")


def own_addresses(site):
    """Point 6: none of our addresses is a customer, participant or recipient."""
    signed = customer_address(1)
    result(signed is not None and signed.startswith("support+1-"), "a signed address is known")
    cases = [
        ("a web form: From support@, Reply-To the customer",
         [("From", "Shop <support@example.com>"), ("Reply-To", "Fay <fay@customer.test>")],
         None, "fay@customer.test"),
        ("From the customer, Reply-To support@",
         [("From", "gus@customer.test"), ("Reply-To", "support@example.com")], None,
         "gus@customer.test"),
        ("From a signed support+N-MAC@, no Reply-To: the envelope sender",
         [("From", signed)], "shop-bounces@shop.example", "shop-bounces@shop.example"),
        ("Reply-To a signed support+N-MAC@, From the customer",
         [("From", "hal@customer.test"), ("Reply-To", signed)], None, "hal@customer.test"),
        ("From SUPPORT@EXAMPLE.COM, Reply-To the customer",
         [("From", "SUPPORT@EXAMPLE.COM"), ("Reply-To", "ida@customer.test")], None,
         "ida@customer.test"),
        ("From another queue's address", [("From", "Billing <billing@example.com>"),
                                           ("Reply-To", "jo@customer.test")], None,
         "jo@customer.test"),
        ("From a quoted form of support@", [("From", '"support"@example.com'),
                                            ("Reply-To", "kim@customer.test")], None,
         "kim@customer.test"),
        ("From a trailing-dot form", [("From", "support@example.com."),
                                      ("Reply-To", "lee@customer.test")], None, "lee@customer.test"),
        ("From a subaddress with another delimiter", [("From", "support-orders@example.com"),
                                                      ("Reply-To", "max@customer.test")], None,
         "max@customer.test"),
        ("From the hostname's domain", [("From", "maildesk@help.example.com"),
                                        ("Reply-To", "ned@customer.test")], None,
         "ned@customer.test"),
        ("From the relay's account", [("From", "relay@example.net"),
                                      ("Reply-To", "ola@customer.test")], None, "ola@customer.test"),
        ("all ours: From support@, Reply-To billing+x@, envelope a signed form",
         [("From", "support@example.com"), ("Reply-To", "billing+x@example.com")],
         signed, None),
        ("all ours, no envelope sender", [("From", "Support <SUPPORT@example.com>")], None, None),
        ("From an unwritable quoted address, no other", [("From", '"a,b@evil.example"@example.org')],
         None, None),
        ("From a Cyrillic homoglyph of support@, no other", [("From", "suppоrt@example.com")],
         None, None),
        ("From a fullwidth form of our domain, Reply-To the customer",
         [("From", "support@ｅｘａｍｐｌｅ.com"), ("Reply-To", "pia@customer.test")], None,
         "pia@customer.test"),
    ]
    for name, headers, sender, want in cases:
        tid, got = new_ticket(site, name, headers + [
            ("To", SUPPORT), ("Cc", "support+5-x@example.com, Billing@Example.com"),
            ("Subject", name)], sender=sender)
        customer = site.one("SELECT c.address FROM tickets t JOIN customers c "
                            "ON c.id = t.customer_id WHERE t.id = ?", tid)
        acks = [m for m in got if m.kind == "ack"]
        if want is not None:
            eq(f"{name}: the customer", customer, want)
            eq(f"{name}: the acknowledgement goes to them",
               [m.rcpts for m in acks], [[want]])
            eq(f"{name}: participants", site.participants(tid), [want])
        else:
            result(customer is None or not ours(customer),
                   f"{name}: no address of ours is the customer ({customer})")
            eq(f"{name}: no acknowledgement", acks, [])
            eq(f"{name}: flagged", site.one("SELECT needs_attention FROM tickets WHERE id = ?",
                                            tid), 1)
            eq(f"{name}: no participant", site.participants(tid), [])
            # an agent's answer to such a ticket goes nowhere
            got = agent_reply(site, tid, "Hello?\n")
            result(not [m for m in got if not set(r.lower() for r in m.rcpts) <= AGENTS],
                   f"{name}: an agent's answer is sent to nobody outside")
    # a status question from our own address is not answered to us
    raw = mail([("From", "support@example.com"), ("To", SUPPORT), ("Subject", "status")], "status\n")
    eq("a status question from support@: delivered", site.deliver(raw, SUPPORT), 0)
    take(site)


def relay(site):
    """What the relay gets is what the headers show, for every row queued."""
    sink = Sink(site.dir, site.port)
    # a row written as an older maildesk wrote the hidden-recipient case
    raw = (b"From: support@example.com\r\nTo: cara@customer.test\r\n"
           b"Cc: ok1@example.org\r\nSubject: old row\r\n\r\nold\r\n")
    site.db.execute("INSERT INTO outbox (ticket_id, kind, env_from, rcpts, raw, created, "
                    "next_attempt) VALUES (NULL, 'reply', '', ?, ?, 0, 0)",
                    ('cara@customer.test, "a, hidden14@evil.example, b"@example.org, '
                     "ok1@example.org", raw))
    site.db.commit()
    try:
        # smtp-sink takes no login: the same site without one
        conf = os.path.join(site.dir, "relay.conf")
        with open(site.conf) as f, open(conf, "w") as g:
            g.write("".join(ln for ln in f if not ln.startswith(("username", "password_file"))))
        p = subprocess.run([BIN, "-c", conf, "send", "--once"], capture_output=True, text=True)
        eq("send --once exits 0", p.returncode, 0)
        time.sleep(0.3)  # smtp-sink writes its file after the 250
    finally:
        sink.stop()
    got = sink.got()
    bad = []
    for rcpts, data in got:
        m = email.message_from_bytes(data, policy=email.policy.default)
        shown = set()
        for name in ("To", "Cc"):
            if m.get(name) is not None:
                shown |= {a.addr_spec.lower() for g in m[name].groups for a in g.addresses}
        env = {r.lower() for r in rcpts}
        if not env <= shown or any(ours(r) for r in rcpts):
            bad.append((rcpts, sorted(shown)))
    total = site.one("SELECT count(*) FROM outbox")
    eq("the relay got every row", len(got), total)
    if len(got) != total:
        print("# outbox:", site.sql("SELECT status, last_error, count(*) FROM outbox GROUP BY 1, 2"))
    result(not bad, f"the relay got RCPT TO only for mailboxes the header shows, never ours"
           + (f": {bad[:3]}" if bad else ""))
    result(not [r for r, _ in got if any("hidden" in x for x in r)],
           "no hidden address reached the relay")


def main():
    site = Site()
    try:
        hidden_recipients(site)
        fan_out(site)
        machine_stranger(site)
        strangers(site)
        own_addresses(site)
        envelope_is_header("every mail queued", ALL_MAIL)
        result(not [m for m in ALL_MAIL if any(ours(r) for r in m.rcpts)],
               "no mail queued to an address of ours")
        relay(site)
    finally:
        site.close()
    return done()


if __name__ == "__main__":
    sys.exit(main())
