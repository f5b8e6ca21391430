"""A local FHIR R4 sandbox for tests, benchmarks and trying the service: sekmet-fhir on loopback, a fresh
data directory, a static bearer token, the simulator off, optionally loaded with fhir_fixtures/."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from cdshooks.errors import PAAdvisorError
from cdshooks.settings import FIXTURES_DIR


class SandboxError(PAAdvisorError, RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sekmet_executable() -> str | None:
    exe = shutil.which("sekmet") or str(Path(sys.executable).with_name("sekmet"))
    return exe if Path(exe).exists() else None


def post_fixtures(base: str, token: str | None, keys: tuple[str, ...] = (),
                  paths: tuple[Path, ...] = ()) -> Iterator[tuple[str, int]]:
    """POST transaction Bundles to a FHIR server, yielding (name, status): the given files or folders of them, or
    else every bundled fixture (or only those named)."""
    headers = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    files = [f for p in paths for f in (sorted(Path(p).glob("*.json")) if Path(p).is_dir() else [Path(p)])] or \
        [p for p in sorted((FIXTURES_DIR / "bundles").glob("*.json")) if not keys or p.stem in keys]
    with requests.Session() as session:
        for path in files:
            resp = session.post(base.rstrip("/"), data=path.read_bytes(), headers=headers, timeout=60)
            yield path.stem, resp.status_code


def load_fixtures(base: str, token: str | None) -> int:
    loaded = 0
    for name, status in post_fixtures(base, token):
        if status >= 300:
            raise SandboxError(f"{name}: HTTP {status}")
        loaded += 1
    return loaded


@contextmanager
def fhir_sandbox(token: str | None, *, fixtures: bool = True, workdir: Path | None = None) -> Iterator[str]:
    """Yields the FHIR base URL; stops the server and removes its data on exit. token None: an open server
    (as the CDS Hooks Sandbox and the CRD request generator expect)."""
    exe = sekmet_executable()
    if exe is None:
        raise SandboxError("sekmet-fhir is not installed: pip install -e '.[test]'")
    work = workdir or Path(tempfile.mkdtemp(prefix="pa-fhir-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}/fhir"
    auth = f"server_auth:\n  types: [bearer]\n  tokens: [{token}]\n" if token else ""
    (work / "settings.yaml").write_text(
        f"base_url: {base}\nhost: 127.0.0.1\nport: {port}\ndata_dir: {work / 'data'}\n"
        f"{auth}simulator:\n  enabled: false\nlog_inbound: false\n")
    with open(work / "server.log", "wb") as log:
        proc = subprocess.Popen([exe, "serve", "-c", str(work / "settings.yaml")], cwd=work, stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            for _ in range(150):
                try:
                    if requests.get(f"{base}/metadata", timeout=1).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if proc.poll() is not None:
                    raise SandboxError(f"FHIR server exited: {(work / 'server.log').read_text()[-2000:]}")
                time.sleep(0.1)
            else:
                raise SandboxError("FHIR server did not start within 15 s")
            if fixtures:
                load_fixtures(base, token)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
            if workdir is None:
                shutil.rmtree(work, ignore_errors=True)
