#!/usr/bin/env python3
"""The docs and `maildesk deliver` agree on every exit code and status line.

Each case makes deliver fail in one documented way (a bad pipe command, a
broken configuration, a missing secret or database, a broken template, a
locked or unreadable database, unreadable standard input, a message over the limit) and
records the exit code and the first line printed.  Then:
  - each observed line is in maildesk(8), word for word;
  - each observed (exit, enhanced code) is a row of the table in
    contrib/postfix/README, and every row of that table was observed;
  - no document names a deliver status line ("N.N.N maildesk: ...") or an
    (exit, code) row that deliver does not produce (so a stale "64, 5.3.0"
    cannot come back);
  - bad usage is 78 with 4.3.5, never 64, which Postfix would bounce.
Output is TAP."""

import os
import re
import shutil
import sqlite3
import subprocess
import sys

BIN = os.environ["MAILDESK_BIN"]
SRC = os.environ["MAILDESK_SRCDIR"]
sys.path.insert(0, os.path.join(SRC, "tests"))
from mdsite import make_site  # noqa: E402
from tap import done, eq, result  # noqa: E402

MAIL = b"From: a@example.org\nTo: support@example.com\nSubject: exit codes\n\nhello\n"


def run(conf, args=(), stdin=MAIL, stdin_file=None):
    cmd = [BIN, "-c", conf, "deliver", *args]
    if stdin_file is not None:
        # a directory: read() fails with EISDIR
        fd = os.open(stdin_file, os.O_RDONLY)
        try:
            p = subprocess.run(cmd, stdin=fd, capture_output=True, timeout=120)
        finally:
            os.close(fd)
    else:
        p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=120)
    out = p.stdout.decode("utf-8", "replace").splitlines()
    return p.returncode, out[0] if out else ""


def variant(conf, name, replace=None, append=""):
    """A copy of conf with one line replaced and/or lines appended."""
    with open(conf) as f:
        text = f.read()
    if replace:
        old, new = replace
        assert old in text, old
        text = text.replace(old, new)
    path = os.path.join(os.path.dirname(conf), name)
    with open(path, "w") as f:
        f.write(text + append)
    return path


def unroff(text):
    text = text.replace("\\-", "-").replace("\\(lq", "\"").replace("\\(rq", "\"")
    return text.replace("\\&", "").replace("\\e", "\\")


def main():
    site, conf = make_site(BIN, SRC, "maildesk-exitcodes-", 100)
    observed = {}
    try:
        def case(name, want_rc, want_prefix, **kw):
            rc, line = run(**kw)
            eq(f"{name}: exit {want_rc}", rc, want_rc)
            result(line.startswith(want_prefix), f"{name}: status line {line!r} starts with {want_prefix!r}")
            if rc != 0:
                observed.setdefault(line, rc)

        case("delivered", 0, "", conf=conf)
        for args in (["--bogus"], ["stray-argument"], ["--now", "not-a-date"], ["--sender"]):
            case(f"bad usage {' '.join(args)}", 78, "4.3.5 ", conf=conf, args=args)
        case("unknown key", 78, "4.3.5 ",
             conf=variant(conf, "badkey.conf", append="[maildesk]\nno_such_key = 1\n"))
        case("missing configuration file", 78, "4.3.5 ", conf=os.path.join(site, "absent.conf"))
        case("missing secret", 78, "4.3.5 ",
             conf=variant(conf, "nosecret.conf", ("secret_file = secret", "secret_file = absent")))
        case("missing database", 78, "4.3.5 ",
             conf=variant(conf, "nodb.conf", ("database = maildesk.db", "database = absent.db")))
        broken = os.path.join(site, "templates")
        shutil.copytree(os.path.join(SRC, "templates"), broken)
        with open(os.path.join(broken, "en", "ack"), "a") as f:
            f.write("{{#ticket.id}} never closed\n")
        case("broken template", 78, "4.3.5 ",
             conf=variant(conf, "badtpl.conf", (f"templates = {SRC}/templates", f"templates = {broken}")),
             stdin=MAIL.replace(b"hello", b"a new ticket for the broken template"))
        garbage = os.path.join(site, "garbage.db")
        with open(garbage, "wb") as f:
            f.write(bytes(range(256)) * 32)
        case("database file is not a database", 75, "4.3.0 ",
             conf=variant(conf, "garbage.conf", ("database = maildesk.db", "database = garbage.db")))
        case("standard input unreadable", 75, "4.3.0 ", conf=conf, stdin_file=site)
        case("over max_message_size", 65, "5.3.4 ",
             conf=variant(conf, "small.conf", append="[limits]\nmax_message_size = 4096\n"),
             stdin=MAIL + b"x" * 8192)

        # a writer holding the database past busy_timeout
        busy = variant(conf, "busy.conf", ("hostname = help.example.com",
                                           "hostname = help.example.com\nbusy_timeout = 1"))
        db = sqlite3.connect(os.path.join(site, "maildesk.db"), isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        try:
            case("database locked", 75, "4.3.0 ", conf=busy,
                 stdin=MAIL.replace(b"hello", b"while the database is locked"))
        finally:
            db.execute("ROLLBACK")
            db.close()

        man = unroff(open(os.path.join(SRC, "doc", "maildesk.8")).read())
        postfix = open(os.path.join(SRC, "contrib", "postfix", "README")).read()
        readme = open(os.path.join(SRC, "README.md")).read()
        for line, rc in sorted(observed.items()):
            result(line in man, f"maildesk(8) shows {line!r}")
        rows = set(re.findall(r"^\s*exit (\d+), (\d\.\d\.\d)\s", postfix, re.M))
        seen = {(str(rc), line.split()[0]) for line, rc in observed.items()}
        for rc, code in sorted(seen):
            result((rc, code) in rows, f"contrib/postfix/README's table has exit {rc}, {code}")
        for rc, code in sorted(rows - {("0", "")}):
            result((rc, code) in seen, f"contrib/postfix/README's row exit {rc}, {code} is what deliver does")
        # every "N.N.N maildesk: ..." the docs quote is a line deliver prints
        quoted = set()
        for text in (man, postfix, readme):
            quoted |= {m.strip().rstrip(".\",") for m in
                       re.findall(r"[45]\.\d\.\d maildesk: [^\"\n`]*", text)}
        lines = set(observed)
        for q in sorted(quoted):
            result(any(line.startswith(q) for line in lines), f"documented status line {q!r} is printed by deliver")
        for name, text in (("maildesk(8)", man), ("contrib/postfix/README", postfix), ("README.md", readme)):
            result("5.3.0" not in text, f"{name} promises no 5.3.0 (bad usage is deferred)")
        result(64 not in observed.values(), "deliver never exits 64")
    finally:
        shutil.rmtree(site, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
