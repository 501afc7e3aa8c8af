"""A JSON server on 127.0.0.1 for the backend tests: a handler base with one way to reply, and a context that serves
on a free port in a thread and always stops it."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer


class JSONHandler(BaseHTTPRequestHandler):
    """Replies with ``send_json``; logs nothing."""

    def send_json(self, body: object, status: int = 200, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        for k, v in {"Content-Type": "application/json", "Content-Length": str(len(data)), **(headers or {})}.items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(data)
        except OSError:  # the client gave up (a timeout scenario)
            pass

    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def serving(httpd: HTTPServer) -> Iterator[str]:
    """Serve ``httpd`` (bound to 127.0.0.1, port 0) in a thread; yields ``http://127.0.0.1:PORT``."""
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
