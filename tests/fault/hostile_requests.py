#!/usr/bin/env python3
"""The "status" shortcut never swallows real mail (issue 12, point 8),
through `maildesk deliver`.  A mail that says "status" (or статус,
statuss) but carries more -- an attachment of any kind (a forward as
message/rfc822 with a .docx in it, a file, an inline image), quoted or
forwarded history (">" lines, an attribution, "-----Original Message-----",
a forwarded-message block, below a signature too, an HTML blockquote), a
forward's subject prefix, more words, a reply to one of our own mails --
opens a ticket and is acknowledged: it is stored on a ticket, never in the
requests table, and no status list goes out.  The plain question, with a
signature or not, still gets the list and no ticket.  Output is TAP."""

import email
import email.policy
import os
import subprocess
import sys
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

BIN = os.environ["MAILDESK_BIN"]
SRC = os.environ["MAILDESK_SRCDIR"]
sys.path.insert(0, os.path.join(SRC, "tests"))
from mdsite import SiteDB  # noqa: E402
from tap import done, eq, result  # noqa: E402

RCPT = "support@example.com"
AGENTS = """[agent a]
address = agent@example.com
name = Agent A
queues = support
max_open = 1000
"""
DOCX = b"PK\x03\x04" + b"\x00" * 60  # enough of a zip for a mail client to attach


class Site(SiteDB):
    def __init__(self):
        super().__init__(BIN, SRC, "maildesk-requests-", 1000, AGENTS)
        self.seen = 0

    def deliver(self, msg):
        return subprocess.run([BIN, "-c", self.conf, "deliver", "--recipient", RCPT],
                              input=msg.as_bytes(), capture_output=True).returncode

    def new_mail(self):
        rows = self.sql("SELECT id, kind, raw FROM outbox WHERE id > ? ORDER BY id", self.seen)
        if rows:
            self.seen = rows[-1][0]
        return [(k, raw) for _, k, raw in rows]


_n = {"i": 0}


def mail(subject, text, frm=None, html=None):
    """A customer's mail, each from an address of its own."""
    _n["i"] += 1
    m = EmailMessage()
    m["From"] = frm or f"Customer {_n['i']} <c{_n['i']}@customer.test>"
    m["To"] = RCPT
    m["Subject"] = subject
    m["Date"] = formatdate()
    m["Message-ID"] = make_msgid(domain="customer.test")
    m.set_content(text)
    if html is not None:
        m.add_alternative(html, subtype="html")
    return m


def forwarded_as_attachment():
    """The instance of the issue: subject "статус", no text, the original
    attached as message/rfc822 with a .docx inside."""
    inner = mail("Договор", "Посмотрите договор, пожалуйста.")
    inner.add_attachment(DOCX, maintype="application",
                         subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
                         filename="договор.docx")
    outer = mail("статус", "")
    outer.add_attachment(inner)
    return outer


def with_file(subject, text, maintype, subtype, filename, disposition="attachment"):
    m = mail(subject, text)
    m.add_attachment(DOCX, maintype=maintype, subtype=subtype, filename=filename,
                     disposition=disposition)
    return m


def inline_image():
    m = mail("status", "status")
    m.add_related(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, maintype="image", subtype="png", cid="<img1@x>")
    return m


def html_only(body):
    _n["i"] += 1
    m = EmailMessage()
    m["From"] = f"c{_n['i']}@customer.test"
    m["To"] = RCPT
    m["Subject"] = "status"
    m["Date"] = formatdate()
    m["Message-ID"] = make_msgid(domain="customer.test")
    m.set_content(body, subtype="html")
    return m


def raw_mail(subject, head, body):
    """A mail whose MIME structure is written out by hand."""
    _n["i"] += 1
    return email.message_from_bytes(
        (f"From: c{_n['i']}@customer.test\nTo: {RCPT}\nSubject: {subject}\nDate: {formatdate()}\n"
         f"Message-ID: {make_msgid(domain='customer.test')}\nMIME-Version: 1.0\n{head}\n\n{body}").encode(),
        policy=email.policy.default)


def cases(our_ack_id, our_list_id):
    quoted = [
        ("'>' quote", "status", "status\n\n> what you wrote before\n"),
        ("attribution and quote", "status", "status\n\nOn Mon, 23 Nov 2026, Support <support@example.com> wrote:\n> hi\n"),
        ("Outlook original message", "Status", "status\n\n-----Original Message-----\nFrom: Boss <b@x.test>\n"
                                               "Sent: Monday\nTo: me\nSubject: contract\n\nplease sign"),
        ("Gmail forwarded message, empty text", "статус",
         "---------- Forwarded message ---------\nFrom: Boss <b@x.test>\nDate: Mon, 23 Nov 2026\n"
         "Subject: contract\nTo: me\n\nplease sign"),
        ("Outlook header block only", "status", "From: Boss <b@x.test>\nSent: Monday\nTo: me\n"
                                                "Subject: contract\n\nplease sign"),
        ("a quote below the signature", "", "status\n-- \nJane\n\nOn Mon, Bob wrote:\n> hello\n"),
        ("Russian attribution", "статус", "Пётр Иванов пишет:\n> договор\n"),
        ("more than the word", "status", "status of order 4711 please"),
    ]
    out = [(name, mail(subj, text)) for name, subj, text in quoted]
    for prefix in ("Fwd: status", "FW: Status", "WG: Status", "TR: status", "Пересл: статус",
                   "Pārs: statuss", "Re: Fwd: status"):
        out.append((f"forward prefix {prefix!r}", mail(prefix, "")))
    out += [
        ("forward as attached mail with a .docx (issue 12)", forwarded_as_attachment()),
        ("a .docx attached", with_file("status", "status", "application",
                                       "vnd.openxmlformats-officedocument.wordprocessingml.document", "a.docx")),
        ("a PDF attached, no text", with_file("статус", "", "application", "pdf", "invoice.pdf")),
        ("an inline image", inline_image()),
        ("an unnamed inline part", with_file("status", "status", "application", "octet-stream", None, "inline")),
        ("HTML-only with a blockquote", html_only("<p>status</p><blockquote>old mail</blockquote>")),
        ("plain status, HTML alternative with a blockquote",
         mail("status", "status", html="<div>status</div><blockquote type=cite>old</blockquote>")),
    ]
    out += [
        ("the whole mail a message/rfc822", raw_mail("status", "Content-Type: message/rfc822",
                                                     "From: boss@x.test\nSubject: status\n\nstatus\n")),
        ("only a text file attached", raw_mail("status", "Content-Type: text/plain\n"
                                                         "Content-Disposition: attachment; filename=status.txt",
                                               "status\n")),
        ("a winmail.dat", raw_mail("status", "Content-Type: multipart/mixed; boundary=B",
                                   "--B\nContent-Type: text/plain\n\nstatus\n--B\n"
                                   "Content-Type: application/ms-tnef; name=winmail.dat\n"
                                   "Content-Transfer-Encoding: base64\n\neJ8+IgAA\n--B--\n")),
    ]
    for name, ref_header, ref in (("In-Reply-To of our status list", "In-Reply-To", our_list_id),
                                  ("References of our status list", "References", f"<x@y.test> {our_list_id}"),
                                  ("In-Reply-To of our ack", "In-Reply-To", our_ack_id)):
        m = mail("Re: status", "status")
        m[ref_header] = ref
        out.append((name, m))
    return out


def is_status_answer(site, name, m):
    eq(f"{name}: delivered", site.deliver(m), 0)
    kinds = [k for k, _ in site.new_mail()]
    eq(f"{name}: answered with the status list", kinds, ["status-list"])
    eq(f"{name}: kept as a request, no ticket",
       (site.one("SELECT count(*) FROM requests WHERE message_id = ?", m["Message-ID"].strip("<>")),
        site.one("SELECT count(*) FROM messages WHERE message_id = ?", m["Message-ID"].strip("<>"))), (1, 0))


def main():
    site = Site()
    try:
        first = mail("Printer broken", "My printer is broken.", frm="Jane <jane@customer.test>")
        eq("a ticket for jane", site.deliver(first), 0)
        ack = [raw for k, raw in site.new_mail() if k == "ack"]
        our_ack_id = email.message_from_bytes(ack[0], policy=email.policy.default)["Message-ID"].strip()
        # the plain question still works, a signature allowed
        status = mail("status", "status", frm="Jane <jane@customer.test>")
        is_status_answer(site, "plain status", status)
        lst = site.sql("SELECT raw FROM outbox WHERE kind = 'status-list' ORDER BY id DESC LIMIT 1")[0][0]
        our_list_id = email.message_from_bytes(lst, policy=email.policy.default)["Message-ID"].strip()
        is_status_answer(site, "status with a signature",
                         mail("Статус", "\n-- \nJane Customer\nACME Ltd", frm="jane@customer.test"))

        for name, m in cases(our_ack_id, our_list_id):
            mid = m["Message-ID"].strip("<>")
            before = site.one("SELECT count(*) FROM tickets")
            eq(f"{name}: delivered", site.deliver(m), 0)
            kinds = [k for k, _ in site.new_mail()]
            result("status-list" not in kinds, f"{name}: no status list (outbox: {kinds})")
            eq(f"{name}: not kept as a request", site.one("SELECT count(*) FROM requests WHERE message_id = ?", mid), 0)
            tid = site.one("SELECT ticket_id FROM messages WHERE message_id = ?", mid)
            result(tid is not None, f"{name}: a ticket holds it")
            if ref_is_ack(m, our_ack_id):
                eq(f"{name}: joins the ticket it answers", tid, 1)
            else:
                eq(f"{name}: opens a ticket", site.one("SELECT count(*) FROM tickets"), before + 1)
                result("ack" in kinds, f"{name}: acknowledged")
    finally:
        site.close()
    return done()


def ref_is_ack(m, our_ack_id):
    return m.get("In-Reply-To", "").strip() == our_ack_id


if __name__ == "__main__":
    sys.exit(main())
