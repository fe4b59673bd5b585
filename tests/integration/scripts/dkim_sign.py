#!/usr/bin/python3
# Signs stdin with dkimpy (relaxed/relaxed) and writes the signed message to stdout.
# Usage: dkim_sign.py PRIVATE_KEY_PEM DOMAIN SELECTOR
import sys, dkim
key = open(sys.argv[1], "rb").read()
msg = sys.stdin.buffer.read()
sig = dkim.sign(msg, sys.argv[3].encode(), sys.argv[2].encode(), key,
                canonicalize=(b"relaxed", b"relaxed"), include_headers=[b"from", b"to", b"subject"])
sys.stdout.buffer.write(sig + msg)
