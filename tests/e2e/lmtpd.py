#!/usr/bin/env python3
"""maildesk lmtpd end to end, without Postfix: LMTP on a private unix
socket and on a loopback port; pipelining, many messages per connection,
parallel connections, per-recipient replies, 552 over the size limit,
451 with nothing half-stored when the database is locked or its file
system full, SIGTERM with messages in flight (every 250 is in the
database, exactly once), SIGHUP reload, the pid file, systemd's
NOTIFY_SOCKET, the in-process sender and the tick timer; under strace, no
250 before an fdatasync of the log that follows the COMMIT's writes; and
SIGKILL with messages in flight: every 250 stored, with its ticket, and a
redelivery after the restart recognised as a duplicate."""
import os
import re
import shutil
import signal
import smtplib
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

BIN = os.environ["MAILDESK_BIN"]
SRC = os.environ["MAILDESK_SRCDIR"]
sys.path.insert(0, os.path.join(SRC, "tests"))
import tap  # noqa: E402
from mdsite import free_port, make_site  # noqa: E402

DAEMONS = []
MOUNTS = []
TRACED = []  # lmtpd under strace: killing strace would only detach it


def message(tag, size=600, extra=""):
    body = ("Hello, the printer is broken. " * (size // 30 + 1))[:size]
    return (f"From: Customer <{tag}@example.org>\r\nTo: support@example.com\r\n"
            f"Subject: question {tag}\r\nMessage-ID: <{tag}@example.org>\r\n{extra}"
            "Date: Mon, 23 Nov 2026 10:00:00 +0200\r\n\r\n" + body + "\r\n").encode()


class Daemon:
    def __init__(self, conf, listen, env=None, args=(), wrap=()):
        self.conf = conf
        self.listen = listen
        self.log = open(conf + ".log", "ab")
        self.p = subprocess.Popen([*wrap, BIN, "-v", "-c", conf, "lmtpd", "--listen", listen,
                                   *args], stdout=self.log, stderr=self.log,
                                  env=dict(os.environ, **(env or {})))
        DAEMONS.append(self)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                self.connect().close()
                return
            except OSError:
                if self.p.poll() is not None:
                    break
                time.sleep(0.05)
        raise SystemExit(f"Bail out! lmtpd did not start on {listen}")

    def connect(self):
        if self.listen.startswith("unix:"):
            s = socket.socket(socket.AF_UNIX)
            s.connect(self.listen[5:])
        else:
            host, port = self.listen.rsplit(":", 1)
            s = socket.create_connection((host, int(port)))
        s.settimeout(60)
        return s

    def lmtp(self):
        if self.listen.startswith("unix:"):
            return smtplib.LMTP(self.listen[5:])
        host, port = self.listen.rsplit(":", 1)
        return smtplib.LMTP(host, int(port))

    def stop(self, sig=signal.SIGTERM):
        """Signals the daemon (unless sig is None) and waits for its exit."""
        if sig is not None and self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            return self.p.wait(60)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return self.p.wait()

    def logtext(self):
        self.log.flush()
        with open(self.conf + ".log", "rb") as f:
            return f.read().decode(errors="replace")


class Conn:
    """A raw LMTP client: sends whatever it is given, reads replies."""

    def __init__(self, daemon):
        self.s = daemon.connect()
        self.buf = b""
        self.greeting = self.reply()

    def send(self, data):
        self.s.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise EOFError
            self.buf += d
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode()

    def reply(self):
        """One (possibly multi-line) reply."""
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3] == "-":
            lines.append(self.line())
        return lines

    def close(self):
        self.s.close()


def db_query(db, sql, *args):
    c = sqlite3.connect(db, timeout=30)
    try:
        return c.execute(sql, args).fetchall()
    finally:
        c.close()


def count_mid(db, mid):
    return db_query(db, "SELECT count(*) FROM messages WHERE message_id = ?", mid)[0][0]


def main():
    site, conf = make_site(BIN, SRC, "maildesk-lmtpd-", 100000,
                           "[lmtpd]\nsend = no\n[limits]\nmax_message_size = 20000\n")
    # make_site writes [limits] first; merge the two [limits] groups
    with open(conf) as f:
        text = f.read()
    text = text.replace("[limits]\nmax_message_size = 20000\n", "")
    text = text.replace("[limits]\n", "[limits]\nmax_message_size = 20000\n", 1)
    with open(conf, "w") as f:
        f.write(text)
    os.chmod(site, 0o755)  # smtp-sink writes below it as nobody
    db = os.path.join(site, "maildesk.db")
    sock = os.path.join(site, "lmtp.sock")
    pidfile = os.path.join(site, "lmtpd.pid")
    try:
        run(site, conf, db, sock, pidfile)
    finally:
        for pid in TRACED:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for d in DAEMONS:
            if d.p.poll() is None:
                d.p.kill()
                d.p.wait()
        for m in MOUNTS:
            subprocess.run(["umount", "-l", m], stderr=subprocess.DEVNULL)
        subprocess.run(["rm", "-rf", site])
    return tap.done()


def run(site, conf, db, sock, pidfile):
    # systemd's notification socket, as systemd would pass it
    notify_path = os.path.join(site, "notify")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    notify.settimeout(10)
    d = Daemon(conf, "unix:" + sock, env={"NOTIFY_SOCKET": notify_path},
               args=("--pid-file", pidfile))
    try:
        state = notify.recv(256).decode()
    except socket.timeout:
        state = ""
    tap.eq("READY=1 sent to NOTIFY_SOCKET", state, "READY=1")
    with open(pidfile) as f:
        tap.eq("pid file holds the daemon's pid", f.read().strip(), str(d.p.pid))
    tap.eq("unix socket is a socket", os.path.exists(sock), True)

    # --- LHLO and its extensions; HELO refused (LMTP only)
    c = Conn(d)
    tap.result(c.greeting[0].startswith("220 help.example.com"), f"greeting: {c.greeting}")
    c.send(b"HELO x\r\n")
    tap.result(c.reply()[0].startswith("500 5.5.1"), "HELO is refused: this is LMTP")
    c.send(b"MAIL FROM:<a@example.org>\r\n")
    tap.result(c.reply()[0].startswith("503 5.5.1"), "MAIL before LHLO: 503")
    c.send(b"LHLO client.example\r\n")
    ext = c.reply()
    tap.eq("LHLO lists PIPELINING, ENHANCEDSTATUSCODES, 8BITMIME, SIZE",
           [x[4:] for x in ext[1:]], ["PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME", "SIZE 20000"])

    # --- pipelining: a whole transaction and the next in one write each
    c.send(b"MAIL FROM:<p@example.org> SIZE=700 BODY=8BITMIME\r\nRCPT TO:<support@example.com>\r\n"
           b"RCPT TO:<bad address>\r\nRCPT TO:<Help+X@Example.COM>\r\nDATA\r\n")
    replies = [c.reply()[0][:9] for _ in range(5)]
    tap.eq("pipelined MAIL, RCPT x3, DATA answered in order",
           replies, ["250 2.1.0", "250 2.1.5", "501 5.1.3", "250 2.1.5", "354 End d"])
    # dot-stuffing, and the next transaction pipelined after the final dot
    body = (b"From: Pipe <pipe@example.org>\r\nTo: support@example.com\r\nSubject: pipelined\r\n"
            b"Message-ID: <pipe-1@example.org>\r\n\r\nline one\r\n..leading dot\r\n.\r\n")
    c.send(body + b"MAIL FROM:<>\r\nRCPT TO:<support@example.com>\r\nDATA\r\n")
    per_rcpt = [c.reply()[0] for _ in range(2)]
    tap.result(per_rcpt[0].startswith("250 2.0.0 <support@example.com>")
               and per_rcpt[1].startswith("250 2.0.0 <help+x@example.com>"),
               f"one reply per accepted recipient, in RCPT order: {per_rcpt}")
    raw = db_query(db, "SELECT raw, env_recipient FROM messages WHERE message_id = 'pipe-1@example.org'")
    tap.eq("two recipients of one message: one stored message (the second a duplicate)", len(raw), 1)
    tap.result(raw and raw[0][0].startswith(b"Return-Path: <p@example.org>\n")
               and b"\n.leading dot\n" in raw[0][0] and b"\r" not in raw[0][0],
               "stored as pipe(8) flags=R hands it: Return-Path first, dots unstuffed, LF")
    tap.eq("envelope recipient folded to lower case as pipe(8)'s h,u do",
           raw[0][1] if raw else None, "support@example.com")
    tap.eq("null sender accepted, pipelined after the dot",
           [c.reply()[0][:9] for _ in range(3)], ["250 2.1.0", "250 2.1.5", "354 End d"])
    c.send(message("null-1") + b".\r\nRSET\r\nNOOP\r\nVRFY x\r\nQUIT\r\n")
    tail = [c.reply()[0][:9] for _ in range(5)]
    tap.eq("DATA, RSET, NOOP, VRFY, QUIT", tail,
           ["250 2.0.0", "250 2.0.0", "250 2.0.0", "252 2.5.2", "221 2.0.0"])
    c.close()
    tap.eq("null sender's message stored with an empty envelope sender",
           db_query(db, "SELECT env_sender FROM messages WHERE message_id = 'null-1@example.org'"),
           [("",)])

    # --- the same message by pipe(8) (flags=R) to maildesk-deliver, the
    # lean deliver binary: recognised as the duplicate it is
    lean = os.path.join(os.path.dirname(BIN), "maildesk-deliver")
    piped = b"Return-Path: <p@example.org>\n" + body[:-3].replace(b"\r\n", b"\n").replace(
        b"\n..", b"\n.")
    p = subprocess.run([lean, "-c", conf, "deliver", "--sender", "p@example.org", "--recipient",
                        "support@example.com"], input=piped, capture_output=True)
    tap.eq("maildesk-deliver exits 0", p.returncode, 0)
    tap.eq("the piped copy of an LMTP message is a duplicate: still one stored",
           count_mid(db, "pipe-1@example.org"), 1)
    p = subprocess.run([lean, "-c", conf, "--recipient", "support@example.com"],
                       input=message("lean-1").replace(b"\r\n", b"\n"), capture_output=True)
    tap.eq("maildesk-deliver, without the word deliver, stores a new message",
           (p.returncode, count_mid(db, "lean-1@example.org")), (0, 1))

    # --- many messages on one connection (smtplib)
    s = d.lmtp()
    s.ehlo("client")  # LMTP's ehlo sends LHLO
    bad = 0
    for i in range(20):
        try:
            s.sendmail("m@example.org", ["support@example.com"], message(f"many-{i}"))
        except smtplib.SMTPException:
            bad += 1
    s.quit()
    tap.eq("20 messages on one connection accepted", bad, 0)
    tap.eq("20 messages on one connection stored once each",
           [count_mid(db, f"many-{i}@example.org") for i in range(20)], [1] * 20)

    # --- several connections at once
    acked = []
    lock = threading.Lock()

    def client(k, n):
        conn = Conn(d)
        conn.send(b"LHLO c\r\n")
        conn.reply()
        for i in range(n):
            conn.send(b"MAIL FROM:<x@example.org>\r\nRCPT TO:<support@example.com>\r\nDATA\r\n")
            if [conn.reply()[0][:3] for _ in range(3)] != ["250", "250", "354"]:
                return
            conn.send(message(f"par-{k}-{i}") + b".\r\n")
            if conn.reply()[0].startswith("250"):
                with lock:
                    acked.append(f"par-{k}-{i}@example.org")
        conn.send(b"QUIT\r\n")
        conn.close()

    threads = [threading.Thread(target=client, args=(k, 15)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tap.eq("8 parallel connections x 15 messages: all answered 250", len(acked), 120)
    tap.eq("every parallel message stored exactly once",
           sorted(set(count_mid(db, m) for m in acked)), [1])
    batched = [ln for ln in d.logtext().splitlines() if "group commit:" in ln]
    tap.result(any(not ln.split("group commit: ")[1].startswith("1 of 1 ") for ln in batched),
               "some commits held more than one message (group commit)")

    # --- over the size limit: 552 at MAIL for SIZE=, and after DATA
    c = Conn(d)
    c.send(b"LHLO c\r\nMAIL FROM:<big@example.org> SIZE=999999\r\n")
    c.reply()
    tap.result(c.reply()[0].startswith("552 5.3.4"), "MAIL with SIZE over the limit: 552")
    c.send(b"MAIL FROM:<big@example.org>\r\nRCPT TO:<support@example.com>\r\n"
           b"RCPT TO:<help@example.com>\r\nDATA\r\n")
    [c.reply() for _ in range(4)]
    c.send(message("big-1", size=30000) + b".\r\nNOOP\r\n")
    big = [c.reply()[0][:9] for _ in range(3)]
    tap.eq("a message over max_message_size: 552 per recipient, session goes on",
           big, ["552 5.3.4", "552 5.3.4", "250 2.0.0"])
    c.close()
    tap.eq("the message over the limit is not stored", count_mid(db, "big-1@example.org"), 0)

    # --- database locked: 451, nothing stored; then it goes through
    with open(conf) as f:
        text = f.read()
    with open(conf, "w") as f:
        f.write(text.replace("[maildesk]\n", "[maildesk]\nbusy_timeout = 1\n", 1))
    d.p.send_signal(signal.SIGHUP)
    before = db_query(db, "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM tickets),"
                          " (SELECT count(*) FROM outbox), (SELECT count(*) FROM events)")
    deadline = time.time() + 10
    while "configuration reloaded" not in d.logtext() and time.time() < deadline:
        time.sleep(0.05)
    locker = sqlite3.connect(db, timeout=30, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    c = Conn(d)
    c.send(b"LHLO c\r\nMAIL FROM:<lock@example.org>\r\nRCPT TO:<support@example.com>\r\n"
           b"RCPT TO:<help@example.com>\r\nDATA\r\n")
    [c.reply() for _ in range(5)]
    t0 = time.time()
    c.send(message("locked-1") + b".\r\n")
    locked = [c.reply()[0] for _ in range(2)]
    tap.result(all(x.startswith("451 4.3.0") for x in locked),
               f"database locked past busy_timeout: 451 per recipient ({locked})")
    locker.execute("ROLLBACK")
    locker.close()
    after = db_query(db, "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM tickets),"
                         " (SELECT count(*) FROM outbox), (SELECT count(*) FROM events)")
    tap.eq("nothing of the deferred message stored (messages, tickets, outbox, events)", after, before)
    tap.result(time.time() - t0 < 10, "the 451 came after about busy_timeout")
    c.send(b"MAIL FROM:<lock@example.org>\r\nRCPT TO:<support@example.com>\r\nDATA\r\n")
    [c.reply() for _ in range(3)]
    c.send(message("locked-1") + b".\r\nQUIT\r\n")
    tap.result(c.reply()[0].startswith("250 2.0.0"), "the same message retried after the lock: 250")
    c.close()
    tap.eq("retried message stored once", count_mid(db, "locked-1@example.org"), 1)

    # --- SIGHUP reload: the new size limit shows in LHLO; a broken file is ignored
    with open(conf) as f:
        text = f.read()
    with open(conf, "w") as f:
        f.write(text.replace("max_message_size = 20000", "max_message_size = 30000"))
    d.p.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    c = Conn(d)
    c.send(b"LHLO c\r\n")
    tap.eq("after SIGHUP the new max_message_size is offered", c.reply()[-1], "250 SIZE 30000")
    c.close()
    with open(conf, "a") as f:
        f.write("[nonsense]\nkey = 1\n")
    d.p.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    c = Conn(d)
    c.send(b"LHLO c\r\n")
    tap.eq("a broken configuration on SIGHUP is refused; the old one stays", c.reply()[-1],
           "250 SIZE 30000")
    c.close()
    tap.result("reload failed" in d.logtext(), "the refused reload is logged")
    with open(conf, "w") as f:
        f.write(text.replace("max_message_size = 20000", "max_message_size = 30000"))

    # --- SIGTERM with messages in flight: every 250 stored, exactly once
    acked.clear()
    stop = threading.Event()

    def streamer(k):
        try:
            conn = Conn(d)
            conn.send(b"LHLO c\r\n")
            conn.reply()
            i = 0
            while True:
                conn.send(b"MAIL FROM:<t@example.org>\r\nRCPT TO:<support@example.com>\r\nDATA\r\n")
                r = [conn.reply()[0][:3] for _ in range(3)]
                if r != ["250", "250", "354"]:
                    return
                mid = f"term-{k}-{i}"
                conn.send(message(mid) + b".\r\n")
                if conn.reply()[0].startswith("250"):
                    with lock:
                        acked.append(mid + "@example.org")
                i += 1
        except (OSError, EOFError):
            return

    threads = [threading.Thread(target=streamer, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    rc = d.stop(signal.SIGTERM)
    for t in threads:
        t.join(30)
    tap.eq("lmtpd exits 0 after SIGTERM", rc, 0)
    tap.result(len(acked) > 10, f"messages were acknowledged before SIGTERM ({len(acked)})")
    counts = [count_mid(db, m) for m in acked]
    tap.eq("every message answered 250 is in the database exactly once",
           [m for m, n in zip(acked, counts) if n != 1], [])
    tap.eq("pid file removed at exit", os.path.exists(pidfile), False)
    tap.eq("unix socket removed at exit", os.path.exists(sock), False)
    states = []
    try:
        while True:
            states.append(notify.recv(256).decode())
    except (socket.timeout, BlockingIOError):
        pass
    notify.settimeout(0.2)
    tap.result("STOPPING=1" in states and "RELOADING=1" in states,
               f"RELOADING=1 and STOPPING=1 sent to NOTIFY_SOCKET ({states})")
    dup = db_query(db, "SELECT count(*) FROM (SELECT message_id FROM messages WHERE direction = 'in'"
                       " GROUP BY message_id HAVING count(*) > 1)")[0][0]
    tap.eq("no message stored twice in the whole run", dup, 0)

    # --- loopback TCP, the in-process sender and the tick timer
    sink_port, lport = free_port(), free_port()
    sinkdir = os.path.join(site, "sink")
    os.makedirs(sinkdir)
    os.chmod(sinkdir, 0o777)
    user = ["-u", "nobody"] if os.getuid() == 0 else []
    sink = subprocess.Popen(["/usr/sbin/smtp-sink", *user, "-d", sinkdir + "/%M.",
                             f"127.0.0.1:{sink_port}", "10"])
    try:
        with open(conf) as f:
            text = f.read()
        text = text.replace("send = no\n", "send = yes\ntick_interval = 1s\n")
        text += f"[smtp]\nurl = smtp://127.0.0.1:{sink_port}\nstarttls = never\n"
        with open(conf, "w") as f:
            f.write(text)
        time.sleep(0.3)
        d2 = Daemon(conf, f"127.0.0.1:{lport}")
        s = d2.lmtp()
        s.ehlo("client")
        s.sendmail("tcp@example.org", ["support@example.com"], message("tcp-1"))
        s.quit()
        tap.eq("a message over loopback TCP stored", count_mid(db, "tcp-1@example.org"), 1)
        deadline = time.time() + 20
        sent = []
        while time.time() < deadline and not sent:
            time.sleep(0.2)
            sent = db_query(db, "SELECT o.status FROM outbox o JOIN messages m ON m.ticket_id = "
                                "o.ticket_id WHERE m.message_id = 'tcp-1@example.org' AND "
                                "o.status = 'sent'")
        tap.eq("its acknowledgement sent by the daemon's own sender, no `send` run", sent, [("sent",)])
        files = []
        for root, _, names in os.walk(sinkdir):
            for n in names:
                with open(os.path.join(root, n), "rb") as f:
                    files.append(f.read())
        tap.result(any(b"tcp-1@example.org" in f for f in files), "the sink got the acknowledgement")
        deadline = time.time() + 10
        while time.time() < deadline and "tick: started" not in d2.logtext():
            time.sleep(0.2)
        tap.result("tick: started" in d2.logtext(), "the tick timer ran `maildesk tick`")
        tap.eq("TCP lmtpd exits 0 on SIGINT", d2.stop(signal.SIGINT), 0)
    finally:
        sink.kill()
        sink.wait()
    disk_full(site, conf)
    durability(site, conf)


def disk_full(site, conf):
    """The database's file system fills up under a running lmtpd.  (A
    remount read-only is refused while lmtpd holds the database open for
    writing, so a full disk stands for the storage trouble here.)"""
    mnt = os.path.join(site, "tmpfs")
    os.makedirs(mnt)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mnt]).returncode != 0:
        tap.result(False, "mount a tmpfs for the disk-full test (needs root)")
        return
    MOUNTS.append(mnt)
    conf2 = os.path.join(site, "ro.conf")
    with open(conf) as f:
        text = f.read()
    text = text.replace("database = maildesk.db", f"database = {mnt}/maildesk.db")
    text = text.replace("send = yes\n", "send = no\n").replace("tick_interval = 1s\n", "")
    with open(conf2, "w") as f:
        f.write(text)
    subprocess.run([BIN, "-c", conf2, "init"], check=True, stdout=subprocess.DEVNULL)
    db = os.path.join(mnt, "maildesk.db")
    d = Daemon(conf2, "unix:" + os.path.join(site, "ro.sock"))

    def send(conn, tag):
        conn.send(b"MAIL FROM:<ro@example.org>\r\nRCPT TO:<support@example.com>\r\n"
                  b"RCPT TO:<help@example.com>\r\nDATA\r\n")
        [conn.reply() for _ in range(4)]
        conn.send(message(tag, size=18000) + b".\r\n")
        return [conn.reply()[0][:9] for _ in range(2)]

    c = Conn(d)
    c.send(b"LHLO c\r\n")
    c.reply()
    tap.eq("tmpfs database: a message goes through", send(c, "ro-1"), ["250 2.0.0"] * 2)
    filler = os.path.join(mnt, "filler")
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    tap.eq("file system full: 451 per recipient", send(c, "ro-2"), ["451 4.3.0"] * 2)
    os.unlink(filler)
    tap.eq("nothing of the deferred message stored", count_mid(db, "ro-2@example.org"), 0)
    tap.eq("space again: the retry goes through", send(c, "ro-2"), ["250 2.0.0"] * 2)
    c.send(b"QUIT\r\n")
    c.close()
    tap.eq("each message stored once", [count_mid(db, m) for m in
                                        ("ro-1@example.org", "ro-2@example.org")], [1, 1])
    tap.eq("lmtpd exits 0", d.stop(), 0)
    subprocess.run(["umount", mnt])
    MOUNTS.remove(mnt)


def durability(site, conf):
    """The group commit's promise: no 250 before the COMMIT holding the
    message is on disk.  A fresh database, lmtpd without its sender."""
    conf3 = os.path.join(site, "dur.conf")
    with open(conf) as f:
        text = f.read()
    text = re.sub(r"(?m)^database = .*$", "database = " + os.path.join(site, "dur.db"), text)
    text = text.replace("send = yes\n", "send = no\n").replace("tick_interval = 1s\n", "")
    with open(conf3, "w") as f:
        f.write(text)
    subprocess.run([BIN, "-c", conf3, "init"], check=True, stdout=subprocess.DEVNULL)
    db = os.path.join(site, "dur.db")
    sync_order(site, conf3)
    kill9(site, conf3, db)


REPLY_250 = re.compile(r"250 2\.0\.0 <[^>]*> Ok ticket=(\d+)$")


def send_one(conn, tag, sender="d@example.org"):
    """One message on an open session; its final reply, None if the session
    refused the envelope."""
    conn.send(f"MAIL FROM:<{sender}>\r\nRCPT TO:<support@example.com>\r\nDATA\r\n".encode())
    if [conn.reply()[0][:3] for _ in range(3)] != ["250", "250", "354"]:
        return None
    conn.send(message(tag) + b".\r\n")
    return conn.reply()[0]


STRACE_LINE = re.compile(r"^(\d+)\s+\S+\s+(.*)$")
STRACE_CALL = re.compile(r"^(\w+)\((\d+)<([^>]*)>")


def strace_events(path):
    """The trace as a list of syscalls in the order strace saw them, each a
    dict: tid, name, path (of its first argument), text, entry and exit (the
    positions of its start and end in that order; a call another thread's
    call interrupted in strace's output has them apart), result."""
    calls, pending, pos = [], {}, 0
    with open(path, errors="replace") as f:
        for line in f:
            m = STRACE_LINE.match(line.rstrip("\n"))
            if not m:
                continue
            tid, rest = int(m.group(1)), m.group(2)
            pos += 1
            if rest.startswith("<... "):
                call = pending.pop(tid, None)
                if call is not None:
                    call["exit"] = pos
                    call["text"] += rest
                    call["result"] = rest.rsplit("= ", 1)[-1] if "= " in rest else "?"
                continue
            c = STRACE_CALL.match(rest)
            call = {"tid": tid, "name": rest.split("(", 1)[0], "path": c.group(3) if c else "",
                    "text": rest, "entry": pos, "exit": None, "result": None}
            if rest.endswith("<unfinished ...>"):
                pending[tid] = call
            else:
                call["exit"] = pos
                call["result"] = rest.rsplit("= ", 1)[-1] if "= " in rest else "?"
            calls.append(call)
    return calls


def sync_order(site, conf):
    """One connection, one message after the other: every final 250 must
    come after an fdatasync of the log that began after the last write to
    the log, the COMMIT's, and ended before the reply was written."""
    trace = os.path.join(site, "strace.out")
    pidfile = os.path.join(site, "sync.pid")
    strace = shutil.which("strace")
    if not strace:
        tap.result(False, "strace is installed (scripts/install-deps.sh)")
        return
    # GIO writes replies with send() (sendto); write and sendmsg are traced
    # too in case another GLib does it otherwise
    d = Daemon(conf, "unix:" + os.path.join(site, "sync.sock"), args=("--pid-file", pidfile),
               wrap=[strace, "-f", "-tt", "-y", "-s", "200", "-o", trace,
                     "-e", "trace=pwrite64,fdatasync,fsync,write,sendto,sendmsg"])
    # the socket takes connections a moment before the pid file is written
    deadline = time.time() + 10
    while not os.path.exists(pidfile) and time.time() < deadline:
        time.sleep(0.01)
    with open(pidfile) as f:
        pid = int(f.read())
    TRACED.append(pid)
    c = Conn(d)
    c.send(b"LHLO c\r\n")
    c.reply()
    replies = [send_one(c, f"sync-{i}") for i in range(20)]
    names = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                names[int(tid)] = f.read().strip()
        except OSError:
            pass
    c.send(b"QUIT\r\n")
    c.reply()
    c.close()
    os.kill(pid, signal.SIGTERM)
    tap.eq("lmtpd under strace exits 0 after SIGTERM", d.stop(None), 0)
    TRACED.remove(pid)
    tap.eq("20 messages one after another on one connection: 250 each",
           [bool(r and REPLY_250.match(r)) for r in replies], [True] * 20)

    calls = strace_events(trace)
    wal = [x for x in calls if x["path"].endswith(".db-wal")]
    writes = [x for x in wal if x["name"] == "pwrite64" and x["exit"] is not None]
    syncs = [x for x in wal if x["name"] == "fdatasync" and x["result"] == "0"]
    answers = [x for x in calls if x["name"] in ("write", "sendto", "sendmsg")
               and "250 2.0.0 <" in x["text"] and "Ok ticket=" in x["text"]]
    late = []
    for a in answers:
        done = [w for w in writes if w["exit"] < a["entry"]]
        if not done:
            late.append(("no write to the log before", a["text"][:80]))
            continue
        last = max(done, key=lambda w: w["exit"])
        if not any(y["path"] == last["path"] and y["entry"] > last["exit"] and
                   y["exit"] < a["entry"] for y in syncs):
            late.append(("no fdatasync between the COMMIT and", a["text"][:80]))
    tap.result(len(answers) == 20 and len(syncs) >= 20,
               f"strace saw the 20 replies ({len(answers)}) and at least 20 fdatasyncs of "
               f"the log ({len(syncs)}), written by {sorted(set(x['name'] for x in answers))}")
    tap.result(not late, "every 250 written after an fdatasync of the log that followed its "
               f"COMMIT's writes ({len(late)} not, {late[:2]})")
    # SQLite syncs the log's header (and, for a new file, its directory)
    # when it starts the log anew after a checkpoint: once a log, not once
    # a COMMIT
    end = answers[-1]["entry"] if answers else 0
    writers = {names.get(w["tid"], w["tid"]) for w in writes if w["entry"] < end}
    per_commit = []
    header_syncs = 0
    for x in calls:
        if (x["name"] not in ("fdatasync", "fsync") or x["entry"] >= end
                or names.get(x["tid"]) != "commit"):
            continue
        before = [w for w in writes if w["tid"] == x["tid"] and w["exit"] < x["entry"]]
        if before and before[-1]["text"].endswith(", 32, 0) = 32"):
            header_syncs += 1
        else:
            per_commit.append((x["name"], x["path"]))
    tap.result(writers == {"commit"} and not per_commit,
               f"the COMMITs (thread {writers}) write the log but sync nothing "
               f"({len(per_commit)} syncs after a COMMIT's frames {per_commit[:2]}, "
               f"{header_syncs} after a new log's header)")


def kill9(site, conf, db):
    """SIGKILL while 8 connections stream messages: every 250 is in the
    database with the ticket it named, and a redelivery after the restart
    is stored once."""
    sock = os.path.join(site, "kill.sock")
    d = Daemon(conf, "unix:" + sock)
    lock = threading.Lock()
    acked = {}     # Message-ID -> ticket of its 250
    waiting = {}   # connection -> tag sent, final reply not yet read
    inflight = []  # tags sent whose reply never came
    broken = []    # connections the kill cut
    other = []     # replies that were neither 250 nor a cut

    def streamer(k):
        try:
            conn = Conn(d)
            conn.send(b"LHLO c\r\n")
            conn.reply()
        except (OSError, EOFError):
            return
        i = 0
        while True:
            tag = f"kill-{k}-{i}"
            try:
                conn.send(b"MAIL FROM:<k@example.org>\r\nRCPT TO:<support@example.com>\r\n"
                          b"DATA\r\n")
                r = [conn.reply()[0][:3] for _ in range(3)]
                if r != ["250", "250", "354"]:
                    with lock:
                        other.append(r)
                    return
                with lock:
                    waiting[k] = tag
                conn.send(message(tag) + b".\r\n")
                rep = conn.reply()[0]
            except (OSError, EOFError):
                with lock:
                    broken.append(k)
                    if waiting.get(k):
                        inflight.append(waiting[k])
                return
            m = REPLY_250.match(rep)
            with lock:
                waiting[k] = None
                if m:
                    acked[tag + "@example.org"] = int(m.group(1))
                else:
                    other.append(rep)
                    return
            i += 1

    threads = [threading.Thread(target=streamer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    # kill when some connections wait for their final reply
    deadline = time.time() + 5
    while time.time() < deadline:
        with lock:
            if sum(1 for v in waiting.values() if v) >= 3:
                break
        time.sleep(0.0002)
    alive = sum(t.is_alive() for t in threads)
    n_before = len(acked)
    d.p.kill()
    d.p.wait()
    for t in threads:
        t.join(30)
    tap.result(alive == 8 and sorted(broken) == list(range(8)) and not other,
               f"SIGKILL while 8 connections streamed ({alive} alive, {len(broken)} cut, "
               f"other replies {other[:3]})")
    tap.result(n_before >= 20 and len(inflight) > 0,
               f"messages answered 250 before the kill ({len(acked)}), some in flight "
               f"({inflight})")
    rows = {}
    for mid, ticket in db_query(db, "SELECT message_id, ticket_id FROM messages "
                                    "WHERE direction = 'in' AND message_id LIKE 'kill-%'"):
        rows.setdefault(mid, []).append(ticket)
    tap.eq("every message answered 250 is stored once, on the ticket the reply named",
           [(m, t, rows.get(m)) for m, t in sorted(acked.items()) if rows.get(m) != [t]], [])
    tap.eq("integrity_check after SIGKILL", db_query(db, "PRAGMA integrity_check"), [("ok",)])

    # the MTA retries after the lost connection, with the same envelope (the
    # Return-Path is part of what is stored): one message answered 250, one
    # that never got its reply.  The last one answered is the likeliest to
    # be only in the log still.
    d2 = Daemon(conf, "unix:" + sock)
    log_start = len(d2.logtext())
    c = Conn(d2)
    c.send(b"LHLO c\r\n")
    c.reply()
    again = max(acked, key=acked.get)[:-len("@example.org")]
    rep = send_one(c, again, "k@example.org")
    m = rep and REPLY_250.match(rep)
    tap.eq("restarted lmtpd: a redelivered message answered 250 with its ticket",
           int(m.group(1)) if m else rep, acked[again + "@example.org"])
    tap.eq("... stored once", count_mid(db, again + "@example.org"), 1)
    tap.result(re.search(rf"msgid=<{again}@example.org> .*action=duplicate",
                         d2.logtext()[log_start:]) is not None, "... recognised as a duplicate")
    lost = inflight[0] if inflight else "kill-none"
    rep = send_one(c, lost, "k@example.org")
    tap.result(bool(rep and REPLY_250.match(rep)) and count_mid(db, lost + "@example.org") == 1,
               f"a message in flight at the kill, sent again: 250, stored once ({rep})")
    c.send(b"QUIT\r\n")
    c.close()
    tap.eq("restarted lmtpd exits 0", d2.stop(), 0)


if __name__ == "__main__":
    sys.exit(main())
