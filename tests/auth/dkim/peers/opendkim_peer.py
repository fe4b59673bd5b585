#!/usr/bin/python3
"""OpenDKIM (the opendkim filter's test mode, `opendkim -t`) as an interop peer.

  verify MSG KEYS                        pass|fail for the message's signature
  sign MSG KEY DOMAIN SEL ALG CANON      prints the message with OpenDKIM's signature
KEYS: a file of "<name>\t<TXT record>" lines, handed to OpenDKIM as TestPublicKeys,
so it never queries DNS. KEY: a PEM private key (RSA or Ed25519).
"""
import os
import re
import subprocess
import sys
import tempfile


def run_opendkim(conf_lines, msg_path):
    with tempfile.TemporaryDirectory() as d:
        conf = os.path.join(d, 'opendkim.conf')
        with open(conf, 'w') as f:
            f.write('Syslog no\nRequireSafeKeys false\n' + ''.join(l + '\n' for l in conf_lines))
        p = subprocess.run(['opendkim', '-x', conf, '-t', msg_path, '-vvv'],
                           capture_output=True, text=True, timeout=60)
        return p.stdout + p.stderr


def inserted_header(output, name):
    m = re.search(r"### INSHEADER: idx=\d+ hname='%s' hvalue='(.*?)'\n(?:opendkim|###)" % name,
                  output, re.S)
    return m.group(1) if m else None


def main(argv):
    cmd, msg_path = argv[1], argv[2]
    if cmd == 'verify':
        keys = tempfile.NamedTemporaryFile('w', suffix='.keys', delete=False)
        with open(argv[3]) as f:
            for line in f:
                if '\t' in line:
                    name, rec = line.rstrip('\n').split('\t', 1)
                    keys.write(name + ' ' + rec + '\n')
        keys.close()
        try:
            out = run_opendkim(['Mode v', 'TestPublicKeys ' + keys.name], msg_path)
        finally:
            os.unlink(keys.name)
        ar = inserted_header(out, 'Authentication-Results') or ''
        print('pass' if re.search(r'\bdkim=pass\b', ar) else 'fail')
    elif cmd == 'sign':
        key, domain, sel, alg, canon = argv[3:8]
        out = run_opendkim(['Mode s', 'Domain ' + domain, 'Selector ' + sel, 'KeyFile ' + key,
                            'SignatureAlgorithm ' + alg, 'Canonicalization ' + canon], msg_path)
        sig = inserted_header(out, 'DKIM-Signature')
        if sig is None:
            sys.stderr.write(out)
            return 1
        msg = open(msg_path, 'rb').read()
        # opendkim -t prints the field with LF line ends; the message is CRLF.
        sys.stdout.buffer.write(b'DKIM-Signature: ' + sig.replace('\n', '\r\n').encode() + b'\r\n' + msg)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
