#!/usr/bin/python3
"""Reads the Google Benchmark JSON of dkim_bench and `openssl speed -mr` output,
times dkimpy and OpenDKIM on the same kind of 10 KB message, and prints the
table with the ratio of each mailmoat rate to the bound set by the primitives:
one public-key operation plus SHA-256 over the message bytes. OpenDKIM can only
be driven here through its test mode (`opendkim -t`), one process per message,
so its column includes process start-up and says so."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa


def speeds(pk_path, sha_path):
    out = {}
    for line in open(pk_path).read().splitlines() + open(sha_path).read().splitlines():
        f = line.split(':')
        if f[0] == '+F2' and f[2] == '2048':
            out['rsa_sign'], out['rsa_verify'] = float(f[3]), float(f[4])
        elif f[0] == '+F6' and f[3] == 'Ed25519':
            out['ed_sign'], out['ed_verify'] = float(f[4]), float(f[5])
        elif f[0] == '+F' and f[2] == 'sha256':
            out['sha256_Bps'] = float(f[3])
    return out


def message():
    m = ("From: Joe <joe@example.com>\r\nTo: Sue <sue@example.org>\r\nSubject: Quarterly report\r\n"
         "Date: Fri, 28 Nov 2025 12:00:00 +0000\r\nMessage-ID: <bench@example.com>\r\nMIME-Version: 1.0\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n\r\n")
    line = "The quick brown fox jumps over the lazy dog, again and  again.\t \r\n"
    while len(m) < 10240:
        m += line
    return m.encode()


def rate(fn, seconds=3.0):
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - start)


def dkimpy_rates(msg):
    rsa_key = rsa.generate_private_key(65537, 2048)
    rsa_pem = rsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption())
    rsa_pub = rsa_key.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    ed_key = ed25519.Ed25519PrivateKey.generate()
    import base64
    ed_seed = base64.b64encode(ed_key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                                    serialization.NoEncryption()))
    ed_pub = ed_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    records = {b'rsa._domainkey.example.com.': b'v=DKIM1; k=rsa; p=' + base64.b64encode(rsa_pub),
               b'ed._domainkey.example.com.': b'v=DKIM1; k=ed25519; p=' + base64.b64encode(ed_pub)}
    dns = lambda name, timeout=5: records[name]
    out = {'keys': (rsa_pem, ed_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()), records)}
    for sel, key, alg in ((b'rsa', rsa_pem, b'rsa-sha256'), (b'ed', ed_seed, b'ed25519-sha256')):
        sign = lambda: dkim.sign(msg, sel, b'example.com', key, signature_algorithm=alg,
                                 canonicalize=(b'relaxed', b'relaxed'))
        signed = sign() + msg
        assert dkim.verify(signed, dnsfunc=dns)
        out[sel.decode() + '_sign'] = rate(sign)
        out[sel.decode() + '_verify'] = rate(lambda: dkim.verify(signed, dnsfunc=dns))
        out[sel.decode() + '_signed'] = signed
    return out


def opendkim_rates(msg, py):
    """Messages per second through `opendkim -t` (a process each)."""
    if not shutil.which('opendkim'):
        return {}
    rsa_pem, ed_pem, records = py['keys']
    out = {}
    with tempfile.TemporaryDirectory() as d:
        def write(name, data):
            path = os.path.join(d, name)
            with open(path, 'wb') as f:
                f.write(data)
            return path
        keys = write('keys', b''.join(n.rstrip(b'.') + b' ' + r + b'\n' for n, r in records.items()))
        unsigned = write('msg.eml', msg)
        for sel, pem, alg in (('rsa', rsa_pem, 'rsa-sha256'), ('ed', ed_pem, 'ed25519-sha256')):
            key = write(sel + '.pem', pem)
            signed = write(sel + '-signed.eml', py[sel + '_signed'])
            vconf = write(sel + '-v.conf', ('Syslog no\nMode v\nTestPublicKeys %s\n' % keys).encode())
            sconf = write(sel + '-s.conf', ('Syslog no\nRequireSafeKeys false\nMode s\nDomain example.com\n'
                                            'Selector %s\nKeyFile %s\nSignatureAlgorithm %s\n' % (sel, key, alg)).encode())
            run = lambda conf, path: subprocess.run(['opendkim', '-x', conf, '-t', path], capture_output=True)
            out[sel + '_verify'] = rate(lambda: run(vconf, signed))
            out[sel + '_sign'] = rate(lambda: run(sconf, unsigned))
    return out


def main(bench_json, pk_path, sha_path):
    mm = {b['name']: b['items_per_second'] for b in json.load(open(bench_json))['benchmarks']}
    sp = speeds(pk_path, sha_path)
    msg = message()
    py = dkimpy_rates(msg)
    odk = opendkim_rates(msg, py)
    hash_s = len(msg) / sp['sha256_Bps']
    rows = [('verify rsa-sha256 (2048)', 'BM_VerifyRsa2048', 1 / sp['rsa_verify'], 'rsa_verify'),
            ('verify ed25519-sha256', 'BM_VerifyEd25519', 1 / sp['ed_verify'], 'ed_verify'),
            ('sign rsa-sha256 (2048)', 'BM_SignRsa2048', 1 / sp['rsa_sign'], 'rsa_sign'),
            ('sign ed25519-sha256', 'BM_SignEd25519', 1 / sp['ed_sign'], 'ed_sign')]
    print('message: %d bytes; openssl speed: rsa2048 sign %.0f/s verify %.0f/s, ed25519 sign %.0f/s verify %.0f/s, '
          'sha256 %.0f MB/s' % (len(msg), sp['rsa_sign'], sp['rsa_verify'], sp['ed_sign'], sp['ed_verify'],
                                sp['sha256_Bps'] / 1e6))
    print('| operation | mailmoat /s | bound /s (openssl op + sha256 of message) | ratio | dkimpy /s '
          '| OpenDKIM `-t` /s (a process per message) |')
    print('|---|---|---|---|---|---|')
    for label, name, op_s, py_key in rows:
        bound = 1 / (op_s + hash_s)
        odk_rate = '%.0f' % odk[py_key] if py_key in odk else 'n/a'
        print('| %s | %.0f | %.0f | %.2f | %.0f | %s |' % (label, mm[name], bound, mm[name] / bound, py[py_key],
                                                         odk_rate))


if __name__ == '__main__':
    main(*sys.argv[1:4])
