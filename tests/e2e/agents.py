#!/usr/bin/env python3
"""Agents by email, end to end through `maildesk deliver` and the outbox:
assignment and waiting, notifications, replies written as real mail clients
write them, notes, commands, refusals, spoofed agents, the DKIM option,
status notices and the "status" question.  Every mail maildesk queues is
read back from the outbox as the bytes that would go out, and no mail to a
customer may ever hold a note's marker or our agent mail's own words.
Output is TAP."""

import email
import email.policy
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from email.message import EmailMessage
from email.utils import make_msgid, formatdate

BIN = os.environ["MAILDESK_BIN"]
SRC = os.environ["MAILDESK_SRCDIR"]
sys.path.insert(0, os.path.join(SRC, "tests", "e2e"))
sys.path.insert(0, os.path.join(SRC, "tests"))
from mailclients import reply_as  # noqa: E402
from mdsite import person_address  # noqa: E402
from tap import done, eq, result  # noqa: E402

AGENT_WORDS = [
    "##-",                                 # our cut marker
    "Please type your reply above",        # agent mail, en
    "customer never sees",                 # agent footer
    "Commands in the first lines",
    "+1-note-",                            # the note address
]
NOTE_MARKERS = []  # every note's unique text, added as the test writes them


class Site:
    def __init__(self, extra="", agents=None, dkim=False):
        self.dir = tempfile.mkdtemp(prefix="maildesk-agents-")
        self.conf = os.path.join(self.dir, "maildesk.conf")
        self.db = os.path.join(self.dir, "maildesk.db")
        agents = agents if agents is not None else DEFAULT_AGENTS
        with open(self.conf, "w") as f:
            f.write(f"""[maildesk]
database = maildesk.db
secret_file = secret
hostname = help.example.com
templates = {SRC}/templates
site_name = Example Support
send_after_deliver = no
[limits]
autoreply_per_hour = 100
[queue support]
address = support@example.com
lead = lead@example.com
[queue billing]
address = billing@example.com
""")
            if dkim:
                f.write("[agents]\nrequire_dkim = true\nauthserv_id = mx.example.com\n")
            f.write(agents)
            f.write(extra)
        subprocess.run([BIN, "-c", self.conf, "init"], check=True, stdout=subprocess.DEVNULL)
        self.db_conn = sqlite3.connect(self.db)
        self.seen_outbox = 0

    def close(self):
        self.db_conn.close()
        shutil.rmtree(self.dir)

    def deliver(self, msg, recipient, sender=None):
        data = msg.as_bytes() if isinstance(msg, EmailMessage) else msg
        args = [BIN, "-c", self.conf, "deliver", "--recipient", recipient]
        if sender is not None:
            args += ["--sender", sender]
        p = subprocess.run(args, input=data, capture_output=True)
        return p.returncode

    def sql(self, q, *a):
        return self.db_conn.execute(q, a).fetchall()

    def one(self, q, *a):
        rows = self.sql(q, *a)
        return rows[0][0] if rows else None

    def new_mail(self):
        """Outbox rows added since the last call, parsed."""
        rows = self.sql("SELECT id, kind, rcpts, raw FROM outbox WHERE id > ? ORDER BY id",
                        self.seen_outbox)
        out = []
        for rid, kind, rcpts, raw in rows:
            self.seen_outbox = rid
            m = email.message_from_bytes(raw, policy=email.policy.default)
            out.append(Mail(kind, rcpts, m, raw))
        return out

    def ticket(self, tid):
        p = subprocess.run([BIN, "-c", self.conf, "ticket", "show", str(tid), "--json"],
                           capture_output=True, check=True)
        return json.loads(p.stdout)

    def agents(self):
        p = subprocess.run([BIN, "-c", self.conf, "agent", "list", "--json"],
                           capture_output=True, check=True)
        return {a["name"]: a for a in json.loads(p.stdout)}


class Mail:
    def __init__(self, kind, rcpts, msg, raw):
        self.kind = kind
        self.rcpts = [r.strip() for r in rcpts.split(",")]
        self.msg = msg
        self.raw = raw
        body = msg.get_body(preferencelist=("plain",))
        self.text = body.get_content() if body is not None else ""
        html = msg.get_body(preferencelist=("html",))
        self.html = html.get_content() if html is not None else ""

    def h(self, name):
        v = self.msg.get(name)
        return str(v) if v is not None else None

    def addr(self, name):
        v = self.msg.get(name)
        return v.addresses[0].addr_spec if v is not None and v.addresses else None


DEFAULT_AGENTS = """[agent alice]
address = alice@example.com
name = Alice Example
queues = support
max_open = 2
timezone = Europe/Riga
[agent bob]
address = bob@example.com
name = Bob Example
queues = support
max_open = 2
[agent carol]
address = carol@example.com
name = Carol Example
queues = support
max_open = 2
lead = true
[agent dave]
address = dave@example.com
name = Dave Example
queues = billing
max_open = 5
"""


def customer_mail(subject, text, frm="Jane Customer <jane@customer.test>", cc=None,
                  to="support@example.com"):
    m = EmailMessage()
    m["From"] = frm
    m["To"] = to
    if cc:
        m["Cc"] = cc
    m["Subject"] = subject
    m["Date"] = formatdate(localtime=False)
    m["Message-ID"] = make_msgid(domain="customer.test")
    m.set_content(text)
    return m


def agent_mail(agent_from, to, text, subject="Re: [#1] ticket", attach=None, headers=None):
    m = EmailMessage()
    m["From"] = agent_from
    m["To"] = to
    m["Subject"] = subject
    m["Date"] = formatdate(localtime=False)
    m["Message-ID"] = make_msgid(domain="example.com")
    for k, v in (headers or {}).items():
        m[k] = v
    m.set_content(text)
    return m


def only(mails, kind, rcpt=None):
    got = [x for x in mails if x.kind == kind and (rcpt is None or rcpt in x.rcpts)]
    return got[0] if len(got) == 1 else None


def customer_mail_leaks(site):
    """No mail to anyone but an agent carries agent-only words or a note."""
    bad = []
    agents = {"alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"}
    for kind, rcpts, raw in site.sql("SELECT kind, rcpts, raw FROM outbox"):
        to = {r.strip() for r in rcpts.split(",")}
        if to & agents:
            continue
        m = email.message_from_bytes(raw, policy=email.policy.default)
        parts = [p.get_content() for p in m.walk() if p.get_content_maintype() == "text"]
        text = "\n".join(parts)
        for w in AGENT_WORDS + NOTE_MARKERS:
            if w in text or w in str(m["Subject"]):
                bad.append(f"{kind} to {rcpts}: {w!r}")
    return bad


def test_flow():
    s = Site()
    try:
        # ---- a customer writes: ack, and the fairest agent is told ----
        q = customer_mail("Printer on fire", "My printer is on fire.\nPlease help.",
                          cc="Colleague <colleague@customer.test>")
        eq("new ticket delivered", s.deliver(q, "support@example.com"), 0)
        mails = s.new_mail()
        eq("ack and one agent mail", sorted(x.kind for x in mails), ["ack", "agent-assigned"])
        note = only(mails, "agent-assigned", "alice@example.com")
        result(note is not None, "ticket 1 goes to the first of three idle agents (alice)")
        eq("assignee stored", s.one("SELECT assignee FROM tickets WHERE id=1"), "alice@example.com")
        result("Printer on fire" in note.h("Subject") and "[#1]" in note.h("Subject"),
               "agent mail subject has the tag and the subject")
        result(note.h("Reply-To").startswith("support+1-agent-"), "agent mail Reply-To is the ticket's agent address")
        result("support+1-note-" in note.text, "agent mail shows the note address")
        result("My printer is on fire." in note.text, "agent mail carries the customer's text")
        result("(UTC+02:00)" in note.text, "the ETA is in the agent's time zone (Riga in winter)")
        for word in ("Jane Customer", "jane@customer.test", "Printer on fire"):
            result(word in note.text, f"agent mail shows {word}")
        result("<t1.agents@help.example.com>" in (note.h("References") or ""),
               "agent mail is threaded under the ticket's agent thread")
        eq("agent mail In-Reply-To", note.h("In-Reply-To"), "<t1.agents@help.example.com>")
        eq("agent mail is auto-generated", note.h("Auto-Submitted"), "auto-generated")
        audience = s.one("SELECT audience FROM messages WHERE direction='out' AND to_addrs='alice@example.com'")
        eq("agent mail is stored for agents only", audience, "agents")

        # ---- replies as three (six) mail clients write them ----
        clients = [("outlook", "Have you tried turning it off?"),
                   ("outlook-om", "The fire brigade is informed."),
                   ("gmail", "Please unplug it first."),
                   ("thunderbird", "A technician is on the way."),
                   ("apple", "Keep a safe distance, please."),
                   ("outlook-html", "We have ordered a new printer for you."),
                   ("mutt-ru", "Мы уже выехали."),
                   ("lv", "Mēs jau braucam.")]
        cust_msgid = q["Message-ID"]
        for client, text in clients:
            r = reply_as(client, "Alice Example <alice@example.com>", note, text)
            eq(f"{client}: agent reply delivered", s.deliver(r, note.h("Reply-To")), 0)
            mails = s.new_mail()
            out = only(mails, "reply")
            result(out is not None, f"{client}: one reply to the customer")
            if out is None:
                continue
            eq(f"{client}: reply goes to the customer", out.addr("To"), "jane@customer.test")
            result("colleague@customer.test" in (out.h("Cc") or ""), f"{client}: the customer's Cc is copied")
            result("alice@example.com" not in out.rcpts and "alice" not in (out.h("Cc") or ""),
                   f"{client}: no agent copied on the customer mail")
            eq(f"{client}: From is the support address", out.addr("From"), "support@example.com")
            result("Alice Example via Example Support" in out.h("From"), f"{client}: From names the agent")
            result(out.h("Reply-To").startswith("support+1-"), f"{client}: Reply-To the signed address")
            result(cust_msgid in (out.h("References") or ""), f"{client}: threaded to the customer's message")
            eq(f"{client}: In-Reply-To the customer's message", out.h("In-Reply-To"), cust_msgid)
            result(text in out.text, f"{client}: the reply text is there")
            result(text in out.html, f"{client}: the reply text is in the HTML part too")
            leaked = [w for w in ["My printer is on fire", "##-", "wrote:", "пишет:", "rakstīja:",
                                  "Sent:", "From:", "ticket address", "Commands"] if w in out.text]
            eq(f"{client}: no quoted history or agent text in the reply", leaked, [])
            eq(f"{client}: a person's reply is not auto-submitted", out.h("Auto-Submitted"), None)
        eq("the ticket is open after the first reply", s.one("SELECT status FROM tickets WHERE id=1"), "open")
        eq("agent's own mails are stored for agents only",
           s.one("SELECT count(*) FROM messages WHERE kind='reply' AND direction='in' AND audience='agents'"), 8)

        # ---- attachments are carried over ----
        r = reply_as("thunderbird", "alice@example.com", note, "The manual is attached.",
                     attach=("manual.pdf", b"%PDF-1.4 fake manual \x00\xff bytes"))
        s.deliver(r, note.h("Reply-To"))
        out = only(s.new_mail(), "reply")
        atts = [p for p in out.msg.iter_attachments()] if out else []
        eq("attachment carried to the customer", [(p.get_filename(), p.get_content()) for p in atts],
           [("manual.pdf", b"%PDF-1.4 fake manual \x00\xff bytes")])

        # ---- the customer answers: the assignee gets the new text only ----
        c2 = customer_mail("Re: [#1] Printer on fire", "It is out now, thanks!\n\n"
                           "On Mon, Example Support wrote:\n> Have you tried turning it off?\n")
        c2["In-Reply-To"] = out.h("Message-ID")
        eq("customer reply delivered", s.deliver(c2, out.h("Reply-To")), 0)
        mails = s.new_mail()
        told = only(mails, "agent-customer-replied", "alice@example.com")
        result(told is not None and "It is out now" in told.text, "the assignee gets the customer's reply")
        result(told is not None and "Have you tried" not in told.text.split("##-")[1] if told else False,
               "the customer's quote is not passed on")
        eq("no mail to the customer for their own reply", [x.kind for x in mails if "jane@customer.test" in x.rcpts], [])

        # ---- internal notes: note address and #note; only agents hear ----
        marker1 = "NOTE-MARKER-7f3a9c"
        marker2 = "NOTE-MARKER-b41d02"
        NOTE_MARKERS.extend([marker1, marker2])
        # the note address is issued to each agent: alice's is in her mail, bob
        # writes through his own (as in any ticket mail he got)
        note_addr = person_address(os.path.join(s.dir, "secret"), "support@example.com", 1, "note",
                                   "bob@example.com")
        # bob writes on the ticket first so that he counts as one of its agents
        r = agent_mail("Bob Example <bob@example.com>", note_addr, f"Bob's view: {marker1}")
        eq("note to the note address delivered", s.deliver(r, note_addr), 0)
        mails = s.new_mail()
        eq("a note reaches the assignee only (not its author, not the customer)",
           [(x.kind, x.rcpts) for x in mails], [("agent-note", ["alice@example.com"])])
        result(mails and marker1 in mails[0].text, "the note's text is in the agent mail")
        r = agent_mail("alice@example.com", note.h("Reply-To"), f"#note\nCustomer sounds upset. {marker2}")
        s.deliver(r, note.h("Reply-To"))
        mails = s.new_mail()
        eq("#note goes to the other agent who wrote (bob)", [(x.kind, x.rcpts) for x in mails],
           [("agent-note", ["bob@example.com"])])
        eq("notes are stored as notes", s.one("SELECT count(*) FROM messages WHERE kind='note' AND audience='agents'"), 2)

        # ---- commands ----
        r = agent_mail("alice@example.com", note.h("Reply-To"),
                       "#status pending\n#priority high\n#eta +3d\n\nCould you send a photo of the printer?")
        s.deliver(r, note.h("Reply-To"))
        mails = s.new_mail()
        eq("commands with text: one reply, no separate notice", [x.kind for x in mails], ["reply"])
        t = s.ticket(1)
        eq("status applied", t["status"], "pending")
        eq("priority applied", t["priority"], "high")
        result(mails and "#status" not in mails[0].text and "Could you send a photo" in mails[0].text,
               "the commands are not in the customer's mail, the text is")
        result(mails and "waiting for your answer" in mails[0].text, "the reply states the new status")
        ev = s.sql("SELECT actor, what, old_value, new_value FROM events WHERE ticket_id=1 AND what IN ('status','priority') ORDER BY id")
        result(("alice@example.com", "status", "open", "pending") in ev and
               ("alice@example.com", "priority", "normal", "high") in ev, "each change is an event with who, old and new")
        result(s.one("SELECT count(*) FROM events WHERE ticket_id=1 AND what='eta' AND actor='alice@example.com'") == 1,
               "the ETA change is an event")

        before = s.sql("SELECT status, priority, assignee, queue, eta FROM tickets WHERE id=1")
        r = agent_mail("alice@example.com", note.h("Reply-To"),
                       "#priority urgent\n#status done\n\nThis must not reach the customer.")
        s.deliver(r, note.h("Reply-To"))
        mails = s.new_mail()
        eq("a refused command: only the agent hears", [(x.kind, x.rcpts) for x in mails],
           [("agent-refused", ["alice@example.com"])])
        result(mails and "done" in mails[0].text, "the refusal names the bad command")
        eq("nothing applied (all or none)", s.sql("SELECT status, priority, assignee, queue, eta FROM tickets WHERE id=1"), before)
        NOTE_MARKERS.append("This must not reach the customer.")

        for text, why in [("#assign nobody\nhello", "unknown agent"), ("#frobnicate\nhello", "unknown command"),
                          ("#queue nowhere\nhello", "unknown queue")]:
            s.deliver(agent_mail("alice@example.com", note.h("Reply-To"), text), note.h("Reply-To"))
            mails = s.new_mail()
            eq(f"refused: {why}", [x.kind for x in mails], ["agent-refused"])

        # the agent's out-of-office answering our mail: kept, never relayed
        ooo = agent_mail("alice@example.com", note.h("Reply-To"), "I am out of the office until Monday. OOO-MARKER",
                         subject="Automatic reply: " + note.h("Subject"), headers={"Auto-Submitted": "auto-replied"})
        eq("an agent's auto-reply is delivered", s.deliver(ooo, note.h("Reply-To")), 0)
        eq("an agent's auto-reply sends nothing", [x.kind for x in s.new_mail()], [])
        eq("and is kept for agents only", s.one("SELECT kind || ' ' || audience FROM messages WHERE body_text LIKE '%OOO-MARKER%'"),
           "note agents")
        NOTE_MARKERS.append("OOO-MARKER")

        # an answer written below the quote is refused, not lost in silence
        bottom = agent_mail("alice@example.com", note.h("Reply-To"),
                            "On Mon, Example Support wrote:\n> " + "\n> ".join(note.text.splitlines()) +
                            "\n\nBOTTOM-POSTED answer")
        s.deliver(bottom, note.h("Reply-To"))
        mails = s.new_mail()
        eq("a bottom-posted answer: only the agent hears", [(x.kind, x.rcpts) for x in mails],
           [("agent-refused", ["alice@example.com"])])
        result(mails and "below the quoted mail" in mails[0].text, "the refusal says why")
        NOTE_MARKERS.append("BOTTOM-POSTED")

        # a status change alone: the customer gets a notice
        s.deliver(agent_mail("alice@example.com", note.h("Reply-To"), "#status solved"), note.h("Reply-To"))
        mails = s.new_mail()
        notice = only(mails, "notice", "jane@customer.test")
        result(notice is not None and "solved" in notice.text.lower(), "solved: the customer gets a notice")
        eq("solved", s.one("SELECT status FROM tickets WHERE id=1"), "solved")

        # the customer writes again: reopened, notice, the assignee hears
        c3 = customer_mail("Re: [#1] Printer on fire", "It is burning again!")
        eq("customer reopens", s.deliver(c3, out.h("Reply-To")), 0)
        mails = s.new_mail()
        eq("reopened", s.one("SELECT status FROM tickets WHERE id=1"), "open")
        result(only(mails, "notice", "jane@customer.test") is not None, "reopened: the customer gets a notice")
        result(only(mails, "agent-customer-replied", "alice@example.com") is not None, "reopened: the assignee hears")

        # ---- spoofed agents change nothing ----
        status_before = s.sql("SELECT status, priority, assignee FROM tickets WHERE id=1")
        wrong_mac = note.h("Reply-To").replace("support+1-", "support+1-0")[:-1]
        other_ticket_q = customer_mail("Another thing", "Second question")
        s.deliver(other_ticket_q, "support@example.com")
        s.new_mail()
        t2_reply = s.sql("SELECT rcpts, raw FROM outbox WHERE kind='ack' ORDER BY id DESC LIMIT 1")
        t2_addr = email.message_from_bytes(t2_reply[0][1], policy=email.policy.default)["Reply-To"].addresses[0].addr_spec
        other_mac = "support+1-" + t2_addr.split("-", 1)[1]  # ticket 2's mac on ticket 1
        n_tickets = s.one("SELECT count(*) FROM tickets")
        ack1 = s.sql("SELECT raw FROM outbox WHERE kind='ack' AND ticket_id=1")[0][0]
        cust_addr = email.message_from_bytes(ack1, policy=email.policy.default)["Reply-To"].addresses[0].addr_spec
        for where, rcpt, extra in [("the customer's own reply address", cust_addr, {}),
                                   ("no token", "support@example.com", {"In-Reply-To": cust_msgid}),
                                   ("a wrong mac", wrong_mac, {"In-Reply-To": cust_msgid}),
                                   ("another ticket's mac", other_mac, {"In-Reply-To": cust_msgid})]:
            marker = f"SPOOF-{len(NOTE_MARKERS)}"
            NOTE_MARKERS.append(marker)
            r = agent_mail("Alice Example <alice@example.com>", rcpt,
                           f"#status closed\n#assign bob\n\nFree upgrade for everyone! {marker}", headers=extra)
            eq(f"spoof ({where}) delivered", s.deliver(r, rcpt), 0)
            mails = s.new_mail()
            eq(f"spoof ({where}): no command applied", s.sql("SELECT status, priority, assignee FROM tickets WHERE id=1"), status_before)
            eq(f"spoof ({where}): nothing to the customer", [x.kind for x in mails if "jane@customer.test" in x.rcpts], [])
            kind = s.one("SELECT kind FROM messages WHERE body_text LIKE ?", f"%{marker}%")
            eq(f"spoof ({where}): stored as a customer message", kind, "customer")
            warned = only(mails, "agent-unverified", "alice@example.com")
            result(warned is not None, f"spoof ({where}): the assignee is told")
        eq("spoofed mail threaded into ticket 1 made no ticket", s.one("SELECT count(*) FROM tickets"), n_tickets)
        eq("ticket 1 is flagged", s.one("SELECT needs_attention FROM tickets WHERE id=1"), 1)

        # ---- reassignment and queue moves ----
        s.deliver(agent_mail("alice@example.com", note.h("Reply-To"), "#assign carol"), note.h("Reply-To"))
        mails = s.new_mail()
        eq("#assign carol: carol is told", [(x.kind, x.rcpts) for x in mails], [("agent-assigned", ["carol@example.com"])])
        eq("assignee is carol", s.one("SELECT assignee FROM tickets WHERE id=1"), "carol@example.com")
        carol1 = only(mails, "agent-assigned", "carol@example.com")
        s.deliver(agent_mail("carol@example.com", carol1.h("Reply-To"), "#queue billing"), carol1.h("Reply-To"))
        mails = s.new_mail()
        eq("#queue billing: the billing agent gets it", [(x.kind, x.rcpts) for x in mails], [("agent-assigned", ["dave@example.com"])])
        eq("queue moved", s.one("SELECT queue FROM tickets WHERE id=1"), "billing")

        # ---- "status" from a customer ----
        # ticket 2 waits for the customer: its ETA is not promised
        a2 = s.sql("SELECT rcpts, raw FROM outbox WHERE kind='agent-assigned' AND ticket_id=2")[0]
        a2_rt = email.message_from_bytes(a2[1], policy=email.policy.default)["Reply-To"].addresses[0].addr_spec
        s.deliver(agent_mail(a2[0], a2_rt, "#status pending"), a2_rt)
        mails = s.new_mail()
        eq("pending without a reply: the customer gets the pending notice",
           [(x.kind, x.rcpts) for x in mails], [("notice", ["jane@customer.test"])])
        result(mails and "[#2]" in mails[0].h("Subject") and "Expected resolution" not in mails[0].text,
               "the pending notice is about ticket 2 and promises no ETA")
        n_tickets = s.one("SELECT count(*) FROM tickets")
        st = customer_mail("status", "")
        st.set_content("status\n")
        eq("status question delivered", s.deliver(st, "support@example.com"), 0)
        mails = s.new_mail()
        lst = only(mails, "status-list", "jane@customer.test")
        result(lst is not None and "[#1]" in lst.text and "[#2]" in lst.text, "the status answer lists both tickets")
        result(lst is not None and "Printer on fire" in lst.text, "with their subjects")
        if lst is not None:
            t1_part, t2_part = lst.text.split("[#1]")[1].split("[#2]")
            result("Expected resolution" in t1_part and "Expected resolution" not in t2_part.split("\n\n")[0],
                   "an open ticket's ETA is listed, a pending one's is not")
        eq("no new ticket for a status question", s.one("SELECT count(*) FROM tickets"), n_tickets)
        eq("the question is kept", s.one("SELECT count(*) FROM requests WHERE kind='status'"), 1)
        eq("delivered twice: still one", (s.deliver(st, "support@example.com"), s.one("SELECT count(*) FROM requests")), (0, 1))
        st2 = customer_mail("Status", "Where is my order 4711? It was due yesterday.")
        s.deliver(st2, "support@example.com")
        eq("a question under a Status subject opens a ticket", s.one("SELECT count(*) FROM tickets"), n_tickets + 1)
        s.new_mail()

        eq("no customer mail holds agent words or notes", customer_mail_leaks(s), [])
    finally:
        s.close()


def test_fair_assignment():
    s = Site()
    try:
        ids = []
        for i in range(8):
            q = customer_mail(f"Question {i + 1}", f"Text of question {i + 1}",
                              frm=f"c{i}@customer.test")
            s.deliver(q, "support@example.com")
        mails = s.new_mail()
        got = s.sql("SELECT id, assignee FROM tickets ORDER BY id")
        eq("six tickets assigned round-robin, two wait", got,
           [(1, "alice@example.com"), (2, "bob@example.com"), (3, "carol@example.com"),
            (4, "alice@example.com"), (5, "bob@example.com"), (6, "carol@example.com"),
            (7, None), (8, None)])
        assigned = sorted((x.rcpts[0], x.h("Subject")) for x in mails if x.kind == "agent-assigned")
        eq("six assigned mails", len(assigned), 6)
        waiting = [x for x in mails if x.kind == "agent-waiting"]
        eq("each waiting ticket is announced once to each of the three agents",
           sorted((x.h("Subject"), x.rcpts[0]) for x in waiting),
           sorted((f"[#{t}] Question {t}", a) for t in (7, 8)
                  for a in ("alice@example.com", "bob@example.com", "carol@example.com")))
        ag = s.agents()
        eq("agent list: open counts", [(k, ag[k]["open"], ag[k]["capacity"]) for k in ("alice", "bob", "carol")],
           [("alice", 2, 0), ("bob", 2, 0), ("carol", 2, 0)])
        eq("agent list: bob's tickets", ag["bob"]["tickets"], [2, 5])

        # nobody at the cap gets more: #assign and #take are refused
        t1 = [x for x in mails if x.kind == "agent-assigned" and "[#1]" in x.h("Subject")][0]
        w8 = [x for x in waiting if "[#8]" in x.h("Subject") and "carol@example.com" in x.rcpts][0]
        s.deliver(agent_mail("alice@example.com", t1.h("Reply-To"), "#assign bob"), t1.h("Reply-To"))
        eq("#assign to an agent at the cap is refused", [x.kind for x in s.new_mail()], ["agent-refused"])
        s.deliver(agent_mail("carol@example.com", w8.h("Reply-To"), "#take"), w8.h("Reply-To"))
        eq("#take at the cap is refused", [x.kind for x in s.new_mail()], ["agent-refused"])
        eq("ticket 8 still waits", s.one("SELECT assignee FROM tickets WHERE id=8"), None)
        # ticket 8 becomes more urgent than 7, which waited longer
        s.deliver(agent_mail("carol@example.com", w8.h("Reply-To"), "#priority high"), w8.h("Reply-To"))
        s.new_mail()

        # bob solves ticket 2: he gets the waiting ticket of the highest priority
        t2 = [x for x in mails if x.kind == "agent-assigned" and "[#2]" in x.h("Subject")][0]
        s.deliver(agent_mail("bob@example.com", t2.h("Reply-To"), "#status solved\n\nAll done, thanks for your patience."),
                  t2.h("Reply-To"))
        m2 = s.new_mail()
        eq("solving hands the high-priority ticket 8 to bob", s.one("SELECT assignee FROM tickets WHERE id=8"), "bob@example.com")
        result(only(m2, "agent-assigned", "bob@example.com") is not None and
               "[#8]" in only(m2, "agent-assigned", "bob@example.com").h("Subject"), "bob gets the assigned mail for #8")
        result(only(m2, "reply", "c1@customer.test") is not None, "the customer of #2 gets bob's reply")
        eq("ticket 7 still waits", s.one("SELECT assignee FROM tickets WHERE id=7"), None)
        # carol hands ticket 3 to nobody at the cap... she closes it: 7 goes to her
        t3 = [x for x in mails if x.kind == "agent-assigned" and "[#3]" in x.h("Subject")][0]
        s.deliver(agent_mail("carol@example.com", t3.h("Reply-To"), "#status closed"), t3.h("Reply-To"))
        m3 = s.new_mail()
        eq("closing hands ticket 7 to carol", s.one("SELECT assignee FROM tickets WHERE id=7"), "carol@example.com")
        result(only(m3, "notice", "c2@customer.test") is not None, "the customer of #3 gets a closed notice")
        over = s.sql("SELECT assignee, count(*) FROM tickets WHERE status NOT IN ('solved','closed') "
                     "AND assignee IS NOT NULL GROUP BY assignee HAVING count(*) > 2")
        eq("no agent above max_open", over, [])
    finally:
        s.close()


def test_dkim():
    s = Site(dkim=True)
    try:
        q = customer_mail("Need help", "Hello")
        s.deliver(q, "support@example.com")
        note = only(s.new_mail(), "agent-assigned")
        r = agent_mail("alice@example.com", note.h("Reply-To"), "Reply without DKIM.")
        s.deliver(r, note.h("Reply-To"))
        mails = s.new_mail()
        eq("DKIM required, none: not relayed, the assignee is warned", [x.kind for x in mails], ["agent-unverified"])
        r = agent_mail("alice@example.com", note.h("Reply-To"), "Reply with a forged verdict.",
                       headers={"Authentication-Results": "mx.evil.test; dkim=pass header.d=example.com"})
        s.deliver(r, note.h("Reply-To"))
        eq("DKIM pass from someone else's authserv-id: not relayed",
           [x.kind for x in s.new_mail()], ["agent-unverified"])
        r = agent_mail("alice@example.com", note.h("Reply-To"), "Reply with DKIM.",
                       headers={"Authentication-Results": "mx.example.com; dkim=pass header.d=example.com"})
        s.deliver(r, note.h("Reply-To"))
        eq("DKIM pass from our authserv-id: relayed", [x.kind for x in s.new_mail()], ["reply"])
    finally:
        s.close()


def main():
    test_flow()
    test_fair_assignment()
    test_dkim()
    return done()


if __name__ == "__main__":
    sys.exit(main())
