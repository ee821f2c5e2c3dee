#!/usr/bin/env python3
"""Reads the messages Postfix's smtp-sink dumped into a directory and
prints one JSON object per message: envelope, headers, decoded text.
Used by the shell tests to assert on what went out over SMTP."""
import email
import email.policy
import json
import os
import sys

out = []
for root, _, names in os.walk(sys.argv[1]):
    for name in sorted(names):
        with open(os.path.join(root, name), "rb") as f:
            data = f.read()
        msg = email.message_from_bytes(data, policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        out.append({
            "file": name,
            "mail_from": str(msg.get("X-Mail-Args", "")),
            "rcpt_to": str(msg.get("X-Rcpt-Args", "")),
            "headers": {k.lower(): str(v) for k, v in msg.items()},
            "header_names": [k.lower() for k in msg.keys()],
            "text": body.get_content() if body is not None else "",
            "raw_is_7bit": all(b < 128 for b in data),
        })
json.dump(out, sys.stdout, ensure_ascii=False)
