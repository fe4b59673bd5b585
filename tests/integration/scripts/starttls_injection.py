#!/usr/bin/python3
# STARTTLS command injection (CVE-2011-0411 class): a command pipelined after
# STARTTLS in the same packet must be discarded, not executed inside TLS.
# Usage: starttls_injection.py HOST PORT CA_FILE ; exit 0 when the server is safe.
import socket, ssl, sys

host, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def reply(f):
    lines = []
    while True:
        line = f.readline()
        if not line:
            return lines
        lines.append(line.decode(errors="replace").rstrip("\r\n"))
        if len(line) < 4 or line[3:4] == b" ":
            return lines

s = socket.create_connection((host, port), timeout=10)
f = s.makefile("rb")
reply(f)
s.sendall(b"EHLO attacker.test\r\n")
reply(f)
s.sendall(b"STARTTLS\r\nMAIL FROM:<injected@attacker.test>\r\n")
r = reply(f)
if not r or not r[-1].startswith("220"):
    print("no 220 to STARTTLS:", r); sys.exit(2)
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False
t = ctx.wrap_socket(s, server_hostname="mx.test")
tf = t.makefile("rb")
t.sendall(b"EHLO attacker.test\r\n")
first = reply(tf)
print("after TLS:", first[:2], t.version(), t.cipher()[0])
if not first or not first[0].startswith("250-"):
    print("the injected command was executed"); sys.exit(1)
# The session must have been reset: MAIL is allowed again only after the new EHLO.
t.sendall(b"MAIL FROM:<a@sender.test>\r\n")
r = reply(tf)
print("MAIL:", r)
sys.exit(0 if r and r[0].startswith("250") else 1)
