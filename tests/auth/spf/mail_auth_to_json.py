#!/usr/bin/python3
"""Converts Stalwart mail-auth's SPF test files (conformance/spf/mail-auth/*.yml,
not real YAML) into JSON for spf_conformance_test, following the line-by-line
reading described in conformance/spf/SOURCES.md §3: one DNS store per file,
later records replace earlier ones of the same name and type, and each
`expect:` runs check_host with the store as it is at that line.
Usage: mail_auth_to_json.py DIR OUT.json
"""
import glob
import ipaddress
import json
import os
import sys


def reverse_name(ip):
    return ipaddress.ip_address(ip).reverse_pointer


def parse_file(path):
    store = {}  # (name, type) -> list of values
    cases = []
    section, helo, sender, ip = '', '', '', '127.0.0.1'
    counter = {}
    for raw in open(path, encoding='utf-8'):
        line = raw.strip()
        if line == '---':
            helo, sender, ip = '', '', '127.0.0.1'
            continue
        if line.startswith('#'):
            continue
        if line.startswith('-'):
            line = line[1:].strip()
        key, _, rest = line.partition(':')
        rest = rest.strip()
        if key == 'name':
            section = rest
        elif key in ('spf', 'exp'):
            name, _, value = rest.partition(' ')
            store[(name.lower(), 'TXT')] = [value]
        elif key in ('a', 'aaaa'):
            name, _, addrs = rest.partition(' ')
            store[(name.lower(), key.upper())] = [a.strip() for a in addrs.split(',') if a.strip()]
        elif key == 'ptr':
            addr, _, names = rest.partition(' ')
            store[(reverse_name(addr), 'PTR')] = [n.strip() for n in names.split(',') if n.strip()]
        elif key == 'mx':
            name, _, addrs = rest.partition(' ')
            mxs = []
            for n, addr in enumerate(a.strip() for a in addrs.split(',') if a.strip()):
                host = f'mx.{addr}.{n}'
                mxs.append([n + 1, host])
                kind = 'AAAA' if ':' in addr else 'A'
                store[(host.lower(), kind)] = [addr]
            store[(name.lower(), 'MX')] = mxs
        elif key == 'domain':
            helo = rest
        elif key == 'sender':
            sender = rest
        elif key == 'ip':
            ip = rest
        elif key == 'expect':
            result, _, explanation = rest.partition(' ')
            base = os.path.splitext(os.path.basename(path))[0]
            counter[base] = counter.get(base, 0) + 1
            zone = [{'name': n, 'type': t, 'values': v} for (n, t), v in store.items()]
            cases.append({'id': f'{base}-{counter[base]}', 'section': section, 'helo': helo,
                          'mailfrom': sender, 'host': ip, 'result': result,
                          'explanation': explanation.strip(), 'zone': zone})
    return cases


def main():
    out = []
    for path in sorted(glob.glob(os.path.join(sys.argv[1], '*.yml'))):
        out.extend(parse_file(path))
    with open(sys.argv[2], 'w', encoding='utf-8') as f:
        json.dump(out, f)


if __name__ == '__main__':
    main()
