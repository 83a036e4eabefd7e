#!/usr/bin/env python3
"""A reverse proxy in front of the test registry that behaves like registries the client must
cope with. Modes (comma-separated):
  no-range   strip Range from blob requests (answers 200 with the whole blob)
  bearer     demand a Bearer token (WWW-Authenticate realm=.../token); the token service wants
             Basic user:secret and hands out one token
  basic      demand Basic user:secret on every request
  flaky      every third blob request is cut off after 100 KiB (the connection drops)

  registry_proxy.py LISTEN_PORT UPSTREAM_PORT MODES
Prints "ready" once listening.
"""
import base64
import http.client
import http.server
import json
import sys
import threading

LISTEN, UPSTREAM, MODES = int(sys.argv[1]), int(sys.argv[2]), set(sys.argv[3].split(","))
TOKEN = "t0k3n-for-tests"
counter = {"blobs": 0}
lock = threading.Lock()


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _token(self):
        expected = "Basic " + base64.b64encode(b"user:secret").decode()
        if self.headers.get("Authorization") != expected:
            self._reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}')
            return
        self._reply(200, json.dumps({"token": TOKEN}).encode())

    def _reply(self, status, body, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def _forward(self):
        if self.path.startswith("/token"):
            return self._token()
        basic = "Basic " + base64.b64encode(b"user:secret").decode()
        if "basic" in MODES and self.headers.get("Authorization") != basic:
            return self._reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', [("WWW-Authenticate", 'Basic realm="test"')])
        if "bearer" in MODES and self.headers.get("Authorization") != "Bearer " + TOKEN:
            realm = f'Bearer realm="http://127.0.0.1:{LISTEN}/token",service="test-registry",scope="repository:x:pull"'
            return self._reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', [("WWW-Authenticate", realm)])
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "authorization")}
        is_blob = "/blobs/sha256:" in self.path
        if "no-range" in MODES and is_blob:
            headers.pop("Range", None)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        conn = http.client.HTTPConnection("127.0.0.1", UPSTREAM)
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        cut = False
        if "flaky" in MODES and is_blob and self.command == "GET":
            with lock:
                counter["blobs"] += 1
                cut = counter["blobs"] % 3 == 0 and len(data) > 200 * 1024
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection"):
                self.send_header(k, v)
        self.end_headers()
        if cut:
            self.wfile.write(data[:100 * 1024])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _forward


server = http.server.ThreadingHTTPServer(("127.0.0.1", LISTEN), Proxy)
print("ready", flush=True)
server.serve_forever()
