#!/usr/bin/env python3
"""Hostile input to `maildesk deliver`: messages built to exhaust the parser
(deep nesting, hundreds of thousands of parts, a 50 MB line), to confuse it
(NULs, invalid UTF-8, unknown and lying charsets, degenerate messages), to
inject headers into our acknowledgement, to write files through attachment
names, to fan out to thousands of recipients, and to pass for an agent.

For every delivery: the exit code is 0 (or 65 with a 5.3.4 line for a
message over max_message_size), never a signal; the run ends within a
time limit; its peak RSS, measured from a fresh child process, stays
bounded; the raw message (less a leading mbox "From " line) is stored
byte for byte exactly once; nothing is written outside the database.
Where a limit is hit, the ticket is flagged and parse_error says why.

MAILDESK_HOSTILE_SCALE (default 1) scales the big inputs down, say 0.2
for a slow machine; every case still runs.  A sanitizer build (detected
from the binary) gets five times the time limit and three times the
memory limit (ASan's redzones and quarantine cost memory of their own),
and header lines a tenth as long (see HEADER_SCALE).
Output is TAP."""

import base64
import email
import email.policy
import hashlib
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

BIN = os.environ["MAILDESK_BIN"]
SRC = os.environ["MAILDESK_SRCDIR"]
sys.path.insert(0, os.path.join(SRC, "tests"))
from mdsite import make_site, stored_bytes  # noqa: E402
from tap import done, eq, result  # noqa: E402

SCALE = float(os.environ.get("MAILDESK_HOSTILE_SCALE", "1"))
with open(BIN, "rb") as _f:
    SANITIZED = b"__asan_init" in _f.read()
TIME_LIMIT = 30.0 * (5 if SANITIZED else 1)
# GMime collects one header line in a buffer that realloc grows in small
# steps: glibc grows a big block in place (mremap), ASan's realloc copies it
# every time, so a multi-megabyte header line takes minutes there.  Sanitizer
# builds get header lines a tenth as long; bodies keep their size.
HEADER_SCALE = SCALE / 10 if SANITIZED else SCALE
RSS_LIMIT_MB = 300 * (3 if SANITIZED else 1)
# a hang is cut off here and reported, so one case cannot stall the run
HANG_LIMIT = 4 * TIME_LIMIT
RCPT = "support@example.com"
AGENT = "agent@example.com"
AGENTS = f"[agent a]\naddress = {AGENT}\nname = Agent A\nqueues = support\nmax_open = 100000\n"
SMALL_LIMIT = 4096
# parse.c's default limits, which the sites below keep
MAX_PARTS = 10000
MAX_STORED_TEXT = 1 << 20
PWN = f"maildesk-hostile-pwn-{os.getpid()}"


def scaled(n, least, scale=None):
    return max(least, int(n * (SCALE if scale is None else scale)))


def mail(headers, body=b"", eol=b"\n"):
    """A message from (name, value) pairs; values are str or bytes, as is body."""
    out = []
    for name, value in headers:
        v = value if isinstance(value, bytes) else value.encode()
        out.append(name.encode() + b": " + v + eol)
    return b"".join(out) + eol + (body if isinstance(body, bytes) else body.encode())


def base(subject, frm="Customer <customer@example.org>", extra=()):
    return [("From", frm), ("To", RCPT), ("Subject", subject),
            ("Date", "Mon, 23 Nov 2026 10:00:00 +0200"), *extra]


# One delivery, run from a fresh Python child: RUSAGE_CHILDREN of that child
# then holds maildesk's peak RSS alone, not that of earlier runs.
CHILD = r"""
import resource, subprocess, sys, time
inp, cwd, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
with open(inp, "rb") as f:
    t0 = time.monotonic()
    try:
        p = subprocess.run(sys.argv[4:], stdin=f, stdout=subprocess.PIPE, cwd=cwd, timeout=limit)
        rc, out = p.returncode, p.stdout
    except subprocess.TimeoutExpired as e:
        rc, out = "hang", e.stdout or b""
    t = time.monotonic() - t0
sys.stdout.write(f"{rc} {t:.3f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\n")
sys.stdout.flush()
sys.stdout.buffer.write(out)
"""


def snapshot(top):
    out = set()
    for d, _, files in os.walk(top):
        for f in files:
            out.add(os.path.relpath(os.path.join(d, f), top))
    return out


class Site:
    def __init__(self, scratch, extra=""):
        self.dir, self.conf = make_site(BIN, SRC, "maildesk-hostile-", 100000, extra)
        self.db = sqlite3.connect(os.path.join(self.dir, "maildesk.db"))
        self.db.text_factory = bytes  # text columns are checked for valid UTF-8 by hand
        self.scratch = scratch
        self.files = snapshot(self.dir)
        self.stray = []

    def close(self):
        self.db.close()
        shutil.rmtree(self.dir)

    def sql(self, q, *a):
        return self.db.execute(q, a).fetchall()

    def one(self, q, *a):
        rows = self.sql(q, *a)
        return rows[0][0] if rows else None

    def deliver(self, raw, recipient=RCPT):
        """Runs deliver on raw; returns (rc, seconds, peak RSS in MB, stdout).
        rc is an int (negative: the signal), or "hang"."""
        inp = os.path.join(self.scratch, "in", "message")
        with open(inp, "wb") as f:
            f.write(raw)
        # maildesk runs deep inside a jail: a "../" name would land in it
        cwd = os.path.join(self.scratch, "jail", "a", "b", "cwd")
        args = [BIN, "-c", self.conf, "deliver", "--recipient", recipient]
        p = subprocess.run([sys.executable, "-c", CHILD, inp, cwd, str(HANG_LIMIT), *args],
                           stdout=subprocess.PIPE, check=True)
        first, _, out = p.stdout.partition(b"\n")
        rc, secs, rss = first.decode().split()
        os.unlink(inp)
        now = snapshot(self.dir)
        new = now - self.files - {"maildesk.db", "maildesk.db-wal", "maildesk.db-shm",
                                  "maildesk.db-journal"}
        self.stray += sorted(new)
        self.files = now
        rc = int(rc) if rc != "hang" else rc
        return rc, float(secs), int(rss) / 1024, out.decode("utf-8", "replace")


def rc_text(rc):
    if rc == "hang":
        return f"hang (killed after {HANG_LIMIT:.0f} s)"
    return f"signal {-rc}" if isinstance(rc, int) and rc < 0 else f"exit {rc}"


def check_delivery(site, name, raw, want=0, recipient=RCPT):
    """The checks every hostile delivery must pass.  Returns the stored
    messages row (id, ticket_id, parse_error, kind) or None."""
    stored = stored_bytes(raw)
    sha = hashlib.sha256(stored).hexdigest()
    had = site.one("SELECT count(*) FROM messages WHERE sha256 = ?", sha)
    before = site.one("SELECT count(*) FROM messages WHERE direction = 'in'")
    rc, secs, rss, out = site.deliver(raw, recipient)
    eq(f"{name}: {rc_text(rc)}", rc, want)
    result(rc != "hang" and secs < TIME_LIMIT, f"{name}: took {secs:.2f} s (limit {TIME_LIMIT:.0f} s)")
    result(rss < RSS_LIMIT_MB, f"{name}: peak RSS {rss:.1f} MB (limit {RSS_LIMIT_MB} MB)")
    after = site.one("SELECT count(*) FROM messages WHERE direction = 'in'")
    if want != 0:
        eq(f"{name}: nothing stored", after, before)
        return None
    rows = site.sql("SELECT id, ticket_id, parse_error, kind, raw FROM messages WHERE sha256 = ?", sha)
    good = len(rows) == 1 and rows[0][4] == stored and after == before + (0 if had else 1)
    result(good, f"{name}: raw message ({len(stored)} bytes) stored byte for byte exactly once"
           + ("" if good else f" (rows {len(rows)}, new messages {after - before}, "
                              f"same bytes {bool(rows) and rows[0][4] == stored})"))
    if len(rows) != 1:
        return None
    rid, tid, perr, kind, _ = rows[0]
    return rid, tid, perr.decode() if perr is not None else None, kind.decode()


def flagged(site, name, row, why):
    if row is None:
        result(False, f"{name}: stored, so flag and parse_error can be checked")
        return
    eq(f"{name}: parse_error says why", row[2], why)
    eq(f"{name}: the ticket is flagged",
       site.one("SELECT needs_attention FROM tickets WHERE id = ?", row[1]), 1)


def text_columns_valid(site, name, row):
    """Stored text is valid UTF-8 without NULs (the raw blob keeps the bytes)."""
    if row is None:
        return
    cols = ("subject", "body_text", "from_name", "from_addr", "to_addrs", "cc_addrs", "message_id",
            "refs", "parse_error")
    bad = []
    vals = site.sql(f"SELECT {', '.join(cols)} FROM messages WHERE id = ?", row[0])[0]
    for c, v in zip(cols, vals):
        if v is None:
            continue
        try:
            s = v.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(f"{c} not UTF-8")
            continue
        if "\0" in s:
            bad.append(f"{c} holds NUL")
    for (fn,) in site.sql("SELECT filename FROM attachments WHERE message_row = ?", row[0]):
        if fn is not None:
            try:
                fn.decode("utf-8")
            except UnicodeDecodeError:
                bad.append("attachment filename not UTF-8")
    eq(f"{name}: stored text is valid UTF-8 without NUL", bad, [])


HEADER_LINE = re.compile(rb"^[!-9;-~]+:")


def header_problems(raw):
    """What is wrong with the header section of one outgoing mail: every
    line a "Name:" line or a folded continuation, CRLF only, no Bcc, one
    Subject, nothing that came from an injection."""
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        return ["no CRLF CRLF between header and body"]
    head = raw[:end]
    bad = []
    if re.search(rb"\r(?!\n)|(?<!\r)\n", head):
        bad.append("bare CR or LF in the header")
    if b"\0" in head:
        bad.append("NUL in the header")
    names = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t"):
            continue
        if not HEADER_LINE.match(line):
            bad.append(f"not a header line: {line[:60]!r}")
            continue
        names.append(line.split(b":", 1)[0].lower())
        if line.lower().startswith((b"bcc", b"x-injected", b"evil")):
            bad.append(f"injected line: {line[:60]!r}")
    if names.count(b"subject") != 1:
        bad.append(f"{names.count(b'subject')} Subject headers")
    if b"bcc" in names:
        bad.append("a Bcc header")
    return bad


def outgoing_of(site, tid):
    return [(k.decode(), r.decode(), raw) for k, r, raw in
            site.sql("SELECT kind, rcpts, raw FROM outbox WHERE ticket_id = ? ORDER BY id", tid)]


# ---------------------------------------------------------------- cases

def test_nesting(site):
    # not scaled: cheap at any depth, and message/rfc822 nesting is only
    # flagged past GMime's own limit (about 1,000 levels), not max_mime_depth
    n = 5000
    head = mail(base(f"{n} nested multiparts", extra=[("MIME-Version", "1.0")]))[:-1]
    parts = [f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n' for i in range(n)]
    raw = head + ("".join(parts) + "Content-Type: text/plain\n\nthe innermost text\n"
                  + "".join(f"--b{i}--\n" for i in reversed(range(n)))).encode()
    name = f"{n:,} nested multiparts"
    flagged(site, name, check_delivery(site, name, raw), "MIME nesting too deep")
    # the same depth through message/rfc822, which GMime parses recursively too
    head = mail(base(f"{n} nested messages", extra=[("MIME-Version", "1.0")]))[:-1]
    raw = head + ("Content-Type: message/rfc822\n\n"
                  + "Subject: inner\nContent-Type: message/rfc822\n\n" * n + "Subject: last\n\nhi\n").encode()
    name = f"{n:,} nested message/rfc822"
    flagged(site, name, check_delivery(site, name, raw), "MIME nesting too deep")
    # unclosed, all with the same boundary: no end line tells GMime to climb back
    raw = head + ('Content-Type: multipart/mixed; boundary="b"\n\n--b\n' * n
                  + "Content-Type: text/plain\n\nhi\n").encode()
    name = f"{n:,} nested multiparts, unclosed, one boundary"
    flagged(site, name, check_delivery(site, name, raw), "MIME nesting too deep")


def test_many_parts(site):
    # each part as small as a real one gets: a type and one byte of content
    n = scaled(200_000, MAX_PARTS * 2)
    head = mail(base(f"{n} parts", extra=[("MIME-Version", "1.0"),
                                          ("Content-Type", 'multipart/mixed; boundary="p"')]))
    raw = head + b"--p\nContent-Type: text/plain\n\nthe text\n" + \
        b"--p\nContent-Type: application/octet-stream\n\nx\n" * n + b"--p--\n"
    name = f"{n:,} tiny parts ({len(raw) / 1e6:.1f} MB)"
    row = check_delivery(site, name, raw)
    flagged(site, name, row, "too many MIME parts")
    if row is not None:
        atts = site.one("SELECT count(*) FROM attachments WHERE message_row = ?", row[0])
        result(atts <= MAX_PARTS, f"{name}: {atts} attachment rows kept (at most max_parts {MAX_PARTS})")


def test_long_line(site):
    size = scaled(50 << 20, 3 << 20)
    raw = (b"From customer@example.org Mon Nov 23 10:00:00 2026\n"
           + mail(base("one long line")) + b"A" * size)
    name = f"a {size >> 20} MB body line without a newline"
    row = check_delivery(site, name, raw)
    if row is not None:
        text = site.one("SELECT length(body_text) FROM messages WHERE id = ?", row[0])
        result(text is not None and text <= MAX_STORED_TEXT + 100,
               f"{name}: stored text cut to {text} bytes")
    # the same line in a header: everything derived from the Subject grows with it
    size = scaled(20 << 20, 2 << 20, HEADER_SCALE)
    raw = mail(base("S" * size), b"a body\n")
    name = f"a {size / (1 << 20):.0f} MB Subject line"
    row = check_delivery(site, name, raw)
    if row is not None:
        # the acknowledgement goes to an unverified From: no backscatter
        # amplifier, and no mail a relay would refuse for its size
        sizes = [(k, len(r)) for k, _, r in outgoing_of(site, row[1])]
        eq(f"{name}: no outgoing mail over 1 MB", [(k, n) for k, n in sizes if n > 1 << 20], [])


def test_nul_and_invalid_utf8(site):
    rng = random.Random(1123)
    noise = bytes(rng.randrange(256) for _ in range(64 * 1024))
    cases = [
        ("NUL bytes in headers and body",
         mail([("From", b"Nul\0Name <nul@example.org>"), ("To", RCPT), ("Subject", b"hi\0there\0"),
               ("X-\0Odd", b"v\0")], b"line one\0\0\nline\0two\n")),
        ("invalid UTF-8 in headers, body declared utf-8",
         mail([("From", b"\xc3\x28\xa0\xa1 <bad@example.org>"), ("To", RCPT),
               ("Subject", b"\xff\xfe overlong \xc0\xaf surrogate \xed\xa0\x80 cut \xe2\x82"),
               ("MIME-Version", "1.0"), ("Content-Type", "text/plain; charset=utf-8"),
               ("Content-Transfer-Encoding", "8bit")],
              b"\xff\xfe\xfd\n\xc0\x80 \xed\xbf\xbf \xf4\x90\x80\x80 \xe2\x82\n")),
        ("64 KB of random bytes as an 8bit body",
         mail(base("noise", extra=[("Content-Transfer-Encoding", "8bit")]), noise)),
        ("random bytes in a header",
         mail(base("x")[:2] + [("Subject", noise[:2000].replace(b"\n", b" ").replace(b"\r", b" "))],
              b"body\n")),
        ("base64 body of garbage characters",
         mail(base("b64", extra=[("Content-Transfer-Encoding", "base64")]),
              b"!!!!****\0\0\xff\xfe====\n" + base64.b64encode(noise[:3000]) + b"\n\xff\n")),
    ]
    for name, raw in cases:
        row = check_delivery(site, name, raw)
        text_columns_valid(site, name, row)


def test_charsets(site):
    rng = random.Random(2022)
    rnd = bytes(rng.randrange(256) for _ in range(8192))
    cp1251 = "Здравствуйте, принтер не печатает.\n".encode("cp1251") * 50
    mime = [("MIME-Version", "1.0"), ("Content-Transfer-Encoding", "8bit")]
    cases = [
        ("charset=x-unknown on 8-bit bytes",
         mail(base("=?x-unknown?q?=FF=FE=00?=",
                   extra=mime + [("Content-Type", "text/plain; charset=x-unknown")]), cp1251)),
        ("charset=utf-8 on windows-1251 bytes",
         mail(base("=?utf-8?b?" + base64.b64encode("Тема".encode("cp1251")).decode() + "?=",
                   extra=mime + [("Content-Type", "text/plain; charset=utf-8")]), cp1251)),
        ("charset=iso-2022-jp on random bytes",
         mail(base("=?iso-2022-jp?b?" + base64.b64encode(rnd[:300]).decode() + "?=",
                   extra=mime + [("Content-Type", "text/plain; charset=iso-2022-jp")]),
              b"\x1b$B" + rnd + b"\x1b(B\x1b$)C" + rnd[:100])),
        ("charset=utf-16 on an odd number of bytes",
         mail(base("x", extra=mime + [("Content-Type", "text/plain; charset=utf-16")]), rnd[:4097])),
        ("charset=utf-7 on junk",
         mail(base("=?utf-7?q?+AGEAYgBj-+ZZZZ?=", extra=mime + [("Content-Type", "text/plain; charset=utf-7")]),
              b"+ZeVnLIqe-+////////-+\xff\xfe-" * 200)),
        ("a charset name of 10,000 characters",
         mail(base("x", extra=mime + [("Content-Type", "text/html; charset=" + "x" * 10000)]),
              b"<p>" + cp1251 + b"</p>")),
        ("an empty charset on 8-bit bytes",
         mail(base("x", extra=mime + [("Content-Type", 'text/plain; charset=""')]), rnd)),
    ]
    for name, raw in cases:
        row = check_delivery(site, name, raw)
        text_columns_valid(site, name, row)


def test_injection(site):
    evil = "Bcc: evil@example.org"
    b64 = base64.b64encode(f"hi\r\n{evil}\r\nX-Injected: yes".encode()).decode()
    # (name, message, whether it has a From address to acknowledge)
    cases = [
        ("raw bare CR in the Subject",
         mail(base("x")[:2] + [("Subject", f"hi\r{evil}\rX-Injected: yes")], b"body\n"), True),
        ("RFC 2047 Q CR/LF in the Subject",
         mail(base("=?utf-8?q?hi=0D=0ABcc:_evil@example.org?="), b"body\n"), True),
        ("RFC 2047 B CR/LF in the Subject", mail(base(f"=?utf-8?b?{b64}?="), b"body\n"), True),
        ("RFC 2047 NUL and CR/LF in the Subject",
         mail(base("=?utf-8?q?hi=00=0D=0ABcc:_evil@example.org=0D=0A=0D=0Abody?="), b"body\n"), True),
        ("RFC 2231 CR/LF in a parameter", mail(base("x", extra=[
            ("Content-Type", "text/plain; charset*=utf-8''%0D%0ABcc:%20evil@example.org")]), b"body\n"), True),
        ("CR/LF in the From display name",
         mail(base("name", frm="=?utf-8?q?Eve=0D=0ABcc:_evil@example.org?= <eve@example.org>"), b"body\n"), True),
        ("CR/LF in the Reply-To display name",
         mail(base("reply-to", extra=[("Reply-To", "=?utf-8?q?x=0D=0AX-Injected:_yes?= <eve2@example.org>")]),
              b"body\n"), True),
        ("an address with CR/LF in its local part",
         mail(base("addr", frm='"eve\r\nBcc: evil@example.org"@example.org'), b"body\n"), False),
        ("header text in the Message-ID", mail(base("msgid", extra=[
            ("Message-ID", "<a@b>\r\nBcc: evil@example.org")]), b"body\n"), True),
    ]
    for name, raw, has_from in cases:
        row = check_delivery(site, name, raw)
        if row is None:
            continue
        mails = outgoing_of(site, row[1])
        acks = [m for m in mails if m[0] == "ack"]
        eq(f"{name}: {'one acknowledgement' if has_from else 'no acknowledgement (no From address)'}",
           len(acks), 1 if has_from else 0)
        for kind, rcpts, out in mails:
            eq(f"{name}: {kind} headers are clean", header_problems(out), [])
            result("evil" not in rcpts and "," not in rcpts, f"{name}: {kind} goes to one address ({rcpts!r})")


def test_attachment_names(site):
    names = [
        ("traversal", "../../../../../../../../../tmp/" + PWN + "-rel"),
        ("absolute", "/tmp/" + PWN + "-abs"),
        ("control characters", "a\x01b\x1b[31mc\x7fd\te.txt"),
        ("10,000 characters", "n" * 10000 + ".pdf"),
        ("NUL", "before\x00after.txt"),
    ]
    parts = []
    for why, fn in names:
        esc = fn.replace("\\", "\\\\").replace('"', '\\"')
        parts.append(f'--z\nContent-Type: application/octet-stream\nContent-Disposition: attachment; '
                     f'filename="{esc}"\nContent-Transfer-Encoding: base64\n\n'
                     + base64.b64encode(f"content of {why}".encode()).decode() + "\n")
    # the same, encoded the ways mailers encode names
    parts.append("--z\nContent-Type: application/octet-stream\nContent-Disposition: attachment; "
                 "filename*=utf-8''..%2F..%2F..%2F..%2F..%2F..%2Ftmp%2F" + PWN + "-2231%00%0D%0Ax\n\nx\n")
    parts.append('--z\nContent-Type: application/octet-stream; name="=?utf-8?q?=2Ftmp=2F' + PWN +
                 '-2047?="\n\nx\n')
    parts.append(f'--z\nContent-Type: message/rfc822\nContent-Disposition: attachment\n\n'
                 f'Subject: ../../../../tmp/{PWN}-subject\n\ninner\n')
    raw = mail(base("attachments", extra=[("MIME-Version", "1.0"),
                                          ("Content-Type", 'multipart/mixed; boundary="z"')]),
               "--z\nContent-Type: text/plain\n\nsee the files\n" + "".join(parts) + "--z--\n")
    name = "hostile attachment names"
    before = snapshot(os.path.join(site.scratch, "jail"))
    row = check_delivery(site, name, raw)
    if row is not None:
        n = site.one("SELECT count(*) FROM attachments WHERE message_row = ?", row[0])
        eq(f"{name}: every attachment has its row", n, len(names) + 3)
        text_columns_valid(site, name, row)
    eq(f"{name}: no file written in the working directory or above it",
       sorted(snapshot(os.path.join(site.scratch, "jail")) - before), [])
    eq(f"{name}: no file written in the site directory", site.stray, [])
    eq(f"{name}: nothing written under /tmp by name",
       [f for f in os.listdir("/tmp") if f.startswith(PWN)], [])


def test_recipients(site):
    n = scaled(5000, 200)
    to = ",\n ".join(f"To Person {i} <to{i}@example.net>" for i in range(n))
    cc = ",\n ".join(f"cc{i}@example.net" for i in range(n))
    raw = mail([("From", "Many <many@example.org>"), ("To", RCPT + ",\n " + to), ("Cc", cc),
                ("Subject", "to everyone")], b"hello all\n")
    name = f"{n:,} addresses in To and {n:,} in Cc"
    row = check_delivery(site, name, raw)
    if row is None:
        return
    acks = [m for m in outgoing_of(site, row[1]) if m[0] == "ack"]
    eq(f"{name}: the ack goes to the sender alone", [m[1] for m in acks], ["many@example.org"])
    for kind, rcpts, out in outgoing_of(site, row[1]):
        result("," not in rcpts, f"{name}: {kind} has one recipient")
        result(len(out) < 256 * 1024, f"{name}: {kind} is {len(out)} bytes")
    np = site.one("SELECT count(*) FROM participants WHERE ticket_id = ?", row[1])
    result(np <= n + 1, f"{name}: {np} participants (at most the {n} Cc and the sender)")


def test_references(site):
    n = scaled(100_000, 2000, HEADER_SCALE)
    refs = "\n ".join(f"<ref{i}.{'x' * 20}@example.net>" for i in range(n))
    raw = mail(base("long thread", extra=[("In-Reply-To", f"<ref{n - 1}.{'x' * 20}@example.net>"),
                                          ("References", refs)]), b"yet another reply\n")
    name = f"a References header of {n:,} ids"
    row = check_delivery(site, name, raw)
    if row is None:
        return
    stored = site.one("SELECT refs FROM messages WHERE id = ?", row[0]) or b""
    nids = len(stored.split())
    result(nids <= 1000, f"{name}: {nids} ids kept")
    for kind, _, out in outgoing_of(site, row[1]):
        result(len(out) < 256 * 1024, f"{name}: {kind} is {len(out)} bytes")


def test_degenerate(site):
    cases = [
        ("an empty message", b"", "empty message"),
        ("a 1-byte message", b"x", "not a mail message"),
        ("a 1-byte newline", b"\n", "no header could be parsed"),
        ("a 1-byte NUL", b"\0", "not a mail message"),
        ("an mbox From line and nothing else", b"From nobody Mon Nov 23 10:00:00 2026\n", "empty message"),
        ("only headers, no blank line",
         b"From: a@example.org\nTo: support@example.com\nSubject: only headers", None),
        ("only headers and the blank line", b"From: b@example.org\nTo: support@example.com\nSubject: h\n\n", None),
        ("only a body", b"Hello, my printer is broken.\n\nPlease help me: it prints nothing.\n",
         "not a mail message"),
        ("only a body, CRLF", b"\r\n\r\nHello\r\n", "no header could be parsed"),
        ("a header name without a value", b"Subject\n\nbody\n", "not a mail message"),
    ]
    for name, raw, why in cases:
        row = check_delivery(site, name, raw)
        if why is not None:
            flagged(site, name, row, why)
        text_columns_valid(site, name, row)
        if row is not None:
            for kind, rcpts, out in outgoing_of(site, row[1]):
                eq(f"{name}: {kind} headers are clean", header_problems(out), [])


def test_too_big(small):
    """max_message_size: at the limit stored, one byte over refused with 65."""
    head = mail(base("size"))
    raw = head + b"x" * (SMALL_LIMIT - len(head))
    check_delivery(small, f"exactly max_message_size ({SMALL_LIMIT} bytes)", raw)
    for size in (SMALL_LIMIT + 1, scaled(30 << 20, 1 << 20)):
        raw = head + b"y" * (size - len(head))
        rc, secs, rss, out = small.deliver(raw)
        name = f"{size:,} bytes over max_message_size {SMALL_LIMIT}"
        eq(f"{name}: {rc_text(rc)}", rc, 65)
        result(out.startswith("5.3.4 "), f"{name}: the status line {out.strip()!r} starts with 5.3.4")
        result(rc != "hang" and secs < TIME_LIMIT, f"{name}: took {secs:.2f} s")
        result(rss < 64 * (3 if SANITIZED else 1), f"{name}: peak RSS {rss:.1f} MB: not read in full")
        sha = hashlib.sha256(raw).hexdigest()
        eq(f"{name}: nothing stored", small.one("SELECT count(*) FROM messages WHERE sha256 = ?", sha), 0)


def test_forged_agent(site):
    def ticket_state(tid):
        return site.sql("SELECT status, priority, assignee, queue FROM tickets WHERE id = ?", tid)

    def reply_address(tid):
        raw = site.one("SELECT raw FROM outbox WHERE kind = 'ack' AND ticket_id = ?", tid)
        m = email.message_from_bytes(raw, policy=email.policy.default)
        return m["Reply-To"].addresses[0].addr_spec

    def customer(frm, subject, msgid, cc=None):
        extra = [("Message-ID", msgid)] + ([("Cc", cc)] if cc else [])
        raw = mail(base(subject, frm=frm, extra=extra), b"please help\n")
        row = check_delivery(site, f"forged agent setup: {subject}", raw)
        if row is None:
            raise RuntimeError(f"setup message {msgid} was not stored")
        return row[1]

    t1 = customer("Victim <victim@example.org>", "My printer", "<t1@victim.example.org>")
    # the attacker opens a ticket of their own, copying people to phish,
    # and learns its reply address from the acknowledgement
    t2 = customer("Mallory <mallory@example.net>", "Mallory's", "<t2@example.net>",
                  cc="target1@example.com, target2@example.com")
    t1_addr, t2_addr = reply_address(t1), reply_address(t2)
    # t1's address with the last digit of its mac changed
    local, _, domain = t1_addr.partition("@")
    bad_mac = f"{local[:-1]}{'0' if local[-1] != '0' else '1'}@{domain}"
    # (name, From, envelope recipient, In-Reply-To t1's first message?, where it must land)
    cases = [
        ("forged agent, no token", AGENT, RCPT, True, t1),
        ("forged agent, forged token", AGENT, bad_mac, True, t1),
        # the token is real, of the attacker's own ticket; the mail is aimed at t1
        ("forged agent, another ticket's token", AGENT, t2_addr, True, None),
        ("forged agent, subject tag only", AGENT, RCPT, False, None),
        ("a stranger with the subject tag of someone else's ticket", "stranger@example.net", RCPT,
         False, "new"),
    ]
    for i, (name, frm, rcpt, refs, lands) in enumerate(cases):
        last_out = site.one("SELECT coalesce(max(id), 0) FROM outbox")
        state = {t: ticket_state(t) for t in (t1, t2)}
        headers = [("From", f"Agent A <{frm}>" if frm == AGENT else frm), ("To", rcpt),
                   ("Subject", f"Re: [#{t1}] My printer"), ("Message-ID", f"<forged{i}@example.net>")]
        if refs:
            headers.append(("In-Reply-To", "<t1@victim.example.org>"))
        raw = mail(headers, f"#status closed\n#priority urgent\n\nFORGED-{i}: pay to IBAN XX00 0000.\n")
        row = check_delivery(site, name, raw, recipient=rcpt)
        if row is None:
            continue
        eq(f"{name}: no command applied to the victim's ticket {t1}", ticket_state(t1), state[t1])
        eq(f"{name}: no command applied to the attacker's own ticket {t2}", ticket_state(t2), state[t2])
        eq(f"{name}: stored as a customer message", row[3], "customer")
        if lands == "new":
            result(row[1] not in (t1, t2), f"{name}: opens a new ticket ({row[1]})")
        elif lands == t1:
            eq(f"{name}: threads into ticket {t1}", row[1], t1)
            eq(f"{name}: ticket {t1} is flagged",
               site.one("SELECT needs_attention FROM tickets WHERE id = ?", t1), 1)
        relayed = [(k.decode(), r.decode()) for k, r, raw_out in
                   site.sql("SELECT kind, rcpts, raw FROM outbox WHERE id > ?", last_out)
                   if f"FORGED-{i}".encode() in raw_out and AGENT not in r.decode()]
        eq(f"{name}: the forged text reaches nobody but the agent", relayed, [])


def final_checks(site, label):
    eq(f"{label}: integrity_check", site.sql("PRAGMA integrity_check"), [(b"ok",)])
    bad = []
    for oid, kind, rcpts, raw in site.sql("SELECT id, kind, rcpts, raw FROM outbox"):
        for p in header_problems(raw):
            bad.append(f"outbox {oid} ({kind.decode()}): {p}")
        if b"evil" in rcpts:
            bad.append(f"outbox {oid}: rcpts {rcpts!r}")
    eq(f"{label}: every outgoing mail has clean headers and recipients", bad, [])
    eq(f"{label}: no file written in the site directory", site.stray, [])


def main():
    scratch = tempfile.mkdtemp(prefix="maildesk-hostile-run-")
    os.makedirs(os.path.join(scratch, "in"))
    os.makedirs(os.path.join(scratch, "jail", "a", "b", "cwd"))
    print(f"# scale {SCALE} (header lines {HEADER_SCALE}), {'sanitizer' if SANITIZED else 'plain'} "
          f"build: limits {TIME_LIMIT:.0f} s, {RSS_LIMIT_MB} MB")
    site = small = None
    try:
        site = Site(scratch, AGENTS)
        small = Site(scratch, f"[limits]\nmax_message_size = {SMALL_LIMIT}\n")
        test_nesting(site)
        test_many_parts(site)
        test_long_line(site)
        test_nul_and_invalid_utf8(site)
        test_charsets(site)
        test_injection(site)
        test_attachment_names(site)
        test_recipients(site)
        test_forged_agent(site)
        test_references(site)
        test_degenerate(site)
        test_too_big(small)
        final_checks(site, "main site")
        final_checks(small, "small site")
    finally:
        for s in (site, small):
            if s is not None:
                s.close()
        shutil.rmtree(scratch)
        for f in os.listdir("/tmp"):
            if f.startswith(PWN):
                os.unlink(os.path.join("/tmp", f))
    return done()


if __name__ == "__main__":
    sys.exit(main())
