#!/usr/bin/env python3
"""maildesk report and the leads' digest.  A week of mail is delivered at
chosen instants (deliver --now): questions, agents' replies, a pending
stretch ended by the customer's answer, solves; one ticket then loses its
first_response_at, as a ticket from before it was kept, so that its
relayed reply must count.  The expected figures are worked out by hand
below, in business minutes on a Riga office calendar (Mon-Fri
09:00-12:00 and 13:00-17:00, UTC+2 in November: 07-10 and 11-15 UTC,
420 minutes a day), and checked in text, CSV and JSON.  Then
--mail-leads must queue one mail per lead with a text and an HTML part
holding the bar tables, nothing the second time, and send must deliver
them to an SMTP sink.  Output is TAP."""

import csv
import email
import email.policy
import io
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timezone

BIN = os.environ["MAILDESK_BIN"]
SRC = os.environ["MAILDESK_SRCDIR"]
sys.path.insert(0, os.path.join(SRC, "tests"))
from mdsite import free_port, make_site  # noqa: E402
from tap import done, eq, result  # noqa: E402

EXTRA = """[calendar riga]
timezone = Europe/Riga
hours = mon-fri 09:00-12:00 13:00-17:00
[calendar always]
timezone = UTC
hours = 24/7
[queue sales]
address = sales@example.com
lead = bob@example.com
calendar = always
first_response = normal 1h
resolution = normal 4h
[agent alice]
address = alice@example.com
name = Alice Example
queues = support
lead = yes
[agent bob]
address = bob@example.com
name = Bob Example
queues = sales
"""
SUPPORT = """lead = carol@example.com
calendar = riga
first_response = normal 4h
resolution = normal 14h
"""


def ts(text):
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def report(conf, *args):
    return subprocess.run([BIN, "-c", conf, "report", *args], capture_output=True, text=True)


# The week, in order (UTC; Riga is two hours ahead).  Tickets are named
# by their subject; expected business minutes in the comments.
#   q1 support: Mon 09:00 Riga, reply 10:00 (60), solved 16:00 (360)
#   q2 support: Mon 16:00, reply and pending Tue 10:00 (60 + 60 = 120),
#      the customer answers Wed 10:00 (420 pending), solved Thu 10:00:
#      60 + 420 + 420 + 60 = 960, less 420 = 540
#   q3 support: Tue 09:00, reply Wed 10:00 (480: missed), solved Fri
#      16:00 (420 * 3 + 360 = 1620: missed)
#   q4 support: Wed 09:00, never answered (1260 by Monday: both missed)
#   q5 support: Sunday, no business time yet (both running)
#   q6 sales (24/7): reply in 30, solved in 120 (both met)
#   q7 support: the Friday before (09:00), solved Mon 10:00 (420 + 60 = 480)
WEEK = [
    ("2026-10-30T07:00:00Z", "customer", 7, "support"),
    ("2026-10-30T08:00:00Z", "agent", 7, "We are on it."),
    ("2026-11-02T07:00:00Z", "customer", 1, "support"),
    ("2026-11-02T08:00:00Z", "agent", 1, "We are on it."),
    ("2026-11-02T08:00:00Z", "agent", 7, "#status solved"),
    ("2026-11-02T14:00:00Z", "agent", 1, "#status solved"),
    ("2026-11-02T14:00:00Z", "customer", 2, "support"),
    ("2026-11-03T07:00:00Z", "customer", 3, "support"),
    ("2026-11-03T08:00:00Z", "agent", 2, "#status pending\n\nCould you send us the log?"),
    ("2026-11-04T07:00:00Z", "customer", 4, "support"),
    ("2026-11-04T07:30:00Z", "agent", 4, "#status open"),
    ("2026-11-04T08:00:00Z", "answer", 2, "Here is the log."),
    ("2026-11-04T08:00:00Z", "agent", 3, "We are on it."),
    ("2026-11-05T08:00:00Z", "agent", 2, "#status solved"),
    ("2026-11-05T10:00:00Z", "customer", 6, "sales"),
    ("2026-11-05T10:30:00Z", "agent", 6, "We are on it."),
    ("2026-11-05T12:00:00Z", "agent", 6, "#status solved"),
    ("2026-11-06T14:00:00Z", "agent", 3, "#status solved"),
    ("2026-11-08T10:00:00Z", "customer", 5, "support"),
]
# the latest vote of a ticket counts; the one of 31 October is outside the week
VOTES = [(1, 5, "2026-11-03T09:00:00Z"), (3, 2, "2026-11-07T09:00:00Z"),
         (6, 4, "2026-11-06T09:00:00Z"), (7, 1, "2026-10-31T09:00:00Z")]
PERIOD = ["--since", "2026-11-02T00:00:00Z", "--until", "2026-11-09T00:00:00Z",
          "--now", "2026-11-09T00:00:00Z"]


def reply_to(db, ticket, kind):
    """The Reply-To of the latest outbox mail of kind about ticket."""
    raw = db.execute("SELECT raw FROM outbox WHERE ticket_id = ? AND kind = ? ORDER BY id DESC",
                     (ticket, kind)).fetchone()[0]
    return email.message_from_bytes(raw, policy=email.policy.default)["Reply-To"].addresses[0].addr_spec


def build(site, conf):
    db = sqlite3.connect(os.path.join(site, "maildesk.db"))
    ids = {}
    for i, (when, who, n, what) in enumerate(WEEK):
        if who == "customer":
            frm, rcpt, subject, text = f"c{n}@example.org", f"{what}@example.com", f"question {n}", f"Question {n}."
        elif who == "answer":
            frm, rcpt, subject, text = f"c{n}@example.org", reply_to(db, ids[n], "reply"), f"Re: question {n}", what
        else:
            agent = "bob" if n == 6 else "alice"
            frm, rcpt, subject, text = (f"{agent}@example.com", reply_to(db, ids[n], "agent-assigned"),
                                        f"Re: question {n}", what)
        raw = (f"From: {frm}\nTo: {rcpt}\nSubject: {subject}\n"
               f"Message-ID: <report.{i}.{os.getpid()}@example.org>\n\n{text}\n").encode()
        p = subprocess.run([BIN, "-c", conf, "deliver", "--recipient", rcpt, "--now", when],
                           input=raw, capture_output=True)
        eq(f"{when} {who} {n}: delivered", p.returncode, 0)
        if who == "customer":
            ids[n] = db.execute("SELECT id FROM tickets WHERE subject = ?", (subject,)).fetchone()[0]
    # ticket numbers follow the order of arrival; the report names them by number
    eq("tickets by arrival", [ids[n] for n in (7, 1, 2, 3, 4, 6, 5)], [1, 2, 3, 4, 5, 6, 7])
    eq("first responses recorded by the agents' replies",
       db.execute("SELECT id, first_response_at FROM tickets WHERE first_response_at IS NOT NULL "
                  "ORDER BY id").fetchall(),
       [(ids[n], ts(at)) for n, at in ((7, "2026-10-30T08:00:00Z"), (1, "2026-11-02T08:00:00Z"),
                                        (2, "2026-11-03T08:00:00Z"), (3, "2026-11-04T08:00:00Z"),
                                        (6, "2026-11-05T10:30:00Z"))])
    eq("the pause is recorded as status events",
       db.execute("SELECT at, old_value, new_value FROM events WHERE ticket_id = ? AND what = 'status' "
                  "ORDER BY id", (ids[2],)).fetchall(),
       [(ts("2026-11-03T08:00:00Z"), "new", "pending"), (ts("2026-11-04T08:00:00Z"), "pending", "open"),
        (ts("2026-11-05T08:00:00Z"), "open", "solved")])
    eq("the relayed reply of q1 is a messages row kind reply, direction out",
       db.execute("SELECT received FROM messages WHERE ticket_id = ? AND kind = 'reply' "
                  "AND direction = 'out'", (ids[1],)).fetchall(), [(ts("2026-11-02T08:00:00Z"),)])
    with db:
        # a ticket from before first_response_at was kept: its relayed reply counts
        db.execute("UPDATE tickets SET first_response_at = NULL WHERE id = ?", (ids[1],))
        for n, score, at in VOTES:
            db.execute("INSERT INTO csat (ticket_id, score, at) VALUES (?, ?, ?)", (ids[n], score, ts(at)))
    db.close()


def check_json(conf):
    p = report(conf, "--format", "json", *PERIOD)
    eq("report --format json exits 0", p.returncode, 0)
    r = json.loads(p.stdout)
    eq("json: period", (r["since"], r["until"]), ("2026-11-02T00:00:00Z", "2026-11-09T00:00:00Z"))
    eq("json: percentile method", r["percentile_method"], "nearest-rank")
    eq("json: opened", r["opened"], 6)
    eq("json: solved", r["solved"], 5)
    eq("json: daily opened", [d["opened"] for d in r["daily"]], [2, 1, 1, 1, 0, 0, 1])
    eq("json: daily solved", [d["solved"] for d in r["daily"]], [2, 0, 0, 2, 1, 0, 0])
    eq("json: first response times (30, 60, 120, 480)", r["first_response"],
       {"count": 4, "median": 60, "p90": 480})
    eq("json: resolution times (120, 360, 480, 540, 1620), pending left out", r["resolution"],
       {"count": 5, "median": 480, "p90": 1620})
    sla = {(s["queue"], s["priority"]): s for s in r["sla"]}
    eq("json: sla rows", sorted(sla), [("sales", "normal"), ("support", "normal")])
    eq("json: support first response", sla[("support", "normal")]["first_response"],
       {"target_minutes": 240, "met": 2, "missed": 2, "running": 1, "percent": 50})
    eq("json: support resolution", sla[("support", "normal")]["resolution"],
       {"target_minutes": 840, "met": 2, "missed": 2, "running": 1, "percent": 50})
    eq("json: sales resolution", sla[("sales", "normal")]["resolution"],
       {"target_minutes": 240, "met": 1, "missed": 0, "running": 0, "percent": 100})
    queues = {b["queue"]: b for b in r["backlog"]["queues"]}
    eq("json: support backlog", queues["support"],
       {"queue": "support", "total": 2, "new": 1, "open": 1, "pending": 0, "on-hold": 0})
    eq("json: sales backlog", queues["sales"]["total"], 0)
    eq("json: agent backlog", r["backlog"]["agents"],
       [{"agent": "alice@example.com", "name": "Alice Example", "total": 2, "new": 1, "open": 1,
         "pending": 0, "on-hold": 0}])
    eq("json: csat count", r["csat"]["count"], 3)
    result(abs(r["csat"]["average"] - 11 / 3) < 1e-9, f"json: csat average {r['csat']['average']}")


def check_csv(conf):
    p = report(conf, "--format", "csv", *PERIOD)
    eq("report --format csv exits 0", p.returncode, 0)
    rows = list(csv.reader(io.StringIO(p.stdout)))
    eq("csv: header row", rows[0], ["section", "queue", "priority", "agent", "date", "metric", "value"])
    result(all(len(row) == 7 for row in rows), "csv: every row has seven fields")
    got = {(r[0], r[1], r[2], r[3], r[4], r[5]): r[6] for r in rows[1:]}
    eq("csv: opened", got[("tickets", "", "", "", "", "opened")], "6")
    eq("csv: solved", got[("tickets", "", "", "", "", "solved")], "5")
    eq("csv: solved on 5 November", got[("daily", "", "", "", "2026-11-05", "solved")], "2")
    eq("csv: first response median", got[("first_response", "", "", "", "", "median_minutes")], "60")
    eq("csv: resolution p90", got[("resolution", "", "", "", "", "p90_minutes")], "1620")
    eq("csv: support first response percent",
       got[("sla", "support", "normal", "", "", "first_response_percent")], "50")
    eq("csv: support resolution missed", got[("sla", "support", "normal", "", "", "resolution_missed")], "2")
    eq("csv: alice's open tickets", got[("backlog_agent", "", "", "alice@example.com", "", "open")], "1")
    eq("csv: csat average", got[("csat", "", "", "", "", "average")], "3.67")


def check_text(conf):
    p = report(conf, *PERIOD)
    eq("report (text) exits 0", p.returncode, 0)
    lines = p.stdout.splitlines()
    result("Tickets opened: 6" in lines and "Tickets solved: 5" in lines, "text: opened and solved")
    fr = [ln.split() for ln in lines if ln.startswith("first response")]
    eq("text: first response row (h:mm)", fr, [["first", "response", "4", "1:00", "8:00"]])
    res = [ln.split() for ln in lines if ln.startswith("resolution")]
    eq("text: resolution row (h:mm)", res, [["resolution", "5", "8:00", "27:00"]])
    sla = [ln.split() for ln in lines if ln.startswith("support ") and "normal" in ln]
    eq("text: support compliance", sla, [["support", "normal", "50%", "2/4", "50%", "2/4"]])
    result("Satisfaction: 3.67 average of 3 votes" in lines, "text: satisfaction")
    p = report(conf, "--queue", "sales", *PERIOD)
    result("Tickets opened: 1" in p.stdout.splitlines(), "text: --queue sales counts sales alone")
    eq("an unknown format is refused", report(conf, "--format", "xml").returncode, 64)


def parts(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    return msg, text.get_content() if text else None, html.get_content() if html else None


def check_digest(site, conf):
    db = sqlite3.connect(os.path.join(site, "maildesk.db"))
    count = lambda: db.execute("SELECT count(*) FROM outbox WHERE kind = 'agent-report'").fetchone()[0]  # noqa: E731
    digest_now = ["--now", "2026-11-09T10:00:00Z"]
    p = report(conf, "--mail-leads", *digest_now)
    eq("report --mail-leads exits 0", p.returncode, 0)
    eq("one digest per lead: alice, carol (support) and bob (sales)", count(), 3)
    rows = db.execute("SELECT rcpts, raw, ticket_id FROM outbox WHERE kind = 'agent-report' ORDER BY id").fetchall()
    eq("recipients", sorted(r[0] for r in rows), ["alice@example.com", "bob@example.com", "carol@example.com"])
    result(all(r[2] is None for r in rows), "digests belong to no ticket")
    by = {r[0]: parts(r[1]) for r in rows}
    msg, text, html = by["alice@example.com"]
    result(text is not None and html is not None, "alice's digest has a text and an HTML part")
    eq("subject", msg["Subject"], "Support report 2026-11-02 to 2026-11-08: support")
    eq("auto-generated", msg["Auto-Submitted"], "auto-generated")
    result("Tickets opened: 5" in text and "Tickets solved: 4" in text,
           "the text part has support's counts (tickets 1-5 and 7)")
    result("support, normal: first reply 50% (2 of 4); resolution 50% (2 of 4)" in text,
           "the text part has the compliance")
    result("2026-11-03  1 / 0" in text, "the text part has the days")
    # support alone: the busiest day has 2, so one ticket is a half-width bar
    result('width="100%" style="width: 100%; background-color: #3b7dd8;' in html,
           "HTML: a full-width opened bar for the busiest day")
    result('width="50%" style="width: 50%; background-color: #3b7dd8;' in html,
           "HTML: a half-width opened bar for a day with one ticket")
    result('width="50%" style="width: 50%; background-color: #2e7d32;' in html and
           'width="50%" style="width: 50%; background-color: #c62828;' in html,
           "HTML: compliance bars, met and missed halves")
    low = html.lower()
    result("<script" not in low and "<img" not in low and "class=" not in low and "<style" not in low,
           "HTML: no script, image, class or stylesheet")
    _msg, btext, bhtml = by["bob@example.com"]
    result("Tickets opened: 1" in btext and "sales, normal: first reply 100% (1 of 1)" in btext,
           "bob's digest covers sales alone")
    result('width="100%" style="width: 100%; background-color: #2e7d32;' in bhtml,
           "bob's HTML: a full green bar")
    events = db.execute("SELECT old_value, new_value FROM events WHERE what = 'digest' AND ticket_id IS NULL "
                        "ORDER BY old_value").fetchall()
    eq("each digest is an event with the lead and the period",
       events, [(a, "2026-11-02T00:00:00Z/2026-11-09T00:00:00Z")
                for a in ("alice@example.com", "bob@example.com", "carol@example.com")])

    p = report(conf, "--mail-leads", "--now", "2026-11-09T18:00:00Z")
    eq("a second run the same day exits 0", p.returncode, 0)
    eq("and queues nothing", count(), 3)
    result("0 digests queued, 3 already sent" in p.stdout, "it says so")
    p = report(conf, "--mail-leads", "--force", *digest_now)
    eq("--force queues them again", count(), 6)
    db.close()


def check_send(site, conf):
    """maildesk send delivers the digests: into Postfix's smtp-sink."""
    port = free_port()
    out = os.path.join(site, "sink")
    os.makedirs(out)
    # smtp-sink drops its privileges to nobody, who must reach the directory
    os.chmod(site, 0o755)
    os.chmod(out, 0o777)
    with open(conf, "a") as f:
        f.write(f"[smtp]\nurl = smtp://127.0.0.1:{port}\nstarttls = never\ntimeout = 5\n")
    user = ["-u", "nobody"] if os.getuid() == 0 else []
    sink = subprocess.Popen(["/usr/sbin/smtp-sink", *user, "-d", os.path.join(out, "%M."),
                             f"127.0.0.1:{port}", "100"])
    try:
        for _ in range(50):
            with socket.socket() as s:
                s.settimeout(0.2)
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        p = subprocess.run([BIN, "-c", conf, "send", "--once"], capture_output=True, text=True)
        eq("send --once exits 0", p.returncode, 0)
        db = sqlite3.connect(os.path.join(site, "maildesk.db"))
        eq("every digest is sent",
           db.execute("SELECT status, count(*) FROM outbox WHERE kind = 'agent-report' "
                      "GROUP BY status").fetchall(), [("sent", 6)])
        db.close()
        time.sleep(0.5)
        got = []
        for name in os.listdir(out):
            with open(os.path.join(out, name), "rb") as f:
                m = email.message_from_binary_file(f, policy=email.policy.default)
            if str(m["Subject"]).startswith("Support report"):
                got.append(m["To"].addresses[0].addr_spec)
        eq("the relay got two digests for each lead", sorted(got),
           sorted(["alice@example.com", "bob@example.com", "carol@example.com"] * 2))
    finally:
        sink.terminate()
        sink.wait()


def main():
    site, conf = make_site(BIN, SRC, "maildesk-report-", 1000, EXTRA, queue=SUPPORT)
    try:
        p = subprocess.run([BIN, "-c", conf, "check-config"], capture_output=True, text=True)
        eq("check-config accepts the site and the agent-report templates", p.returncode, 0)
        build(site, conf)
        check_json(conf)
        check_csv(conf)
        check_text(conf)
        check_digest(site, conf)
        check_send(site, conf)
    finally:
        shutil.rmtree(site)
    return done()


if __name__ == "__main__":
    sys.exit(main())
