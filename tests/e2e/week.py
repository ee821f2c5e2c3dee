#!/usr/bin/env python3
"""A simulated week of the SLA clock.  Tickets arrive and agents answer
at chosen instants (deliver --now), and `maildesk tick --now` runs each
quarter hour from Monday to Sunday, and again at once whenever it sent
something (the rerun must send nothing).  The test
asserts that every warning, escalation, slip notice, reminder, automatic
close and satisfaction question happens exactly once, at the instant
worked out by hand below, to the right people; that pending on the
customer pauses the resolution clock; that ETAs are written in the
customer's own UTC offset; that votes are recorded, thanked once,
changed by a second vote and not counted when forged; and that
`maildesk report` gives the week's figures worked out by hand.  Output
is TAP.

The calendar is Riga's business hours, Monday to Friday 09:00-17:00 at
UTC+2 (no DST in the week), so 07:00-15:00 UTC.  Queue targets: first
response 2 business hours, resolution 8; warnings at 75 %, a slipped
ETA moves on by 4 business hours, reminders after 2 days pending,
closing after 4."""

import datetime
import email
import email.policy
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from email.message import EmailMessage

BIN = os.environ["MAILDESK_BIN"]
SRC = os.environ["MAILDESK_SRCDIR"]
sys.path.insert(0, os.path.join(SRC, "tests"))
from tap import done, eq, result  # noqa: E402

UTC = datetime.timezone.utc
MON = datetime.datetime(2026, 11, 30, tzinfo=UTC)


def at(day, hh, mm=0):
    """Instant of weekday day (0 = Monday) at hh:mm UTC."""
    return MON + datetime.timedelta(days=day, hours=hh, minutes=mm)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


CONFIG = """[maildesk]
database = maildesk.db
secret_file = secret
hostname = help.example.com
templates = {src}/templates
site_name = Example Support
send_after_deliver = no
reopen_days = 14
[limits]
autoreply_per_hour = 100
[sla]
warn_at = 75
slip_extension = 4h
pending_reminder = 2d
pending_close = 4d
[calendar riga]
timezone = Europe/Riga
hours = mon-fri 09:00-17:00
[queue support]
address = support@example.com
lead = boss@example.com
calendar = riga
first_response = normal 2h
resolution = normal 8h
[agent alice]
address = alice@example.com
name = Alice Example
queues = support
max_open = 5
timezone = Europe/Riga
[agent carol]
address = carol@example.com
name = Carol Example
queues = support
max_open = 5
lead = yes
"""


class Week:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="maildesk-week-")
        self.conf = os.path.join(self.dir, "maildesk.conf")
        with open(self.conf, "w") as f:
            f.write(CONFIG.format(src=SRC))
        subprocess.run([BIN, "-c", self.conf, "init"], check=True, stdout=subprocess.DEVNULL)
        self.db = sqlite3.connect(os.path.join(self.dir, "maildesk.db"))
        self.seen = 0
        self.mail = []  # (instant, source, kind, rcpts, text)

    def collect(self, when, source):
        rows = self.db.execute("SELECT id, kind, rcpts, raw FROM outbox WHERE id > ? ORDER BY id",
                               (self.seen,)).fetchall()
        for rid, kind, rcpts, raw in rows:
            self.seen = rid
            m = email.message_from_bytes(raw, policy=email.policy.default)
            body = m.get_body(preferencelist=("plain",))
            self.mail.append((when, source, kind, rcpts, body.get_content() if body else "", m))

    def deliver(self, when, msg, rcpt):
        p = subprocess.run([BIN, "-c", self.conf, "deliver", "--recipient", rcpt,
                            "--now", iso(when)], input=msg.as_bytes(), capture_output=True)
        self.collect(when, "deliver")
        return p.returncode

    def tick(self, when):
        """Runs the clock at when; again at once (it must then send nothing
        new) whenever it sent something, and each full hour."""
        codes = []
        for n in range(2):
            before = self.seen
            p = subprocess.run([BIN, "-c", self.conf, "tick", "--quiet", "--now", iso(when)],
                               capture_output=True, text=True)
            codes.append(p.returncode)
            self.collect(when, "tick")
            if n == 0 and self.seen == before and when.minute != 0:
                break
        return codes

    def one(self, q, *a):
        row = self.db.execute(q, a).fetchone()
        return row[0] if row else None

    def close(self):
        self.db.close()
        shutil.rmtree(self.dir)


def customer(frm, subject, text, when, offset="+0200", **headers):
    m = EmailMessage()
    m["From"] = frm
    m["To"] = "support@example.com"
    m["Subject"] = subject
    local = when.astimezone(datetime.timezone(datetime.timedelta(
        hours=int(offset[:3]), minutes=int(offset[0] + offset[3:]))))
    m["Date"] = local.strftime("%a, %d %b %Y %H:%M:%S ") + offset
    m["Message-ID"] = f"<{abs(hash((frm, subject, text, when)))}@customer.test>"
    for k, v in headers.items():
        m[k.replace("_", "-")] = v
    m.set_content(text)
    return m


def agent(frm, to, text, when):
    m = EmailMessage()
    m["From"] = frm
    m["To"] = to
    m["Subject"] = "Re: ticket"
    m["Date"] = when.strftime("%a, %d %b %Y %H:%M:%S +0000")
    m["Message-ID"] = f"<{abs(hash((frm, to, text, when)))}@example.com>"
    m.set_content(text)
    return m


def agent_address(w, ticket):
    """The Reply-To of the ticket's agent mail: where its agent writes."""
    for _, _, kind, _, _, m in w.mail:
        if kind.startswith("agent-") and m["Subject"].startswith(f"[#{ticket}]"):
            return m["Reply-To"].addresses[0].addr_spec
    raise AssertionError(f"no agent mail for ticket {ticket}")


def assignee(w, ticket):
    return w.one("SELECT assignee FROM tickets WHERE id = ?", ticket)


def csat_address(w, ticket, score):
    for _, _, _, rcpts, text, m in w.mail:
        if "How happy are you" in text and m["Subject"].startswith(f"[#{ticket}]"):
            for line in text.splitlines():
                if line.startswith(f"{score} - "):
                    return line.split("mailto:")[1].strip()
    raise AssertionError(f"no satisfaction question for ticket {ticket}")


def forged(addr):
    """addr with a mac of zeros: a vote nobody was asked for."""
    local, domain = addr.split("@")
    return local.rsplit("-", 1)[0] + "-" + "0" * 16 + "@" + domain


def csat_off(w):
    """With [sla] csat = no nothing asks for a vote, and tick leaves solved
    tickets alone; switched back on, the same ticket is asked once."""
    def tick(when):
        p = subprocess.run([BIN, "-c", w.conf, "tick", "--now", iso(when)],
                           capture_output=True, text=True)
        w.collect(when, "tick")
        return p.returncode, p.stdout

    ted = "Ted Customer <ted@customer.test>"
    eq("the next Monday's question delivered",
       w.deliver(at(7, 9), customer(ted, "Projector", "The projector flickers.", at(7, 9)),
                 "support@example.com"), 0)
    tid = w.one("SELECT max(id) FROM tickets")
    eq("an agent solves it",
       w.deliver(at(7, 10), agent(assignee(w, tid), agent_address(w, tid),
                                  "#status solved\n\nNew lamp.", at(7, 10)), agent_address(w, tid)), 0)
    with open(w.conf) as f:
        text = f.read()
    with open(w.conf, "w") as f:
        f.write(text.replace("[sla]\n", "[sla]\ncsat = no\n", 1))
    def questions(since):
        return [r for _, _, _, r, body, _ in w.mail[since:] if "How happy are you" in body]

    before = len(w.mail)
    rc, off = tick(at(7, 11))
    eq("tick with csat = no exits 0", rc, 0)
    eq("... asks for no vote", questions(before), [])
    eq("... leaves no mark on the solved ticket",
       w.one("SELECT count(*) FROM sla_marks WHERE ticket_id = ? AND what = 'csat'", tid), 0)
    with open(w.conf, "w") as f:
        f.write(text)
    before = len(w.mail)
    rc, on = tick(at(7, 11, 5))
    eq("tick with csat on again exits 0", rc, 0)
    eq("... asks the solved ticket's customer once", questions(before), ["ted@customer.test"])
    n_off = int(off.split()[1].rstrip(","))
    n_on = int(on.split()[1].rstrip(","))
    eq("solved tickets are looked at only while votes are asked for", n_on - n_off, 1)


# What tick alone must send, worked out by hand: (instant, kind, recipient, words)
def expected_ticks(t2_agent, t4_agent):
    return sorted([
        # T2, unanswered: first response due Mon 11:00Z, warned at 75 % (10:30Z)
        (at(0, 10, 30), "agent-sla-warning", t2_agent, "first-response target is due"),
        (at(0, 11), "agent-escalation", "carol@example.com", "missed its first-response"),
        (at(0, 11), "agent-escalation", "boss@example.com", "missed its first-response"),
        # T1, solved Mon 12:00Z: the question at the next tick
        (at(0, 12), "notice", "jane@customer.test", "How happy are you"),
        # T2's resolution: 6 business hours from Mon 09:00Z is 15:00Z; due Tue 09:00Z
        (at(0, 15), "agent-sla-warning", t2_agent, "resolution target is"),
        (at(1, 9), "agent-escalation", "carol@example.com", "missed its resolution target"),
        (at(1, 9), "agent-escalation", "boss@example.com", "missed its resolution target"),
        (at(1, 9), "notice", "ted@customer.test", "taking longer"),
        # T2 solved Tue 12:00Z
        (at(1, 12), "notice", "ted@customer.test", "How happy are you"),
        # T4 paused 8 business hours while pending: warned Wed 13:00Z, solved 14:00Z
        (at(2, 13), "agent-sla-warning", t4_agent, "resolution target is"),
        (at(2, 14), "notice", "olga@customer.test", "How happy are you"),
        # T3 pending since Mon 14:00Z: reminder after 2 days, closed after 4
        (at(2, 14), "notice", "pat@customer.test", "still need an answer"),
        (at(4, 14), "notice", "pat@customer.test", "so we have closed it"),
    ])


def main():
    w = Week()
    try:
        run_week(w)
        csat_off(w)
    finally:
        w.close()
    return done()


def run_week(w):
    jane = "Jane Customer <jane@customer.test>"
    ted = "Ted Customer <ted@customer.test>"
    pat = "Pat Customer <pat@customer.test>"
    olga = "Olga Customer <olga@customer.test>"
    q3 = customer(pat, "Scanner jams", "The scanner jams on every page.", at(0, 13))
    q4 = customer(olga, "Backup fails", "The nightly backup fails.", at(1, 7), offset="+0300")

    # the week's mail, in order; callables so that they see what came before
    actions = [
        (at(0, 7), lambda: w.deliver(at(0, 7), customer(jane, "Printer offline", "My printer is offline.", at(0, 7)), "support@example.com")),
        (at(0, 8), lambda: w.deliver(at(0, 8), agent(assignee(w, 1), agent_address(w, 1), "Please restart it and tell me.", at(0, 8)), agent_address(w, 1))),
        (at(0, 9), lambda: w.deliver(at(0, 9), customer(ted, "Invoice missing", "Where is my invoice?", at(0, 9), offset="+0100"), "support@example.com")),
        (at(0, 12), lambda: w.deliver(at(0, 12), agent(assignee(w, 1), agent_address(w, 1), "#status solved\n\nGlad it works again.", at(0, 12)), agent_address(w, 1))),
        (at(0, 13), lambda: w.deliver(at(0, 13), q3, "support@example.com")),
        (at(0, 14), lambda: w.deliver(at(0, 14), agent(assignee(w, 3), agent_address(w, 3), "#status pending\n\nWhich model is it?", at(0, 14)), agent_address(w, 3))),
        (at(1, 7), lambda: w.deliver(at(1, 7), q4, "support@example.com")),
        (at(1, 8), lambda: w.deliver(at(1, 8), agent(assignee(w, 4), agent_address(w, 4), "#status pending\n\nPlease send the log.", at(1, 8)), agent_address(w, 4))),
        (at(1, 8, 5), lambda: w.deliver(at(1, 8, 5), customer(jane, "vote", "Good, but slow.", at(1, 8, 5)), csat_address(w, 1, 4))),
        (at(1, 9, 5), lambda: w.deliver(at(1, 9, 5), customer(jane, "vote", "", at(1, 9, 5)), csat_address(w, 1, 5))),
        (at(1, 12), lambda: w.deliver(at(1, 12), agent(assignee(w, 2), agent_address(w, 2), "#status solved\n\nHere it is, sorry for the wait.", at(1, 12)), agent_address(w, 2))),
        (at(2, 8), lambda: w.deliver(at(2, 8), customer(olga, "Re: Backup fails", "Here is the log: disk full.", at(2, 8), offset="+0300", In_Reply_To=q4["Message-ID"]), "support@example.com")),
        (at(2, 14), lambda: w.deliver(at(2, 14), agent(assignee(w, 4), agent_address(w, 4), "#status solved\n\nFreed some space; it runs again.", at(2, 14)), agent_address(w, 4))),
        (at(6, 12), lambda: w.deliver(at(6, 12), customer(jane, "vote", "", at(6, 12)), forged(csat_address(w, 1, 1)))),
    ]
    codes = []
    tick_codes = set()
    t = at(0, 0)
    i = 0
    while t < at(7, 0):
        while i < len(actions) and actions[i][0] <= t:
            codes.append(actions[i][1]())
            i += 1
        tick_codes.update(w.tick(t))
        t += datetime.timedelta(minutes=15)
    eq("every delivery of the week exits 0", codes, [0] * len(actions))
    eq("every tick exits 0", tick_codes, {0})

    t2_agent, t4_agent = assignee(w, 2), assignee(w, 4)
    got = sorted((when, kind, rcpts, text) for when, source, kind, rcpts, text, _ in w.mail
                 if source == "tick")
    want = expected_ticks(t2_agent, t4_agent)
    eq("tick sent exactly the expected mails", [g[:3] for g in got], [x[:3] for x in want])
    for g, x in zip(got, want):
        result(x[3] in g[3], f"{iso(x[0])} {x[1]} to {x[2]}: says \"{x[3]}\"")

    # slip: new ETA 4 business hours on, in Ted's own offset (+01:00)
    slip = [m for when, s, k, r, text, m in w.mail if "taking longer" in text]
    result(slip and "Tuesday, 1 December 2026, 14:00 (UTC+01:00)" in slip[0].get_body(("plain",)).get_content(),
           "the slip notice gives the new ETA in the customer's offset")
    eq("T2's ETA moved once, to Tue 13:00Z", w.one("SELECT eta FROM tickets WHERE id = 2"),
       int(at(1, 13).timestamp()))

    # ETA in the acknowledgement, in Olga's offset (+03:00): Tue 15:00Z
    ack4 = [text for when, s, k, r, text, m in w.mail if k == "ack" and r == "olga@customer.test"]
    result(ack4 and "Tuesday, 1 December 2026, 18:00 (UTC+03:00)" in ack4[0],
           "the acknowledgement states the ETA in the customer's own offset")
    # pending paused T4's clock by 8 business hours: the ETA moved to Wed 15:00Z
    eq("T4 was paused 480 business minutes", w.one("SELECT paused FROM tickets WHERE id = 4"), 480)
    eq("T4's ETA moved by the pause when Olga answered",
       w.one("SELECT new_value FROM events WHERE ticket_id = 4 AND what = 'eta' AND actor = 'maildesk'"),
       str(int(at(2, 15).timestamp())))
    eq("no resolution warning for T4 while it was pending",
       w.one("SELECT min(at) FROM sla_marks WHERE ticket_id = 4 AND what = 'warning-resolution'"),
       int(at(2, 13).timestamp()))

    # pending T3: closed by the clock, with its event, no survey
    eq("T3 closed", w.one("SELECT status FROM tickets WHERE id = 3"), "closed")
    eq("T3 closed by maildesk at Fri 14:00Z",
       w.one("SELECT at FROM events WHERE ticket_id = 3 AND what = 'status' AND new_value = 'closed' AND actor = 'maildesk'"),
       int(at(4, 14).timestamp()))
    eq("T3 got no satisfaction question", w.one("SELECT count(*) FROM sla_marks WHERE ticket_id = 3 AND what = 'csat'"), 0)

    # first responses
    eq("T1 first response at Mon 08:00Z", w.one("SELECT first_response_at FROM tickets WHERE id = 1"),
       int(at(0, 8).timestamp()))
    eq("T2 first response with the solving reply", w.one("SELECT first_response_at FROM tickets WHERE id = 2"),
       int(at(1, 12).timestamp()))

    # escalation events and breach counts
    eq("breach events", w.db.execute(
        "SELECT ticket_id, new_value, at FROM events WHERE what = 'sla-breach' ORDER BY at").fetchall(),
        [(2, "first-response", int(at(0, 11).timestamp())), (2, "resolution", int(at(1, 9).timestamp()))])

    # votes: 4 with a comment, thanked; then 5, not thanked again; forged not counted
    eq("T1's vote: the latest counts, with the first comment",
       w.db.execute("SELECT score, comment, votes FROM csat WHERE ticket_id = 1").fetchall(),
       [(5, "Good, but slow.", 2)])
    thanks = [(when, r) for when, s, k, r, text, m in w.mail if "Thank you for your answer" in text]
    eq("one thanks, for the first vote", thanks, [(at(1, 8, 5), "jane@customer.test")])
    eq("the forged vote counted nowhere", w.one("SELECT count(*) FROM csat"), 1)
    eq("T1 stayed solved through its votes", w.one("SELECT status FROM tickets WHERE id = 1"), "solved")
    eq("vote events", [r[0] for r in w.db.execute(
        "SELECT old_value || '>' || new_value FROM events WHERE what = 'csat' ORDER BY id")], [None, "4>5"])

    check_report(w)


def check_report(w):
    """maildesk report over the week, against figures worked out by hand
    (business minutes, nearest-rank percentiles)."""
    p = subprocess.run([BIN, "-c", w.conf, "report", "--format", "json", "--since", iso(at(0, 0)),
                        "--until", iso(at(7, 0)), "--now", iso(at(7, 0))],
                       capture_output=True, text=True)
    eq("report exits 0", p.returncode, 0)
    r = json.loads(p.stdout)
    # T1..T4, and the forged vote's new ticket on Sunday
    eq("report: opened", r["opened"], 5)
    # solved or closed: T1, T2, T4 solved, T3 closed by the clock
    eq("report: solved", r["solved"], 4)
    eq("report: daily", [(d["opened"], d["solved"]) for d in r["daily"]],
       [(3, 1), (1, 1), (0, 1), (0, 0), (0, 1), (0, 0), (1, 0)])
    # T1 60, T2 Mon 09-15Z + Tue 07-12Z = 660, T3 60, T4 60
    eq("report: first response", r["first_response"], {"count": 4, "median": 60, "p90": 660})
    # T1 300, T2 660, T3 Mon 13-14Z (then pending until closed) = 60,
    # T4 Tue 07-15Z + Wed 07-14Z = 900 less 480 pending = 420
    eq("report: resolution", r["resolution"], {"count": 4, "median": 300, "p90": 660})
    # T2 missed both targets; T5 (Sunday) is still running
    eq("report: compliance", [(x["queue"], x["priority"], x["first_response"], x["resolution"])
                              for x in r["sla"]],
       [("support", "normal",
         {"target_minutes": 120, "met": 3, "missed": 1, "running": 1, "percent": 75},
         {"target_minutes": 480, "met": 3, "missed": 1, "running": 1, "percent": 75})])
    eq("report: backlog (T5, new, unassigned)", r["backlog"]["queues"],
       [{"queue": "support", "total": 1, "new": 1, "open": 0, "pending": 0, "on-hold": 0}])
    eq("report: csat", (r["csat"]["count"], r["csat"]["average"]), (1, 5))


if __name__ == "__main__":
    sys.exit(main())
