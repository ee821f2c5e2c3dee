#!/usr/bin/env python3
"""Benchmark of maildesk's intake: `deliver` (one process per message, as
Postfix's pipe(8) runs it) and `lmtpd` (group commit), next to the
machine's own limits measured in the same run.  Prints one table.

Not a test: it asserts nothing, it measures.  Environment:
  BENCH_MESSAGES   messages per deliver row (default 300)
  BENCH_LMTP       messages per lmtpd row (default 3000)
  BENCH_HISTORY    the large history, in tickets (default 1000000)
  MAILDESK_LMTP_LOAD  the C LMTP client, tests/bench/lmtp-load.c (make bench
                   builds it and sets this)
"""
import concurrent.futures
import email.policy
import json
import multiprocessing as mp
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from email.message import EmailMessage

BIN = os.environ["MAILDESK_BIN"]
LEAN = os.path.join(os.path.dirname(BIN), "maildesk-deliver")
LOAD = os.environ.get("MAILDESK_LMTP_LOAD", os.path.join(os.path.dirname(BIN), "lmtp-load"))
SRC = os.environ["MAILDESK_SRCDIR"]
sys.path.insert(0, os.path.join(SRC, "tests"))
from mdsite import make_site  # noqa: E402

N_DELIVER = int(os.environ.get("BENCH_MESSAGES", "300"))
N_LMTP = int(os.environ.get("BENCH_LMTP", "3000"))
HISTORY = int(os.environ.get("BENCH_HISTORY", "1000000"))
SITES = []

EN = ("Hello, the printer on the second floor is broken again. It prints half a page "
      "and then stops with a paper jam, although there is no paper stuck anywhere. ")
RU = ("Здравствуйте! Принтер на втором этаже опять не печатает. Он печатает половину "
      "страницы и останавливается, хотя бумага нигде не застряла. ")


def site(extra=""):
    d, conf = make_site(BIN, SRC, "maildesk-bench-", 100000, "[lmtpd]\nsend = no\n" + extra)
    SITES.append(d)
    return d, conf


def fill(text, size):
    return (text * (size // len(text.encode()) + 1))[:size // 2 if text is RU else size]


def message(i, size=4000, run="r"):
    """The fixed mix: a new question, a reply, HTML, an attachment,
    Cyrillic, in turn; about size bytes each."""
    kind = i % 5
    m = EmailMessage()
    m["From"] = f"Customer {i % 97} <c{i % 97}@example.org>"
    m["To"] = "support@example.com"
    m["Message-ID"] = f"<bench-{run}-{i}@example.org>"
    m["Date"] = "Mon, 23 Nov 2026 10:00:00 +0200"
    if kind == 0:
        m["Subject"] = f"Question {i}"
        m.set_content(fill(EN, size - 300))
    elif kind == 1:
        m["Subject"] = f"Re: Question {i - 1}"
        m["In-Reply-To"] = f"<bench-{run}-{i - 1}@example.org>"
        m["References"] = f"<bench-{run}-{i - 1}@example.org>"
        quoted = "\n".join("> " + line for line in fill(EN, 1500).split(". "))
        m.set_content("It happened again this morning.\n\n" + quoted + "\n" + fill(EN, size - 2200))
    elif kind == 2:
        m["Subject"] = f"HTML question {i}"
        text = fill(EN, (size - 600) // 2)
        m.set_content(text)
        m.add_alternative(f"<html><body><p>{text}</p></body></html>", subtype="html")
    elif kind == 3:
        m["Subject"] = f"Screenshot {i}"
        m.set_content(fill(EN, 800))
        m.add_attachment(os.urandom((size - 1800) * 3 // 4), maintype="application",
                         subtype="pdf", filename=f"error-{i}.pdf")
    else:
        m["Subject"] = f"Вопрос {i}: принтер"
        m.set_content(fill(RU, size - 400))
    return m.as_bytes(policy=email.policy.default.clone(linesep="\n"))


def percentile(lat, p):
    s = sorted(lat)
    return s[min(len(s) - 1, int(len(s) * p))]


def row(label, rate, lat=None, limit=None, note=""):
    return (label, f"{rate:,.0f} msg/s" if rate is not None else "",
            f"{statistics.median(lat) * 1000:.1f} ms" if lat else "",
            f"{percentile(lat, 0.99) * 1000:.1f} ms" if lat else "",
            f"{rate / limit:.2f}" if limit else "", note)


# ---- the machine's limits

def start_cost(conf):
    """A process linked like maildesk deliver that loads the config and
    opens the database (`ticket list` of nothing), a bare start, and a
    bare start of the lean maildesk-deliver."""
    def t(args, n=60, binary=BIN):
        lat = []
        for _ in range(n):
            t0 = time.perf_counter()
            subprocess.run([binary, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            lat.append(time.perf_counter() - t0)
        return statistics.median(lat)
    return (t(["--version"]), t(["-c", conf, "ticket", "list", "--status", "closed"]),
            t(["--help"], binary=LEAN))


def commit_cost(directory, n=300):
    db = os.path.join(directory, "commits.db")
    c = sqlite3.connect(db, isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("PRAGMA synchronous=FULL")
    c.execute("CREATE TABLE t (x TEXT)")
    lat = []
    for i in range(n):
        t0 = time.perf_counter()
        c.execute("BEGIN IMMEDIATE")
        c.execute("INSERT INTO t VALUES (?)", ("x" * 100,))
        c.execute("COMMIT")
        lat.append(time.perf_counter() - t0)
    c.close()
    return statistics.median(lat)


# ---- deliver

def deliver_one(conf, raw, binary=BIN):
    t0 = time.perf_counter()
    p = subprocess.run([binary, "-c", conf, "deliver", "--sender", "c@example.org",
                        "--recipient", "support@example.com"],
                       input=raw, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if p.returncode != 0:
        sys.exit(f"deliver failed with {p.returncode}")
    return time.perf_counter() - t0


def deliver_run(conf, n, concurrency, run, binary=BIN):
    msgs = [message(i, run=run) for i in range(n)]
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as ex:
        lat = list(ex.map(lambda raw: deliver_one(conf, raw, binary), msgs))
    return n / (time.perf_counter() - t0), lat


# ---- lmtpd

def start_lmtpd(conf, sock):
    p = subprocess.Popen([BIN, "-c", conf, "lmtpd", "--listen", "unix:" + sock],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(400):
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(sock)
            s.close()
            return p
        except OSError:
            time.sleep(0.05)
    sys.exit("lmtpd did not start")


def lmtp_wire(raw):
    """CRLF line ends and dot-stuffing, as an LMTP client sends data."""
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return b"".join((b"." + ln if ln.startswith(b".") else ln) + b"\r\n" for ln in lines) + b".\r\n"


def lmtp_client(sock, msgs, q):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"LHLO bench\r\n")
    while not f.readline().startswith(b"250 "):
        pass
    lat = []
    for m in msgs:
        t0 = time.perf_counter()
        # PIPELINING: the envelope and DATA in one write
        s.sendall(b"MAIL FROM:<c@example.org>\r\nRCPT TO:<support@example.com>\r\nDATA\r\n")
        replies = [f.readline() for _ in range(3)]
        if not replies[2].startswith(b"354"):
            raise SystemExit(f"lmtpd: {replies}")
        s.sendall(m)
        r = f.readline()
        if not r.startswith(b"250"):
            raise SystemExit(f"lmtpd: {r}")
        lat.append(time.perf_counter() - t0)
    s.sendall(b"QUIT\r\n")
    q.put(lat)


def lmtpd_run(conf, sock, n, conns, run):
    """n messages over conns connections at once, by the C client: Python
    client processes spent about 400 us of CPU per message on the cores
    lmtpd runs on, and capped the rate measured."""
    per = n // conns
    spool = os.path.join(os.path.dirname(sock), f"lmtp-{run}.spool")
    with open(spool, "wb") as f:
        # connection k sends messages k * per ... k * per + per - 1
        for i in range(per * conns):
            m = lmtp_wire(message(i, run=run))
            f.write(b"%d\n" % len(m) + m)
    p = subprocess.run([LOAD, "--socket", sock, "--connections", str(conns), "--spool", spool],
                       stdout=subprocess.PIPE, timeout=900)
    os.unlink(spool)
    if p.returncode != 0:
        sys.exit(f"lmtp-load failed with {p.returncode}")
    r = json.loads(p.stdout)
    return r["messages"] / r["seconds"], r["latencies"]


# ---- history

def add_history(db, n):
    """n old tickets, each with a customer message, by SQL."""
    c = sqlite3.connect(db, isolation_level=None)
    c.execute("PRAGMA synchronous=OFF")
    c.execute("BEGIN")
    gen = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
    customers = max(1, n // 4)
    c.execute(gen + "INSERT INTO customers (address, name, created) "
              "SELECT 'old' || i || '@example.net', 'Old ' || i, 1700000000 FROM n", (customers,))
    c.execute(gen + "INSERT INTO tickets (status, priority, queue, customer_id, subject, "
              "created, updated, closed_at) SELECT 'closed', 'normal', 'support', "
              "1 + i % ?, 'old question ' || i, 1700000000 + i, 1700000000 + i, 1700000000 + i "
              "FROM n", (n, customers))
    c.execute(gen + "INSERT INTO messages (ticket_id, direction, kind, message_id, from_addr, "
              "subject, body_text, date, received, sha256, size, raw) SELECT i, 'in', "
              "'customer', 'old' || i || '@example.net', 'old' || (1 + i % ?) || '@example.net', "
              "'old question ' || i, 'The printer is broken.', 1700000000 + i, 1700000000 + i, "
              "'old' || i, 200, zeroblob(200) FROM n", (n, customers))
    c.execute(gen + "INSERT INTO message_ids (message_id, ticket_id, message_row, direction) "
              "SELECT 'old' || i || '@example.net', i, i, 'in' FROM n", (n,))
    c.execute(gen + "INSERT INTO participants (ticket_id, address, role) "
              "SELECT i, 'old' || (1 + i % ?) || '@example.net', 'customer' FROM n", (n, customers))
    c.execute(gen + "INSERT INTO events (ticket_id, at, actor, what) "
              "SELECT i, 1700000000 + i, 'maildesk', 'created' FROM n", (n,))
    c.execute("COMMIT")
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()


# ---- memory

GNU_TIME = "/usr/bin/time"


def deliver_rss_kb(conf, raw, binary=BIN):
    """Peak RSS of one delivery, in KiB.  Linux carries the resident size of
    the process that forks into the child's ru_maxrss (exec keeps the
    maximum of the old memory and the new), so a Python parent's 14 MB
    hid the child's own peak: GNU time, a small C program, forks it
    instead and reports its wait4() ru_maxrss."""
    args = [binary, "-c", conf, "deliver", "--recipient", "support@example.com"]
    if os.access(GNU_TIME, os.X_OK):
        out = subprocess.run([GNU_TIME, "-f", "%M"] + args, input=raw, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, check=True)
        return int(out.stderr.split()[-1])
    print("# no /usr/bin/time (Debian package time): deliver's peak RSS is at least "
          "the Python parent's", file=sys.stderr)
    code = ("import resource,subprocess,sys;"
            f"subprocess.run({args!r},"
            "input=sys.stdin.buffer.read(),stdout=subprocess.DEVNULL,check=True);"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code], input=raw, stdout=subprocess.PIPE, check=True)
    return int(out.stdout)


def lmtpd_rss_kb(conf, sock, raw):
    p = start_lmtpd(conf, sock)
    q = mp.Queue()
    lmtp_client(sock, [lmtp_wire(raw)], q)
    q.get()
    with open(f"/proc/{p.pid}/status") as f:
        hwm = [int(ln.split()[1]) for ln in f if ln.startswith("VmHWM:")][0]
    p.terminate()
    p.wait()
    return hwm


def big_message(i, size):
    """A plain-text message of about size bytes (peak RSS rows)."""
    body = fill(EN, size)
    return (f"From: Customer <big{i}@example.org>\nTo: support@example.com\nSubject: Big {i}\n"
            f"Message-ID: <big-{i}-{time.time_ns()}@example.org>\n"
            "Date: Mon, 23 Nov 2026 10:00:00 +0200\nMIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=utf-8\n\n" + body + "\n").encode()


def main():
    rows = []
    d, conf = site()
    sizes = [len(message(i)) for i in range(5)]
    print(f"# messages: mix of 5 kinds, {min(sizes)}-{max(sizes)} bytes; deliver rows "
          f"{N_DELIVER} messages, lmtpd rows {N_LMTP}; history {HISTORY:,} tickets",
          file=sys.stderr)

    bare, start_open, lean_start = start_cost(conf)
    commit = commit_cost(d)
    proc_limit = 1 / (start_open + commit)
    fsync_limit = 1 / commit
    rows.append(row("limit: process start (--version)", 1 / bare, note=f"{bare * 1000:.1f} ms"))
    rows.append(row("limit: process start, maildesk-deliver (--help)", 1 / lean_start,
                    note=f"{lean_start * 1000:.1f} ms"))
    rows.append(row("limit: start + config + open database", 1 / start_open,
                    note=f"{start_open * 1000:.1f} ms"))
    rows.append(row("limit: single-row commit, synchronous=FULL", fsync_limit,
                    note=f"{commit * 1000:.2f} ms"))
    rows.append(row("limit: process + commit (deliver's limit)", proc_limit))

    for conc in (1, 2, 8):
        dd, cc = site()
        rate, lat = deliver_run(cc, N_DELIVER, conc, f"d{conc}")
        rows.append(row(f"deliver, {'sequential' if conc == 1 else f'{conc} concurrent'}",
                        rate, lat, proc_limit, "ratio to process + commit"))

    for conc in (1, 8):
        dd, cc = site()
        rate, lat = deliver_run(cc, N_DELIVER, conc, f"e{conc}", LEAN)
        rows.append(row(f"maildesk-deliver (no libcurl), {'sequential' if conc == 1 else f'{conc} concurrent'}",
                        rate, lat, proc_limit, "ratio to process + commit"))

    sock = os.path.join(d, "lmtp.sock")
    lmtp1 = None
    for conns in (1, 4, 16):
        dd, cc = site()
        s = os.path.join(dd, "lmtp.sock")
        p = start_lmtpd(cc, s)
        rate, lat = lmtpd_run(cc, s, N_LMTP, conns, f"l{conns}")
        p.terminate()
        p.wait()
        rows.append(row(f"lmtpd, {conns} connection{'s' if conns > 1 else ''}", rate, lat,
                        fsync_limit, "ratio to single-row commits"))
        if conns == 1:
            lmtp1 = statistics.median(lat)
    # deliver handing its message to a running lmtpd would still start a
    # process, then wait for an LMTP exchange and its commit
    est = lean_start + lmtp1
    rows.append(row("estimate: deliver relaying to lmtpd (lean start + lmtpd p50)", 1 / est,
                    note=f"{est * 1000:.1f} ms per message, sequential"))

    # the two histories in turn, three rounds: one run of each is within
    # the machine's own noise (20% between runs of the same thing here)
    ROUNDS = 3
    sites = {}
    for n in (1000, HISTORY):
        dd, cc = site()
        t0 = time.perf_counter()
        add_history(os.path.join(dd, "maildesk.db"), n)
        sites[n] = (dd, cc, time.perf_counter() - t0)
        # each round starts from the same small history; the large one
        # grows by a few thousand tickets a round, a fraction of a percent
        if n != HISTORY:
            shutil.copy(os.path.join(dd, "maildesk.db"), os.path.join(dd, "pristine.db"))
    runs = {n: ([], [], [], []) for n in sites}  # deliver lat, rates; lmtpd lat, rates
    for r in range(ROUNDS):
        for n, (dd, cc, _) in sites.items():
            if n != HISTORY:
                for suffix in ("-wal", "-shm"):
                    if os.path.exists(os.path.join(dd, "maildesk.db" + suffix)):
                        os.unlink(os.path.join(dd, "maildesk.db" + suffix))
                shutil.copy(os.path.join(dd, "pristine.db"), os.path.join(dd, "maildesk.db"))
            rate, lat = deliver_run(cc, max(1, N_DELIVER // ROUNDS), 1, f"h{n}-{r}")
            s = os.path.join(dd, "lmtp.sock")
            p = start_lmtpd(cc, s)
            lrate, llat = lmtpd_run(cc, s, N_LMTP, 4, f"hl{n}-{r}")
            p.terminate()
            p.wait()
            runs[n][0].extend(lat)
            runs[n][1].append(rate)
            runs[n][2].append(statistics.median(llat))
            runs[n][3].append(lrate)
    hist = {}
    for n, (dd, cc, gen) in sites.items():
        dlat, drates, lp50s, lrates = runs[n]
        hist[n] = (statistics.median(dlat), statistics.median(lp50s))
        rows.append(row(f"deliver, sequential, {n:,} tickets before", statistics.median(drates),
                        dlat, note=f"history made in {gen:.0f} s"))
        rows.append((f"lmtpd, 4 connections, {n:,} tickets before",
                     f"{statistics.median(lrates):,.0f} msg/s", f"{hist[n][1] * 1000:.1f} ms", "",
                     "", f"median of {ROUNDS} runs' p50"))
    rows.append(("history: p50 at {:,} / at 1,000 tickets".format(HISTORY), "", "", "", "",
                 f"deliver {hist[HISTORY][0] / hist[1000][0]:.2f}x, "
                 f"lmtpd {hist[HISTORY][1] / hist[1000][1]:.2f}x"))

    for label, size in (("10 KB", 10_000), ("1 MB", 1_000_000), ("20 MB", 20_000_000)):
        raw = big_message(size, size)
        rss = deliver_rss_kb(conf, raw)
        lean = deliver_rss_kb(conf, big_message(size + 2, size), LEAN)
        lrss = lmtpd_rss_kb(conf, sock, big_message(size + 1, size))
        rows.append((f"peak RSS, {label} message", "", "", "", "",
                     f"deliver {rss / 1024:.1f} MB, maildesk-deliver {lean / 1024:.1f} MB, "
                     f"lmtpd {lrss / 1024:.1f} MB"))

    head = ("measure", "rate", "p50", "p99", "ratio", "note")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(6)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")


if __name__ == "__main__":
    try:
        main()
    finally:
        for d in SITES:
            subprocess.run(["rm", "-rf", d])
