#!/usr/bin/python3
"""dkimpy as an interop peer for the DKIM and ARC tests (never touches DNS).

  verify MSG KEYS                  one line per DKIM-Signature: pass|fail
  sign MSG KEY DOMAIN SEL ALG CANON LENGTH   prints the signed message
  arc_verify MSG KEYS              prints the cv (pass|fail|none)
  arc_sign MSG KEY DOMAIN SEL SRV_ID          prints the message with a new ARC set
KEYS: a file of "<name>\t<TXT record>" lines. KEY: PEM (RSA) or base64 seed (Ed25519).
"""
import sys
import dkim


def load_keys(path):
    keys = {}
    with open(path) as f:
        for line in f:
            if '\t' in line:
                name, rec = line.rstrip('\n').split('\t', 1)
                keys[name.lower().rstrip('.')] = rec.encode()
    return lambda name, timeout=5: keys.get(name.decode().lower().rstrip('.'))


def main(argv):
    cmd, msg = argv[1], open(argv[2], 'rb').read()
    if cmd == 'verify':
        dnsfunc = load_keys(argv[3])
        d = dkim.DKIM(msg, minkey=1024)
        n = sum(1 for k, _ in d.headers if k.lower() == b'dkim-signature')
        for i in range(n):
            try:
                ok = d.verify(idx=i, dnsfunc=dnsfunc)
            except dkim.DKIMException:
                ok = False
            print('pass' if ok else 'fail')
    elif cmd == 'sign':
        key, domain, sel, alg, canon, length = argv[3:9]
        key = open(key, 'rb').read().strip()
        h, b = canon.split('/')
        sig = dkim.sign(msg, sel.encode(), domain.encode(), key, signature_algorithm=alg.encode(),
                        canonicalize=(h.encode(), b.encode()), length=(length == '1'))
        sys.stdout.buffer.write(sig + msg)
    elif cmd == 'arc_verify':
        cv, results, reason = dkim.arc_verify(msg, dnsfunc=load_keys(argv[3]))
        print(cv.decode().lower(), reason)
    elif cmd == 'arc_sign':
        key, domain, sel, srv_id = argv[3:7]
        key = open(key, 'rb').read()
        headers = dkim.arc_sign(msg, sel.encode(), domain.encode(), key, srv_id.encode())
        sys.stdout.buffer.write(b''.join(headers) + msg)
    else:
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
