#!/usr/bin/python3
"""Report of the end-to-end benchmark (bench/e2e/run): e2e.md, e2e.json and e2e.png.

Per row and run, results.tsv holds: row, start and end (s), the server processes' CPU
seconds before and after, their peak summed RSS (KiB), whether the sink got all N
messages, and the sender's JSON. Medians over runs, with min-max; ratios are of
median throughputs to the ceiling (row 1) and to Postfix + rspamd (row 3).
"""
import argparse
import glob
import json
import os
import re
import statistics
import subprocess

LABELS = {
    "ceiling": "1. ceiling: sender -> smtp-sink",
    "postfix": "2. Postfix -> smtp-sink",
    "rspamd": "3. Postfix + rspamd milter",
    "dkim_dmarc": "4. Postfix + OpenDKIM + OpenDMARC",
    "mailmoat": "5. mailmoat gateway (full pipeline)",
    "mailmoat_milter": "6. Postfix + mailmoat milter",
}
SHORT = {"ceiling": "ceiling", "postfix": "Postfix", "rspamd": "Postfix+rspamd",
         "dkim_dmarc": "Postfix+OpenDKIM+OpenDMARC", "mailmoat": "mailmoat", "mailmoat_milter": "Postfix+mailmoat milter"}


def load(path, n):
    rows = {}
    for line in open(path):
        row, t0, t1, c0, c1, rss, done, js = line.rstrip("\n").split("\t", 7)
        try:
            sender = json.loads(js)
        except ValueError:
            sender = {}
        secs = float(t1) - float(t0)
        rows.setdefault(row, []).append({
            "msg_per_s": round(n / secs, 1) if done == "1" else 0.0,
            "complete": done == "1",
            "p50_ms": sender.get("p50_ms"), "p99_ms": sender.get("p99_ms"),
            "accepted": sender.get("accepted"), "rejected": sender.get("rejected"), "failed": sender.get("failed"),
            "cpu_s_per_1000": round((float(c1) - float(c0)) / n * 1000, 2) if row != "ceiling" else None,
            "peak_rss_mib": round(int(rss) / 1024, 1) if row != "ceiling" else None,
        })
    return rows


def summary(values):
    v = [x for x in values if x is not None]
    if not v:
        return None
    return {"median": round(statistics.median(v), 2), "min": round(min(v), 2), "max": round(max(v), 2)}


def probe(dirpath):
    """What each stack did to the first corpus messages, from the sink's dumps."""
    files = glob.glob(os.path.join(dirpath, "*"))
    text = [open(f, "rb").read().decode("utf-8", "replace").replace("\r\n", "\n") for f in files]
    hdrs = [re.sub(r"\n[ \t]+", " ", t.split("\n\n", 1)[0]) for t in text]  # unfolded header blocks
    def count(pattern):
        return sum(1 for h in hdrs if re.search(pattern, h, re.I | re.M))
    return {
        "delivered": len(files),
        "dkim_pass": count(r"^Authentication-Results:[^\r\n]*dkim=pass"),
        "dmarc_pass": count(r"^Authentication-Results:[^\r\n]*dmarc=pass"),
        "spf_pass": count(r"^Authentication-Results:[^\r\n]*spf=pass"),
        "rspamd_result": count(r"^X-Spamd-Result:"),
        "arc_sealed": count(r"^ARC-Seal:"),
        "links_rewritten": sum(1 for t in text if "links.bench.test" in t),
        "attachment_removed": sum(1 for t in text if "Safe Attachments removed the attachment" in t),
    }


def fmt(s, unit=""):
    if s is None:
        return "-"
    if s["min"] == s["max"]:
        return f"{s['median']:g}{unit}"
    return f"{s['median']:g}{unit} ({s['min']:g}-{s['max']:g})"


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "-"


def chart(out, order, summ):
    data = os.path.join(out, "e2e.dat")
    with open(data, "w") as f:
        for row in order:
            s = summ[row]
            tp = s["msg_per_s"]["median"] if s["msg_per_s"] else 0
            p99 = s["p99_ms"]["median"] if s["p99_ms"] else 0
            f.write(f"\"{SHORT[row]}\" {tp} {p99}\n")
    script = f"""
set terminal pngcairo size 1200,520 font "sans,10"
set output "{os.path.join(out, 'e2e.png')}"
set multiplot layout 1,2 title "mailmoat end-to-end benchmark (medians; same corpus, same run)"
set style data histograms
set style fill solid 0.8 border -1
set boxwidth 0.8
set grid ytics
set xtics rotate by -30 scale 0
set yrange [0:*]
set title "throughput (messages/s, log scale, higher is better)"
set logscale y
set yrange [1:*]
plot "{data}" using 2:xtic(1) notitle linecolor rgb "#2b6cb0"
unset logscale y
set yrange [0:*]
set title "p99 latency, MAIL to 250 (ms, lower is better)"
plot "{data}" using 3:xtic(1) notitle linecolor rgb "#c05621"
unset multiplot
"""
    subprocess.run(["gnuplot"], input=script.encode(), check=True)
    os.remove(data)


def main():
    ap = argparse.ArgumentParser()
    for a in ("results", "latency", "probe", "out", "corpus", "load", "postfix", "rspamd", "opendkim", "opendmarc", "milter_log"):
        ap.add_argument("--" + a.replace("_", "-"), default="")
    for a in ("n", "sessions", "runs", "seed"):
        ap.add_argument("--" + a, type=int, default=0)
    args = ap.parse_args()
    rows = load(args.results, args.n)
    order = [r for r in LABELS if r in rows]
    summ = {r: {k: summary([x[k] for x in rows[r]]) for k in
                ("msg_per_s", "p50_ms", "p99_ms", "cpu_s_per_1000", "peak_rss_mib")} for r in order}
    probes = {r: probe(os.path.join(args.probe, r)) for r in order}
    med = {r: (summ[r]["msg_per_s"] or {}).get("median") for r in order}
    sizes = sorted(int(l.split("\t")[4]) for l in open(os.path.join(args.corpus, "index.tsv")))
    kinds = [l.split("\t")[3] for l in open(os.path.join(args.corpus, "index.tsv"))]
    corpus = {"seed": args.seed, "messages": len(sizes), "median_bytes": sizes[len(sizes) // 2],
              "min_bytes": sizes[0], "max_bytes": sizes[-1],
              "with_attachment": sum(1 for k in kinds if k != "plain"),
              "flagged_samples": sum(1 for k in kinds if k in ("docm", "eicar-zip"))}
    probe_kinds = [l.split("\t")[3] for l in open(os.path.join(os.path.dirname(args.probe), "probe-corpus", "index.tsv"))]
    probe_n, probe_att = len(probe_kinds), sum(1 for k in probe_kinds if k != "plain")
    probe_bad = sum(1 for k in probe_kinds if k in ("docm", "eicar-zip"))
    single = {}
    if args.latency and os.path.exists(args.latency):
        for line in open(args.latency):
            row, js = line.rstrip("\n").split("\t", 1)
            try:
                single[row] = json.loads(js)
            except ValueError:
                single[row] = {}
    milter_errors = 0
    if args.milter_log and os.path.exists(args.milter_log):
        milter_errors = sum(1 for l in open(args.milter_log, errors="replace")
                            if re.search(r"milter-reject|milter.*(timeout|error)|451 4\.7\.1", l))
    md = [f"# End-to-end benchmark ({os.popen('date -u +%Y-%m-%dT%H:%MZ').read().strip()}, "
          f"{os.cpu_count()} cores, load average at the end {args.load})", "",
          f"Corpus: {corpus['messages']} messages from seed {corpus['seed']} (bench/e2e/corpus.py), "
          f"{corpus['min_bytes']}..{corpus['max_bytes']} bytes, median {corpus['median_bytes']}, "
          f"{corpus['with_attachment']} with attachments, {corpus['flagged_samples']} flagged test samples; "
          f"every message DKIM-signed. Each run replays {args.n} messages over {args.sessions} sessions; "
          f"{args.runs} runs per row, rows interleaved; median (min-max).", "",
          "| row | msg/s | x ceiling | x row 3 | p50 ms | p99 ms | CPU s / 1,000 msg | peak memory (PSS) MiB |",
          "|---|---|---|---|---|---|---|---|"]
    for r in order:
        s = summ[r]
        incomplete = sum(1 for x in rows[r] if not x["complete"])
        note = f" ({incomplete} run(s) incomplete)" if incomplete else ""
        md.append(f"| {LABELS[r]}{note} | {fmt(s['msg_per_s'])} | {ratio(med[r], med.get('ceiling'))} | "
                  f"{ratio(med[r], med.get('rspamd'))} | {fmt(s['p50_ms'])} | {fmt(s['p99_ms'])} | "
                  f"{fmt(s['cpu_s_per_1000'])} | {fmt(s['peak_rss_mib'])} |")
    md += ["", f"What each stack did to {probe_n} corpus messages, {probe_att} of them with attachments and "
           f"{probe_bad} flagged samples (counted in the sink's copies):", "",
           "| row | delivered | A-R dkim=pass | A-R dmarc=pass | A-R spf=pass | X-Spamd-Result | ARC-Seal | "
           "links rewritten | attachment removed |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in order:
        p = probes[r]
        md.append(f"| {LABELS[r]} | {p['delivered']} | {p['dkim_pass']} | {p['dmarc_pass']} | {p['spf_pass']} | "
                  f"{p['rspamd_result']} | {p['arc_sealed']} | {p['links_rewritten']} | {p['attachment_removed']} |")
    if single:
        base = single.get("ceiling", {}).get("p99_ms")
        md += ["", f"One session, {next(iter(single.values())).get('accepted', 0)} messages in a row (nothing queued "
               "in front of a message; the latency the stack itself adds):", "",
               "| row | p50 ms | p99 ms | p99 added over the ceiling, ms |", "|---|---|---|---|"]
        for r in order:
            j = single.get(r, {})
            added = f"{j['p99_ms'] - base:.2f}" if base is not None and j.get("p99_ms") is not None and r != "ceiling" else "-"
            md.append(f"| {LABELS[r]} | {j.get('p50_ms', '-')} | {j.get('p99_ms', '-')} | {added} |")
    md += ["", f"Peers: Postfix {args.postfix}; {args.rspamd}; {args.opendkim}; {args.opendmarc}.",
           f"Milter errors, rejects or timeouts in the Postfix log: {milter_errors}.",
           "Throughput is end to end (first connection until the sink holds all messages); latency is at the "
           "sender, from MAIL to the reply after end of data; CPU and memory (summed proportional set size, sampled every 100 ms) are of the server processes only "
           "(Postfix's whole process tree, the milters, the gateway and its sandbox workers), not of the "
           "sender, sink or DNS server. The ceiling row has no server process.", "", "![chart](e2e.png)"]
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "e2e.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(args.out, "e2e.json"), "w") as f:
        json.dump({"n": args.n, "sessions": args.sessions, "runs": args.runs, "load_average": args.load,
                   "corpus": corpus, "rows": {r: {"label": LABELS[r], "runs": rows[r], "summary": summ[r],
                                                  "ratio_to_ceiling": ratio(med[r], med.get("ceiling")),
                                                  "ratio_to_rspamd": ratio(med[r], med.get("rspamd")),
                                                  "probe": probes[r]} for r in order},
                   "one_session": single, "milter_log_errors": milter_errors}, f, indent=1)
    chart(args.out, order, summ)
    print("\n".join(md))


if __name__ == "__main__":
    main()
