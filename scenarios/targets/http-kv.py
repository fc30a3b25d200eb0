#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# A key-value service in 20 lines: PUT /KEY stores the body and copies it to the peers (best
# effort, no retry), GET /KEY answers it, GET / counts the keys. Run: http-kv.py ADDRESS (PEERS=a,b,c)
import http.server, os, sys, urllib.request
store, me = {}, sys.argv[1]
peers = [p for p in os.environ.get("PEERS", "").split(",") if p and p != me]
class Handler(http.server.BaseHTTPRequestHandler):
    def reply(self, code, body=b""):
        self.send_response(code); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_GET(self):
        if self.path == "/": return self.reply(200, b"%d\n" % len(store))
        self.reply(200, store[self.path]) if self.path in store else self.reply(404)
    def do_PUT(self):
        store[self.path] = self.rfile.read(int(self.headers.get("Content-Length", 0))); self.reply(204)
        for p in ([] if self.headers.get("X-Copy") else peers):
            try: urllib.request.urlopen(urllib.request.Request(f"http://{p}:8080{self.path}", store[self.path], {"X-Copy": "1"}, method="PUT"), timeout=0.5)
            except OSError: pass
    def log_message(self, *args): pass
class Server(http.server.ThreadingHTTPServer):  # a backlog for open-loop clients (default 5)
    request_queue_size, daemon_threads = 256, True
Server((me, 8080), Handler).serve_forever()
