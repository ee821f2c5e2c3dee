#!/usr/bin/env python3
"""Internal notes must not leak through an agent's attachments, and read
receipts are machine mail (issue 12, points 3 and 10), through `maildesk
deliver` and the outbox.

One agent writes a real internal note through the note address; maildesk
mails it to the ticket's assignee, who answers that mail as real clients
do: Apple Mail (text, image, text: the last text part quotes our mail),
Apple Mail in rich text (the HTML version in several parts), Outlook's
"attach original" (our agent mail attached as message/rfc822), our mail
saved and attached as a file, Outlook's rich text (a winmail.dat whose
body quotes our mail, a file inside it).
The mail queued to the customer, every part decoded, must hold the agent's
words and their file, and neither the note's text, nor a note or agent
address, nor our agent-mail marker.

Read receipts (an MDN report, an MDN part without the report, Outlook's
TNEF receipts by message class, a real one and built ones, and its plain
text "Read:" receipt) get no
acknowledgement, change no ticket's status, and give no agent a ticket.
Output is TAP."""

import base64
import email
import email.policy
import os
import re
import struct
import subprocess
import sys
from email.message import EmailMessage

BIN = os.environ["MAILDESK_BIN"]
SRC = os.environ["MAILDESK_SRCDIR"]
sys.path.insert(0, os.path.join(SRC, "tests"))
from mdsite import SiteDB, person_address  # noqa: E402
from tap import done, eq, result  # noqa: E402

AGENTS = """[agent ann]
address = ann@staff.example.com
name = Ann Agent
queues = support
max_open = 1000
[agent bob]
address = bob@staff.example.com
name = Bob Agent
queues = support
max_open = 1000
"""
AGENT_ADDRS = ("ann@staff.example.com", "bob@staff.example.com")
TOKEN = re.compile(rb"\+\d+-(note|agent)-(?:[0-9a-f]{8}-)?[0-9a-f]{16}@", re.I)
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TNEF_DIR = os.path.join(SRC, "tests", "data", "tnef")


# ---- a TNEF writer, for streams of our own making (the format: MS-OXTNEF 2.1)

def tnef_attr(level, attr_id, data):
    return (struct.pack("<BII", level, attr_id, len(data)) + data
            + struct.pack("<H", sum(data) & 0xFFFF))


def tnef_stream(message_class, body=None, files=()):
    out = struct.pack("<IH", 0x223E9F78, 0x0001)
    out += tnef_attr(1, 0x00089006, struct.pack("<I", 0x00010000))      # attTnefVersion
    out += tnef_attr(1, 0x00069007, struct.pack("<II", 1252, 0))        # attOemCodepage
    out += tnef_attr(1, 0x00078008, message_class.encode() + b"\0")     # attMessageClass
    if body is not None:
        out += tnef_attr(1, 0x0002800C, body.encode("cp1252", "replace"))  # attBody
    for name, data in files:
        out += tnef_attr(2, 0x00069002, struct.pack("<HIHHI", 1, 0xFFFFFFFF, 0, 0, 0))  # attAttachRenddata
        out += tnef_attr(2, 0x00018010, name.encode() + b"\0")           # attAttachTitle
        out += tnef_attr(2, 0x0006800F, data)                            # attAttachData
    return out


class Site(SiteDB):
    def __init__(self):
        super().__init__(BIN, SRC, "maildesk-leak-", 1000, AGENTS)
        self.n = 0

    def deliver(self, raw, rcpt):
        if isinstance(raw, EmailMessage):
            raw = raw.as_bytes(policy=email.policy.SMTP)
        p = subprocess.run([BIN, "-c", self.conf, "deliver", "--recipient", rcpt,
                            "--sender", "someone@example.net"],
                           input=raw, capture_output=True)
        return p.returncode

    def last_outbox(self):
        return self.one("SELECT coalesce(max(id), 0) FROM outbox")

    def outbox_since(self, since):
        return [(k, r, raw) for k, r, raw in
                self.sql("SELECT kind, rcpts, raw FROM outbox WHERE id > ? ORDER BY id", since)]

    def msgid(self):
        self.n += 1
        return f"<leak{self.n}.{os.getpid()}@client.example>"


def everything_in(raw):
    """The raw mail and every part of it decoded (base64, QP, nested mail)."""
    out = [raw]
    m = email.message_from_bytes(raw, policy=email.policy.default)
    for part in m.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if payload:
            out.append(payload)
        if part.get_content_maintype() == "message":
            out.append(part.as_bytes())
    return b"\n".join(out)


def attachments_of(raw):
    m = email.message_from_bytes(raw, policy=email.policy.default)
    return {(p.get_filename() or p.get_content_type()): p.get_payload(decode=True)
            for p in m.walk() if not p.is_multipart() and p.get_content_maintype() != "text"}


def quoted(text):
    return "".join("> " + line + "\n" for line in text.splitlines())


def open_ticket(site, name):
    """A customer's ticket, an agent's real note on it, and the mail that
    brought the note to the ticket's assignee.  Returns a dict."""
    customer = f"{name}@customer.example"
    m = EmailMessage()
    m["From"] = f"Customer {name} <{customer}>"
    m["To"] = "support@example.com"
    m["Subject"] = f"Printer of {name} is broken"
    m["Message-ID"] = site.msgid()
    m.set_content("My printer prints nothing at all.\n")
    eq(f"{name}: customer mail delivered", site.deliver(m, "support@example.com"), 0)
    tid = site.one("SELECT max(id) FROM tickets")
    assignee = site.one("SELECT assignee FROM tickets WHERE id = ?", tid)
    other = [a for a in AGENT_ADDRS if a != assignee][0]
    assigned = site.one("SELECT raw FROM outbox WHERE ticket_id = ? AND kind = 'agent-assigned'", tid)
    note_addr = TOKEN.search(assigned or b"")
    result(assignee in AGENT_ADDRS and note_addr is not None,
           f"{name}: ticket {tid} assigned to {assignee}, whose mail names the note address")
    # the other agent writes the note through the note address issued to them
    note_addr = person_address(os.path.join(site.dir, "secret"), "support@example.com", tid, "note",
                               other)

    secret = f"NOTE-SECRET-{name}: customer owes us 4000 EUR, do not tell them"
    n = EmailMessage()
    n["From"] = f"Other Agent <{other}>"
    n["To"] = note_addr
    n["Subject"] = f"Re: [#{tid}] Printer of {name} is broken"
    n["Message-ID"] = site.msgid()
    n.set_content(secret + "\n")
    since = site.last_outbox()
    eq(f"{name}: note delivered", site.deliver(n, note_addr), 0)
    notes = [raw for k, r, raw in site.outbox_since(since) if assignee in r]
    result(len(notes) == 1 and secret.encode() in everything_in(notes[0]),
           f"{name}: the note reached the assignee by mail")
    note_mail = email.message_from_bytes(notes[0], policy=email.policy.default) if notes else None
    return {"tid": tid, "customer": customer, "assignee": assignee, "secret": secret,
            "note_raw": notes[0] if notes else b"", "note_mail": note_mail,
            "agent_addr": note_mail["Reply-To"].addresses[0].addr_spec if note_mail else None}


def reply_headers(t, msg):
    nm = t["note_mail"]
    msg["From"] = f"Assignee <{t['assignee']}>"
    msg["To"] = t["agent_addr"]
    msg["Subject"] = "Re: " + nm["Subject"]
    msg["Message-ID"] = f"<reply{t['tid']}.{os.getpid()}@client.example>"
    msg["In-Reply-To"] = nm["Message-ID"]
    msg["References"] = nm["Message-ID"]
    msg["Date"] = "Mon, 23 Nov 2026 12:00:00 +0100"
    return msg


def note_text(t):
    return t["note_mail"].get_body(("plain",)).get_content()


def layout_apple(t):
    """multipart/mixed: text, image, text; the last text quotes our mail."""
    m = reply_headers(t, EmailMessage())
    m.set_content("APPLE-ONE: here is the screenshot of the settings:\n")
    m.add_attachment(PNG, maintype="image", subtype="png", filename="settings.png",
                     disposition="inline")
    m.add_attachment("APPLE-TWO: after that, restart the printer.\n\n"
                     "On 23 Nov 2026, at 10:00, Example Support <support@example.com> wrote:\n\n"
                     + quoted(note_text(t)), disposition="inline")
    del m.get_payload()[2]["Content-Disposition"]
    return m, ["APPLE-ONE", "APPLE-TWO"], ("settings.png", PNG)


def layout_apple_rich(t):
    """Apple Mail in rich text: the plain version whole, the HTML version
    in parts around the image, its last part quoting our mail."""
    m = reply_headers(t, EmailMessage())
    m.set_content("RICH-ONE: the screenshot:\n\nRICH-TWO: restart it.\n\n"
                  "On 23 Nov 2026, at 10:00, Example Support wrote:\n\n" + quoted(note_text(t)))
    html = EmailMessage()
    html.set_content("<p>RICH-ONE: the screenshot:</p>", subtype="html")
    html.make_mixed()
    html.add_attachment(PNG, maintype="image", subtype="png", filename="shot.png",
                        disposition="inline")
    last = EmailMessage()
    last.set_content("<p>RICH-TWO: restart it.</p><blockquote type=\"cite\"><pre>"
                     + note_text(t) + "</pre></blockquote>", subtype="html")
    html.attach(last)
    m.make_alternative()
    m.attach(html)
    return m, ["RICH-ONE", "RICH-TWO"], ("shot.png", PNG)


def layout_outlook_attached(t):
    """Outlook "attach original": our agent mail as message/rfc822."""
    m = reply_headers(t, EmailMessage())
    m.set_content("OUTLOOK-ATTACH: the report is attached, please look at page 2.\n")
    m.add_attachment(PDF, maintype="application", subtype="pdf", filename="report.pdf")
    m.add_attachment(email.message_from_bytes(t["note_raw"], policy=email.policy.default))
    return m, ["OUTLOOK-ATTACH"], ("report.pdf", PDF)


def layout_saved_mail(t):
    """Our agent mail dragged into the reply as a file: an .eml sent as
    application/octet-stream, and the same bytes under a plain name."""
    m = reply_headers(t, EmailMessage())
    m.set_content("SAVED-MAIL: the invoice is attached.\n")
    m.add_attachment(PDF, maintype="application", subtype="pdf", filename="invoice.pdf")
    m.add_attachment(t["note_raw"], maintype="application", subtype="octet-stream",
                     filename=f"Re [#{t['tid']}] printer.eml")
    m.add_attachment(t["note_raw"], maintype="application", subtype="octet-stream",
                     filename="details")
    return m, ["SAVED-MAIL"], ("invoice.pdf", PDF)


def layout_outlook_rtf(t):
    """Outlook rich text: text quoting our mail Outlook-style, and a
    winmail.dat whose body is the whole reply with the quote and whose
    attachment is a real file."""
    m = reply_headers(t, EmailMessage())
    sent = ("-----Original Message-----\nFrom: Example Support <support@example.com>\n"
            "Sent: Monday, November 23, 2026 10:00 AM\n\n" + note_text(t))
    m.set_content("OUTLOOK-RTF: the new driver is attached.\n\n" + sent)
    stream = tnef_stream("IPM.Microsoft Mail.Note",
                         body="OUTLOOK-RTF: the new driver is attached.\r\n\r\n" + sent,
                         files=[("driver.pdf", PDF)])
    m.add_attachment(stream, maintype="application", subtype="ms-tnef", filename="winmail.dat")
    return m, ["OUTLOOK-RTF"], ("driver.pdf", PDF)


def check_layout(site, name, build):
    t = open_ticket(site, name)
    if t["note_mail"] is None:
        return
    msg, words, (fname, fdata) = build(t)
    since = site.last_outbox()
    eq(f"{name}: agent's reply delivered", site.deliver(msg, t["agent_addr"]), 0)
    out = [(k, r, raw) for k, r, raw in site.outbox_since(since) if t["customer"] in r]
    eq(f"{name}: one mail queued to the customer", len(out), 1)
    if not out:
        return
    blob = everything_in(out[0][2])
    for w in words:
        result(w.encode() in blob, f"{name}: the agent's words {w!r} reach the customer")
    result(t["secret"].encode() not in blob and b"NOTE-SECRET" not in blob,
           f"{name}: the note's text does not reach the customer")
    found = TOKEN.search(blob)
    result(found is None, f"{name}: no note or agent address reaches the customer"
           + (f" (found {found.group(0)!r})" if found else ""))
    result(b"##-" not in blob, f"{name}: our agent-mail marker does not reach the customer")
    told = [raw for k, r, raw in site.outbox_since(since)
            if k == "agent-parts-withheld" and t["assignee"] in r]
    t["told"] = told[0] if told else None
    att = attachments_of(out[0][2])
    eq(f"{name}: the agent's file {fname} reaches the customer intact", att.get(fname), fdata)
    bad = [k for k in att if k in ("winmail.dat", "application/ms-tnef", "message/rfc822")
           or k.startswith("message/")]
    eq(f"{name}: no attached mail or TNEF stream reaches the customer", bad, [])
    return t


def told_agent(site, name, t, expect):
    """The parts-withheld event and the agent's notice name expect (None:
    nothing was withheld, so neither exists)."""
    if t is None:
        return
    ev = site.one("SELECT new_value FROM events WHERE ticket_id = ? AND what = 'parts-withheld'",
                  t["tid"])
    if expect is None:
        eq(f"{name}: nothing withheld, no event", ev, None)
        eq(f"{name}: nothing withheld, the agent is not bothered", t["told"], None)
        return
    result(ev is not None and expect in ev, f"{name}: an event names what was withheld ({ev!r})")
    text = ""
    if t["told"] is not None:
        text = email.message_from_bytes(t["told"], policy=email.policy.default) \
            .get_body(("plain",)).get_content()
    result(expect in text, f"{name}: the agent is told what stayed behind")


def test_leaks(site):
    told_agent(site, "apple", check_layout(site, "apple", layout_apple), None)
    told_agent(site, "applerich", check_layout(site, "applerich", layout_apple_rich), None)
    told_agent(site, "outlookattach", check_layout(site, "outlookattach", layout_outlook_attached),
               "message/rfc822")
    told_agent(site, "savedmail", check_layout(site, "savedmail", layout_saved_mail), ".eml")
    told_agent(site, "outlookrtf", check_layout(site, "outlookrtf", layout_outlook_rtf), None)


# ---------------------------------------------------------------- receipts

def receipt_checks(site, name, raw, rcpt, tid=None):
    """raw is delivered to rcpt; nothing may be queued for anyone but the
    agents' own notifications of nothing; tid's status stays."""
    since = site.last_outbox()
    tickets = site.one("SELECT count(*) FROM tickets")
    status = site.one("SELECT status FROM tickets WHERE id = ?", tid) if tid else None
    eq(f"{name}: delivered", site.deliver(raw, rcpt), 0)
    out = site.outbox_since(since)
    eq(f"{name}: no mail queued (no acknowledgement, no agent handed anything)",
       [(k, r) for k, r, _ in out], [])
    row = site.sql("SELECT ticket_id FROM messages ORDER BY id DESC LIMIT 1")[0][0]
    if tid is not None:
        eq(f"{name}: stored on ticket {tid}", row, tid)
        eq(f"{name}: ticket {tid} keeps its status", site.one("SELECT status FROM tickets WHERE id = ?", tid),
           status)
    else:
        eq(f"{name}: one ticket to keep it", site.one("SELECT count(*) FROM tickets"), tickets + 1)
        eq(f"{name}: that ticket is nobody's and closed",
           site.sql("SELECT assignee, status FROM tickets WHERE id = ?", row), [(None, "closed")])


def mdn_report(frm, to, subject, orig_id, report=True):
    m = EmailMessage()
    m["From"] = frm
    m["To"] = to
    m["Subject"] = subject
    m["Message-ID"] = f"<mdn{abs(hash((to, subject, report)))}@client.example>"
    if orig_id:
        m["In-Reply-To"] = orig_id
        m["References"] = orig_id
    m.set_content("Your message was displayed on Monday.\n")
    notif = EmailMessage()
    notif.set_content(f"Final-Recipient: rfc822; {frm}\nOriginal-Message-ID: {orig_id or '<x@y>'}\n"
                      "Disposition: manual-action/MDN-sent-manually; displayed\n")
    notif.replace_header("Content-Type", "message/disposition-notification")
    m.make_mixed()
    m.attach(notif)
    if report:
        m.replace_header("Content-Type", m["Content-Type"].replace(
            "multipart/mixed", "multipart/report; report-type=disposition-notification"))
    return m


def tnef_receipt(frm, to, subject, orig_id, stream):
    m = EmailMessage()
    m["From"] = frm
    m["To"] = to
    m["Subject"] = subject
    m["Message-ID"] = f"<tnef{abs(hash((to, subject, stream)))}@client.example>"
    if orig_id:
        m["In-Reply-To"] = orig_id
    m.set_content("Your message\n\n  To: Support\n  Subject: " + subject[6:]
                  + "\n\nwas read on Monday.\n")
    m.add_attachment(stream, maintype="application", subtype="ms-tnef", filename="winmail.dat")
    return m


def test_receipts(site):
    with open(os.path.join(TNEF_DIR, "garbage-at-end.tnef"), "rb") as f:
        real = f.read()
    # a ticket, its acknowledgement, then solved by its agent
    m = EmailMessage()
    m["From"] = "Rita <rita@customer.example>"
    m["To"] = "support@example.com"
    m["Subject"] = "Receipts"
    m["Message-ID"] = site.msgid()
    m.set_content("Please help.\n")
    eq("receipts: customer mail delivered", site.deliver(m, "support@example.com"), 0)
    tid = site.one("SELECT max(id) FROM tickets")
    ack = email.message_from_bytes(
        site.one("SELECT raw FROM outbox WHERE ticket_id = ? AND kind = 'ack'", tid),
        policy=email.policy.default)
    reply_to = ack["Reply-To"].addresses[0].addr_spec
    ack_id = ack["Message-ID"]
    rita = "Rita <rita@customer.example>"

    receipt_checks(site, "MDN report to the reply address",
                   mdn_report(rita, reply_to, "Read: Receipts", ack_id), reply_to, tid)
    receipt_checks(site, "MDN part without the report, to support@",
                   mdn_report(rita, "support@example.com", "Gelesen: Receipts", ack_id, report=False),
                   "support@example.com", tid)
    receipt_checks(site, "real Outlook TNEF read receipt",
                   tnef_receipt(rita, reply_to, "Read: Receipts", ack_id, real), reply_to, tid)

    # solved: a receipt for the "solved" notice must not reopen it
    assignee = site.one("SELECT assignee FROM tickets WHERE id = ?", tid)
    assigned = email.message_from_bytes(
        site.one("SELECT raw FROM outbox WHERE ticket_id = ? AND kind = 'agent-assigned'", tid),
        policy=email.policy.default)
    agent_addr = assigned["Reply-To"].addresses[0].addr_spec
    s = EmailMessage()
    s["From"] = assignee
    s["To"] = agent_addr
    s["Subject"] = "Re: solved"
    s["Message-ID"] = site.msgid()
    s.set_content("#status solved\n")
    eq("receipts: agent solves the ticket", site.deliver(s, agent_addr), 0)
    eq("receipts: ticket solved", site.one("SELECT status FROM tickets WHERE id = ?", tid), "solved")
    for cls in ("REPORT.IPM.Note.IPNRN", "REPORT.IPM.Note.IPNNRN", "Report.IPM.Note.DR"):
        receipt_checks(site, f"TNEF {cls} for the solved notice",
                       tnef_receipt(rita, reply_to, "Read: Receipts", ack_id,
                                    tnef_stream(cls, body="read")), reply_to, tid)

    # Outlook's receipt as plain text, when it can send neither TNEF nor a report
    r = EmailMessage()
    r["From"] = rita
    r["To"] = reply_to
    r["Subject"] = "Read: Receipts"
    r["Message-ID"] = site.msgid()
    r["In-Reply-To"] = ack_id
    r.set_content("Your message\n\n  To: Example Support\n  Subject: Receipts\n\n"
                  "was read on Monday, November 23, 2026 10:00:00 AM (UTC+01:00).\n")
    receipt_checks(site, "plain-text Outlook read receipt", r, reply_to, tid)

    # receipts about nothing we know: kept, answered by nobody, given to nobody
    receipt_checks(site, "unthreaded TNEF receipt",
                   tnef_receipt("Sam <sam@other.example>", "support@example.com",
                                "Read: Invoice 77", None, tnef_stream("REPORT.IPM.Note.IPNRN")),
                   "support@example.com")
    receipt_checks(site, "unthreaded real TNEF receipt",
                   tnef_receipt("Tom <tom@other.example>", "support@example.com",
                                "Read: Order", None, real), "support@example.com")
    receipt_checks(site, "unthreaded MDN report",
                   mdn_report("Uma <uma@other.example>", "support@example.com", "Read: Order 5", None),
                   "support@example.com")

    # an agent's own Outlook answering our agent mail with a receipt
    since = site.last_outbox()
    eq("agent's receipt: delivered",
       site.deliver(tnef_receipt(assignee, agent_addr, "Read: [#%d] Receipts" % tid, None, real),
                    agent_addr), 0)
    eq("agent's receipt: nothing relayed to the customer or anyone",
       [(k, r) for k, r, _ in site.outbox_since(since)], [])

    # and a person's Outlook mail with an ordinary winmail.dat still gets its answer
    since = site.last_outbox()
    p = tnef_receipt("Vic <vic@other.example>", "support@example.com", "Help: printer", None,
                     tnef_stream("IPM.Microsoft Mail.Note", body="help"))
    eq("person's Outlook mail: delivered", site.deliver(p, "support@example.com"), 0)
    kinds = [k for k, r, _ in site.outbox_since(since) if "vic@other.example" in r]
    eq("person's Outlook mail: acknowledged", kinds, ["ack"])


def test_quiet_tnef(site):
    """libytnef complains about corrupt streams on stdout, which is the
    MTA's channel: deliver's output must stay maildesk's own."""
    for name in ("ytnef-oob-TNEFVersion-SwapWord.tnef", "garbage-at-end.tnef"):
        with open(os.path.join(TNEF_DIR, name), "rb") as f:
            data = f.read()
        for cut in (len(data), len(data) // 2, 9):
            m = tnef_receipt("Wes <wes@other.example>", "support@example.com", "Broken " + name,
                             None, data[:cut])
            p = subprocess.run([BIN, "-c", site.conf, "deliver", "--recipient", "support@example.com"],
                               input=m.as_bytes(policy=email.policy.SMTP), capture_output=True)
            eq(f"corrupt TNEF ({name}, {cut} bytes): exit 0", p.returncode, 0)
            eq(f"corrupt TNEF ({name}, {cut} bytes): nothing on stdout", p.stdout, b"")


def main():
    site = Site()
    try:
        test_leaks(site)
        test_receipts(site)
        test_quiet_tnef(site)
    finally:
        site.close()
    return done()


if __name__ == "__main__":
    sys.exit(main())
