#!/usr/bin/env python3
"""Mail wars: maildesk facing other robots, with a simulated MTA between
them.  Every mail a site queues in its outbox is handed, raw, to whoever
its envelope recipients are (another maildesk site through `maildesk
deliver`, or a simulated autoresponder), and whatever they answer is
handed on in turn, round after round.  A loop would never stop: each
exchange must die out after a small number of mails, every delivery
must exit 0, and every message a site was given must be stored.

  a) two maildesk sites acknowledging each other; again with a relay on
     the way that strips the robot headers (Auto-Submitted, ...);
  b) a vacation autoresponder that ignores RFC 3834 (no Auto-Submitted,
     Precedence or X-Autoreply, a fresh Message-ID, answers every mail):
     one that threads its answer, one that loses the thread, and one
     agent whose own responder answers maildesk's agent mail while the
     customer's answers the agent's relayed "reply";
  c) an autoresponder that sets Auto-Submitted: auto-replied: maildesk
     never answers it.
Output is TAP."""

import email
import email.policy
import email.utils
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

BIN = os.environ["MAILDESK_BIN"]
SRC = os.environ["MAILDESK_SRCDIR"]
sys.path.insert(0, os.path.join(SRC, "tests"))
from tap import done, eq, result  # noqa: E402

MAX_ROUNDS = 200  # a loop that is still going here is a failure
PER_HOUR = 3      # autoreply_per_hour of every site


def addr_of(value):
    return email.utils.parseaddr(value or "")[1].lower()


class Site:
    """One maildesk installation: its own config, secret, database,
    hostname and support address (queue), as make_site in mdsite.py but
    with the address and hostname chosen by the caller."""

    def __init__(self, name, support, hostname, extra=""):
        self.name = name
        self.support = support
        self.local, self.domain = support.split("@")
        self.dir = tempfile.mkdtemp(prefix=f"maildesk-wars-{name}-")
        self.conf = os.path.join(self.dir, "maildesk.conf")
        self.db = os.path.join(self.dir, "maildesk.db")
        with open(self.conf, "w") as f:
            f.write(f"""[maildesk]
database = maildesk.db
secret_file = secret
hostname = {hostname}
templates = {SRC}/templates
site_name = {name} Support
send_after_deliver = no
[limits]
autoreply_per_hour = {PER_HOUR}
[queue support]
address = {support}
""" + extra)
        subprocess.run([BIN, "-c", self.conf, "init"], check=True, stdout=subprocess.DEVNULL)
        self.seen_outbox = 0
        self.delivered = []  # sha256 of every raw message handed to deliver
        self.bad_exits = []

    def handles(self, rcpt):
        """Postfix routes support@ and support+anything@ (recipient_delimiter
        = +) of the site's domain to its maildesk."""
        local, _, domain = rcpt.lower().partition("@")
        return domain == self.domain and (local == self.local or local.startswith(self.local + "+"))

    def deliver(self, raw, sender, rcpt):
        p = subprocess.run([BIN, "-c", self.conf, "deliver", "--sender", sender,
                            "--recipient", rcpt], input=raw, capture_output=True, timeout=120)
        self.delivered.append(hashlib.sha256(raw).hexdigest())
        if p.returncode != 0:
            self.bad_exits.append((p.returncode, p.stdout[:200]))

    def new_outbox(self):
        """Rows queued since the last call: (env_from, [rcpts], raw)."""
        with sqlite3.connect(self.db) as c:
            rows = c.execute("SELECT id, env_from, rcpts, raw FROM outbox WHERE id > ? ORDER BY id",
                             (self.seen_outbox,)).fetchall()
        if rows:
            self.seen_outbox = rows[-1][0]
        return [(r[1], [a.strip() for a in r[2].split(",") if a.strip()], bytes(r[3]))
                for r in rows]

    def q(self, sql, *args):
        with sqlite3.connect(self.db) as c:
            return c.execute(sql, args).fetchall()

    def stored(self):
        """Which delivered messages are not stored: as a ticket's message,
        or as a request (a status question)."""
        missing = []
        for sha in self.delivered:
            n = self.q("SELECT (SELECT count(*) FROM messages WHERE sha256 = ?) + "
                       "(SELECT count(*) FROM requests WHERE sha256 = ?)", sha, sha)[0][0]
            if n != 1:
                missing.append(sha[:12])
        return missing

    def remove(self):
        shutil.rmtree(self.dir)


class Responder:
    """A mailbox with an autoresponder: answers every mail it gets with a
    new one From its own address.  threaded: answer the Reply-To (else
    From) with "Re: <subject>" and In-Reply-To/References, as vacation
    programs do; otherwise answer the From address with a subject of its
    own and no threading headers, as the crudest ones do.  rfc3834: set
    Auto-Submitted: auto-replied (else no robot header at all)."""

    def __init__(self, address, threaded=True, rfc3834=False):
        self.address = address
        self.threaded = threaded
        self.rfc3834 = rfc3834
        self.got = 0

    def handles(self, rcpt):
        return rcpt.lower() == self.address

    def deliver(self, raw, sender, rcpt):
        """Returns the answer as (env_from, rcpt, raw) or None."""
        self.got += 1
        m = email.message_from_bytes(raw, policy=email.policy.default)
        to = addr_of(m["Reply-To"] or m["From"]) if self.threaded else addr_of(m["From"])
        if not to:
            return None
        h = [f"From: Away <{self.address}>", f"To: {to}",
             f"Message-ID: <ooo{self.got}.{self.address.replace('@', '.')}@responder.test>",
             "Date: Mon, 23 Nov 2026 12:00:00 +0000"]
        if self.threaded:
            h.append(f"Subject: Re: {m['Subject']}")
            if m["Message-ID"]:
                h.append(f"In-Reply-To: {m['Message-ID']}")
                h.append(f"References: {m['Message-ID']}")
        else:
            h.append("Subject: Away from my desk")
        if self.rfc3834:
            h.append("Auto-Submitted: auto-replied")
        body = "Thank you for your mail. I am on holiday until Monday and will answer then.\n"
        # a responder ignoring RFC 3834 answers from its own address, not <>
        return self.address, to, ("\r\n".join(h) + "\r\n\r\n" + body).encode()


def exchange(sites, mailboxes, seed, strip=()):
    """The MTA: delivers seed (env_from, rcpt, raw), then every mail the
    sites queue or the responders answer, until nothing new appears or
    MAX_ROUNDS pass.  strip: header names a relay on the way removes from
    every mail it carries.  Returns (rounds, mails moved, mails left with
    no taker, finished)."""
    pending = [seed]
    moved = unrouted = 0
    for rnd in range(1, MAX_ROUNDS + 1):
        for s in sites:
            for env_from, rcpts, raw in s.new_outbox():
                for r in rcpts:
                    pending.append((env_from, r, raw))
        if not pending:
            return rnd - 1, moved, unrouted, True
        batch, pending = pending, []
        for env_from, rcpt, raw in batch:
            # Postfix hands mail to pipe(8) with bare LF line ends, as it
            # stores it, whatever the SMTP client sent
            raw = raw.replace(b"\r\n", b"\n")
            for h in strip:
                raw = b"".join(line for line in raw.splitlines(keepends=True)
                               if not line.lower().startswith(h.lower().encode() + b":"))
            taker = next((x for x in list(sites) + list(mailboxes) if x.handles(rcpt)), None)
            if taker is None:
                unrouted += 1  # an agent's or someone else's mailbox: read by a person
                continue
            moved += 1
            answer = taker.deliver(raw, env_from, rcpt)
            if answer is not None:
                pending.append(answer)
    return MAX_ROUNDS, moved, unrouted, False


def check_sites(label, sites):
    for s in sites:
        eq(f"{label}: every delivery to {s.name} exited 0", s.bad_exits, [])
        eq(f"{label}: {s.name} stored every message it got ({len(s.delivered)})", s.stored(), [])
        eq(f"{label}: {s.name} database integrity", s.q("PRAGMA integrity_check"), [("ok",)])


def seed_mail(frm, to, subject, mid):
    return (f"From: {frm}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{mid}>\r\n"
            "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n"
            "Hello, our printer is broken again. Can you help?\r\n").encode()


def two_sites(strip, label):
    """a) A and B, each the other's customer.  The seed is mail B wrote to A."""
    a = Site("A", "support@a.test", "help.a.test")
    b = Site("B", "support@b.test", "help.b.test")
    try:
        seed = ("support@b.test", "support@a.test",
                seed_mail("B Support <support@b.test>", "support@a.test", "Printer", "seed@help.b.test"))
        rounds, moved, _, finished = exchange([a, b], [], seed, strip)
        result(finished, f"{label}: the exchange stopped after {rounds} rounds ({moved} mails)")
        result(moved <= 4, f"{label}: at most 4 mails in all (got {moved})")
        sent = [s.q("SELECT count(*) FROM outbox")[0][0] for s in (a, b)]
        result(sent[0] + sent[1] <= 3, f"{label}: at most 3 answers from both sites (A {sent[0]}, B {sent[1]})")
        check_sites(label, [a, b])
    finally:
        a.remove()
        b.remove()


def test_two_sites():
    two_sites((), "a) two sites")
    # a relay or list that drops the robot headers: ack-only-for-new-tickets
    # and the signed Reply-To must still end it
    two_sites(("Auto-Submitted", "X-Auto-Response-Suppress", "Precedence"),
              "a) two sites, robot headers stripped")


def customer_vs_site(label, responder, agents=""):
    """The customer writes once; their autoresponder answers whatever
    maildesk sends them.  Returns (site, moved, finished)."""
    s = Site("S", "support@example.com", "help.example.com", agents)
    try:
        seed = (responder.address, "support@example.com",
                seed_mail(f"Customer <{responder.address}>", "support@example.com",
                          "Printer broken", "q1@customer.test"))
        rounds, moved, unrouted, finished = exchange([s], [responder], seed)
        result(finished, f"{label}: stopped after {rounds} rounds, {moved} mails moved"
                         f" ({unrouted} to agents)")
        to_customer = s.q("SELECT count(*) FROM outbox WHERE rcpts = ?", responder.address)[0][0]
        check_sites(label, [s])
        return s, moved, to_customer, finished
    finally:
        s.remove()


def test_responder_ignoring_rfc3834():
    agents = "[agent al]\naddress = al@staff.example.com\nqueues = support\nmax_open = 1000\n"
    # b1) a vacation program that threads: its answer goes to the signed
    # Reply-To and is added to the ticket, which is acknowledged only once
    r = Responder("cust@customer.test", threaded=True)
    _, moved, answers, _ = customer_vs_site("b) threaded responder", r, agents)
    eq("b) threaded responder: maildesk answered once (the acknowledgement)", answers, 1)
    result(moved <= 3, f"b) threaded responder: at most 3 mails in all (got {moved})")

    # b2) one that loses the thread: every answer is a new ticket, and only
    # autoreply_per_hour of them are acknowledged
    r = Responder("crude@customer.test", threaded=False)
    _, moved, answers, _ = customer_vs_site("b) responder without threading", r, agents)
    result(answers <= PER_HOUR,
           f"b) responder without threading: {answers} answers, at most autoreply_per_hour ({PER_HOUR})")
    result(moved <= 2 * PER_HOUR + 1,
           f"b) responder without threading: at most {2 * PER_HOUR + 1} mails in all (got {moved})")

    # b3) the customer's responder and the agent's responder, both blind to
    # RFC 3834: the agent's "I am away" is relayed to the customer as the
    # agent's reply, the customer's "I am away" goes back to the agent...
    # maildesk must not keep relaying between two robots
    r = Responder("cust3@customer.test", threaded=True)
    agent_bot = Responder("al@staff.example.com", threaded=True)
    s = Site("S", "support@example.com", "help.example.com", agents)
    try:
        seed = (r.address, "support@example.com",
                seed_mail(f"Customer <{r.address}>", "support@example.com", "Printer broken",
                          "q3@customer.test"))
        rounds, moved, _, finished = exchange([s], [r, agent_bot], seed)
        to_customer = s.q("SELECT count(*) FROM outbox WHERE rcpts = ?", r.address)[0][0]
        result(finished, f"b) customer's and agent's responders: stopped ({rounds} rounds, "
                         f"{moved} mails, {to_customer} to the customer)")
        # [limits] ticket_mails_per_hour (default 10) relayed replies, and the ack
        result(to_customer <= 11,
               f"b) customer's and agent's responders: at most 11 mails to the customer "
               f"(got {to_customer})")
        flagged = s.q("SELECT needs_attention FROM tickets WHERE id = 1")[0][0]
        eq("b) the ticket is flagged for a person to look at", flagged, 1)
        check_sites("b) customer's and agent's responders", [s])
    finally:
        s.remove()


def test_responder_rfc3834():
    for threaded in (True, False):
        label = "c) RFC 3834 responder" + ("" if threaded else " without threading")
        r = Responder(f"polite{int(threaded)}@customer.test", threaded=threaded, rfc3834=True)
        s = Site("S", "support@example.com", "help.example.com")
        try:
            seed = (r.address, "support@example.com",
                    seed_mail(f"Customer <{r.address}>", "support@example.com", "Printer broken",
                              f"p{int(threaded)}@customer.test"))
            exchange([s], [r], seed)
            # the one acknowledgement answers the customer's own mail, which
            # came before the responder had said anything
            eq(f"{label}: the responder got only the acknowledgement", r.got, 1)
            eq(f"{label}: zero answers to the responder's mail",
               s.q("SELECT count(*) FROM outbox WHERE rcpts = ?", r.address)[0][0], 1)
            if not threaded:
                eq(f"{label}: its new ticket records why there was no answer",
                   s.q("SELECT new_value FROM events WHERE what = 'ack-withheld'"),
                   [("auto-submitted",)])
            check_sites(label, [s])
        finally:
            s.remove()


def main():
    test_two_sites()
    test_responder_ignoring_rfc3834()
    test_responder_rfc3834()
    return done()


if __name__ == "__main__":
    sys.exit(main())
