"""A stand-in SMS gateway the message tests run as a process of their own.

    python tests/sms_gateway.py PORT LOG

Each POST is appended to LOG as one JSON line (its Authorization header and its JSON
body) and answered 200 {"id": n}; while a file LOG.fail exists it answers 503 instead.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path


def main(port: int, log: Path) -> None:
    failing = log.with_suffix(".fail")

    class Gateway(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802  (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if failing.exists():
                self.send_response(503)
                self.end_headers()
                self.wfile.write(b"gateway busy")
                return
            with log.open("a") as out:
                entry = {"auth": self.headers.get("Authorization"), "body": json.loads(body)}
                out.write(json.dumps(entry, ensure_ascii=False) + "\n")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"id": 1}')

        def log_message(self, *_args):
            pass

    HTTPServer(("127.0.0.1", port), Gateway).serve_forever()


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
