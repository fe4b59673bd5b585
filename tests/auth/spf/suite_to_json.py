#!/usr/bin/python3
"""Converts an OpenSPF YAML test suite into JSON for spf_conformance_test.

Applies the loader rules of conformance/spf/SOURCES.md: SPF entries are served
as TXT when the name has no TXT entry (not even TXT: NONE); names are lower
case; strings become UTF-8. Usage: suite_to_json.py SUITE.yml OUT.json
"""
import json
import sys

import yaml


def strings(value):
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def zone_of(zonedata):
    records = []
    for name, entries in (zonedata or {}).items():
        name = str(name).lower()
        has_txt = any(isinstance(e, dict) and 'TXT' in e for e in entries)
        for e in entries:
            if e == 'TIMEOUT':
                records.append({'name': name, 'type': 'TIMEOUT'})
                continue
            (rtype, value), = e.items()
            if rtype == 'TXT' and value == 'NONE':
                records.append({'name': name, 'type': 'EXISTS'})
            elif rtype in ('TXT', 'SPF'):
                if rtype == 'SPF' and has_txt:
                    continue
                records.append({'name': name, 'type': 'TXT', 'strings': strings(value)})
            elif rtype == 'MX':
                records.append({'name': name, 'type': 'MX', 'preference': int(value[0]),
                                'target': str(value[1])})
            else:
                records.append({'name': name, 'type': rtype, 'target': str(value)})
    return records


def main():
    with open(sys.argv[1], encoding='utf-8') as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    out = []
    for doc in docs:
        scenario = {'scenario': doc.get('description') or doc.get('comment') or '',
                    'zone': zone_of(doc.get('zonedata')), 'tests': []}
        for test_id, t in doc['tests'].items():
            result = t['result'] if isinstance(t['result'], list) else [t['result']]
            case = {'id': str(test_id), 'helo': str(t['helo']), 'host': str(t['host']),
                    'mailfrom': str(t.get('mailfrom') or ''), 'result': result}
            if 'explanation' in t:
                case['explanation'] = str(t['explanation'])
            if 'receiver' in t:
                case['receiver'] = str(t['receiver'])
            scenario['tests'].append(case)
        out.append(scenario)
    with open(sys.argv[2], 'w', encoding='utf-8') as f:
        json.dump(out, f)


if __name__ == '__main__':
    main()
