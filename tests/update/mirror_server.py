#!/usr/bin/python3
"""A static mirror for the update tests, on 127.0.0.1, that can misbehave.

    mirror_server.py ROOT PORTFILE LOGFILE RULES

Serves files under ROOT like a plain static server. Before each request it
reads the JSON file RULES (missing = no rules), mapping a request path to a
behaviour, so a test can turn one mirror into a hostile one between runs:

    {"/timestamp.note": {"endless": true}}        10 MiB of data, chunked
    {"/blob/<h>": {"extra": 1048576}}              the file, then 1 MiB more
    {"/timestamp.note": {"slow": true}}            one byte every 2 seconds
    {"/timestamp.note": {"redirect": "file:///etc/passwd"}}
    {"/timestamp.note": {"status": 429}}
    {"/test.cvd": {"status": 429, "headers": {"Retry-After": "3600"}}}

Honours "Range: bytes=A-B" (and "bytes=A-") on plain files with 206 Partial
Content, as ClamAV's mirrors do for the header of a .cvd; {"norange": true}
makes it ignore Range and send the whole file.

Writes the chosen port to PORTFILE, and one line per request to LOGFILE:
method, path and every request header, so tests can check what clients send.
"""
import http.server
import json
import os
import sys
import time

ROOT, PORTFILE, LOGFILE, RULES = sys.argv[1:5]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def rules(self):
        try:
            with open(RULES) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def do_GET(self):
        with open(LOGFILE, "a") as log:
            headers = "|".join("%s: %s" % (k, v) for k, v in self.headers.items())
            log.write("%s %s %s\n" % (self.command, self.path, headers))
        rule = self.rules().get(self.path, {})
        if "status" in rule:
            self.send_response(rule["status"])
            for k, v in rule.get("headers", {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if "redirect" in rule:
            self.send_response(302)
            self.send_header("Location", rule["redirect"])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path = os.path.join(ROOT, self.path.lstrip("/"))
        if rule.get("endless"):
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"A" * 65536
            try:
                for _ in range(160):  # 10 MiB, then stop
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass
            return
        if os.path.isdir(path) or not os.path.isfile(path):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with open(path, "rb") as f:
            data = f.read()
        if rule.get("slow"):
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                for i in range(min(len(data), 30)):  # bounded: 30 bytes, 60 s at most
                    self.wfile.write(data[i:i + 1])
                    self.wfile.flush()
                    time.sleep(2)
            except OSError:
                pass
            return
        extra = int(rule.get("extra", 0))
        rng = self.headers.get("Range", "")
        if rng.startswith("bytes=") and not extra and not rule.get("norange"):
            first, _, last = rng[6:].partition("-")
            try:
                a = int(first)
                b = int(last) if last else len(data) - 1
            except ValueError:
                a, b = -1, -1
            if a < 0 or a >= len(data) or b < a:
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % len(data))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            b = min(b, len(data) - 1)
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (a, b, len(data)))
            self.send_header("Content-Length", str(b - a + 1))
            self.end_headers()
            self.wfile.write(data[a:b + 1])
            return
        self.send_response(200)
        if extra:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                body = data + b"B" * extra
                for i in range(0, len(body), 65536):
                    part = body[i:i + 65536]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass
            return
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients that hang up (size limits, timeouts) are expected


server = Server(("127.0.0.1", 0), Handler)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
server.serve_forever()
