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


class SmtpSink:
    """Postfix's smtp-sink on 127.0.0.1:port as a relay, dumping each
    transaction (envelope as X-...-Args lines above the data) into
    site_dir/sink; stop() ends it."""

    def __init__(self, site_dir, port):
        import time
        self.dir = os.path.join(site_dir, "sink")
        os.makedirs(self.dir)
        # smtp-sink drops its privileges to nobody, who must reach the directory
        os.chmod(site_dir, 0o755)
        os.chmod(self.dir, 0o777)
        user = ["-u", "nobody"] if os.getuid() == 0 else []
        self.proc = subprocess.Popen(["/usr/sbin/smtp-sink", *user, "-d", os.path.join(self.dir, "%M."),
                                      f"127.0.0.1:{port}", "100"])
        for _ in range(100):
            with socket.socket() as c:
                c.settimeout(0.2)
                if c.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.05)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()

    def dumps(self):
        """The bytes of each transaction's file, oldest name first."""
        out = []
        for name in sorted(os.listdir(self.dir)):
            with open(os.path.join(self.dir, name), "rb") as f:
                out.append(f.read())
        return out
