#!/usr/bin/python3
"""Prints a delivered message's MIME leaves as Python's email module sees them,
one JSON object per line: {"type", "charset", "cte", "text"} with the text
decoded (transfer encoding and charset); message/rfc822 parts print their
inner Content-Type instead of being entered. Used by the disclaimer tests as
an independent parser of what the gateway wrote.
"""
import email
import email.policy
import json
import sys


def leaves(part):
    if part.get_content_type() == 'message/rfc822':
        inner = part.get_payload()[0]
        yield {'type': 'message/rfc822', 'inner_type': inner.get_content_type(),
               'inner_bytes': inner.as_bytes(policy=email.policy.SMTP).decode('utf-8', 'replace')}
    elif part.is_multipart():
        for p in part.iter_parts():
            yield from leaves(p)
    else:
        text = part.get_content() if part.get_content_maintype() == 'text' else ''
        yield {'type': part.get_content_type(), 'charset': part.get_content_charset() or '',
               'cte': part.get('Content-Transfer-Encoding', ''), 'text': text}


with open(sys.argv[1], 'rb') as f:
    msg = email.message_from_binary_file(f, policy=email.policy.default)
print(json.dumps({'type': msg.get_content_type(), 'subject': msg['Subject']}))
for leaf in leaves(msg):
    print(json.dumps(leaf))
