"""A real HTTP server on loopback that misbehaves on purpose, one fault per path prefix (for fault tests).

base URL http://127.0.0.1:PORT/<mode>: slow, e500, e401, e403, e404, trunc, notjson, wrongtype, endless, big,
trickle (headers, then one byte every 0.5 s for a minute), redirect (302 to /sink/ on the same server, which
records what reaches it), ok.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

BIG_BYTES = 50 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen_auth: list[str | None] = []
    hits: list[int] = []  # port of the server that answered, per request
    sink: list[tuple[str, str | None]] = []  # (path, Authorization) of every request that reached /sink/
    paths: list[str] = []  # path and query of every request

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, ctype: str = "application/fhir+json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        _Handler.seen_auth.append(self.headers.get("Authorization"))
        _Handler.hits.append(self.server.server_address[1])
        _Handler.paths.append(self.path)
        parts = urlsplit(self.path)
        mode, _, rest = parts.path.lstrip("/").partition("/")
        bundle = {"resourceType": "Bundle", "type": "searchset", "entry": []}
        if mode == "slow":
            time.sleep(3)
            self._send(200, json.dumps(bundle).encode())
        elif mode in ("e500", "e401", "e403", "e404"):
            self._send(int(mode[1:]), b'{"resourceType":"OperationOutcome"}')
        elif mode == "trunc":
            self._send(200, b'{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient"')
        elif mode == "notjson":
            self._send(200, b"<html>login</html>", "text/html")
        elif mode == "wrongtype":
            self._send(200, json.dumps({"resourceType": "Patient", "id": "p1"}).encode())
        elif mode == "endless":
            host = self.headers.get("Host")
            page = int((parts.query.split("page=")[-1] or "0") if "page=" in parts.query else 0)
            bundle["link"] = [{"relation": "next", "url": f"http://{host}/endless/{rest}?page={page + 1}"}]
            self._send(200, json.dumps(bundle).encode())
        elif mode == "trickle":
            self.send_response(200)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            try:
                for _ in range(120):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.5)
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif mode == "redirect":
            self.send_response(302)
            self.send_header("Location", f"http://{self.headers.get('Host')}/sink/{rest}")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif mode == "sink":
            _Handler.sink.append((self.path, self.headers.get("Authorization")))
            self._send(200, json.dumps(bundle).encode())
        elif mode == "big":
            filler = b" " * (BIG_BYTES - 60)
            self._send(200, b'{"resourceType":"Bundle","type":"searchset",' + filler + b'"entry":[]}')
        else:
            self._send(200, json.dumps(bundle).encode())


class FaultyFhir:
    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        # A client that gives up mid-answer (the point of the slow modes) is expected: no traceback on stderr.
        self.server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FaultyFhir:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
