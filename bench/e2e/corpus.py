#!/usr/bin/python3
"""End-to-end benchmark corpus (issue 14), reproducible from a seed.

Writes OUT/msgs/NNNNN.eml (CRLF), OUT/index.tsv (file, envelope sender, recipient,
kind) and OUT/zone.conf (unbound local-data: DKIM keys, SPF, DMARC, PTR of 127.0.0.1).
Sizes are log-normal around a 20 KB median, clipped to 2 KB..2 MB; bodies are
multipart/alternative with 5-50 links in the HTML; 10% carry an attachment
(docx, zip or pdf, written with the standard library) and 1% a test sample the
attachment analyzers flag (an OOXML document with a vbaProject.bin macro part, or
the EICAR test string in a zip). Every message is DKIM-signed (dkimpy, RSA-2048,
relaxed/relaxed) by one of four sender domains. Same seed: same messages; the RSA
keys are made once per output directory (kept in OUT/keys) and reused, and dkimpy
stamps t= with the clock, so only the b=/t= values differ between machines.
"""
import argparse
import base64
import io
import os
import random
import subprocess
import sys
import zipfile
from email.utils import format_datetime
import datetime

import dkim

# Not under .test: libunbound (OpenDKIM, mailmoat) answers RFC 6761 names NXDOMAIN itself.
DOMAINS = [f"sender{i}.bench-e2e.example.org" for i in range(1, 5)]
SELECTOR = "e2e"
RCPT_DOMAIN = "example.net"
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
WORDS = ("invoice meeting quarterly report shipment schedule customer account review budget "
         "project update agenda contract delivery order service network security policy team "
         "office travel expense summary product release support request notice partner").split()


def key_for(out, domain):
    """PEM private key and base64 public key of a domain; made once per OUT."""
    kdir = os.path.join(out, "keys")
    os.makedirs(kdir, exist_ok=True)
    path = os.path.join(kdir, domain + ".pem")
    if not os.path.exists(path):
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                        "-out", path], check=True, capture_output=True)
    pem = open(path, "rb").read()
    der = subprocess.run(["openssl", "pkey", "-in", path, "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    return pem, base64.b64encode(der).decode()


def write_zone(out, pubkeys):
    lines = ["local-data: '1.0.0.127.in-addr.arpa. PTR localhost.'",
             "local-data: 'localhost. A 127.0.0.1'"]
    for domain, pub in pubkeys.items():
        record = f"v=DKIM1; k=rsa; p={pub}"
        chunks = " ".join(f'"{record[i:i + 250]}"' for i in range(0, len(record), 250))
        lines.append(f"local-data: '{SELECTOR}._domainkey.{domain}. TXT {chunks}'")
        lines.append(f"local-data: '{domain}. TXT \"v=spf1 ip4:127.0.0.1 -all\"'")
        lines.append(f"local-data: '{domain}. A 127.0.0.1'")
        lines.append(f"local-data: '_dmarc.{domain}. TXT \"v=DMARC1; p=none; rua=mailto:dmarc@{domain}\"'")
    with open(os.path.join(out, "zone.conf"), "w") as f:
        f.write("\n".join(lines) + "\n")


def sentence(rng):
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))).capitalize() + "."


def link(rng):
    host = f"www.{rng.choice(WORDS)}{rng.randint(1, 999)}.example.com"
    return f"https://{host}/{rng.choice(WORDS)}/{rng.randint(1, 10**6)}?ref={rng.choice(WORDS)}"


def docx(rng, macro):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        ctype = "application/vnd.ms-word.document.macroEnabled.main+xml" if macro else \
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
                   f'<Override PartName="/word/document.xml" ContentType="{ctype}"/></Types>')
        z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                   'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')
        paras = "".join(f"<w:p><w:r><w:t>{sentence(rng)}</w:t></w:r></w:p>" for _ in range(rng.randint(20, 400)))
        z.writestr("word/document.xml", '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                   f'wordprocessingml/2006/main"><w:body>{paras}</w:body></w:document>')
        if macro:
            # An OLE2 compound-file header with a VBA project stream name: what macro files carry.
            z.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 +
                       "VBA_PROJECT Attribute VB_Name = \"ThisDocument\" Sub AutoOpen() Shell".encode("utf-16-le"))
    return buf.getvalue()


def zip_of(rng, eicar):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        if eicar:
            z.writestr("eicar.com", EICAR)
        for i in range(rng.randint(1, 4)):
            z.writestr(f"notes{i}.txt", "\n".join(sentence(rng) for _ in range(rng.randint(10, 300))))
    return buf.getvalue()


def pdf(rng):
    text = " ".join(sentence(rng) for _ in range(rng.randint(5, 200))).replace("(", "").replace(")", "")
    stream = f"BT /F1 10 Tf 40 800 Td ({text}) Tj ET".encode()
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def attachment(rng, kind):
    if kind == "docx":
        return "report.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", docx(rng, False)
    if kind == "docm":
        return "invoice.docm", "application/vnd.ms-word.document.macroEnabled.12", docx(rng, True)
    if kind == "zip":
        return "notes.zip", "application/zip", zip_of(rng, False)
    if kind == "eicar-zip":
        return "scan.zip", "application/zip", zip_of(rng, True)
    return "statement.pdf", "application/pdf", pdf(rng)


def wrap64(data):
    b = base64.b64encode(data).decode()
    return "\r\n".join(b[i:i + 76] for i in range(0, len(b), 76))


def message(rng, i, target, kind):
    domain = rng.choice(DOMAINS)
    sender = f"{rng.choice(WORDS)}{rng.randint(1, 99)}@{domain}"
    rcpt = f"user{rng.randint(1, 50)}@{RCPT_DOMAIN}"
    date = datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(seconds=i * 37)
    att = attachment(rng, kind) if kind != "plain" else None
    att_size = len(att[2]) * 4 // 3 if att else 0
    nlinks = rng.randint(5, 50)
    links = [link(rng) for _ in range(nlinks)]
    body_budget = max(800, (target - att_size - 1500) // 2)  # text and HTML carry the same words
    paras, size = [], 0
    while size < body_budget:
        p = " ".join(sentence(rng) for _ in range(rng.randint(2, 6)))
        paras.append(p)
        size += len(p) + 2
    text = "\r\n\r\n".join(paras + [f"See {u}" for u in links])
    html_paras = []
    for n, p in enumerate(paras):
        u = links[n % nlinks]
        html_paras.append(f'<p>{p} <a href="{u}">details</a></p>')
    html_paras += [f'<p><a href="{u}">{u}</a></p>' for u in links[len(paras):]]
    html = "<html><body>\r\n" + "\r\n".join(html_paras) + "\r\n</body></html>"
    alt, mixed = f"=_alt_{i:05d}", f"=_mix_{i:05d}"
    head = [f"From: {sender.split('@')[0].title()} <{sender}>", f"To: <{rcpt}>",
            f"Subject: {sentence(rng)[:60]}", f"Date: {format_datetime(date)}",
            f"Message-ID: <{i:05d}.{rng.randint(0, 2**32)}@{domain}>", "MIME-Version: 1.0"]
    alt_part = [f"--{alt}", "Content-Type: text/plain; charset=utf-8", "", text,
                f"--{alt}", "Content-Type: text/html; charset=utf-8", "", html, f"--{alt}--", ""]
    if att:
        name, ctype, data = att
        lines = head + [f'Content-Type: multipart/mixed; boundary="{mixed}"', "", f"--{mixed}",
                        f'Content-Type: multipart/alternative; boundary="{alt}"', ""] + alt_part + [
            f"--{mixed}", f'Content-Type: {ctype}; name="{name}"',
            f'Content-Disposition: attachment; filename="{name}"', "Content-Transfer-Encoding: base64", "",
            wrap64(data), f"--{mixed}--", ""]
    else:
        lines = head + [f'Content-Type: multipart/alternative; boundary="{alt}"', ""] + alt_part
    return domain, sender, rcpt, "\r\n".join(lines).encode()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--count", type=int, default=500)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(os.path.join(args.out, "msgs"), exist_ok=True)
    keys = {d: key_for(args.out, d) for d in DOMAINS}
    write_zone(args.out, {d: k[1] for d, k in keys.items()})
    index = []
    for i in range(args.count):
        target = int(min(2 * 1024 * 1024, max(2048, rng.lognormvariate(9.5, 1.1))))  # sized to a ~20 KB median once signed
        r = rng.random()
        if i % 100 == 50:
            kind = "docm" if (i // 100) % 2 == 0 else "eicar-zip"
        elif r < 0.09:
            kind = rng.choice(["docx", "zip", "pdf"])
        else:
            kind = "plain"
        domain, sender, rcpt, raw = message(rng, i, target, kind)
        signed = dkim.sign(raw, SELECTOR.encode(), domain.encode(), keys[domain][0],
                           canonicalize=(b"relaxed", b"relaxed"),
                           include_headers=[b"From", b"To", b"Subject", b"Date", b"Message-ID",
                                            b"MIME-Version", b"Content-Type"])
        name = f"{i:05d}.eml"
        with open(os.path.join(args.out, "msgs", name), "wb") as f:
            f.write(signed.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + raw)
        index.append(f"msgs/{name}\t{sender}\t{rcpt}\t{kind}\t{len(signed) + len(raw)}")
    with open(os.path.join(args.out, "index.tsv"), "w") as f:
        f.write("\n".join(index) + "\n")
    sizes = sorted(int(l.split("\t")[4]) for l in index)
    print(f"corpus: {len(index)} messages in {args.out}, sizes {sizes[0]}..{sizes[-1]} bytes, "
          f"median {sizes[len(sizes) // 2]}, with attachments "
          f"{sum(1 for l in index if l.split(chr(9))[3] != 'plain')}, samples "
          f"{sum(1 for l in index if l.split(chr(9))[3] in ('docm', 'eicar-zip'))}", file=sys.stderr)


if __name__ == "__main__":
    main()
