#!/usr/bin/python3
"""CPU time and resident memory of process trees, from /proc (bench/e2e/run).

  procstat.py cpu PID...           CPU seconds (user+system, own and reaped children)
                                   of each PID and all its descendants, summed
  procstat.py sample FILE PID...   samples the trees' summed PSS every 100 ms and
                                   writes the peak (KiB) to FILE on SIGTERM

Counting reaped children (cutime/cstime) keeps short-lived workers (Postfix's smtpd
and cleanup, sandbox workers) in the total once their parent has waited for them.
"""
import os
import signal
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def children_map():
    kids = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def tree(roots):
    kids, seen, todo = children_map(), set(), [int(r) for r in roots]
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        todo.extend(kids.get(pid, []))
    return seen


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # fields[0] is state (stat field 3): utime..cstime are stat fields 14..17.
    return sum(int(x) for x in fields[11:15]) / TICK


def pss_kib(pid):
    # Proportional set size: shared pages (libraries, Postfix's many processes of one
    # binary) count once across the tree instead of once per process as VmRSS would.
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    if sys.argv[1] == "cpu":
        print(f"{sum(cpu_seconds(p) for p in tree(sys.argv[2:])):.3f}")
        return
    out, roots, peak = sys.argv[2], sys.argv[3:], [0]

    def stop(*_):
        with open(out, "w") as f:
            f.write(f"{peak[0]}\n")
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    while True:
        peak[0] = max(peak[0], sum(pss_kib(p) for p in tree(roots)))
        time.sleep(0.1)


if __name__ == "__main__":
    main()
