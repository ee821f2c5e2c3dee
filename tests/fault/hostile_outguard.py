#!/usr/bin/env python3
"""The outbound guard and agent addresses issued to one agent, end to end.

An agent's reply that smuggles a note to the customer (the note's text in
a base64 text file, pasted and re-wrapped in the body, as an HTML file,
in UTF-16 inside a binary file; a note or agent address; our agent mail
attached or forwarded) is held: kept in the outbox as 'held', the ticket
flagged, an event with the reason, the agent told (agent-held), `ticket
show` lists it, and `maildesk send --once` gives the relay (Postfix's
smtp-sink) nothing for the customer.  Ordinary replies, attachments
included, still go out.  A leaked agent or note address runs no command
for a customer, for another agent, or in its old unnamed form; the agent
it was issued to still can.  Output is TAP."""

import email
import email.policy
import hashlib
import hmac
import json
import os
import subprocess
import sys
import textwrap
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

BIN = os.environ["MAILDESK_BIN"]
SRC = os.environ["MAILDESK_SRCDIR"]
sys.path.insert(0, os.path.join(SRC, "tests"))
from mdsite import SiteDB, SmtpSink, free_port, person_address  # noqa: E402
from tap import done, eq, result  # noqa: E402

CUSTOMER = "jane@customer.test"
AGENTS = """[agent alice]
address = alice@example.com
name = Alice Example
queues = support
max_open = 10
[agent bob]
address = bob@example.com
name = Bob Example
queues = support
max_open = 10
"""
NOTE = ("Between us: the customer is on the legacy contract, finance will not refund "
        "before the audit closes, so do not promise any date. Code word PELICAN-4417.")


class Site(SiteDB):
    def __init__(self):
        self.port = free_port()
        extra = AGENTS + (f"[smtp]\nurl = smtp://127.0.0.1:{self.port}\nstarttls = never\n"
                          "timeout = 5\nretry_base = 1s\nretry_max = 1s\n")
        super().__init__(BIN, SRC, "maildesk-outguard-", 100, extra)
        # every case writes to the customer of ticket 1 within the hour
        with open(self.conf) as f:
            text = f.read()
        with open(self.conf, "w") as f:
            f.write(text.replace("[limits]\n", "[limits]\nticket_mails_per_hour = 1000\n", 1))
        self.secret = os.path.join(self.dir, "secret")
        self.seen = 0
        self.sink = SmtpSink(self.dir, self.port)

    def close(self):
        self.sink.stop()
        super().close()

    def deliver(self, msg, recipient):
        p = subprocess.run([BIN, "-c", self.conf, "deliver", "--recipient", recipient],
                           input=msg.as_bytes(), capture_output=True)
        return p.returncode

    def new_mail(self):
        rows = self.sql("SELECT id, kind, rcpts, status, raw FROM outbox WHERE id > ? ORDER BY id",
                        self.seen)
        out = []
        for rid, kind, rcpts, status, raw in rows:
            self.seen = rid
            out.append((kind, rcpts, status, email.message_from_bytes(raw, policy=email.policy.default)))
        return out

    def send(self):
        return subprocess.run([BIN, "-c", self.conf, "send", "--once"], capture_output=True).returncode

    def sunk(self):
        """Every message the relay got, as (recipients, decoded text of all its parts, raw)."""
        out = []
        for raw in self.sink.dumps():
            m = email.message_from_bytes(raw, policy=email.policy.default)
            texts = [str(m.get("Subject", ""))]
            for p in m.walk():
                if p.is_multipart():
                    continue
                data = p.get_payload(decode=True) or b""
                texts.append(data.decode("utf-8", "replace"))
                texts.append(data.decode("utf-16-le", "replace") if b"\x00" in data else "")
            out.append((str(m.get("X-Rcpt-Args", "")) + " " + str(m.get("To", "")),
                        "\n".join(texts), raw))
        return out

    def show(self, tid):
        p = subprocess.run([BIN, "-c", self.conf, "ticket", "show", str(tid), "--json"],
                           capture_output=True, check=True)
        return json.loads(p.stdout)

    def show_text(self, tid):
        return subprocess.run([BIN, "-c", self.conf, "ticket", "show", str(tid)],
                              capture_output=True, check=True, text=True).stdout


def text_of(m):
    body = m.get_body(preferencelist=("plain",))
    return body.get_content() if body is not None else ""


def mail(frm, to, subject, text, msgid_domain="example.com"):
    m = EmailMessage()
    m["From"] = frm
    m["To"] = to
    m["Subject"] = subject
    m["Date"] = formatdate(localtime=False)
    m["Message-ID"] = make_msgid(domain=msgid_domain)
    m.set_content(text)
    return m


def old_address(secret_path, ticket, kind):
    """The unnamed agent or note address maildesk wrote before addresses named their agent."""
    with open(secret_path, "rb") as f:
        key = f.read()
    mac = hmac.new(key, f"maildesk-ticket:{ticket}:{kind}".encode(), hashlib.sha256).hexdigest()[:16]
    return f"support+{ticket}-{kind}-{mac}@example.com"


def main():
    s = Site()
    try:
        eq("customer question delivered",
           s.deliver(mail(f"Jane Customer <{CUSTOMER}>", "support@example.com", "Invoice wrong",
                          "My invoice is wrong.", "customer.test"), "support@example.com"), 0)
        assigned = [m for k, r, st, m in s.new_mail() if k == "agent-assigned"]
        eq("ticket 1 is assigned", len(assigned), 1)
        agent_mail = assigned[0]
        alice_rcpt = str(agent_mail["To"])
        author_addr = "alice@example.com" if "alice" in alice_rcpt else "bob@example.com"
        other_addr = "bob@example.com" if author_addr == "alice@example.com" else "alice@example.com"
        reply_addr = agent_mail["Reply-To"].addresses[0].addr_spec
        note_addr = [w.strip("<>.,") for w in text_of(agent_mail).split() if "+1-note-" in w][0]
        result(reply_addr.startswith("support+1-agent-") and note_addr.startswith("support+1-note-"),
               "agent mail carries an agent and a note address")
        eq("the agent mail carries our agent-mail marker", agent_mail["X-Maildesk-Audience"], "agents")
        eq("the agent address names its agent",
           reply_addr, person_address(s.secret, "support@example.com", 1, "agent", author_addr))

        # the note
        eq("note delivered", s.deliver(mail(author_addr, note_addr, "Re: [#1] Invoice wrong", NOTE),
                                       note_addr), 0)
        eq("stored as a note", s.one("SELECT count(*) FROM messages WHERE kind='note'"), 1)
        s.new_mail()

        # ---- smuggling shapes, each through the agent's reply ----
        def reply(text, attach=None):
            m = mail(author_addr, reply_addr, "Re: [#1] Invoice wrong", text)
            for data, maintype, subtype, name in attach or []:
                m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
            return m

        wrapped = "\n".join("> " + line for line in textwrap.wrap(NOTE, 41))
        html_note = ("<html><body><blockquote><p>" + NOTE.replace(" ", " <b></b>").replace(",", "&#44;")
                     + "</p></blockquote></body></html>").encode()
        cases = [
            ("the note as a base64 text file",
             reply("Please see the summary attached.",
                   [(NOTE.encode(), "text", "plain", "summary.txt")]), "internal note"),
            ("the note pasted and re-wrapped in the reply itself",
             reply("Here is what I found:\n\n" + textwrap.fill(NOTE, 37) + "\n\nBest regards"),
             "internal note"),
            ("the note quoted and re-wrapped in a text file",
             reply("Thread attached.", [(wrapped.encode(), "text", "plain", "thread.txt")]),
             "internal note"),
            ("the note in an HTML file",
             reply("Details attached.", [(html_note, "text", "html", "details.html")]), "internal note"),
            ("the note in UTF-16 in a binary file",
             reply("Export attached.", [(NOTE.encode("utf-16-le"), "application", "octet-stream",
                                         "export.bin")]), "internal note"),
            ("the note address in a file",
             reply("Contacts attached.", [(f"write to {note_addr}\n".encode(), "text", "csv",
                                           "contacts.csv")]), "note address of ticket 1"),
            ("another ticket's agent address in the body",
             reply("Also write to " + person_address(s.secret, "support@example.com", 7, "agent",
                                                     other_addr)), "agent or note address of ticket 7"),
            ("our agent mail's cut line in a file",
             reply("Forwarding.", [(("> " + text_of(agent_mail).replace("\n", "\n> ")).encode(),
                                    "application", "octet-stream", "fwd.dat")]), "mail to agents"),
        ]
        # Two lines of defence: the part filter of agent mail (agentparts.c)
        # leaves a part that quotes agent mail out of the reply (the agent is
        # told), the outbound guard holds what is left.  Either way nothing
        # of the note reaches the customer.
        n_held = n_withheld = 0
        for name, msg, why in cases:
            s.sql("UPDATE tickets SET needs_attention = 0 WHERE id = 1")
            s.db.commit()
            eq(f"{name}: delivered", s.deliver(msg, reply_addr), 0)
            mails = s.new_mail()
            to_customer = [(k, st) for k, r, st, m in mails if CUSTOMER in r]
            withheld = [m for k, r, st, m in mails if k == "agent-parts-withheld" and author_addr in r]
            if to_customer == [("reply", "queued")] and withheld:
                n_withheld += 1
                sent = [m for k, r, st, m in mails if CUSTOMER in r][0]
                parts = [p.get_payload(decode=True) or b"" for p in sent.walk() if not p.is_multipart()]
                result(not any(b"PELICAN" in d or b"PELICAN".decode().encode("utf-16-le") in d
                               or b"+1-note-" in d or b"##-" in d for d in parts),
                       f"{name}: the part was left out of the reply, which holds nothing of the note")
                continue
            n_held += 1
            eq(f"{name}: the reply is held, not queued", to_customer, [("reply", "held")])
            told = [m for k, r, st, m in mails if k == "agent-held" and author_addr in r]
            result(len(told) == 1 and why in text_of(told[0]), f"{name}: the agent is told why ({why})")
            eq(f"{name}: the ticket is flagged", s.one("SELECT needs_attention FROM tickets WHERE id=1"), 1)
            reason = s.one("SELECT new_value FROM events WHERE ticket_id=1 AND what='mail-held' "
                           "ORDER BY id DESC LIMIT 1")
            result(reason is not None and why in reason and "PELICAN" not in reason,
                   f"{name}: an event gives the reason, not the note")
        held = s.show(1).get("held", [])
        result(n_held >= 4, f"the outbound guard itself held {n_held} of {len(cases)} shapes "
               f"(the part filter left out {n_withheld})")
        eq("ticket show --json lists every held mail", [(h["kind"], h["to"]) for h in held],
           [("reply", CUSTOMER)] * n_held)
        result(all(h["reason"] and h["message"] for h in held), "each with its reason and stored copy")
        result(s.show_text(1).count("Held: mail") == n_held, "ticket show lists them too")
        eq("held mail is stored for agents only",
           s.sql("SELECT DISTINCT m.audience FROM outbox o JOIN messages m ON m.id = o.message_row "
                 "WHERE o.status = 'held'"), [("agents",)])

        # our agent mail attached whole: held, or dropped before (never sent)
        fwd = reply("See the original.")
        fwd.add_attachment(agent_mail.as_bytes(), maintype="message", subtype="rfc822")
        s.deliver(fwd, reply_addr)
        mails = s.new_mail()
        sent_on = [m for k, r, st, m in mails if CUSTOMER in r and st == "queued"]
        fwd_held = sum(1 for k, r, st, m in mails if CUSTOMER in r and st == "held")
        result(all("X-Maildesk-Audience" not in m.as_string() and "+1-note-" not in m.as_string()
                   for m in sent_on), "our agent mail attached: nothing of it queued for the customer")

        # ---- ordinary replies still go ----
        s.sql("UPDATE tickets SET needs_attention = 0 WHERE id = 1")
        s.db.commit()
        ok = reply("Thanks, Jane. We will call you back later today; the refund is on its way "
                   "once the invoice is corrected.\n\nAlice",
                   [(b"%PDF-1.4 corrected invoice", "application", "pdf", "invoice.pdf"),
                    (b"Line 1: 10 EUR\nLine 2: 20 EUR\n", "text", "plain", "lines.txt")])
        eq("ordinary reply delivered", s.deliver(ok, reply_addr), 0)
        mails = s.new_mail()
        eq("ordinary reply queued for the customer",
           [(k, st) for k, r, st, m in mails if CUSTOMER in r], [("reply", "queued")])
        eq("ordinary reply: the ticket is not flagged", s.one("SELECT needs_attention FROM tickets WHERE id=1"), 0)
        eq("send --once", s.send(), 0)
        got = s.sunk()
        to_customer = [(rc, text) for rc, text, raw in got if CUSTOMER in rc]
        eq("the relay got the acknowledgement, the ordinary reply and the replies whose part was left out",
           len(to_customer), 2 + n_withheld + len(sent_on))
        result(any("call you back later" in text for rc, text in to_customer), "the ordinary reply went")
        leaks = [rc for rc, text, raw in got if CUSTOMER in rc and
                 ("PELICAN" in text or "+1-note-" in text or "-agent-" in text or "##-" in text)]
        eq("nothing of the note, no note or agent address, no marker reached the customer", leaks, [])
        result(any(author_addr in rc for rc, text, raw in got), "the agent mail went out")
        eq("held mail stays held after send", s.one("SELECT count(*) FROM outbox WHERE status='held'"),
           n_held + fwd_held)

        # a mail refused for its commands is no note: its text, sent again, goes
        words = "Your replacement printer ships on Monday with the express courier service."
        eq("refused mail delivered", s.deliver(reply("#assign nobody-at-all\n\n" + words), reply_addr), 0)
        mails = s.new_mail()
        eq("refused: nothing for the customer", [k for k, r, st, m in mails if CUSTOMER in r], [])
        s.deliver(reply(words), reply_addr)
        mails = s.new_mail()
        eq("the same words, commands mended, go out",
           [(k, st) for k, r, st, m in mails if CUSTOMER in r], [("reply", "queued")])

        # ---- a leaked agent or note address runs nothing but for its agent ----
        def status():
            return s.one("SELECT status FROM tickets WHERE id=1")

        before = status()
        forged = [
            ("a customer at the note address", f"Jane Customer <{CUSTOMER}>", note_addr),
            ("a customer at the agent address", f"Jane Customer <{CUSTOMER}>", reply_addr),
            ("another agent at the agent address", other_addr, reply_addr),
            ("another agent at the note address", other_addr, note_addr),
            ("the agent at the old unnamed agent address", author_addr,
             old_address(s.secret, 1, "agent")),
            ("the agent at the old unnamed note address", author_addr, old_address(s.secret, 1, "note")),
        ]
        for name, frm, to in forged:
            s.sql("UPDATE tickets SET needs_attention = 0 WHERE id = 1")
            s.db.commit()
            n_events = s.one("SELECT count(*) FROM events WHERE ticket_id=1 AND what='unverified-agent-mail'")
            eq(f"{name}: delivered", s.deliver(mail(frm, to, "Re: [#1] Invoice wrong",
                                                    "#status closed\n#priority urgent\n\nClose it."), to), 0)
            mails = s.new_mail()
            eq(f"{name}: no command ran", (status(), s.one("SELECT priority FROM tickets WHERE id=1")),
               (before, "normal"))
            eq(f"{name}: nothing to the customer", [k for k, r, st, m in mails if CUSTOMER in r], [])
            eq(f"{name}: flagged", s.one("SELECT needs_attention FROM tickets WHERE id=1"), 1)
            eq(f"{name}: recorded as unverified agent mail",
               s.one("SELECT count(*) FROM events WHERE ticket_id=1 AND what='unverified-agent-mail'"),
               n_events + 1)
            result(any(k == "agent-unverified" for k, r, st, m in mails), f"{name}: the assignee is told")
        # its own agent, through its own address, still can
        eq("the agent's own command delivered",
           s.deliver(mail(author_addr, reply_addr, "Re: [#1] Invoice wrong", "#priority high"), reply_addr), 0)
        eq("the agent's own command ran", s.one("SELECT priority FROM tickets WHERE id=1"), "high")
        other_own = person_address(s.secret, "support@example.com", 1, "note", other_addr)
        s.deliver(mail(other_addr, other_own, "Re: [#1] Invoice wrong", "#priority low"), other_own)
        eq("the other agent through the address issued to them", s.one("SELECT priority FROM tickets WHERE id=1"),
           "low")
    finally:
        s.close()
    return done()


if __name__ == "__main__":
    sys.exit(main())
