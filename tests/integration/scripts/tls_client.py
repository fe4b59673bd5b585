#!/usr/bin/python3
# STARTTLS client modes for the TLS integration tests (Python's ssl module).
#   big_chain HOST PORT CERT_CHAIN KEY: present an oversized client chain;
#       exit 0 when the server ends the handshake instead of taking it.
#   requiretls HOST PORT: over TLS, send a message with MAIL FROM ... REQUIRETLS
#       (RFC 8689) from a@localhost to r@remote.test; prints the final reply,
#       exit 0 when REQUIRETLS was advertised and the message accepted.
#   hold HOST PORT GO_FILE OUT_FILE: open a TLS session, start a transaction,
#       wait until GO_FILE exists (the test reloads the gateway meanwhile), then
#       finish the message; writes "CODE PEER_CERT_SUBJECT" to OUT_FILE.
import os, socket, ssl, sys, time

def reply(f):
    lines = []
    while True:
        line = f.readline()
        if not line:
            return lines
        lines.append(line.decode(errors="replace").rstrip("\r\n"))
        if len(line) < 4 or line[3:4] == b" ":
            return lines

def starttls(host, port, ctx):
    s = socket.create_connection((host, port), timeout=20)
    f = s.makefile("rb")
    reply(f)
    s.sendall(b"EHLO client.test\r\n")
    reply(f)
    s.sendall(b"STARTTLS\r\n")
    r = reply(f)
    if not r or not r[-1].startswith("220"):
        print("no 220 to STARTTLS:", r); sys.exit(2)
    return ctx.wrap_socket(s, server_hostname="mx.test")

def client_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx

mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "big_chain":
    ctx = client_context()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2  # the chain goes in the handshake proper
    ctx.load_cert_chain(sys.argv[4], sys.argv[5])
    try:
        t = starttls(host, port, ctx)
        t.sendall(b"EHLO client.test\r\n")
        r = reply(t.makefile("rb"))
        print("server took the chain:", r[:1]); sys.exit(1)
    except (ssl.SSLError, ConnectionError, OSError) as e:
        print("handshake refused:", e); sys.exit(0)
elif mode == "requiretls":
    t = starttls(host, port, client_context())
    f = t.makefile("rb")
    t.sendall(b"EHLO client.test\r\n")
    ehlo = reply(f)
    if not any(l[4:].upper() == "REQUIRETLS" for l in ehlo):
        print("REQUIRETLS not advertised:", ehlo); sys.exit(1)
    for cmd in (b"MAIL FROM:<a@localhost> REQUIRETLS", b"RCPT TO:<r@remote.test>", b"DATA"):
        t.sendall(cmd + b"\r\n")
        print(cmd, reply(f))
    t.sendall(b"From: a@localhost\r\nSubject: requiretls\r\n\r\nbody\r\n.\r\n")
    r = reply(f)
    print("final:", r)
    sys.exit(0 if r and r[0].startswith("250") else 1)
elif mode == "hold":
    go, out = sys.argv[4], sys.argv[5]
    t = starttls(host, port, client_context())
    f = t.makefile("rb")
    subject = ssl.DER_cert_to_PEM_cert(t.getpeercert(binary_form=True))
    for cmd in (b"EHLO client.test", b"MAIL FROM:<a@sender.test>", b"RCPT TO:<u@localhost>"):
        t.sendall(cmd + b"\r\n")
        reply(f)
    deadline = time.time() + 60
    while not os.path.exists(go) and time.time() < deadline:
        time.sleep(0.1)
    t.sendall(b"DATA\r\n")
    reply(f)
    t.sendall(b"Subject: held across reload\r\n\r\nbody\r\n.\r\n")
    r = reply(f)
    with open(out, "w") as o:
        o.write((r[0][:3] if r else "none") + "\n" + subject)
    sys.exit(0)
