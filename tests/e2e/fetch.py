#!/usr/bin/env python3
"""`maildesk fetch` against a real Dovecot (IMAP and POP3) that the test
starts on loopback ports of its own, with a certificate authority and a
server certificate made by openssl at test time: IMAP over TLS and over
STARTTLS, POP3 over TLS and STLS.  Messages from the corpus are appended
by IMAP APPEND or written into the Maildir.  Checked: tickets and
acknowledgements, the marks after the commit (flags, a move, POP3
deletion), no duplicates on a second run or after a lost mark, a failed
commit leaves the message unmarked until the next run, an unparseable
message is stored and marked, our own mail fetched back is no ticket, an
untrusted certificate gets no password, and IDLE: a message appended
while `fetch` runs in the foreground is taken within seconds, and SIGTERM
ends it cleanly.  Output is TAP."""

import email
import email.policy
import imaplib
import os
import shutil
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time

BIN = os.environ["MAILDESK_BIN"]
SRC = os.environ["MAILDESK_SRCDIR"]
CORPUS = os.environ.get("MAILDESK_CORPUS", os.path.join(SRC, "..", "shared", "corpus"))
sys.path.insert(0, os.path.join(SRC, "tests"))
from mdsite import free_port, make_site  # noqa: E402
from tap import done, eq, result  # noqa: E402

USERS = ["support", "sales", "popper", "popstls"]
PASSWORD = "secret-pw"


def ok(text, good):
    result(good, text)


def bail(why):
    print(f"Bail out! {why}", flush=True)
    sys.exit(1)


def run(args, **kw):
    return subprocess.run(args, capture_output=True, timeout=300, **kw)


def stop(proc, timeout):
    """SIGTERM; its exit status, or "hung" (then killed) after timeout seconds."""
    proc.terminate()
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return "hung"


class Dovecot:
    """A private Dovecot: its own config, directories and ports."""

    def __init__(self, d, extra=""):
        os.makedirs(d, exist_ok=True)
        self.d = d
        self.ports = {k: free_port() for k in ("imap", "imaps", "pop3", "pop3s")}
        self.conf = os.path.join(d, "dovecot.conf")
        self.maildir = os.path.join(d, "mail")
        os.makedirs(self.maildir)
        os.chmod(self.maildir, 0o777)
        self.make_certificates()
        with open(os.path.join(d, "passwd"), "w") as f:
            for u in USERS:
                f.write(f"{u}:{{PLAIN}}{PASSWORD}\n")
        with open(self.conf, "w") as f:
            f.write(f"""
base_dir = {d}/run
state_dir = {d}/state
listen = 127.0.0.1
log_path = {d}/dovecot.log
protocols = imap pop3
ssl = yes
ssl_cert = <{d}/server.pem
ssl_key = <{d}/server.key
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{self.maildir}/%u
default_internal_user = dovenull
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {d}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={self.maildir}/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {self.ports['imap']}
  }}
  inet_listener imaps {{
    port = {self.ports['imaps']}
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {self.ports['pop3']}
  }}
  inet_listener pop3s {{
    port = {self.ports['pop3s']}
  }}
}}
""" + extra)
        # the daemon keeps any pipe it is given open: no capture
        with open(os.path.join(d, "dovecot.start"), "w+b") as out:
            p = subprocess.run(["dovecot", "-c", self.conf], stdin=subprocess.DEVNULL,
                               stdout=out, stderr=out, timeout=60)
            out.seek(0)
            if p.returncode != 0:
                bail("dovecot did not start: " + out.read().decode(errors="replace"))
        deadline = time.time() + 30
        for port in self.ports.values():
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.time() > deadline:
                        bail(f"dovecot is not listening on {port}")
                    time.sleep(0.2)

    def make_certificates(self):
        d = self.d
        cmds = [
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=maildesk test CA", "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.pem"],
            ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", f"{d}/server.key", "-out", f"{d}/server.csr"],
        ]
        for c in cmds:
            if run(c).returncode != 0:
                bail("openssl failed: " + " ".join(c))
        with open(f"{d}/ext.cnf", "w") as f:
            f.write("subjectAltName = IP:127.0.0.1, DNS:localhost\n"
                    "extendedKeyUsage = serverAuth\n")
        c = ["openssl", "x509", "-req", "-in", f"{d}/server.csr", "-CA", f"{d}/ca.pem",
             "-CAkey", f"{d}/ca.key", "-CAcreateserial", "-days", "2",
             "-extfile", f"{d}/ext.cnf", "-out", f"{d}/server.pem"]
        if run(c).returncode != 0:
            bail("openssl could not sign the server certificate")

    def log(self):
        with open(os.path.join(self.d, "dovecot.log"), errors="replace") as f:
            return f.read()

    def stop(self):
        subprocess.run(["dovecot", "-c", self.conf, "stop"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)

    def imap(self, user):
        ctx = ssl.create_default_context(cafile=os.path.join(self.d, "ca.pem"))
        c = imaplib.IMAP4_SSL("127.0.0.1", self.ports["imaps"], ssl_context=ctx)
        c.login(user, PASSWORD)
        return c

    def append(self, user, raw, folder="INBOX"):
        c = self.imap(user)
        typ, _ = c.append(folder, None, None, raw)
        c.logout()
        if typ != "OK":
            bail(f"APPEND to {user} failed")

    def messages(self, user, folder="INBOX"):
        """[(uid, flags, message-id)] of a folder."""
        c = self.imap(user)
        typ, _ = c.select(folder)
        out = []
        if typ == "OK":
            typ, data = c.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            for item in data:
                if not isinstance(item, tuple):
                    continue
                meta = item[0].decode()
                uid = int(meta.split("UID ")[1].split()[0])
                flags = meta.split("FLAGS (")[1].split(")")[0].split()
                mid = email.message_from_bytes(item[1]).get("Message-ID", "").strip()
                out.append((uid, flags, mid))
        c.logout()
        return out

    def unflag(self, user, uid, flags):
        c = self.imap(user)
        c.select("INBOX")
        c.uid("STORE", str(uid), "-FLAGS.SILENT", "(" + flags + ")")
        c.logout()


def corpus(name):
    with open(os.path.join(CORPUS, name), "rb") as f:
        return f.read()


def new_message(subject, frm="alice@customer.example", to="support@example.com", extra=""):
    mid = f"<{time.time_ns()}.{subject.replace(' ', '-')}@customer.example>"
    return (f"From: Alice Customer <{frm}>\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Date: Mon, 23 Nov 2026 10:00:00 +0200\r\nMessage-ID: {mid}\r\n{extra}"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Hello, {subject}: our printer does not print.\r\n").encode(), mid


def main():
    for tool in ("dovecot", "openssl"):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
            bail(f"{tool} is missing: scripts/install-deps.sh installs it")
    if os.geteuid() != 0:
        bail("fetch.py starts Dovecot, which switches users: it must run as root")
    work = tempfile.mkdtemp(prefix="maildesk-fetch-")
    os.chmod(work, 0o755)
    dove = None
    noidle = None
    mounted = []
    site = None
    watcher = None
    try:
        dove = Dovecot(work)
        # a second server that offers no IDLE: fetch must poll it
        noidle = Dovecot(os.path.join(work, "noidle"), "imap_capability = IMAP4rev1 SASL-IR "
                         "LOGIN-REFERRALS ID ENABLE LITERAL+ UIDPLUS MOVE\n")
        P = dove.ports
        extra = f"""[queue billing]
address = billing@example.com
[mailbox tls]
host = 127.0.0.1
port = {P['imaps']}
protocol = imap
security = tls
username = support
password_file = {work}/pw
ca_file = {work}/ca.pem
recipient = support@example.com
poll_interval = 60s
[mailbox starttls]
url = imap://127.0.0.1:{P['imap']}/INBOX
username = sales
password_file = {work}/pw
verify_tls = no
recipient = billing@example.com
flag = $maildesk
move_to = Processed
[mailbox pop]
host = 127.0.0.1
port = {P['pop3s']}
protocol = pop3
security = tls
username = popper
password_file = {work}/pw
ca_file = {work}/ca.pem
[mailbox popstls]
host = 127.0.0.1
port = {P['pop3']}
protocol = pop3
security = starttls
username = popstls
password_file = {work}/pw
ca_file = {work}/ca.pem
[mailbox polled]
host = 127.0.0.1
port = {noidle.ports['imaps']}
username = support
password_file = {work}/pw
ca_file = {work}/noidle/ca.pem
poll_interval = 5s
[mailbox wrongpw]
host = 127.0.0.1
port = {P['imaps']}
username = support
password_file = {work}/wrongpw
ca_file = {work}/ca.pem
[mailbox untrusted]
host = 127.0.0.1
port = {P['imaps']}
username = support
password_file = {work}/pw
"""
        with open(f"{work}/pw", "w") as f:
            f.write(PASSWORD + "\n")
        with open(f"{work}/wrongpw", "w") as f:
            f.write("not-the-password\n")
        site, conf = make_site(BIN, SRC, "maildesk-fetch-site-", 100, extra)
        with open(conf) as f:
            text = f.read()
        # a commit held up by a lock fails after a second, not thirty
        with open(conf, "w") as f:
            f.write(text.replace("[maildesk]\n", "[maildesk]\nbusy_timeout = 1\n", 1))
        db = sqlite3.connect(os.path.join(site, "maildesk.db"), timeout=30)

        def one(q, *a):
            return db.execute(q, a).fetchone()[0]

        def fetch(*args):
            return run([BIN, "-v", "-c", conf, "fetch", "--once"] + list(args))

        def seconds_until_stored(mid, t0, limit):
            """Seconds from t0 until the message is stored; None after limit."""
            while time.time() - t0 < limit:
                if one("SELECT count(*) FROM messages WHERE message_id = ?", mid.strip("<>")):
                    return time.time() - t0
                time.sleep(0.1)
            return None

        os.chmod(f"{work}/pw", 0o644)
        p = run([BIN, "-c", conf, "check-config"])
        eq("check-config accepts the [mailbox NAME] groups", p.returncode, 0)
        err = p.stderr.decode(errors="replace")
        ok("... warns about a password file others may read",
           "[mailbox tls] password_file" in err and "has mode 0644" in err)
        ok("... and about verify_tls = no", "[mailbox starttls] verify_tls = no" in err)

        # --- first run: four mailboxes, four ways in
        inbound = ["inbound/flanker-iphone.eml", "inbound/flanker-quoted-printable.eml",
                   "inbound/flanker-outlook-express.eml"]
        for name in inbound:
            dove.append("support", corpus(name))
        sales_msg, sales_mid = new_message("invoice question", to="billing@example.com")
        dove.append("sales", sales_msg)
        pop_msg, pop_mid = new_message("pop3 over tls")
        dove.append("popper", pop_msg)
        stls_msg, stls_mid = new_message("pop3 over stls")
        dove.append("popstls", stls_msg)

        logins = dove.log().count("Login: user=<")
        p = run([BIN, "-c", conf, "fetch", "--once", "--mailbox", "untrusted"])
        eq("a certificate no CA of the system signed is refused (78)", p.returncode, 78)
        eq("... before any login was tried", dove.log().count("Login: user=<"), logins)
        eq("... and nothing was taken", one("SELECT count(*) FROM messages"), 0)

        for mb in ("tls", "starttls", "pop", "popstls"):
            p = fetch("--mailbox", mb)
            eq(f"fetch --once --mailbox {mb} exits 0", p.returncode, 0)
            if p.returncode != 0:
                print("# " + p.stderr.decode(errors="replace").replace("\n", "\n# "))
        tickets = one("SELECT count(*) FROM tickets")
        eq("one ticket per fetched message", tickets, 6)
        eq("each acknowledged in the outbox", one("SELECT count(*) FROM outbox WHERE kind = 'ack'"), 6)
        eq("the STARTTLS mailbox's message went to the billing queue",
           one("SELECT t.queue FROM tickets t JOIN messages m ON m.ticket_id = t.id "
               "WHERE m.message_id = ?", sales_mid.strip("<>")), "billing")
        msgs = dove.messages("support")
        eq("TLS mailbox: all three still there", len(msgs), 3)
        ok("... each marked \\Seen and $maildesk after its commit",
               all("\\Seen" in f and "$maildesk" in f for _, f, _ in msgs))
        eq("STARTTLS mailbox: its INBOX emptied by the move", len(dove.messages("sales")), 0)
        moved = dove.messages("sales", "Processed")
        eq("... into Processed, flagged $maildesk",
           [("$maildesk" in f, m) for _, f, m in moved], [(True, sales_mid)])
        eq("POP3 over TLS: the message deleted after its commit",
           os.listdir(os.path.join(dove.maildir, "popper", "cur")) +
           os.listdir(os.path.join(dove.maildir, "popper", "new")), [])
        eq("POP3 with STLS: likewise",
           os.listdir(os.path.join(dove.maildir, "popstls", "cur")) +
           os.listdir(os.path.join(dove.maildir, "popstls", "new")), [])
        stored = one("SELECT raw FROM messages WHERE message_id = ?", pop_mid.strip("<>"))
        eq("the stored message has the local form (LF line ends)", b"\r\n" in stored, False)

        # --- again: nothing new; a lost mark (a crash after the commit) makes no duplicate
        count = one("SELECT count(*) FROM messages")
        codes = [fetch("--mailbox", mb).returncode for mb in ("tls", "starttls", "pop", "popstls")]
        eq("a second run of every mailbox exits 0", codes, [0, 0, 0, 0])
        eq("... and stores nothing new", one("SELECT count(*) FROM messages"), count)
        uid = msgs[0][0]
        dove.unflag("support", uid, "\\Seen $maildesk")
        p = fetch("--mailbox", "tls")
        eq("a message whose mark was lost is read again", b"taken 1, marked 1" in p.stdout, True)
        eq("... recognised, no duplicate message", one("SELECT count(*) FROM messages"), count)
        eq("... and no second ticket", one("SELECT count(*) FROM tickets"), tickets)
        ok("... and marked this time", all("$maildesk" in f for u, f, _ in
                                               dove.messages("support") if u == uid))

        dove.unflag("support", msgs[1][0], "\\Seen")
        p = fetch("--mailbox", "tls")
        eq("a message a person marked unread again is not taken again",
           b"taken 0, marked 0, left 0" in p.stdout, True)

        # --- a wrong password: the login is refused, nothing is touched
        p = run([BIN, "-c", conf, "fetch", "--once", "--mailbox", "wrongpw"])
        eq("a refused login exits 78", p.returncode, 78)

        # --- a commit that fails leaves the message for the next run
        late, late_mid = new_message("while the database was locked")
        dove.append("support", late)
        lock = sqlite3.connect(os.path.join(site, "maildesk.db"), timeout=30)
        lock.execute("BEGIN IMMEDIATE")
        p = fetch("--mailbox", "tls")
        lock.rollback()
        lock.close()
        eq("fetch exits 75 when the commit fails", p.returncode, 75)
        late_flags = [f for _, f, m in dove.messages("support") if m == late_mid]
        eq("... the message is left unmarked", late_flags, [[]])
        eq("... and nothing of it is stored",
           one("SELECT count(*) FROM messages WHERE message_id = ?", late_mid.strip("<>")), 0)
        p = fetch("--mailbox", "tls")
        eq("the next run takes it", p.returncode, 0)
        eq("... stored once",
           one("SELECT count(*) FROM messages WHERE message_id = ?", late_mid.strip("<>")), 1)
        late_flags = [f for _, f, m in dove.messages("support") if m == late_mid]
        ok("... and marked", len(late_flags) == 1 and "$maildesk" in late_flags[0])

        # --- likewise when the database's file system turns read-only
        ro, ro_mid = new_message("while the disk was read-only")
        dove.append("support", ro)
        db.close()
        if run(["mount", "--bind", site, site]).returncode != 0:
            bail("cannot bind-mount the site")
        mounted.append(site)
        p = run(["mount", "-o", "remount,ro,bind", site, site])
        if p.returncode != 0:
            bail("cannot make the site read-only: " + p.stderr.decode(errors="replace"))
        p = fetch("--mailbox", "tls")
        run(["umount", site])
        mounted.remove(site)
        db = sqlite3.connect(os.path.join(site, "maildesk.db"), timeout=30)
        eq("fetch exits 75 on a read-only database", p.returncode, 75)
        ok("... and says why", b"read-only" in p.stderr)
        if b"read-only" not in p.stderr:
            print("# " + p.stderr.decode(errors="replace").replace("\n", "\n# "))
        eq("... the message is left unmarked",
           ["$maildesk" in f for _, f, m in dove.messages("support") if m == ro_mid], [False])
        p = fetch("--mailbox", "tls")
        eq("once writable again the next run takes it", p.returncode, 0)
        eq("... stored once",
           one("SELECT count(*) FROM messages WHERE message_id = ?", ro_mid.strip("<>")), 1)

        # --- a message nobody can parse is stored, flagged for agents, and marked
        junk = b"\x01\x02 this is not mail\n\x7f\xfe\xff binary rubbish without a header\n"
        new_dir = os.path.join(dove.maildir, "support", "new")
        with open(os.path.join(new_dir, f"{int(time.time())}.junk.test"), "wb") as f:
            f.write(junk)
        tickets = one("SELECT count(*) FROM tickets")
        p = fetch("--mailbox", "tls")
        eq("an unparseable message does not fail the run", p.returncode, 0)
        eq("... it is stored on a new ticket", one("SELECT count(*) FROM tickets"), tickets + 1)
        eq("... that needs an agent's attention",
           one("SELECT needs_attention FROM tickets ORDER BY id DESC LIMIT 1"), 1)
        eq("... and it is marked", all("$maildesk" in f for _, f, _ in dove.messages("support")),
           True)

        # --- our own mail in the mailbox (a Bcc to ourselves, a Sent folder)
        ack = one("SELECT raw FROM outbox WHERE kind = 'ack' ORDER BY id LIMIT 1")
        copy = (b"Received: from relay.example.com by mx.example.com; "
                b"Mon, 23 Nov 2026 10:00:05 +0200\r\n" + ack.replace(b"\r\n", b"\n")
                .replace(b"\n", b"\r\n"))
        count = one("SELECT count(*) FROM messages")
        tickets = one("SELECT count(*) FROM tickets")
        dove.append("support", copy)
        p = fetch("--mailbox", "tls")
        eq("our own acknowledgement fetched back: exit 0", p.returncode, 0)
        ok("... recognised as our own mail", b"action=own-mail" in p.stderr)
        eq("... no new ticket", one("SELECT count(*) FROM tickets"), tickets)
        eq("... no message stored as a customer's", one("SELECT count(*) FROM messages"), count)
        eq("... and marked", all("$maildesk" in f for _, f, _ in dove.messages("support")), True)

        # --- IDLE: the foreground command takes new mail within seconds
        watcher = subprocess.Popen([BIN, "-v", "-c", conf, "fetch", "--mailbox", "tls"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(2)  # connected and idling (poll_interval is 60s: only IDLE is this fast)
        idle_msg, idle_mid = new_message("appended while fetch idles")
        t0 = time.time()
        dove.append("support", idle_msg)
        took = seconds_until_stored(idle_mid, t0, 15)
        ok(f"IDLE: the appended message was taken in {took and round(took, 2)}s (< 5s)",
               took is not None and took < 5)
        print(f"# idle latency: {took}")
        time.sleep(0.5)
        idle_flags = [f for _, f, m in dove.messages("support") if m == idle_mid]
        ok("... and marked", len(idle_flags) == 1 and "$maildesk" in idle_flags[0])
        rc = stop(watcher, 10)
        eq("SIGTERM ends fetch cleanly (exit 0)", rc, 0)
        err = watcher.stderr.read().decode(errors="replace")
        watcher = None
        ok("no error in the foreground run's log", "error" not in err.lower())
        if "error" in err.lower():
            print("# " + err.replace("\n", "\n# "))

        # --- a reply to the acknowledgement's signed address threads by its token
        first = one("SELECT ticket_id FROM outbox WHERE kind = 'ack' ORDER BY id LIMIT 1")
        ack_msg = email.message_from_bytes(
            one("SELECT raw FROM outbox WHERE kind = 'ack' ORDER BY id LIMIT 1"),
            policy=email.policy.default)
        signed = ack_msg["Reply-To"].addresses[0].addr_spec
        reply, reply_mid = new_message("thanks, more details", frm="someone-else@customer.example",
                                       to=signed)
        dove.append("support", reply)
        p = fetch("--mailbox", "tls")
        eq("a reply to the signed address: exit 0", p.returncode, 0)
        eq("... joins the ticket by its token, not by headers (it has none)",
           one("SELECT ticket_id FROM messages WHERE message_id = ?", reply_mid.strip("<>")),
           first)
        ok("... the log says match=token", b"match=token" in p.stderr)

        # --- with send_after_deliver, fetch starts `send` after a commit that queued mail
        dead_port = free_port()
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text.replace("send_after_deliver = no", "send_after_deliver = yes") +
                    f"[smtp]\nurl = smtp://127.0.0.1:{dead_port}\nstarttls = never\n")
        eq("nothing was tried to send so far",
           one("SELECT count(*) FROM outbox WHERE attempts > 0 OR last_error IS NOT NULL"), 0)
        kick, _ = new_message("a question while send_after_deliver is on")
        dove.append("support", kick)
        p = fetch("--mailbox", "tls")
        eq("fetch with send_after_deliver: exit 0", p.returncode, 0)
        tried = 0
        for _ in range(100):
            tried = one("SELECT count(*) FROM outbox WHERE last_error IS NOT NULL")
            if tried:
                break
            time.sleep(0.1)
        ok("... and `send` ran at once (it found the relay down)", tried > 0)
        with open(conf, "w") as f:
            f.write(text)

        # --- a server without IDLE is polled every poll_interval
        watcher = subprocess.Popen([BIN, "-v", "-c", conf, "fetch", "--mailbox", "polled"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(2)
        poll_msg, poll_mid = new_message("appended while fetch polls")
        t0 = time.time()
        noidle.append("support", poll_msg)
        took = seconds_until_stored(poll_mid, t0, 20)
        ok(f"no IDLE: the message was taken by polling in {took and round(took, 2)}s (<= 5s + 2s)",
           took is not None and took < 7)
        rc = stop(watcher, 10)
        err = watcher.stderr.read().decode(errors="replace")
        watcher = None
        eq("... SIGTERM ends it with 0", rc, 0)
        ok("... and it said it polls", "no IDLE: polling every 5s" in err)

        # --- a message over max_message_size is left alone, unmarked
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text.replace("[limits]\n", "[limits]\nmax_message_size = 2048\n", 1))
        big, big_mid = new_message("big " + "x" * 3000)
        dove.append("support", big)
        count = one("SELECT count(*) FROM messages")
        p = fetch("--mailbox", "tls")
        eq("a message over max_message_size: exit 75", p.returncode, 75)
        eq("... not stored", one("SELECT count(*) FROM messages"), count)
        eq("... left unmarked", [f for _, f, m in dove.messages("support") if m == big_mid], [[]])
        ok("... and the log says why", b"status=left" in p.stderr)

        # --- every mailbox at once in the foreground: one process each
        watcher = subprocess.Popen([BIN, "-v", "-c", conf, "fetch"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(3)
        children = run(["pgrep", "-P", str(watcher.pid)]).stdout.split()
        with open(conf) as f:
            groups = f.read().count("\n[mailbox ")
        eq(f"fetch without --mailbox watches each of the {groups} in its own process",
           len(children), groups)
        many, many_mid = new_message("to billing while all are watched", to="billing@example.com")
        dove.append("sales", many)
        took = seconds_until_stored(many_mid, time.time(), 15)
        ok(f"... the STARTTLS mailbox's watcher took new mail in {took and round(took, 2)}s",
           took is not None and took < 5)
        rc = stop(watcher, 15)
        watcher = None
        eq("... SIGTERM ends them all, exit 0", rc, 0)
        left = [c for c in children if os.path.exists(f"/proc/{c.decode()}")]
        eq("... and no watcher is left behind", left, [])

        # --- check-config names a broken mailbox setting
        with open(conf, "a") as f:
            f.write("[mailbox broken]\nhost = 127.0.0.1\nprotocol = pop3\nsecurity = ssl\n"
                    "username = x\npassword_file = /nonexistent\nflag = \\Seen\n")
        p = run([BIN, "-c", conf, "check-config"])
        err = p.stderr.decode(errors="replace")
        eq("check-config rejects a broken [mailbox] (78)", p.returncode, 78)
        for what in ("security", "password_file", "flag"):
            ok(f"... naming its {what}", f"[mailbox broken] {what}:" in err)
    finally:
        for m in mounted:
            run(["umount", m])
        if watcher is not None:
            watcher.kill()
            watcher.wait()
        for d in (dove, noidle):
            if d is not None:
                d.stop()
        if site is not None:
            shutil.rmtree(site, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
