#!/usr/bin/python3
# A one-file HTTPS server for MTA-STS tests: serves DIR/mta-sts.txt as
# /.well-known/mta-sts.txt (text/plain) on ADDRESS:PORT with CERT/KEY.
# For TLS-RPT tests, a POST stores its body in DIR/posted.bin and its
# Content-Type in DIR/posted.type, and answers 201.
# Usage: https_server.py ADDRESS PORT CERT KEY DIR
import http.server, ssl, sys, os

address, port, cert, key, root = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = os.path.join(root, "mta-sts.txt")
        if self.path != "/.well-known/mta-sts.txt" or not os.path.exists(path):
            self.send_response(404); self.end_headers(); return
        body = open(path, "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        open(os.path.join(root, "posted.type"), "w").write(self.headers.get("Content-Type", ""))
        open(os.path.join(root, "posted.bin"), "wb").write(body)
        self.send_response(201); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, fmt, *args):
        sys.stderr.write("https_server: " + (fmt % args) + "\n")

server = http.server.HTTPServer((address, port), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()
