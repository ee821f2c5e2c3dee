#!/usr/bin/env python3
"""`maildesk import`: an mbox built from corpus messages (threads with our
own and agents' replies, Cyrillic, attachments, a message GMime's mbox
parser gives up on, one without a Date) and a Maildir, imported into a
fresh site.  Asserts the tickets and their threads, that nothing was
queued or counted, that the messages' own dates are kept, that the bytes
stored are the messages as they were, that old tickets are closed as
history while recent ones wait without an ETA, that re-running imports
nothing, that an import killed midway completes on the next run with each
message exactly once, that transient trouble exits 75 and names the
messages, the progress bar on a terminal only, and the exit codes for
unusable paths.  Output is TAP."""

import email
import email.policy
import email.utils
import hashlib
import os
import pty
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage

BIN = os.environ["MAILDESK_BIN"]
SRC = os.environ["MAILDESK_SRCDIR"]
CORPUS = os.environ.get("MAILDESK_CORPUS") or os.path.join(SRC, "..", "shared", "corpus")
sys.path.insert(0, os.path.join(SRC, "tests"))
from mdsite import make_site, stored_bytes  # noqa: E402
from tap import done, eq, result  # noqa: E402

AGENTS = """[calendar always]
timezone = UTC
hours = 24/7
[agent alice]
address = alice@example.com
name = Alice Example
queues = support
max_open = 5
[queue billing]
address = billing@example.com
"""

NOW = int(time.time())
DAY = 86400


def corpus(name):
    with open(os.path.join(CORPUS, name), "rb") as f:
        return stored_bytes(f.read())


def epoch(raw):
    """The Date header of raw bytes as UTC seconds, or None."""
    m = email.message_from_bytes(raw, policy=email.policy.compat32)
    d = m["Date"]
    if d is None:
        return None
    return int(email.utils.parsedate_to_datetime(str(d)).timestamp())


def header(raw, name):
    m = email.message_from_bytes(raw, policy=email.policy.compat32)
    v = m[name]
    return str(v).strip() if v is not None else None


def mail(frm, to, subject, when, text, msgid, reply_to_ids=None, date=True):
    m = EmailMessage()
    m["From"] = frm
    m["To"] = to
    m["Subject"] = subject
    if date:
        m["Date"] = email.utils.formatdate(when)
    m["Message-ID"] = msgid
    if reply_to_ids:
        m["In-Reply-To"] = reply_to_ids[-1]
        m["References"] = " ".join(reply_to_ids)
    m.set_content(text)
    return m.as_bytes()


def from_line(when):
    return ("From archive@example.org " + time.strftime("%a %b %e %H:%M:%S %Y",
                                                        time.gmtime(when)) + "\n").encode()


def write_mbox(path, messages):
    """messages: (raw, from_line_time).  Returns the bytes maildesk must
    store for each: the message as the mbox holds it (">From " quoting is
    the file's), with the line end the format needs."""
    stored = []
    with open(path, "wb") as f:
        for raw, when in messages:
            body = b"".join((b">" + ln if ln.startswith(b"From ") else ln)
                            for ln in raw.splitlines(True))
            if not body.endswith(b"\n"):
                body += b"\n"
            f.write(from_line(when) + body + b"\n")
            stored.append(body)
    return stored


class Site:
    def __init__(self, extra="", busy=None):
        # make_site ends with [queue support]: its lead and SLA policy first
        conf_extra = ("lead = lead@example.com\ncalendar = always\n"
                      "first_response = normal 4h\nresolution = normal 48h\n" + AGENTS + extra)
        self.dir, self.conf = make_site(BIN, SRC, "maildesk-import-", 100, conf_extra)
        if busy is not None:
            with open(self.conf) as f:
                text = f.read()
            with open(self.conf, "w") as f:
                f.write(text.replace("[maildesk]\n", f"[maildesk]\nbusy_timeout = {busy}\n", 1))
        self.db = sqlite3.connect(os.path.join(self.dir, "maildesk.db"))

    def run(self, *paths, stderr=subprocess.PIPE):
        p = subprocess.run([BIN, "-c", self.conf, "import", *paths], stdout=subprocess.PIPE,
                           stderr=stderr)
        return p.returncode, summary(p.stdout.decode()), (p.stderr or b"").decode()

    def sql(self, q, *a):
        return self.db.execute(q, a).fetchall()

    def one(self, q, *a):
        rows = self.sql(q, *a)
        return rows[0][0] if rows else None

    def ticket_of(self, msgid):
        return self.one("SELECT ticket_id FROM messages WHERE message_id = ?", msgid.strip("<>"))

    def close(self):
        self.db.close()
        shutil.rmtree(self.dir)


def summary(text):
    out = {}
    for line in text.splitlines():
        if ": " in line and not line.startswith("note"):
            k, v = line.rsplit(": ", 1)
            if v.isdigit():
                out[k] = int(v)
    return out


def build_archive(d):
    """The inbox and Sent mboxes and what maildesk must make of them."""
    a = corpus("inbound/redmine-ticket_with_attachment.eml")       # 2008, attachment
    b = corpus("charsets/flanker-russian-attachment-yahoo.eml")   # 2012, Cyrillic, blank padding
    c = corpus("charsets/otrs-test-email-8-bulgarian-cp1251.box")  # 2002, Cyrillic cp1251
    k = corpus("charsets/mime4j-russian-headers-koi8r.eml")       # no Date, no Message-ID
    ta, tb, tc = epoch(a), epoch(b), epoch(c)
    ida, idb, idc = header(a, "Message-ID"), header(b, "Message-ID"), header(c, "Message-ID")
    a_from = header(a, "From")
    t = {}
    # A: the customer, our agent, the customer again, then the queue address itself
    t["a_r1"] = mail("Alice Example <alice@example.com>", a_from, "Re: attachment", ta + 3600,
                     "Thanks, we look into it.", "<a-r1@example.com>", [ida])
    t["a_c2"] = mail(a_from, "support@example.com", "Re: attachment", ta + 2 * DAY,
                     "Any news?\nFrom what I see it still fails.", "<a-c2@customer.test>",
                     [ida, "<a-r1@example.com>"])
    t["a_r2"] = mail("Example Support <support@example.com>", a_from, "Re: attachment",
                     ta + 3 * DAY, "Fixed now.", "<a-r2@example.com>",
                     [ida, "<a-r1@example.com>", "<a-c2@customer.test>"])
    # B: a follow-up three days later reopens the ticket (closed as history
    # when its first message was imported) instead of opening a new one
    t["b_c2"] = mail(header(b, "From"), "support@example.com", "Re: Hello", tb + 3 * DAY,
                     "Ещё вопрос: когда?", "<b-c2@customer.test>", [idb])
    # C: answered long ago; a recent follow-up opens a linked ticket
    t["c_r1"] = mail("Alice Example <alice@example.com>", header(c, "From"),
                     "Re: Bulgarian demo email!", tc + 7200, "Здравейте, благодарим!",
                     "<c-r1@example.com>", [idc])
    t["c_c2"] = mail(header(c, "From"), "support@example.com", "Re: Bulgarian demo email!",
                     NOW - 2 * DAY, "Пак аз.", "<c-c2@customer.test>", [idc, "<c-r1@example.com>"])
    # a conversation we started: a ticket for the addressee, not for us
    t["ours_new"] = mail("Alice Example <alice@example.com>", "Bob Buyer <bob@customer.test>",
                         "Your renewal", ta + 10 * DAY, "Your licence ends soon.",
                         "<ours-new@example.com>")
    # recent: stays new, with no ETA and no agent
    t["recent"] = mail("Dana <dana@customer.test>", "support@example.com", "Cannot log in",
                       NOW - DAY, "Since yesterday.", "<recent@customer.test>")
    # no Date header: the From_ line's date counts
    t["nodate"] = mail("Eve <eve@customer.test>", "support@example.com", "undated",
                       0, "No date here.", "<nodate@customer.test>", date=False)
    # no header GMime can read at all
    t["garbage"] = b"\x01\x02this is no header\n\x03\x04\xff\xfe nor this\n\nbody\n"
    inbox = [(a, ta), (b, tb), (c, tc), (k, ta - DAY), (t["a_c2"], ta + 2 * DAY),
             (t["b_c2"], tb + 3 * DAY), (t["c_c2"], NOW - 2 * DAY), (t["recent"], NOW - DAY),
             (t["nodate"], tc + 5 * DAY), (t["garbage"], tc + 6 * DAY)]
    sent = [(t["a_r1"], ta + 3600), (t["a_r2"], ta + 3 * DAY), (t["c_r1"], tc + 7200),
            (t["ours_new"], ta + 10 * DAY)]
    inbox_path, sent_path = os.path.join(d, "inbox.mbox"), os.path.join(d, "sent.mbox")
    stored = write_mbox(inbox_path, inbox) + write_mbox(sent_path, sent)
    info = {"a": a, "b": b, "c": c, "k": k, "ta": ta, "tb": tb, "tc": tc,
            "ida": ida, "idb": idb, "idc": idc, "k_when": ta - DAY, "nodate_when": tc + 5 * DAY,
            "garbage_when": tc + 6 * DAY}
    info.update(t)
    return inbox_path, sent_path, stored, info


def check_mbox(d):
    site = Site()
    inbox, sent, stored, m = build_archive(d)
    try:
        # Sent first on the command line: oldest first across both still threads
        rc, s, err = site.run(sent, inbox)
        eq("mbox import exits 0", rc, 0)
        eq("summary: messages read", s.get("messages read"), 14)
        eq("summary: tickets created (A, B, C, C's follow-up, ours, recent, koi8, "
           "undated, garbage)", s.get("tickets created"), 9)
        eq("summary: appended", s.get("appended"), 5)
        eq("summary: duplicates", s.get("duplicates skipped"), 0)
        eq("summary: failed", s.get("failed"), 0)
        eq("summary: our own replies", s.get("our own replies"), 4)
        eq("summary: open (recent and the linked follow-up)", s.get("tickets open"), 2)
        eq("summary: closed as history", s.get("tickets closed as history"), 7)
        result("importing [" not in err, "no progress bar when stderr is no terminal")
        eq("nine tickets", site.one("SELECT count(*) FROM tickets"), 9)
        eq("fourteen messages", site.one("SELECT count(*) FROM messages"), 14)
        eq("no outbox row at all", site.one("SELECT count(*) FROM outbox"), 0)
        eq("no autoreply counted", site.one("SELECT count(*) FROM autoreply_log"), 0)
        eq("nobody assigned", site.one("SELECT count(*) FROM tickets WHERE assignee IS NOT NULL"),
           0)
        eq("no ETA on any imported ticket", site.one("SELECT count(*) FROM tickets "
                                                     "WHERE eta IS NOT NULL"), 0)

        got = {hashlib.sha256(r[0]).hexdigest() for r in site.sql("SELECT raw FROM messages")}
        want = {hashlib.sha256(x).hexdigest() for x in stored}
        eq("every message stored as the mbox holds it, without its From_ line", got, want)

        ta_ticket = site.ticket_of(m["ida"])
        rows = site.sql("SELECT direction, kind, from_addr, received FROM messages "
                        "WHERE ticket_id = ? ORDER BY id", ta_ticket)
        eq("A: customer, agent reply, customer, queue reply on one ticket",
           [(r[0], r[1]) for r in rows],
           [("in", "customer"), ("out", "reply"), ("in", "customer"), ("out", "reply")])
        eq("A: the replies are from the agent and the queue",
           [r[2] for r in rows if r[0] == "out"], ["alice@example.com", "support@example.com"])
        eq("A: received times are the messages' own dates", [r[3] for r in rows],
           [m["ta"], m["ta"] + 3600, m["ta"] + 2 * DAY, m["ta"] + 3 * DAY])
        created, updated, status, closed_at = site.sql(
            "SELECT created, updated, status, closed_at FROM tickets WHERE id = ?",
            ta_ticket)[0]
        eq("A: created at its first message's date", created, m["ta"])
        eq("A: closed as history at its last message's date", (status, closed_at, updated),
           ("closed", m["ta"] + 3 * DAY, m["ta"] + 3 * DAY))
        eq("A: the attachment is listed", site.one(
            "SELECT count(*) FROM attachments JOIN messages ON messages.id = message_row "
            "WHERE ticket_id = ?", ta_ticket) > 0, True)
        eq("A: the message's Date column is its header", site.one(
            "SELECT date FROM messages WHERE message_id = ?", m["ida"].strip("<>")), m["ta"])

        tb_ticket = site.ticket_of(m["idb"])
        eq("B: the follow-up three days on joins the ticket (the message's date is now)",
           site.ticket_of("<b-c2@customer.test>"), tb_ticket)
        eq("B: Cyrillic subject decoded", site.one(
            "SELECT subject FROM messages WHERE message_id = ?", "b-c2@customer.test"),
           "Re: Hello")
        eq("B: Cyrillic text kept", "Ещё вопрос" in site.one(
            "SELECT body_text FROM messages WHERE message_id = ?", "b-c2@customer.test"), True)
        eq("B: date from its header though GMime's mbox parser gave up on it",
           site.one("SELECT created FROM tickets WHERE id = ?", tb_ticket), m["tb"])
        events = [r[0] for r in site.sql("SELECT new_value FROM events WHERE ticket_id = ? AND "
                                         "what = 'status' ORDER BY id", tb_ticket)]
        eq("B: closed, reopened by the follow-up, closed again", events,
           ["closed", "open", "closed"])

        tc_ticket = site.ticket_of(m["idc"])
        eq("C: our reply on C's ticket", site.ticket_of("<c-r1@example.com>"), tc_ticket)
        eq("C: Bulgarian subject", site.one("SELECT subject FROM tickets WHERE id = ?",
                                            tc_ticket), "Bulgarian demo email!")
        follow = site.ticket_of("<c-c2@customer.test>")
        eq("C: a follow-up years later opens a new ticket linking the old",
           site.sql("SELECT linked_ticket, status, eta, assignee, created FROM tickets "
                    "WHERE id = ?", follow),
           [(tc_ticket, "new", None, None, NOW - 2 * DAY)])

        ours = site.ticket_of("<ours-new@example.com>")
        eq("a conversation we started: a ticket for its addressee",
           site.sql("SELECT c.address, t.status FROM tickets t JOIN customers c "
                    "ON c.id = t.customer_id WHERE t.id = ?", ours),
           [("bob@customer.test", "closed")])
        eq("... its message is our outgoing reply", site.sql(
            "SELECT direction, kind FROM messages WHERE ticket_id = ?", ours), [("out", "reply")])

        rec = site.ticket_of("<recent@customer.test>")
        eq("recent mail: a new ticket waiting in its queue without ETA or agent",
           site.sql("SELECT status, eta, assignee, queue, created FROM tickets WHERE id = ?",
                    rec), [("new", None, None, "support", NOW - DAY)])

        nd = site.ticket_of("<nodate@customer.test>")
        eq("no Date: the From_ line's date for ticket and message",
           site.sql("SELECT t.created, m.received, m.date FROM tickets t JOIN messages m "
                    "ON m.ticket_id = t.id WHERE t.id = ?", nd),
           [(m["nodate_when"], m["nodate_when"], None)])
        eq("no Date nor Message-ID (koi8-r): From_ line's date",
           site.one("SELECT received FROM messages WHERE subject = 'A simple subject'"),
           m["k_when"])

        g = site.sql("SELECT t.needs_attention, m.parse_error IS NOT NULL, m.received, "
                     "length(m.raw) FROM messages m JOIN tickets t ON t.id = m.ticket_id "
                     "WHERE m.raw = ?", stored[9])
        eq("unreadable message stored raw, flagged, with its From_ line's date",
           g, [(1, 1, m["garbage_when"], len(stored[9]))])
        eq("no From at all (koi8-r): flagged for an agent", site.one(
            "SELECT needs_attention FROM tickets t JOIN messages m ON m.ticket_id = t.id "
            "WHERE m.subject = 'A simple subject'"), 1)
        eq("summary: flagged tickets (garbage, koi8-r)", s.get("tickets flagged for an agent"),
           2)

        # a re-run imports nothing and changes nothing
        before = site.sql("SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM "
                          "tickets), (SELECT count(*) FROM events), (SELECT max(updated) "
                          "FROM tickets)")
        rc, s, _ = site.run(inbox, sent)
        eq("re-run exits 0", rc, 0)
        eq("re-run: all duplicates", (s.get("messages read"), s.get("duplicates skipped"),
                                      s.get("tickets created"), s.get("appended")),
           (14, 14, 0, 0))
        eq("re-run changes nothing", site.sql(
            "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM tickets), "
            "(SELECT count(*) FROM events), (SELECT max(updated) FROM tickets)"), before)

        # the same mail exported in another folder: other bytes, same Message-ID
        copies = os.path.join(d, "all-mail.mbox")
        write_mbox(copies, [(b"X-Gmail-Labels: Inbox,Important\n" + m["a"], m["ta"]),
                            (b"X-Gmail-Labels: Sent\n" + m["a_r1"], m["ta"] + 3600)])
        rc, s, _ = site.run(copies)
        eq("copies from another folder: duplicates by Message-ID",
           (rc, s.get("duplicates skipped"), site.one("SELECT count(*) FROM messages")),
           (0, 2, 14))
        # our own reply under its Message-ID with other words (a draft saved
        # over it, say): ours already, counted with the duplicates
        write_mbox(copies, [(m["a_r1"].replace(b"Thanks, we look into it.",
                                               b"Thanks, we are on it."), m["ta"] + 3600)])
        rc, s, _ = site.run(copies)
        eq("another copy of our own reply: skipped, counted as a duplicate",
           (rc, s.get("duplicates skipped"), s.get("appended"),
            site.one("SELECT count(*) FROM messages")), (0, 1, 0, 14))

        # later Sent exports: our replies found by the subject tag alone
        later = os.path.join(d, "sent-later.mbox")
        tag_reply = mail("Example Support <support@example.com>", header(m["c"], "From"),
                         f"Re: [#{tc_ticket}] Bulgarian demo email!", m["tc"] + 3600,
                         "One more thing.", "<c-r2@example.com>")
        write_mbox(later, [(tag_reply, m["tc"] + 3600)])
        rc, s, _ = site.run(later)
        eq("tagged reply of ours: appended to its ticket", (rc, s.get("appended"),
                                                            site.ticket_of("<c-r2@example.com>")),
           (0, 1, tc_ticket))
        eq("... older than the ticket's last message: its status and times unchanged",
           site.sql("SELECT status, updated, closed_at FROM tickets WHERE id = ?", tc_ticket),
           [("closed", m["tc"] + 7200, m["tc"] + 7200)])
        tag_reply = mail("Example Support <support@example.com>", header(m["c"], "From"),
                         f"Re: [#{tc_ticket}] Bulgarian demo email!", m["tc"] + DAY,
                         "And another.", "<c-r3@example.com>")
        write_mbox(later, [(tag_reply, m["tc"] + DAY)])
        rc, s, _ = site.run(later)
        eq("... newer: the ticket's last activity, closed at it",
           site.sql("SELECT status, updated, closed_at FROM tickets WHERE id = ?", tc_ticket),
           [("closed", m["tc"] + DAY, m["tc"] + DAY)])
        eq("still no outbox row", site.one("SELECT count(*) FROM outbox"), 0)

        # the SLA clock: targets missed before the import are not our breaches
        p = subprocess.run([BIN, "-c", site.conf, "tick"], capture_output=True)
        eq("tick right after the import: nothing to say", (p.returncode, site.one(
            "SELECT count(*) FROM outbox"), site.one(
            "SELECT count(*) FROM events WHERE what IN ('sla-breach', 'sla-warning')")), (0, 0, 0))
        later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW + DAY + DAY // 2))
        p = subprocess.run([BIN, "-c", site.conf, "tick", "--now", later], capture_output=True)
        eq("a day and a half on: only the recent ticket, its target ahead at the import, "
           "escalates", (p.returncode, site.sql(
               "SELECT ticket_id FROM events WHERE what = 'sla-breach'")), (0, [(rec,)]))
        eq("... to the lead, and no mail about any other imported ticket", site.sql(
            "SELECT ticket_id, rcpts FROM outbox"), [(rec, "lead@example.com")])
    finally:
        site.close()


def check_corpus(d):
    """Every corpus message in one mbox, odd ones included: each stored byte
    for byte or a duplicate, nothing queued.  The corpus reuses Message-IDs
    across different messages (test fixtures do): only the same mail in
    other bytes is a duplicate."""
    site = Site()
    path = os.path.join(d, "corpus.mbox")
    msgs, names_of = [], {}
    for root, _, names in os.walk(CORPUS):
        for n in sorted(names):
            if not n.endswith((".tsv", ".md")):
                with open(os.path.join(root, n), "rb") as f:
                    msgs.append((stored_bytes(f.read()), 1600000000))
                names_of[len(msgs) - 1] = os.path.relpath(os.path.join(root, n), CORPUS)
    stored = write_mbox(path, msgs)
    digest = {names_of[i]: hashlib.sha256(x).hexdigest() for i, x in enumerate(stored)}
    try:
        rc, s, _ = site.run(path)
        eq("the whole corpus as one mbox: exit 0", rc, 0)
        eq("... every message read, none failed", (s.get("messages read"), s.get("failed")),
           (len(msgs), 0))
        got = {hashlib.sha256(r[0]).hexdigest() for r in site.sql("SELECT raw FROM messages")}
        result(got <= set(digest.values()) and
               len(got) + s.get("duplicates skipped", 0) == len(msgs),
               f"... each stored byte for byte or a duplicate ({len(got)} stored, "
               f"{s.get('duplicates skipped')} duplicates)")
        same_id = ["inbound/rt-email-file-attachment.eml", "inbound/rt-email-file-attachment-2.eml",
                   "inbound/redmine-ticket_with_cc.eml", "inbound/redmine-ticket_by_unknown_user.eml",
                   "replies/redmine-ticket_reply.eml", "replies/redmine-ticket_reply_with_status.eml"]
        eq("... different messages under one Message-ID all stored",
           [n for n in same_id if digest[n] not in got], [])
        eq("... nothing queued", site.one("SELECT count(*) FROM outbox"), 0)
    finally:
        site.close()


def check_agent_address(d):
    """An agent's mail to a ticket's agent address (a maildesk-era archive)
    was written to maildesk, quotes and all: a note for agents only."""
    site = Site()
    try:
        live = mail("Gus <gus@customer.test>", "support@example.com", "broken", NOW - 3600,
                    "It broke.", "<gus@customer.test>")
        p = subprocess.run([BIN, "-c", site.conf, "deliver", "--recipient",
                            "support@example.com"], input=live, capture_output=True)
        queued = site.one("SELECT count(*) FROM outbox")
        raw = site.one("SELECT raw FROM outbox WHERE rcpts = 'alice@example.com'")
        agent_addr = email.message_from_bytes(raw, policy=email.policy.default)["Reply-To"]
        agent_addr = agent_addr.addresses[0].addr_spec
        result(p.returncode == 0 and "-agent-" in agent_addr,
               "a live ticket assigned to alice, mailed from her agent address")
        path = os.path.join(d, "agent.mbox")
        answer = mail("Alice Example <alice@example.com>", agent_addr, "Re: [#1] broken",
                      NOW - 1800, "Try again now.\n\n> internal: customer is on probation",
                      "<alice-answer@example.com>", ["<gus@customer.test>"])
        write_mbox(path, [(answer, NOW - 1800)])
        rc, s, _ = site.run(path)
        eq("imported: a note for agents on the ticket, nothing queued",
           (rc, site.sql("SELECT ticket_id, direction, kind, audience FROM messages "
                         "WHERE message_id = 'alice-answer@example.com'"),
            site.one("SELECT count(*) FROM outbox")), (0, [(1, "out", "note", "agents")], queued))
    finally:
        site.close()


def check_maildir(d):
    site = Site()
    md = os.path.join(d, "Maildir")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(md, sub))
    x = corpus("charsets/rt-russian-subject-no-content-type.eml")
    tx = epoch(x)
    y = mail("Finn <finn@customer.test>", "billing@example.com", "invoice", 0, "Wrong total.",
             "<finn@customer.test>", date=False)
    z = mail("Finn <finn@customer.test>", "billing@example.com", "Re: invoice", tx + DAY,
             "And the VAT.", "<finn2@customer.test>", ["<finn@customer.test>"])
    files = {"cur/1055920478.M1P1.host:2,S": x, "new/1055930000.M2P2.host": y,
             "cur/1055999999.M3P3.host:2,RS": z}
    for name, raw in files.items():
        with open(os.path.join(md, name), "wb") as f:
            f.write(raw)
    mtime = tx + 3600
    os.utime(os.path.join(md, "new/1055930000.M2P2.host"), (mtime, mtime))
    with open(os.path.join(md, "cur/.hidden"), "wb") as f:
        f.write(b"not a message\n")
    try:
        rc, s, _ = site.run("--queue", "billing", md)
        eq("Maildir import exits 0", rc, 0)
        eq("Maildir: cur/ and new/ read, dot files not",
           (s.get("messages read"), s.get("tickets created"), s.get("appended")), (3, 2, 1))
        got = {hashlib.sha256(r[0]).hexdigest() for r in site.sql("SELECT raw FROM messages")}
        eq("Maildir: messages stored byte for byte", got,
           {hashlib.sha256(v).hexdigest() for v in files.values()})
        eq("Maildir: no Date, the file's mtime", site.sql(
            "SELECT t.created, m.received FROM tickets t JOIN messages m ON m.ticket_id = t.id "
            "WHERE m.message_id = 'finn@customer.test'"), [(mtime, mtime)])
        eq("Maildir: the reply threads", site.ticket_of("<finn2@customer.test>"),
           site.ticket_of("<finn@customer.test>"))
        eq("--queue: every new ticket in billing", site.sql(
            "SELECT DISTINCT queue FROM tickets"), [("billing",)])
        eq("Maildir: the corpus message at its own date", site.one(
            "SELECT count(*) FROM messages WHERE received = ? AND date = ?", tx, tx), 1)
        eq("Maildir: no outbox row", site.one("SELECT count(*) FROM outbox"), 0)
        rc, s, _ = site.run(md)
        eq("Maildir re-run: duplicates only", (rc, s.get("duplicates skipped"),
                                               s.get("tickets created")), (0, 3, 0))
    finally:
        site.close()


def big_mbox(path, threads):
    msgs = []
    base = 1577836800  # 2020-01-01
    for i in range(threads):
        t0 = base + i * 3 * 3600
        q = f"<q{i}@customer.test>"
        r = f"<r{i}@example.com>"
        f = f"<f{i}@customer.test>"
        cust = f"Customer {i} <c{i}@customer.test>"
        text = ("line of text %d\n" % i) * 200
        msgs.append((mail(cust, "support@example.com", f"question {i}", t0, text, q), t0))
        msgs.append((mail("Alice Example <alice@example.com>", cust, f"Re: question {i}",
                          t0 + 600, "answer\n" + text, r, [q]), t0 + 600))
        msgs.append((mail(cust, "support@example.com", f"Re: question {i}", t0 + 1200,
                          "thanks\n" + text, f, [q, r]), t0 + 1200))
    write_mbox(path, msgs)
    return len(msgs)


def grouping(site):
    """Each message's Message-ID with the Message-ID of its ticket's first message."""
    return sorted(site.sql(
        "SELECT m.message_id, (SELECT message_id FROM messages f WHERE f.ticket_id = "
        "m.ticket_id ORDER BY f.id LIMIT 1) FROM messages m"))


def check_kill(d):
    path = os.path.join(d, "big.mbox")
    total = big_mbox(path, 200)
    site = Site()
    ref = Site()
    try:
        p = subprocess.Popen([BIN, "-c", site.conf, "import", path], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        seen = 0
        deadline = time.time() + 120
        while time.time() < deadline and p.poll() is None:
            try:
                seen = site.one("SELECT count(*) FROM messages")
            except sqlite3.OperationalError:
                seen = 0
            if seen >= total // 4:
                break
            time.sleep(0.005)
        p.send_signal(signal.SIGKILL)
        p.wait()
        stored = site.one("SELECT count(*) FROM messages")
        result(p.returncode == -signal.SIGKILL and 0 < stored < total,
               f"import killed midway ({stored} of {total} committed)")
        rc, s, _ = site.run(path)
        eq("re-run after SIGKILL exits 0", rc, 0)
        eq("re-run skips exactly what was committed", (s.get("duplicates skipped"),
                                                       s.get("tickets created", 0) +
                                                       s.get("appended", 0)),
           (stored, total - stored))
        eq("each message exactly once", site.sql(
            "SELECT count(*), count(DISTINCT sha256), count(DISTINCT message_id) FROM messages"),
           [(total, total, total)])
        rc, s, _ = ref.run(path)
        eq("an import without a kill: same count", (rc, s.get("tickets created")), (0, 200))
        eq("killed and resumed: the same tickets as an import in one go", grouping(site),
           grouping(ref))
        eq("killed and resumed: no outbox row", site.one("SELECT count(*) FROM outbox"), 0)
    finally:
        site.close()
        ref.close()


def check_tempfail(d):
    site = Site(busy=1)
    path = os.path.join(d, "three.mbox")
    msgs = [(mail(f"C{i} <c{i}@customer.test>", "support@example.com", f"q{i}",
                  1600000000 + i, "text", f"<t{i}@customer.test>"), 1600000000 + i)
            for i in range(3)]
    write_mbox(path, msgs)
    lock = sqlite3.connect(os.path.join(site.dir, "maildesk.db"), isolation_level=None)
    try:
        lock.execute("BEGIN IMMEDIATE")
        rc, s, err = site.run(path)
        eq("database locked past busy_timeout: exit 75", rc, 75)
        eq("... every message failed, none imported", (s.get("failed"), s.get("tickets created")),
           (3, 0))
        result(all(f"message at byte {o}" in err for o in message_offsets(path)),
               "... stderr names each message")
        lock.execute("ROLLBACK")
        rc, s, _ = site.run(path)
        eq("re-run after the trouble imports them", (rc, s.get("tickets created")), (0, 3))
    finally:
        lock.close()
        site.close()


def message_offsets(path):
    with open(path, "rb") as f:
        data = f.read()
    offs, at = [], 0
    while True:
        nl = data.find(b"\n", at)
        offs.append(nl + 1)
        at = data.find(b"\nFrom ", nl)
        if at < 0:
            return offs
        at += 1


def check_progress(d):
    site = Site()
    path = os.path.join(d, "p.mbox")
    write_mbox(path, [(mail("P <p@customer.test>", "support@example.com", "p", 1600000000,
                            "text", "<p@customer.test>"), 1600000000)])
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen([BIN, "-c", site.conf, "import", path], stdout=subprocess.PIPE,
                             stderr=slave)
        os.close(slave)
        out = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        p.wait()
        result(p.returncode == 0 and b"\rimporting [" in out and b"1/1" in out,
               "progress bar on a terminal")
    finally:
        os.close(master)
        site.close()


def check_paths(d):
    site = Site()
    good = os.path.join(d, "good.mbox")
    write_mbox(good, [(mail("G <g@customer.test>", "support@example.com", "g", 1600000000,
                            "text", "<g@customer.test>"), 1600000000)])
    text = os.path.join(d, "notes.txt")
    with open(text, "w") as f:
        f.write("just some notes\n")
    os.makedirs(os.path.join(d, "plain-dir"))
    try:
        rc, _, err = site.run(good, os.path.join(d, "missing.mbox"))
        eq("missing path: EX_NOINPUT", rc, 66)
        result("missing.mbox" in err, "... named")
        rc, _, err = site.run(good, text)
        eq("not an mbox: EX_DATAERR", rc, 65)
        rc, _, _ = site.run(os.path.join(d, "plain-dir"))
        eq("a directory without cur/ and new/: EX_DATAERR", rc, 65)
        eq("nothing imported when a path is unusable", site.one("SELECT count(*) FROM messages"),
           0)
        rc, _, _ = site.run("--queue", "nosuch", good)
        eq("unknown queue: EX_USAGE", rc, 64)
        p = subprocess.run([BIN, "-c", site.conf, "import"], capture_output=True)
        eq("no path: EX_USAGE", p.returncode, 64)
    finally:
        site.close()


def main():
    d = tempfile.mkdtemp(prefix="maildesk-import-data-")
    try:
        check_mbox(d)
        check_maildir(d)
        check_agent_address(d)
        check_corpus(d)
        check_paths(d)
        check_progress(d)
        check_tempfail(d)
        check_kill(d)
    finally:
        shutil.rmtree(d)
    return done()


if __name__ == "__main__":
    sys.exit(main())
