"""A stand-in SMS gateway the message tests run as a process of their own.

    python tests/sms_gateway.py PORT LOG

Each POST is appended to LOG as one JSON line (its Authorization and Idempotency-Key
headers and its JSON body) and answered 200 {"id": n}. It honours the idempotency key, as
good gateways do: a POST with a key it has seen is not sent again (logged with
"duplicate": true, answered with the first one's id). While a file LOG.fail exists it
answers 503; while LOG.slow exists it takes the message, then waits 3 s before answering
(a worker can die in between).
"""

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def main(port: int, log: Path) -> None:
    failing, slow = log.with_suffix(".fail"), log.with_suffix(".slow")
    seen: dict[str, int] = {}

    class Gateway(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802  (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if failing.exists():
                self.send_response(503)
                self.end_headers()
                self.wfile.write(b"gateway busy")
                return
            key = self.headers.get("Idempotency-Key")
            entry = {"auth": self.headers.get("Authorization"), "key": key}
            entry["body"] = json.loads(body)
            if key and key in seen:
                entry["duplicate"] = True
            else:
                seen[key or f"none-{len(seen)}"] = len(seen) + 1
            with log.open("a") as out:
                out.write(json.dumps(entry, ensure_ascii=False) + "\n")
            if slow.exists():
                time.sleep(3)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps({"id": seen.get(key, len(seen))}).encode())

        def log_message(self, *_args):
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Gateway).serve_forever()


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
