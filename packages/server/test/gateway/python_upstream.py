"""A test upstream in another language: Python's standard library HTTP server
that verifies Gatehouse's forwarded identity with the snippet from
docs/gateway.md (module `identity`, written next to this by the test) and
answers 200 with the verified claims or 401. Prints its port, then serves
until killed."""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import identity  # the docs snippet, with the test's URLs and audience


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        try:
            claims = identity.identity_of(self.headers.get("Authorization"))
            status, body = 200, {"verified": claims, "path": self.path}
        except PermissionError as error:
            status, body = 401, {"refused": str(error)}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
