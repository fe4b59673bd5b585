#!/usr/bin/python3
"""pyspf on the same zone and cases as spf_bench: prints evaluations/s as JSON.

pyspf's DNSLookup is replaced by a lookup in the parsed zone.txt, so both
sides run with every answer in memory (the warm-cache case).
Usage: pyspf_bench.py ZONE CASES SECONDS
       pyspf_bench.py ZONE --flat OUT   (the zone for libspf2_bench)
"""
import json
import shlex
import sys
import time

import spf


def load_zone(path):
    zone, origin, ttl = {}, '', 3600
    for raw in open(path, encoding='utf-8'):
        line = raw.split(';', 1)[0].rstrip() if '"' not in raw else raw.rstrip()
        if not line.strip():
            continue
        words = shlex.split(line, posix=True)
        if words[0] == '$ORIGIN':
            origin = words[1].rstrip('.')
            continue
        if words[0] == '$TTL':
            continue
        name = origin if words[0] == '@' else (words[0].rstrip('.') if words[0].endswith('.') else words[0] + '.' + origin)
        rtype, data = words[1], words[2:]
        key = (name.lower(), rtype)
        if rtype == 'TXT':
            value = [s.encode() for s in data]
        elif rtype == 'MX':
            value = (int(data[0]), data[1].rstrip('.'))
        else:
            value = data[0]
        zone.setdefault(key, []).append(((name, rtype), value))
    return zone


def write_flat(zone, path):
    """The zone as "name<TAB>TYPE<TAB>data" lines for libspf2_bench."""
    with open(path, 'w') as f:
        for (name, rtype), records in zone.items():
            for _, value in records:
                if rtype == 'TXT':
                    value = b''.join(value).decode()
                elif rtype == 'MX':
                    value = value[1]
                f.write(f'{name}\t{rtype}\t{value}\n')


def main():
    zone = load_zone(sys.argv[1])
    if sys.argv[2] == '--flat':
        write_flat(zone, sys.argv[3])
        return
    spf.DNSLookup = lambda name, qtype, *args, **kw: list(zone.get((name.lower().rstrip('.'), qtype), []))
    cases = [l.split() for l in open(sys.argv[2]) if l.strip() and not l.startswith('#')]
    for ip, sender, helo, want in cases:
        got = spf.check2(i=ip, s=sender, h=helo)[0]
        if got != want:
            sys.exit(f'pyspf {ip} {sender}: got {got}, want {want}')
    seconds = float(sys.argv[3])
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        ip, sender, helo, _ = cases[n % len(cases)]
        spf.check2(i=ip, s=sender, h=helo)
        n += 1
    elapsed = time.perf_counter() - start
    print(json.dumps({'evaluations': n, 'seconds': elapsed, 'per_second': n / elapsed}))


if __name__ == '__main__':
    main()
