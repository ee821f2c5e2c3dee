#!/usr/bin/env python3
"""The ETA from business calendars: a new ticket's resolution target is
counted in business time on its queue's calendar (checked against an
independent minute-by-minute count in Python with zoneinfo), urgent
tickets may run on a 24/7 calendar, a priority change moves the ETA, and
an agent's #eta stays put whatever the priority does.  Output is TAP."""

import datetime
import email
import email.policy
import os
import shutil
import sqlite3
import subprocess
import sys
from zoneinfo import ZoneInfo

BIN = os.environ["MAILDESK_BIN"]
SRC = os.environ["MAILDESK_SRCDIR"]
sys.path.insert(0, os.path.join(SRC, "tests"))
sys.path.insert(0, os.path.join(SRC, "tests", "e2e"))
from mdsite import make_site  # noqa: E402
from tap import done, eq, result  # noqa: E402

EXTRA = """[calendar riga]
timezone = Europe/Riga
hours = mon-fri 09:00-12:00 13:00-17:00
holidays = 2026-12-24, 2026-12-25
[calendar always]
timezone = UTC
hours = 24/7
[agent alice]
address = alice@example.com
queues = support
"""
QUEUE = """calendar = riga
urgent_calendar = always
first_response = urgent 30m, normal 4h
resolution = urgent 4h, high 7h, normal 14h, low 35h
"""
RIGA = ZoneInfo("Europe/Riga")


def is_open(ts):
    local = datetime.datetime.fromtimestamp(ts, RIGA)
    secs = local.hour * 3600 + local.minute * 60 + local.second
    return (local.weekday() < 5 and (local.month, local.day) not in ((12, 24), (12, 25))
            and (9 * 3600 <= secs < 12 * 3600 or 13 * 3600 <= secs < 17 * 3600))


def business_add(start, minutes):
    """start (UTC seconds) + minutes of Mon-Fri 09-12 and 13-17 Riga time,
    not on 24 and 25 December: the slow, obvious way, second by second
    while open, minute by minute while closed (openings are on the minute)."""
    t, left = start, minutes * 60
    while not is_open(t):
        t += 60 - t % 60 if t % 60 else 60
    while left > 0:
        if is_open(t):
            t += 1
            left -= 1
        else:
            t += 60 - t % 60 if t % 60 else 60
    return t


def deliver(conf, text, rcpt="support@example.com", frm="c@example.org", extra=""):
    raw = (f"From: {frm}\nTo: {rcpt}\nSubject: {text[:20]}\n"
           f"Message-ID: <{abs(hash(text))}.{os.getpid()}@example.org>\n{extra}\n{text}\n").encode()
    return subprocess.run([BIN, "-c", conf, "deliver", "--recipient", rcpt], input=raw,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode


def main():
    site, conf = make_site(BIN, SRC, "maildesk-sla-", 1000, EXTRA, queue=QUEUE)
    try:
        p = subprocess.run([BIN, "-c", conf, "check-config"], capture_output=True, text=True)
        eq("check-config accepts calendars and targets", p.returncode, 0)
        db = sqlite3.connect(os.path.join(site, "maildesk.db"))
        q = lambda sql, *a: db.execute(sql, a).fetchone()  # noqa: E731

        eq("a new question is delivered", deliver(conf, "The printer is on fire."), 0)
        created, eta = q("SELECT created, eta FROM tickets WHERE id = 1")
        want = business_add(created, 14 * 60)
        eq("normal: 14 business hours on the Riga calendar", eta, want)

        raw = q("SELECT raw FROM outbox WHERE kind = 'agent-assigned'")[0]
        reply_to = email.message_from_bytes(raw, policy=email.policy.default)["Reply-To"].addresses[0].addr_spec
        result(reply_to.startswith("support+1-"), f"the agent mail's Reply-To is {reply_to}")

        eq("#priority urgent", deliver(conf, "#priority urgent", rcpt=reply_to, frm="alice@example.com"), 0)
        eq("urgent: 4 hours around the clock", q("SELECT eta - created FROM tickets WHERE id = 1")[0], 4 * 3600)
        result(q("SELECT count(*) FROM events WHERE ticket_id = 1 AND what = 'eta' AND actor = 'alice@example.com'")[0] == 1,
               "the moved ETA is an event")

        eq("#priority low", deliver(conf, "#priority low ", rcpt=reply_to, frm="alice@example.com"), 0)
        want = business_add(created, 35 * 60)
        eq("low: 35 business hours on the Riga calendar", q("SELECT eta FROM tickets WHERE id = 1")[0], want)

        eq("#eta +3d", deliver(conf, "#eta +3d", rcpt=reply_to, frm="alice@example.com"), 0)
        manual = q("SELECT eta, eta_manual FROM tickets WHERE id = 1")
        eq("an agent's ETA is kept as set", manual[1], 1)
        eq("#priority high", deliver(conf, "#priority high", rcpt=reply_to, frm="alice@example.com"), 0)
        eq("a priority change leaves an agent's ETA alone", q("SELECT eta FROM tickets WHERE id = 1")[0], manual[0])
        db.close()
    finally:
        shutil.rmtree(site)
    return done()


if __name__ == "__main__":
    sys.exit(main())
