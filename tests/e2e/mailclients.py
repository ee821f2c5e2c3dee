#!/usr/bin/env python3
"""Replies to a maildesk agent mail composed the way real mail clients
compose them: their quote headers, quote prefixes and HTML, as in the
corpus replies (../shared/corpus/replies).  Used by tests/e2e/agents.py and,
as a command, by tests/e2e/postfix.sh:

    mailclients.py CLIENT FROM NOTIFICATION.eml TEXT > reply.eml
"""
import email
import email.policy
import sys
from email.message import EmailMessage
from email.utils import make_msgid, formatdate

CLIENTS = ["outlook", "outlook-om", "gmail", "thunderbird", "apple", "outlook-html", "mutt-ru",
           "lv"]


def quoted(text, prefix="> "):
    return "\n".join(prefix + line if line else prefix.rstrip() for line in text.splitlines())


def reply_as(client, agent_from, notification, text, attach=None):
    """A reply to notification (anything with .h(name) and .text) as the
    named client composes it."""
    m = EmailMessage()
    m["From"] = agent_from
    m["To"] = notification.h("Reply-To")
    m["Subject"] = ("RE: " if client.startswith("outlook") else "Re: ") + notification.h("Subject")
    m["Date"] = formatdate(localtime=True)
    m["Message-ID"] = make_msgid(domain="example.com")
    m["In-Reply-To"] = notification.h("Message-ID")
    m["References"] = (notification.h("References") or "") + " " + notification.h("Message-ID")
    orig = notification.text
    sender = notification.h("From")
    if client == "outlook":
        # Outlook desktop: no quote prefix, a From/Sent block, "top posting"
        body = (f"{text}\n\n________________________________\nFrom: {sender}\n"
                f"Sent: Monday, November 23, 2026 10:00 AM\nTo: Alice Example\n"
                f"Subject: {notification.h('Subject')}\n\n{orig}")
        m.set_content(body)
    elif client == "outlook-om":
        # older Outlook and Outlook Express: "-----Original Message-----"
        body = (f"{text}\n\n-----Original Message-----\nFrom: {sender}\n"
                f"Sent: Monday, November 23, 2026 10:00 AM\nTo: Alice Example\n"
                f"Subject: {notification.h('Subject')}\n\n{orig}")
        m.set_content(body)
    elif client == "apple":
        # Apple Mail: the attribution on its own line, a blank quoted line
        body = (f"{text}\n\n> On 23 Nov 2026, at 10:00, {sender} wrote:\n> \n"
                f"{quoted(orig)}\n")
        m.set_content(body)
    elif client == "gmail":
        body = (f"{text}\n\nOn Mon, Nov 23, 2026 at 10:00 AM {sender} <\n"
                f"support@example.com> wrote:\n\n{quoted(orig)}\n")
        m.set_content(body)
    elif client == "thunderbird":
        body = f"{text}\n\nOn 23/11/2026 10:00, {sender} wrote:\n{quoted(orig)}\n"
        m.set_content(body)
    elif client == "outlook-html":
        # Outlook on the web, HTML only, the quote in a divRplyFwdMsg block
        html = (f"<html><body><div>{text.replace(chr(10), '<br>')}</div>"
                f"<hr><div id=\"divRplyFwdMsg\"><b>From:</b> {sender}<br>"
                f"<b>Sent:</b> Monday, November 23, 2026 10:00<br><b>To:</b> Alice<br>"
                f"<b>Subject:</b> {notification.h('Subject')}</div>"
                f"<div>{orig.replace(chr(10), '<br>')}</div></body></html>")
        m.set_content(html, subtype="html")
    elif client == "mutt-ru":
        body = f"{text}\n\n23.11.2026 10:00, {sender} пишет:\n{quoted(orig)}\n"
        m.set_content(body)
    elif client == "lv":
        body = f"{text}\n\n2026. gada 23. nov. 10:00 {sender} rakstīja:\n{quoted(orig)}\n"
        m.set_content(body)
    else:
        m.set_content(text)
    if attach is not None:
        name, data = attach
        m.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return m



class _Note:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.msg = email.message_from_binary_file(f, policy=email.policy.default)
        body = self.msg.get_body(preferencelist=("plain",))
        self.text = body.get_content() if body is not None else ""

    def h(self, name):
        v = self.msg.get(name)
        return " ".join(str(v).split()) if v is not None else None


if __name__ == "__main__":
    client, frm, path, text = sys.argv[1:5]
    sys.stdout.buffer.write(reply_as(client, frm, _Note(path), text).as_bytes())
