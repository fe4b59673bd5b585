#!/usr/bin/env python3
"""A local stand-in for CAPE v2's REST API, as documented: POST
/apiv2/tasks/create/file/ (multipart field "file") -> {"error": false,
"data": {"task_ids": [N]}}; GET /apiv2/tasks/view/N/ -> {"data": {"status":
"pending"|"running"|"reported"}} (reported after two polls); GET
/apiv2/tasks/get/report/N/ -> {"malscore": S, "info": {"score": S}}. The score
is 9.0 when the sample contains "WScript" and 1.0 otherwise. Not a sandbox:
it lets tests check mailmoat's client without a real CAPE.
Usage: fake_cape.py PORT LOGFILE"""
import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

tasks = {}
log = open(sys.argv[2], "a", buffering=1)


class Handler(BaseHTTPRequestHandler):
    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path != "/apiv2/tasks/create/file/" or b'name="file"' not in body:
            return self.reply(400, {"error": True, "error_value": "no file"})
        task = len(tasks) + 1
        tasks[task] = {"sample": body, "polls": 0}
        log.write("submit %d %s\n" % (task, self.headers.get("Authorization", "")))
        self.reply(200, {"error": False, "data": {"task_ids": [task]}})

    def do_GET(self):
        m = re.fullmatch(r"/apiv2/tasks/(view|get/report)/(\d+)/", self.path)
        if not m or int(m.group(2)) not in tasks:
            return self.reply(404, {"error": True, "error_value": "no such task"})
        t = tasks[int(m.group(2))]
        if m.group(1) == "view":
            t["polls"] += 1
            status = "reported" if t["polls"] > 2 else "running"
            log.write("view %s %s\n" % (m.group(2), status))
            return self.reply(200, {"error": False, "data": {"id": int(m.group(2)), "status": status}})
        score = 9.0 if b"WScript" in t["sample"] else 1.0
        log.write("report %s %.1f\n" % (m.group(2), score))
        self.reply(200, {"malscore": score, "info": {"id": int(m.group(2)), "score": score}})

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
