#!/usr/bin/python3
"""Compares an original and a link-rewritten message with Python's email package.

Usage: compare_parts.py ORIGINAL REWRITTEN PUBLIC_URL
Every MIME part must have the same headers and the same decoded content, except
that in text parts each signed link may stand where its original URL stood.
Exit 0 when so; otherwise prints the first difference and exits 1.
"""
import email
import re
import sys
import urllib.parse


def restore(text, public_url, html):
    pattern = re.compile(re.escape(public_url) + r"/v1/l\?[^\"'<>\s]*[A-Za-z0-9_-]")

    def original(match):
        link = match.group(0).replace("&amp;", "&") if html else match.group(0)
        params = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query, keep_blank_values=True)
        url = params["u"][0]
        return url.replace("&", "&amp;") if html else url

    return pattern.sub(original, text).replace("http://www.", "www.")


def leaves(msg):
    return [part for part in msg.walk() if not part.is_multipart()]


def main():
    original = email.message_from_bytes(open(sys.argv[1], "rb").read())
    rewritten = email.message_from_bytes(open(sys.argv[2], "rb").read())
    public_url = sys.argv[3]
    a, b = list(original.walk()), list(rewritten.walk())
    if len(a) != len(b):
        print(f"part count differs: {len(a)} vs {len(b)}")
        return 1
    for index, (x, y) in enumerate(zip(a, b)):
        if x.items() != y.items():
            print(f"part {index}: headers differ: {x.items()} vs {y.items()}")
            return 1
        if x.is_multipart() or x.get_content_type() == "message/rfc822":
            continue
        px, py = x.get_payload(decode=True) or b"", y.get_payload(decode=True) or b""
        if x.get_content_type() in ("text/plain", "text/html") and x.get_content_disposition() != "attachment":
            tx = px.decode("latin-1").replace("http://www.", "www.")
            ty = restore(py.decode("latin-1"), public_url, x.get_content_type() == "text/html")
            if tx != ty:
                print(f"part {index} ({x.get_content_type()}): text differs\n--- original\n{tx}\n--- restored\n{ty}")
                return 1
        elif px != py:
            print(f"part {index} ({x.get_content_type()}): content differs")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
