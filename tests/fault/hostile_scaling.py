#!/usr/bin/env python3
"""Growth of `maildesk deliver`'s cost with the size of each hostile shape
of tests/hostile_shapes.py (nested groups and comments, parameters, RFC
2231 continuations, encoded words of alternating charsets, addresses,
References, header fields, MIME and message nesting, parts).

Each shape is delivered at N and at 4N bytes, three times each (other
bytes each time, so no delivery is a duplicate), and the least CPU time
of the deliver process beyond that of a tiny message is compared: linear
growth gives t(4N)/t(N) = 4, quadratic 16, so a ratio above 8 fails.
CPU time, not wall time, the least of three, and a ratio with room on
both sides, so that a busy machine does not make the test fail; growth
below 0.1 s of CPU cannot be told from noise and passes.  Peak RSS
beyond that of the tiny message must not grow more than 8-fold either.

Every delivery must exit 0 (no signal, no tempfail), store the message
byte for byte, and flag the ticket with the expected parse_error when a
bound was hit (no parse_error when none was; other guards, such as the
cap on participants, may still flag the ticket).

N is 512 KiB, so that 4N stays below parse.c's 4 MB header bound and
GMime parses every shape in full at both sizes.  A sanitizer build
(detected from the binary) takes N/8 and is the plain build's check of
correctness more than of growth:
ASan's realloc moves the block every time, so GMime's growing of one
header line costs O(n^2) there (see tests/fuzz/fuzz_intake.c), and its
quarantine keeps freed memory resident; so there neither the time nor
the peak RSS is compared (a time ratio of 12 was seen there for RFC 2231
continuations that grow 4 times in the plain build).  MAILDESK_SCALING_N overrides N (bytes).
Output is TAP."""
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
from hostile_shapes import SHAPES  # noqa: E402
from mdsite import make_site  # noqa: E402
from tap import done, eq, result  # noqa: E402

with open(BIN, "rb") as _f:
    SANITIZED = b"__asan_init" in _f.read()
N = int(os.environ.get("MAILDESK_SCALING_N", (1 << 19) // (8 if SANITIZED else 1)))
GROWTH = 4  # the big size is GROWTH * N
RUNS = 3
RATIO = 8.0
FLOOR = 0.1  # seconds of CPU: growth below this is noise
RSS_FLOOR = 24.0  # MB: growth below this, at these sizes, is allocator noise
TINY = (b"From: c@example.org\nTo: support@example.com\nSubject: tiny\n"
        b"Message-ID: <tiny-%d@example.org>\n\nhi\n")

# One delivery from a fresh Python child: RUSAGE_CHILDREN of that child is
# then deliver's alone, and its peak RSS does not start at ours.
CHILD = r"""
import resource, subprocess, sys
with open(sys.argv[1], "rb") as f:
    rc = subprocess.run(sys.argv[2:], stdin=f, stdout=subprocess.DEVNULL).returncode
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(rc, u.ru_utime + u.ru_stime, u.ru_maxrss)
"""


class Site:
    def __init__(self, scratch):
        self.dir, self.conf = make_site(BIN, SRC, "maildesk-scaling-", 100000)
        self.db = sqlite3.connect(os.path.join(self.dir, "maildesk.db"))
        self.scratch = scratch
        self.runs = 0

    def deliver(self, raw):
        """(exit code, CPU seconds, peak RSS in MB) of one delivery."""
        inp = os.path.join(self.scratch, "message")
        with open(inp, "wb") as f:
            f.write(raw)
        p = subprocess.run([sys.executable, "-c", CHILD, inp, BIN, "-c", self.conf, "deliver",
                            "--recipient", "support@example.com"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True, timeout=600)
        os.unlink(inp)
        rc, cpu, rss = p.stdout.split()
        return int(rc), float(cpu), int(rss) / 1024

    def stored(self, raw):
        """(parse_error, needs_attention) of the one stored copy of raw, or None."""
        sha = hashlib.sha256(raw).hexdigest()
        rows = self.db.execute("SELECT m.parse_error, t.needs_attention, m.raw FROM messages m "
                               "JOIN tickets t ON t.id = m.ticket_id WHERE m.sha256 = ?", (sha,)).fetchall()
        if len(rows) != 1 or rows[0][2] != raw:
            return None
        return rows[0][0], rows[0][1]

    def close(self):
        self.db.close()
        shutil.rmtree(self.dir)


def variant(raw, k):
    """raw made unique: a header line in front, so no run is a duplicate."""
    return b"X-Scaling-Run: %d\n" % k + raw


def baseline(site):
    """CPU and RSS of the tiniest delivery, the cost of starting."""
    runs = []
    for k in range(3):
        site.runs += 1
        rc, cpu, rss = site.deliver(TINY % site.runs)
        runs.append((cpu, rss))
    return min(c for c, _ in runs), min(r for _, r in runs)


def measure(site, name, raw, flag):
    """Delivers raw RUNS times (as other messages): the least CPU time and peak RSS."""
    best = None
    for _ in range(RUNS):
        site.runs += 1
        msg = variant(raw, site.runs)
        rc, cpu, rss = site.deliver(msg)
        if rc != 0:
            eq(f"{name}: deliver exits 0", rc, 0)
            return None
        got = site.stored(msg)
        if got is None:
            result(False, f"{name}: stored byte for byte exactly once")
            return None
        perr, flagged = got
        if perr != flag or (flag is not None and not flagged):
            eq(f"{name}: parse_error and flag", (perr, bool(flagged)), (flag, flag is not None))
            return None
        best = (cpu, rss) if best is None else (min(best[0], cpu), min(best[1], rss))
    return best


def main():
    scratch = tempfile.mkdtemp(prefix="maildesk-scaling-run-")
    print(f"# N = {N} bytes, {'sanitizer' if SANITIZED else 'plain'} build")
    site = Site(scratch)
    try:
        cpu0, rss0 = baseline(site)
        print(f"# start: {cpu0:.3f} s CPU, {rss0:.0f} MB")
        for name, build in SHAPES.items():
            small, big = build(N), build(GROWTH * N)
            a = measure(site, f"{name} at {len(small[0]) / 1e6:.1f} MB", *small)
            b = measure(site, f"{name} at {len(big[0]) / 1e6:.1f} MB", *big)
            if a is None or b is None:
                continue
            result(True, f"{name}: both sizes exit 0, stored byte for byte, "
                   f"parse_error {small[1] or 'none'} / {big[1] or 'none'}")
            ta, tb = max(a[0] - cpu0, 0.0), max(b[0] - cpu0, 0.0)
            ratio = tb / ta if ta > 0 else float("inf")
            text = (f"{name}: CPU {a[0]:.2f} s at N, {b[0]:.2f} s at {GROWTH}N "
                    f"(beyond start: ratio {ratio:.2f}, limit {RATIO})")
            if SANITIZED:
                result(True, f"{text} # SKIP growth is the plain build's to judge (ASan's realloc)")
            else:
                result(tb <= max(RATIO * ta, FLOOR), text)
            ra, rb = max(a[1] - rss0, 0.0), max(b[1] - rss0, 0.0)
            text = f"{name}: peak RSS {a[1]:.0f} MB at N, {b[1]:.0f} MB at {GROWTH}N (limit {RATIO}x beyond start)"
            if SANITIZED:
                result(True, f"{text} # SKIP not compared under ASan, whose quarantine keeps freed memory")
            else:
                result(rb <= max(RATIO * ra, RSS_FLOOR), text)
    finally:
        site.close()
        shutil.rmtree(scratch)
    return done()


if __name__ == "__main__":
    sys.exit(main())
