#!/usr/bin/python3
"""Converts the ValiMail ARC suite (multi-document YAML) to one JSON file the
C++ tests read with nlohmann_json: {"validation": [...], "signing": [...]},
each a list of scenarios as in the YAML. Run at configure time by CMake."""
import json
import sys

import yaml


def load(path):
    with open(path, encoding='utf-8') as f:
        return [doc for doc in yaml.safe_load_all(f) if doc]


def main(validation, signing, out):
    data = {'validation': load(validation), 'signing': load(signing)}
    with open(out, 'w', encoding='utf-8') as f:
        json.dump(data, f, default=str)


if __name__ == '__main__':
    main(*sys.argv[1:4])
