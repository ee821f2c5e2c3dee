#!/usr/bin/env python3
"""Crash consistency: `deliver` and `send` killed with SIGKILL at random
moments, as a power cut or the OOM killer would, and retried as Postfix
(or cron) would retry them.

deliver: a stream of new questions and replies; each delivery is killed
after a random delay and run again until it exits 0.  Afterwards every
message is stored exactly once, every ticket holds exactly its messages,
every acknowledgement and agent mail exists exactly once in the outbox,
and the database passes PRAGMA integrity_check.

send: the outbox is drained into Postfix's smtp-sink by `send --once`
runs that are killed at random moments.  Afterwards no row is lost (all
sent), every mail reached the sink, and each kill caused at most one mail
to go out again (the README's "at most one duplicate per crash").
Output is TAP."""

import email
import email.policy
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time

BIN = os.environ["MAILDESK_BIN"]
SRC = os.environ["MAILDESK_SRCDIR"]
sys.path.insert(0, os.path.join(SRC, "tests"))
from mdsite import free_port, make_site  # noqa: E402
from tap import done, eq, result  # noqa: E402

SEED = int(os.environ.get("MAILDESK_CRASH_SEED", "20261123"))
QUESTIONS = 30
REPLIES = 30
AGENTS = "[agent a1]\naddress = a1@staff.example.com\nqueues = support\nmax_open = 1000\n"


def question(i):
    return (f"From: Customer {i} <c{i}@example.org>\nTo: support@example.com\n"
            f"Subject: Question {i}\nMessage-ID: <q{i}@example.org>\n"
            f"Date: Mon, 23 Nov 2026 10:{i % 60:02d}:00 +0200\n\n"
            f"Question number {i}: the printer is broken.\n").encode()


def reply(j, i):
    return (f"From: Customer {i} <c{i}@example.org>\nTo: support@example.com\n"
            f"Subject: Re: Question {i}\nMessage-ID: <r{j}.{i}@example.org>\n"
            f"In-Reply-To: <q{i}@example.org>\nReferences: <q{i}@example.org>\n"
            f"Date: Mon, 23 Nov 2026 11:{j % 60:02d}:00 +0200\n\n"
            f"Reply {j} on question {i}: still broken.\n").encode()


def typical_run():
    """Seconds one delivery takes on this build (a sanitizer build is several
    times slower), from a throw-away site: the kills must land inside it."""
    d, conf = make_site(BIN, SRC, "maildesk-crash-cal-", 100000, AGENTS)
    try:
        times = []
        for i in range(5):
            t0 = time.perf_counter()
            subprocess.run([BIN, "-c", conf, "deliver", "--recipient", "support@example.com"],
                           input=question(1000 + i), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=True)
            times.append(time.perf_counter() - t0)
        return sorted(times)[2]
    finally:
        shutil.rmtree(d)


def deliver_until_done(conf, raw, rng, window):
    """Runs deliver, killing it after a random delay within window seconds,
    until it exits 0.  Returns (attempts, kills)."""
    attempts = kills = 0
    while attempts < 200:
        attempts += 1
        # a machine that slowed down since the calibration: kill later
        if attempts % 20 == 0:
            window *= 1.5
        p = subprocess.Popen([BIN, "-c", conf, "deliver", "--recipient", "support@example.com"],
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        p.stdin.write(raw)
        p.stdin.close()
        # a window a little longer than a run: killed often, not always
        time.sleep(rng.uniform(0, window))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        rc = p.wait()
        if rc == 0:
            return attempts, kills
        if rc not in (-signal.SIGKILL, 75):
            raise RuntimeError(f"deliver exited {rc}")
    raise RuntimeError("deliver never succeeded")


def test_deliver(site_dir, conf, rng):
    db = os.path.join(site_dir, "maildesk.db")
    stream = [("q", i) for i in range(QUESTIONS)]
    for j in range(REPLIES):
        # a reply to a question already asked, placed after it
        i = rng.randrange(QUESTIONS)
        stream.insert(rng.randrange(stream.index(("q", i)) + 1, len(stream) + 1), ("r", j, i))
    total_kills = 0
    window = typical_run() * 1.3
    for item in stream:
        raw = question(item[1]) if item[0] == "q" else reply(item[1], item[2])
        _, kills = deliver_until_done(conf, raw, rng, window)
        total_kills += kills
    result(total_kills > 10, f"deliver was killed mid-run {total_kills} times (seed {SEED})")

    c = sqlite3.connect(db)
    q = lambda sql, *a: c.execute(sql, a).fetchall()  # noqa: E731
    eq("integrity_check", q("PRAGMA integrity_check"), [("ok",)])
    eq("foreign keys hold", q("PRAGMA foreign_key_check"), [])
    ids = q("SELECT message_id, count(*) FROM messages WHERE direction = 'in' GROUP BY message_id")
    eq("every message stored", len(ids), QUESTIONS + REPLIES)
    eq("no message stored twice", [m for m, n in ids if n != 1], [])
    eq("one ticket per question", q("SELECT count(*) FROM tickets")[0][0], QUESTIONS)
    wrong = []
    for item in stream:
        if item[0] == "r":
            got = q("SELECT t.subject FROM messages m JOIN tickets t ON t.id = m.ticket_id "
                    "WHERE m.message_id = ?", f"r{item[1]}.{item[2]}@example.org")
            if got != [(f"Question {item[2]}",)]:
                wrong.append(item)
    eq("every reply is on its question's ticket", wrong, [])
    per_ticket = q("SELECT t.subject, count(m.id) FROM tickets t JOIN messages m ON m.ticket_id = t.id "
                   "AND m.direction = 'in' GROUP BY t.id")
    expect = {f"Question {i}": 1 + sum(1 for x in stream if x[0] == "r" and x[2] == i)
              for i in range(QUESTIONS)}
    eq("every ticket holds exactly its messages", dict(per_ticket), expect)
    eq("every ticket is assigned", q("SELECT count(*) FROM tickets WHERE assignee IS NULL")[0][0], 0)
    eq("one acknowledgement per ticket",
       q("SELECT count(*), count(DISTINCT ticket_id) FROM outbox WHERE kind = 'ack'"), [(QUESTIONS, QUESTIONS)])
    eq("one 'assigned' mail per ticket",
       q("SELECT count(*), count(DISTINCT ticket_id) FROM outbox WHERE kind = 'agent-assigned'"),
       [(QUESTIONS, QUESTIONS)])
    eq("one 'customer replied' mail per reply",
       q("SELECT count(*) FROM outbox WHERE kind = 'agent-customer-replied'"), [(REPLIES,)])
    eq("every outbox row has its message",
       q("SELECT count(*) FROM outbox o LEFT JOIN messages m ON m.id = o.message_row WHERE m.id IS NULL"),
       [(0,)])
    c.close()


def start_sink(port, out):
    os.makedirs(out, exist_ok=True)
    # smtp-sink drops its privileges to nobody, who must reach the directory
    os.chmod(os.path.dirname(out), 0o755)
    os.chmod(out, 0o777)
    user = ["-u", "nobody"] if os.getuid() == 0 else []
    p = subprocess.Popen(["/usr/sbin/smtp-sink", *user, "-d", os.path.join(out, "%M."),
                          f"127.0.0.1:{port}", "100"])
    for _ in range(50):
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return p
        time.sleep(0.1)
    raise RuntimeError("smtp-sink did not start")


def test_send(site_dir, conf, rng):
    db = os.path.join(site_dir, "maildesk.db")
    port = free_port()
    out = os.path.join(site_dir, "sink")
    with open(conf, "a") as f:
        f.write(f"[smtp]\nurl = smtp://127.0.0.1:{port}\nstarttls = never\ntimeout = 5\n"
                "retry_base = 1s\nretry_max = 1s\n")
    sink = start_sink(port, out)
    try:
        c = sqlite3.connect(db)
        rows = c.execute("SELECT count(*) FROM outbox").fetchone()[0]
        # kills must land after start-up (slow in a sanitizer build or on a
        # loaded machine), while rows go out: the window widens whenever a
        # killed run sent nothing, and after 60 runs send may finish
        t0 = time.perf_counter()
        subprocess.run([BIN, "--version"], stdout=subprocess.DEVNULL, check=True)
        start = time.perf_counter() - t0
        window = 0.02
        kills = runs = 0
        while runs < 100:
            queued = c.execute("SELECT count(*) FROM outbox WHERE status = 'queued'").fetchone()[0]
            if queued == 0:
                break
            runs += 1
            p = subprocess.Popen([BIN, "-c", conf, "send", "--once"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            if runs <= 60:
                time.sleep(start + rng.uniform(0, window))
                if p.poll() is None:
                    p.send_signal(signal.SIGKILL)
                    kills += 1
            p.wait()
            left = c.execute("SELECT count(*) FROM outbox WHERE status = 'queued'").fetchone()[0]
            if left == queued:
                window = min(window * 2, 2.0)
            time.sleep(0.05)
        result(kills >= 2, f"send was killed mid-stream {kills} times in {runs} runs")
        eq("no outbox row lost: all sent",
           c.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall(), [("sent", rows)])
        eq("integrity_check after send", c.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
        c.close()
        time.sleep(0.5)
        seen = {}
        for name in os.listdir(out):
            with open(os.path.join(out, name), "rb") as f:
                m = email.message_from_binary_file(f, policy=email.policy.default)
            mid = str(m["Message-ID"])
            seen[mid] = seen.get(mid, 0) + 1
        eq("every mail reached the relay", len(seen), rows)
        # a kill between the relay's 250 and the commit sends that row again;
        # each kill can do that to one row only (rows commit one by one)
        again = sum(v - 1 for v in seen.values())
        result(again <= kills, f"mails sent again ({again}) at most one per kill ({kills})")
    finally:
        sink.terminate()
        sink.wait()


def main():
    rng = random.Random(SEED)
    site_dir, conf = make_site(BIN, SRC, "maildesk-crash-", 100000, AGENTS)
    try:
        test_deliver(site_dir, conf, rng)
        test_send(site_dir, conf, rng)
    finally:
        shutil.rmtree(site_dir)
    return done()


if __name__ == "__main__":
    sys.exit(main())
