"""A throw-away maildesk site for Python test drivers and benchmarks."""
import os
import socket
import subprocess
import tempfile


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stored_bytes(raw):
    """What maildesk stores of a message: the input less a leading mbox
    "From " line."""
    if raw.startswith(b"From "):
        nl = raw.find(b"\n")
        if nl >= 0:
            return raw[nl + 1:]
    return raw


def make_site(binary, srcdir, prefix, autoreply_per_hour, extra="", queue=""):
    """Creates config, secret and database in a new temporary directory;
    queue is added to [queue support] (calendar, targets), extra is
    appended to the config (agents, say).
    Returns (directory, config path); the caller removes the directory."""
    d = tempfile.mkdtemp(prefix=prefix)
    conf = os.path.join(d, "maildesk.conf")
    with open(conf, "w") as f:
        f.write(f"""[maildesk]
database = maildesk.db
secret_file = secret
hostname = help.example.com
templates = {srcdir}/templates
send_after_deliver = no
[limits]
autoreply_per_hour = {autoreply_per_hour}
[queue support]
address = support@example.com
""" + queue + extra)
    subprocess.run([binary, "-c", conf, "init"], check=True, stdout=subprocess.DEVNULL)
    return d, conf


def person_address(secret_path, base, ticket, kind, person):
    """The signed agent ("agent") or note ("note") address of ticket
    issued to person, as maildesk builds it (src/token.h), from the
    site's secret file: for tests that play an agent who got no mail."""
    import hashlib
    import hmac
    with open(secret_path, "rb") as f:
        key = f.read()
    pid = hmac.new(key, b"maildesk-person:" + person.lower().encode(), hashlib.sha256).hexdigest()[:8]
    purpose = f"{kind}-{pid}"
    mac = hmac.new(key, f"maildesk-ticket:{ticket}:{purpose}".encode(), hashlib.sha256).hexdigest()[:16]
    local, domain = base.split("@", 1)
    return f"{local}+{ticket}-{purpose}-{mac}@{domain}"


class SiteDB:
    """A make_site site with its database open for the test's queries;
    close() removes it.  Test drivers subclass it for their own deliver()."""

    def __init__(self, binary, srcdir, prefix, autoreply_per_hour, extra="", queue=""):
        import sqlite3
        self.dir, self.conf = make_site(binary, srcdir, prefix, autoreply_per_hour, extra, queue)
        self.db = sqlite3.connect(os.path.join(self.dir, "maildesk.db"))

    def close(self):
        import shutil
        self.db.close()
        shutil.rmtree(self.dir)

    def sql(self, q, *a):
        return self.db.execute(q, a).fetchall()

    def one(self, q, *a):
        rows = self.sql(q, *a)
        return rows[0][0] if rows else None
