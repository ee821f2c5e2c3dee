#!/usr/bin/env python3
"""The robustness table of docs/robustness.md: every hostile shape of
tests/hostile_shapes.py at sizes from 1 MB up to the default
max_message_size (64 MB), each delivered once by `maildesk deliver` into a
fresh site; wall time and peak RSS of the deliver process (GNU time's %e and %M,
the "Maximum resident set size" of time -v; TIME_BIN to use another;
without it, the rusage of a fresh Python child that runs it), exit
code, and whether the ticket was flagged with the expected parse_error.

    MAILDESK_ALLOW_ROOT=1 python3 tests/bench/robustness.py BUILD/maildesk [SIZE_MB ...]

SIZE_MB defaults to 1 4 16 63 (63: a 64 MB limit less room for the
envelope).  MAILDESK_SHAPES="groups,params" keeps the shapes whose name
contains one of the words.  Prints a Markdown table."""
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(SRC, "tests"))
from hostile_shapes import SHAPES  # noqa: E402
from mdsite import make_site  # noqa: E402

TIME = os.environ.get("TIME_BIN", "/usr/bin/time")
CHILD = r"""
import resource, subprocess, sys, time
with open(sys.argv[1], "rb") as f:
    t0 = time.monotonic()
    rc = subprocess.run(sys.argv[2:], stdin=f, stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL).returncode
    t = time.monotonic() - t0
print(rc, t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def deliver(binary, conf, raw):
    """(exit code or -signal, seconds, peak RSS in MB) of one delivery.
    GNU time runs it: a child forked from this Python process would start
    with Python's own peak RSS (the messages it holds), which Linux keeps
    across execve()."""
    with tempfile.TemporaryDirectory() as d:
        inp, out = os.path.join(d, "in"), os.path.join(d, "time")
        with open(inp, "wb") as f:
            f.write(raw)
        if not os.access(TIME, os.X_OK):
            # no GNU time: a fresh small Python child, whose children's
            # rusage is deliver's alone
            p = subprocess.run([sys.executable, "-c", CHILD, inp, binary, "-c", conf, "deliver",
                                "--recipient", "support@example.com"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
            rc, secs, rss = p.stdout.split()
            return int(rc), float(secs), int(rss) / 1024
        with open(inp, "rb") as f:
            subprocess.run([TIME, "-o", out, "-f", "%e %M %x", binary, "-c", conf, "deliver",
                            "--recipient", "support@example.com"], stdin=f,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(out) as f:
            lines = f.read().split("\n")
    secs, rss, rc = lines[-2].split()
    for line in lines:
        if line.startswith("Command terminated by signal"):
            rc = -int(line.split()[-1])
    return int(rc), float(secs), int(rss) / 1024


def main():
    binary = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.environ["MAILDESK_BIN"]
    sizes = [float(a) for a in sys.argv[2:]] or [1, 4, 16, 63]
    words = [w for w in os.environ.get("MAILDESK_SHAPES", "").split(",") if w]
    print("| shape | size | time | peak RSS | exit | stored as |")
    print("|---|---:|---:|---:|---:|---|")
    for name, build in SHAPES.items():
        if words and not any(w in name for w in words):
            continue
        for mb in sizes:
            raw, flag = build(int(mb * 1024 * 1024))
            d, conf = make_site(binary, SRC, "maildesk-robust-", 100000)
            try:
                rc, secs, rss = deliver(binary, conf, raw)
                db = sqlite3.connect(os.path.join(d, "maildesk.db"))
                row = db.execute("SELECT m.parse_error, t.needs_attention, m.raw = ? FROM messages m "
                                 "JOIN tickets t ON t.id = m.ticket_id WHERE m.direction = 'in'",
                                 (raw,)).fetchone()
                db.close()
            finally:
                shutil.rmtree(d)
            if row is None:
                stored = "not stored"
            else:
                perr, flagged, same = row
                stored = ("flagged: " + perr if flagged and perr else "flagged" if flagged else "parsed")
                if not same:
                    stored += " (raw differs!)"
                if (perr or None) != flag:
                    stored += f" (expected {flag or 'no parse_error'})"
            print(f"| {name} | {len(raw) / 1048576:.1f} MB | {secs:.2f} s | {rss:.0f} MB | {rc} | {stored} |",
                  flush=True)


if __name__ == "__main__":
    main()
