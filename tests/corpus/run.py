#!/usr/bin/env python3
"""Corpus test: every real-world message under ../shared/corpus is delivered
into one fresh database with `maildesk deliver`.  Each must exit 0 and be
stored exactly once (byte for byte), and the stored subject and sender must
match EXPECTED.tsv where it has a row.  Output is TAP."""

import hashlib
import os
import shlex
import sqlite3
import subprocess
import sys

BIN = os.environ["MAILDESK_BIN"]
# e.g. "valgrind --error-exitcode=99 ...": every delivery runs under it
WRAP = shlex.split(os.environ.get("MAILDESK_WRAP", ""))
SRC = os.environ["MAILDESK_SRCDIR"]
CORPUS = os.environ.get("MAILDESK_CORPUS", os.path.join(SRC, "..", "shared", "corpus"))
sys.path.insert(0, os.path.join(SRC, "tests"))
from mdsite import make_site, stored_bytes  # noqa: E402
from tap import done, result  # noqa: E402

AGENTS = "".join(f"[agent a{i}]\naddress = a{i}@staff.example.com\nqueues = support\n"
                 "max_open = 200\n" for i in range(2))
FOLDERS = ["inbound", "replies", "charsets", "autoreplies", "bounces", "malformed"]


def unescape(v):
    out, i = [], 0
    while i < len(v):
        if v[i] == "\\" and i + 1 < len(v):
            out.append({"n": "\n", "r": "\r", "t": "\t", "\\": "\\"}.get(v[i + 1], v[i + 1]))
            i += 2
        else:
            out.append(v[i])
            i += 1
    return "".join(out)


def main():
    if not os.path.isdir(CORPUS):
        print(f"Bail out! corpus not found at {CORPUS}")
        return 1
    # two agents, so every message also runs assignment and agent mail
    site, conf = make_site(BIN, SRC, "maildesk-corpus-", 1000, AGENTS)

    files = []
    for folder in FOLDERS:
        for root, _, names in os.walk(os.path.join(CORPUS, folder)):
            files += [os.path.join(root, x) for x in sorted(names)]
    files.sort()
    hashes = {}
    for path in files:
        rel = os.path.relpath(path, CORPUS)
        with open(path, "rb") as f:
            raw = f.read()
        p = subprocess.run(WRAP + [BIN, "-c", conf, "deliver", "--recipient", "support@example.com"],
                           input=raw, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        result(p.returncode == 0, f"deliver {rel} exits 0"
               + ("" if p.returncode == 0 else f" (got {p.returncode}: {p.stdout!r} {p.stderr[-300:]!r})"))
        hashes[rel] = hashlib.sha256(stored_bytes(raw)).hexdigest()

    db = sqlite3.connect(os.path.join(site, "maildesk.db"))
    for rel, h in hashes.items():
        rows = db.execute("SELECT raw FROM messages WHERE sha256 = ? AND direction = 'in'", (h,)).fetchall()
        good = len(rows) == 1
        with open(os.path.join(CORPUS, rel), "rb") as f:
            good = good and bytes(rows[0][0]) == stored_bytes(f.read())
        result(good, f"{rel} stored exactly once, byte for byte")
    distinct = len(set(hashes.values()))
    count = db.execute("SELECT count(*) FROM messages WHERE direction = 'in'").fetchone()[0]
    result(count == distinct, f"{count} incoming rows for {distinct} distinct messages")

    checked = 0
    with open(os.path.join(CORPUS, "EXPECTED.tsv"), encoding="utf-8") as f:
        next(f)
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3 or parts[0] not in hashes:
                continue
            rel, field, want = parts[0], parts[1], unescape(parts[2])
            column = {"subject": "subject", "from_email": "from_addr"}.get(field)
            if column is None:
                continue
            got = db.execute(f"SELECT {column} FROM messages WHERE sha256 = ?", (hashes[rel],)).fetchone()
            got = got[0] if got else None
            result(got == want, f"{rel} {field} is {want!r}" + ("" if got == want else f" (got {got!r})"))
            checked += 1
    result(checked >= 20, f"{checked} EXPECTED.tsv subject/from rows compared")

    # nothing automatic goes to list traffic, bounces or autoresponders
    for rel in hashes:
        if rel.startswith(("autoreplies/", "bounces/")):
            acks = db.execute("SELECT count(*) FROM outbox o JOIN messages m ON m.ticket_id = o.ticket_id "
                              "WHERE m.sha256 = ? AND o.kind = 'ack'", (hashes[rel],)).fetchone()[0]
            msgs = db.execute("SELECT count(*) FROM messages WHERE ticket_id = "
                              "(SELECT ticket_id FROM messages WHERE sha256 = ?) AND direction = 'in'",
                              (hashes[rel],)).fetchone()[0]
            # a ticket shared with a person's message may have an ack for that person
            if msgs == 1:
                result(acks == 0, f"{rel}: no acknowledgement")

    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    result(integrity == "ok", "database passes integrity_check")
    db.close()
    subprocess.run(["rm", "-rf", site])
    return done()


if __name__ == "__main__":
    sys.exit(main())
