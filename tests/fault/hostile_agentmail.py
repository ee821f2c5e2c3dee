#!/usr/bin/env python3
"""Mail from an agent's address without a valid agent token (issue 12,
point 9), through `maildesk deliver`: whether it names a ticket by our
subject tag (the sender a participant or not), by In-Reply-To or only by
References of our mail, by a customer's reply address, by a tag of no
ticket, or by nothing at all, and whatever the case of the address.

Every such mail is kept and its ticket flagged; none opens a ticket with
the agent as its customer, none is acknowledged or answered with a status
list, none takes an agent's place, none runs its commands ("#status
closed" stays unapplied), changes the ticket's status, reaches the
customer or makes the sender a participant.  On a ticket it names, the
assignee is told (agent-unverified).  Naming none, it is held on a closed,
flagged, unassigned ticket of its own (doc/maildesk.8, AGENTS).
Output is TAP."""

import email
import email.policy
import json
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

ALICE = "alice@example.com"
BOB = "bob@example.com"
CUSTOMER = "jane@customer.test"
AGENTS = f"""[agent alice]
address = {ALICE}
name = Alice Example
queues = support
max_open = 1
[agent bob]
address = {BOB}
name = Bob Example
queues = support
max_open = 1
"""


class Site(SiteDB):
    def __init__(self):
        super().__init__(BIN, SRC, "maildesk-agentmail-", 1000,
                         "[limits]\nticket_mails_per_hour = 1000\n" + AGENTS)
        self.seen = 0

    def deliver(self, msg, recipient="support@example.com"):
        p = subprocess.run([BIN, "-c", self.conf, "deliver", "--recipient", recipient],
                           input=msg.as_bytes(), capture_output=True)
        return p.returncode

    def run(self, *args):
        return subprocess.run([BIN, "-c", self.conf, *args], capture_output=True, check=True)

    def new_mail(self):
        """(kind, recipients, raw) of the outbox rows added since the last call."""
        rows = self.sql("SELECT id, kind, rcpts, raw FROM outbox WHERE id > ? ORDER BY id", self.seen)
        if rows:
            self.seen = rows[-1][0]
        return [(k, r.lower(), raw) for _, k, r, raw in rows]


def mail(frm, subject, body, headers=None):
    m = EmailMessage()
    m["From"] = frm
    m["To"] = "support@example.com"
    m["Subject"] = subject
    m["Date"] = formatdate()
    m["Message-ID"] = make_msgid(domain="client.test")
    for k, v in (headers or {}).items():
        m[k] = v
    m.set_content(body)
    return m


def agent_tickets(site):
    """Tickets whose customer is an agent's address, any case."""
    return site.sql("SELECT t.id FROM tickets t JOIN customers c ON c.id = t.customer_id "
                    "WHERE lower(c.address) IN (?, ?)", ALICE, BOB)


def common_checks(site, name, marker, mails, sender):
    kinds = [k for k, _, _ in mails]
    result("ack" not in kinds and "status-list" not in kinds,
           f"{name}: no acknowledgement or status list (outbox: {kinds})")
    eq(f"{name}: no ticket with an agent as its customer", agent_tickets(site), [])
    to_customer = [k for k, r, _ in mails if CUSTOMER in r]
    eq(f"{name}: nothing to the customer", to_customer, [])
    leaked = [k for k, r, raw in mails if marker.encode() in raw and ALICE not in r and BOB not in r]
    eq(f"{name}: its text goes to no one but agents", leaked, [])
    eq(f"{name}: the sender is no participant of any ticket",
       site.sql("SELECT ticket_id FROM participants WHERE lower(address) = ?", sender.lower()), [])


def test_threaded(site, ack_id, customer_addr):
    before = site.sql("SELECT status, priority, assignee FROM tickets WHERE id = 1")
    assignee = before[0][2]
    cases = [
        ("tag, agent not a participant", BOB, "Re: [#1] Printer broken", {}, "support@example.com"),
        ("tag, the assignee", ALICE, "Re: [#1] Printer broken", {}, "support@example.com"),
        ("In-Reply-To of our ack", BOB, "Re: something else", {"In-Reply-To": f"<{ack_id}>"},
         "support@example.com"),
        ("References only", BOB, "Printer", {"References": f"<other@client.test> <{ack_id}>"},
         "support@example.com"),
        ("address in another case", "Bob Example <BOB@Example.COM>", "Re: [#1] Printer broken", {},
         "support@example.com"),
        ("the customer's reply address", ALICE, "Re: Printer broken", {}, customer_addr),
        ("a forged token and the tag", BOB, "Re: [#1] Printer broken", {},
         customer_addr.replace("support+1-", "support+1-0")),
    ]
    for i, (name, frm, subject, headers, rcpt) in enumerate(cases):
        marker = f"AGENTMAIL-MARKER-{i}"
        site.sql("UPDATE tickets SET needs_attention = 0 WHERE id = 1")
        site.db.commit()
        n_tickets = site.one("SELECT count(*) FROM tickets")
        eq(f"{name}: delivered", site.deliver(mail(frm, subject, f"#status closed\n#priority urgent\n#assign bob\n\n"
                                                             f"Free printers for everyone {marker}", headers), rcpt), 0)
        mails = site.new_mail()
        sender = email.utils.parseaddr(frm)[1]
        common_checks(site, name, marker, mails, sender)
        eq(f"{name}: no new ticket", site.one("SELECT count(*) FROM tickets"), n_tickets)
        eq(f"{name}: stored on ticket 1, for agents only",
           site.sql("SELECT ticket_id, audience FROM messages WHERE direction = 'in' AND body_text LIKE ?",
                    f"%{marker}%"),
           [(1, "agents")])
        eq(f"{name}: ticket 1 is flagged", site.one("SELECT needs_attention FROM tickets WHERE id = 1"), 1)
        eq(f"{name}: no command applied, status unchanged",
           site.sql("SELECT status, priority, assignee FROM tickets WHERE id = 1"), before)
        told = [r for k, r, _ in mails if k == "agent-unverified"]
        eq(f"{name}: the assignee is told", told, [assignee])
        eq(f"{name}: the event is kept",
           site.one("SELECT count(*) FROM events WHERE ticket_id = 1 AND what = 'unverified-agent-mail' "
                    "AND lower(actor) = ?", sender.lower()) >= 1, True)

    # a solved ticket: the unverified mail neither reopens it nor tells the customer
    site.sql("UPDATE tickets SET status = 'solved', solved_at = strftime('%s','now') WHERE id = 1")
    site.db.commit()
    eq("solved ticket: delivered",
       site.deliver(mail(ALICE, "Re: [#1] Printer broken", "#status open\n\nAGENTMAIL-SOLVED")), 0)
    mails = site.new_mail()
    common_checks(site, "solved ticket", "AGENTMAIL-SOLVED", mails, ALICE)
    eq("solved ticket: still solved", site.one("SELECT status FROM tickets WHERE id = 1"), "solved")
    site.sql("UPDATE tickets SET status = 'open', solved_at = NULL WHERE id = 1")
    site.db.commit()

    # the JSON of the ticket shows it as agents' mail
    shown = json.loads(site.run("ticket", "show", "1", "--json").stdout)
    audiences = {m["audience"] for m in shown["messages"] if "AGENTMAIL-MARKER" in (m["text"] or "")}
    eq("ticket show --json: unverified mail is for agents", audiences, {"agents"})


def test_unthreaded(site):
    cases = [
        ("no reference at all", "Alice Example <alice@example.com>", "Printer question", {}),
        ("a tag of no ticket", BOB, "Re: [#999] Printer broken", {}),
        ("a reference we do not know", ALICE, "Re: hello", {"In-Reply-To": "<unknown@client.test>"}),
        ("only the word status", "ALICE@EXAMPLE.COM", "status", {}),
    ]
    held = []
    for i, (name, frm, subject, headers) in enumerate(cases):
        marker = f"AGENTMAIL-HELD-{i}"
        body = "status" if subject == "status" else f"#status open\n#take\n\nHeld mail {marker}"
        n_tickets = site.one("SELECT count(*) FROM tickets")
        m = mail(frm, subject, body, headers)
        eq(f"{name}: delivered", site.deliver(m), 0)
        mails = site.new_mail()
        sender = email.utils.parseaddr(frm)[1]
        common_checks(site, name, marker, mails, sender)
        eq(f"{name}: no mail at all", [k for k, _, _ in mails], [])
        rows = site.sql("SELECT ticket_id, audience FROM messages WHERE message_id = ?", m["Message-ID"].strip("<>"))
        eq(f"{name}: stored once, for agents only", [a for _, a in rows], ["agents"])
        if not rows:
            continue
        tid = rows[0][0]
        held.append(tid)
        eq(f"{name}: held on a ticket of its own", site.one("SELECT count(*) FROM tickets"), n_tickets + 1)
        eq(f"{name}: that ticket is closed, flagged and unassigned",
           site.sql("SELECT status, needs_attention, assignee FROM tickets WHERE id = ?", tid),
           [("closed", 1, None)])
        eq(f"{name}: no acknowledgement, and why",
           site.one("SELECT new_value FROM events WHERE ticket_id = ? AND what = 'ack-withheld'", tid),
           "unverified agent mail")
    # tick hands no held ticket to an agent; a customer's next ticket still finds a free one
    site.run("tick")
    eq("after tick, the held tickets are still unassigned and closed",
       site.sql(f"SELECT DISTINCT status, assignee FROM tickets WHERE id IN ({','.join('?' * len(held))})", *held),
       [("closed", None)])
    eq("a customer's new ticket", site.deliver(mail("Max <max@customer.test>", "Scanner", "The scanner jams")), 0)
    tid = site.one("SELECT max(id) FROM tickets")
    eq("goes to the agent still free", site.one("SELECT assignee FROM tickets WHERE id = ?", tid), BOB)
    result("ack" in [k for k, _, _ in site.new_mail()], "and is acknowledged")


def main():
    site = Site()
    try:
        eq("customer's question delivered",
           site.deliver(mail(f"Jane Customer <{CUSTOMER}>", "Printer broken", "My printer is broken.")), 0)
        ack = [raw for k, _, raw in site.new_mail() if k == "ack"]
        eq("one acknowledgement", len(ack), 1)
        eq("ticket 1 goes to alice", site.one("SELECT assignee FROM tickets WHERE id = 1"), ALICE)
        a = email.message_from_bytes(ack[0], policy=email.policy.default)
        ack_id = a["Message-ID"].strip().strip("<>")
        customer_addr = a["Reply-To"].addresses[0].addr_spec
        test_threaded(site, ack_id, customer_addr)
        test_unthreaded(site)
    finally:
        site.close()
    return done()


if __name__ == "__main__":
    sys.exit(main())
