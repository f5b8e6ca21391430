"""Loopback helpers: a JSON endpoint that counts its fetches (a JWK Set at an issuer's jku, the CRD request
generator's key list), the app on a real WSGI server, the CLI as a process, and waiting for a server to answer."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
from werkzeug.serving import make_server

# `pa-advisor` as a process, with whatever cdshooks the running interpreter (and its PYTHONPATH) imports.
CLI = [sys.executable, "-c", "from cdshooks.cli.commands import main; main()"]


@contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """The app on a threaded WSGI server on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def wait_until_up(url: str, proc: subprocess.Popen | None = None, timeout: float = 60) -> requests.Response:
    """The first answer from url (any status); fails if proc exits first or nothing answers in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{url}: the process exited with {proc.returncode}")
        try:
            return requests.get(url, timeout=2)
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not come up in {timeout:g} s")


class JsonEndpoint:
    def __init__(self, path: str) -> None:
        self.body: Any = {}
        self.fetches = 0
        self.status = 200  # what it answers (500: a jku that is down)
        self.hold: threading.Event | None = None  # when set to an Event, every answer waits for it
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                endpoint.fetches += 1
                if endpoint.hold is not None:
                    endpoint.hold.wait(30)
                data = json.dumps(endpoint.body).encode()
                self.send_response(endpoint.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_port}{path}"

    def close(self) -> None:
        self._server.shutdown()
