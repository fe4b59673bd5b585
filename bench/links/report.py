#!/usr/bin/python3
"""Writes bench/results/links.md from the files bench/links/run leaves in its scratch directory."""
import glob
import json
import os
import re
import sys

tmp, threads, connections, duration = sys.argv[1:5]
load_start = sys.argv[5].strip() if len(sys.argv) > 5 else ""
load_end = sys.argv[6].strip() if len(sys.argv) > 6 else ""


def wrk(path):
    text = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    lat = {}
    for pct, value, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M):
        lat[pct] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {"rps": rps, "lat": lat, "non_3xx": int(errors.group(1)) if errors else 0}


def best(name):
    runs = [wrk(p) for p in sorted(glob.glob(os.path.join(tmp, f"{name}.*.txt")))]
    return max(runs, key=lambda r: r["rps"]), runs


def load_rewrite(name):
    path = os.path.join(tmp, name)
    return {b["name"]: b for b in json.load(open(path))["benchmarks"]} if os.path.exists(path) else None


rewrite = load_rewrite("rewrite.json")
again = load_rewrite("rewrite_again.json")
before = load_rewrite("rewrite_before.json")
print("# Safe Links benchmark\n")
print(f"Machine: {os.cpu_count()} CPUs (shared). Release build. `uptime` at the start: `{load_start}`; "
      f"at the end: `{load_end}`.\n")
print("## Rewriting (one thread; MB/s and messages/s of CPU time)\n")
if before:
    print("`before`: the same benchmark built from the previous code (LINKS_BENCH_BEFORE), run between "
          "this build's two runs; `after`: the better of those two.\n")
    print("| message | bytes | links | before MB/s | after MB/s | before msg/s | after msg/s | speed-up |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
else:
    print("| message | bytes | links | MB/s | messages/s |")
    print("|---|---:|---:|---:|---:|")
for name, b in rewrite.items():
    if again and name in again and again[name]["bytes_per_second"] > b["bytes_per_second"]:
        b = again[name]
    row = f"| {name} | {int(b['message_bytes'])} | {int(b['links'])} | "
    if before and name in before:
        o = before[name]
        print(row + f"{o['bytes_per_second'] / 1e6:.1f} | {b['bytes_per_second'] / 1e6:.1f} | "
              f"{o['items_per_second']:.0f} | {b['items_per_second']:.0f} | "
              f"{b['bytes_per_second'] / o['bytes_per_second']:.1f}x |")
    else:
        print(row + f"{b['bytes_per_second'] / 1e6:.1f} | {b['items_per_second']:.0f} |")
print("\nTarget: 100 MB/s per core.\n")
m, mruns = best("mailmoat")
n, nruns = best("nginx")
print(f"## Click service vs nginx `return 302` (wrk -t2 -c{connections} -d{duration}s, keep-alive, loopback; "
      f"mailmoat with {threads} threads, nginx with {threads} workers; best of {len(mruns)} alternating runs)\n")
print("| server | requests/s | p50 ms | p75 ms | p90 ms | p99 ms | non-3xx |")
print("|---|---:|---:|---:|---:|---:|---:|")
for name, r in (("mailmoat GET /v1/l (verify, verdict, record click, 302)", m), ("nginx return 302", n)):
    lat = r["lat"]
    print(f"| {name} | {r['rps']:.0f} | {lat.get('50', 0):.2f} | {lat.get('75', 0):.2f} | {lat.get('90', 0):.2f} | "
          f"{lat.get('99', 0):.2f} | {r['non_3xx']} |")
print(f"\nRatio mailmoat / nginx: {m['rps'] / n['rps']:.2f} (target >= 0.5). All runs (req/s): mailmoat "
      f"{[round(r['rps']) for r in mruns]}, nginx {[round(r['rps']) for r in nruns]}.")
