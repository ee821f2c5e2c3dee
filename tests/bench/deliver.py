#!/usr/bin/env python3
"""Benchmark of `maildesk deliver`, one process per message as Postfix's
pipe(8) runs it.  Prints a table: messages per second and latency for a
sequential stream, and peak RSS for a 10 KB, 1 MB and 20 MB message.
Not a test: it asserts nothing, it measures."""
import os
import resource
import statistics
import subprocess
import sys
import time

BIN = os.environ["MAILDESK_BIN"]
SRC = os.environ["MAILDESK_SRCDIR"]
sys.path.insert(0, os.path.join(SRC, "tests"))
from mdsite import make_site  # noqa: E402

N = int(os.environ.get("BENCH_MESSAGES", "300"))


AGENTS = "".join(f"[agent a{i}]\naddress = a{i}@staff.example.com\nqueues = support\n"
                 f"max_open = 100000\n" for i in range(3))


def site(extra=""):
    return make_site(BIN, SRC, "maildesk-bench-", 100000, extra)


def rate(label, lat):
    return (label, f"{len(lat) / sum(lat):.0f} msg/s", f"p50 {statistics.median(lat) * 1000:.1f} ms",
            f"p99 {sorted(lat)[int(len(lat) * 0.99) - 1] * 1000:.1f} ms")


def message(i, body_bytes, lang="en"):
    text = {"en": "Hello, the printer is broken again. ",
            "ru": "Здравствуйте, принтер опять не печатает. "}[lang]
    body = (text * (body_bytes // len(text.encode()) + 1)).encode()[:body_bytes]
    head = (f"From: Customer {i} <c{i % 97}@example.org>\nTo: support@example.com\n"
            f"Subject: Question {i}\nMessage-ID: <bench-{i}-{time.time_ns()}@example.org>\n"
            "Date: Mon, 23 Nov 2026 10:00:00 +0200\nMIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n")
    return head.encode() + body + b"\n"


def deliver(conf, raw):
    t0 = time.perf_counter()
    p = subprocess.run([BIN, "-c", conf, "deliver", "--recipient", "support@example.com"],
                       input=raw, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if p.returncode != 0:
        sys.exit(f"deliver failed with {p.returncode}")
    return time.perf_counter() - t0


def peak_rss_kb(conf, raw):
    """Peak RSS of one deliver run, from a fresh child of a fresh process."""
    code = ("import resource,subprocess,sys;"
            f"subprocess.run([{BIN!r},'-c',{conf!r},'deliver','--recipient','support@example.com'],"
            "input=sys.stdin.buffer.read(),stdout=subprocess.DEVNULL,check=True);"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code], input=raw, stdout=subprocess.PIPE, check=True)
    return int(out.stdout)


def main():
    d, conf = site()
    lat = [deliver(conf, message(i, 4000, "ru" if i % 3 == 0 else "en")) for i in range(N)]
    rows = [rate("deliver, sequential, 4 KB mixed en/ru", lat)]
    # with three agents: every new ticket is assigned and its agent mailed
    da, conf_a = site(AGENTS)
    lat = [deliver(conf_a, message(i, 4000, "ru" if i % 3 == 0 else "en")) for i in range(N)]
    rows.append(rate("same, 3 agents (assign + agent mail)", lat))
    subprocess.run(["rm", "-rf", da])
    for label, size in (("10 KB", 10_000), ("1 MB", 1_000_000), ("20 MB", 20_000_000)):
        rss = peak_rss_kb(conf, message(10**6 + size, size))
        rows.append((f"deliver peak RSS, {label} message", f"{rss / 1024:.1f} MB", "", ""))
    print(f"{'measure':44} {'value':>12} {'':>14} {'':>14}")
    for r in rows:
        print(f"{r[0]:44} {r[1]:>12} {r[2]:>14} {r[3]:>14}")
    subprocess.run(["rm", "-rf", d])


if __name__ == "__main__":
    main()
