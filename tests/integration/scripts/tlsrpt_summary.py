#!/usr/bin/python3
# Prints one line per policy of a gzip TLS-RPT report (RFC 8460 §4) for the
# integration tests to compare:
#   <policy-type> <policy-domain> [<policy-string lines joined by |>] ok=<n> failed=<n> <result-type>@<mx>#<count> ...
# Usage: tlsrpt_summary.py REPORT.json.gz
import gzip, json, sys

report = json.loads(gzip.decompress(open(sys.argv[1], "rb").read()))
for p in report["policies"]:
    policy, summary = p["policy"], p["summary"]
    failures = " ".join("%s@%s#%d" % (f["result-type"], f.get("receiving-mx-hostname", ""), f["failed-session-count"])
                        for f in p.get("failure-details", []))
    print("%s %s [%s] ok=%d failed=%d %s" % (policy["policy-type"], policy["policy-domain"],
                                             "|".join(policy.get("policy-string", [])),
                                             summary["total-successful-session-count"],
                                             summary["total-failure-session-count"], failures))
