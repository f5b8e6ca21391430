"""A loopback HTTP endpoint that serves whatever JSON a test sets, and counts how often it was fetched
(a JWK Set at an issuer's jku, the CRD request generator's key list)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class JsonEndpoint:
    def __init__(self, path: str) -> None:
        self.body: Any = {}
        self.fetches = 0
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                endpoint.fetches += 1
                data = json.dumps(endpoint.body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_port}{path}"

    def close(self) -> None:
        self._server.shutdown()
