"""A real FHIR server (sekmet-fhir) loaded with the fixtures, and a proxy that adds latency to every request."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from cdshooks.cli.sandbox import fhir_sandbox

TOKEN = "bench-token"


@contextmanager
def sekmet_with_fixtures():
    with fhir_sandbox(TOKEN) as base:
        yield base, TOKEN


@contextmanager
def delaying_proxy(target: str, delay: float):
    """Forwards GETs to `target` after `delay` seconds, rewriting absolute links back through itself."""
    session = requests.Session()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):  # noqa: N802
            time.sleep(delay)
            upstream = session.get(target + self.path[len("/fhir"):],
                                   headers={"Authorization": self.headers.get("Authorization", "")}, timeout=30)
            body = upstream.content.replace(target.encode(), proxy_base.encode())
            self.send_response(upstream.status_code)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    proxy_base = f"http://127.0.0.1:{server.server_port}/fhir"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield proxy_base
    finally:
        server.shutdown()
        session.close()
