"""A real FHIR server (sekmet-fhir) loaded with the fixtures, and a proxy that adds latency to every request."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from .harness import ROOT, free_port

TOKEN = "bench-token"


@contextmanager
def sekmet_with_fixtures():
    exe = shutil.which("sekmet") or str(Path(sys.executable).with_name("sekmet"))
    work = Path(tempfile.mkdtemp(prefix="pa-bench-fhir-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}/fhir"
    (work / "settings.yaml").write_text(
        f"base_url: {base}\nhost: 127.0.0.1\nport: {port}\ndata_dir: {work / 'data'}\n"
        f"server_auth:\n  types: [bearer]\n  tokens: [{TOKEN}]\nsimulator:\n  enabled: false\nlog_inbound: false\n")
    proc = subprocess.Popen([exe, "serve", "-c", str(work / "settings.yaml")], cwd=work,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(150):
            try:
                if requests.get(f"{base}/metadata", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/fhir+json"}
        for path in sorted((ROOT / "fhir_fixtures" / "bundles").glob("*.json")):
            requests.post(base, data=path.read_bytes(), headers=headers, timeout=60).raise_for_status()
        yield base, TOKEN
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


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
