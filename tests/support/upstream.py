"""A real HTTP server on loopback standing in for DataCue, Cobi or a webhook receiver."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

from support.servers import free_port


class Upstream:
    """Records every request; `answer(request) -> (status, headers, body)` decides each reply."""

    def __init__(self, answer=None, port: int | None = None):
        """Bind nothing yet; start() listens."""
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.answer = answer or (lambda request: (204, {}, b""))
        self.received: list[dict] = []
        self.lock = threading.Lock()
        self.server = None

    def start(self) -> Upstream:
        """Listen (again) on the same port."""
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                request = {"time": time.monotonic(), "method": self.command, "path": self.path,
                           "headers": dict(self.headers),
                           "raw": raw, "json": json.loads(raw) if raw else None}
                with upstream.lock:
                    upstream.received.append(request)
                status, headers, body = upstream.answer(request)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_PUT = do_DELETE = do_POST  # noqa: N815 (DataCue's batch delete; recorded alike)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            allow_reuse_address = True

            def handle_error(self, request, client_address):
                pass  # a client that went away mid-answer (a killed forwarder) is part of the tests

        self.server = Server(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening: connections are refused until start()."""
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self) -> Upstream:
        """Start on entering the block."""
        return self.start()

    def __exit__(self, *exc) -> None:
        """Stop on leaving it."""
        self.stop()

    def event_ids(self) -> list[str]:
        """The event ids received, one per delivered event (webhook batches unpacked)."""
        ids = []
        with self.lock:
            for request in self.received:
                body = request["json"]
                if isinstance(body, dict) and "data" in body:
                    ids.extend(item["event_id"] for item in body["data"]["events"])
                else:
                    ids.append(request["headers"]["Idempotency-Key"])
        return ids
