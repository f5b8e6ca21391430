"""OpenTelemetry: off unless configured; on, a hook call against a real FHIR server exports one trace (the
endpoint's span and a span per FHIR read) over real OTLP/HTTP to a collector here, the JSON log lines of the call
carry its trace id, and no span names the patient."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from conftest import FHIR_TOKEN, SCENARIOS, scenario_request
from loopback import CLI, wait_until_up

pytestmark = pytest.mark.integration

KEY = "elx-approve"


class Collector:
    """An OTLP/HTTP trace receiver: decodes each ExportTraceServiceRequest it is sent."""

    def __init__(self) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        self.spans: list = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                req = ExportTraceServiceRequest()
                req.ParseFromString(body)
                for rs in req.resource_spans:
                    for ss in rs.scope_spans:
                        collector.spans.extend(ss.spans)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_port}"

    def close(self) -> None:
        self._server.shutdown()


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(extra)
    return env


def test_tracing_is_off_and_not_even_imported_unless_configured(tmp_path):
    code = ("import sys; from cdshooks.web.app import create_app; create_app(); "
            "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith('opentelemetry')}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True,
                         env=_env(PA_DEV_MODE="true", PA_STORE_URL=f"sqlite:///{tmp_path / 's.db'}"))
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_a_hook_call_is_one_trace_with_its_fhir_reads_and_its_log_lines(tmp_path, library, fhir_server):
    collector = Collector()
    port = 18000 + os.getpid() % 1000
    proc = subprocess.Popen(
        [*CLI, "serve", "--dev", "--port", str(port), "--workers", "2"],
        env=_env(OTEL_EXPORTER_OTLP_ENDPOINT=collector.url, OTEL_BSP_SCHEDULE_DELAY="100",
                 PA_STORE_URL=f"sqlite:///{tmp_path / 's.db'}", PA_METRICS_DIR=str(tmp_path / "m")),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base}/healthz", proc)
        body = scenario_request(KEY, library, fhir_server=fhir_server, token=FHIR_TOKEN)
        resp = requests.post(f"{base}/cds-services/pa-order-sign", json=body, timeout=60)
        assert resp.status_code == 200 and resp.json()["cards"], resp.text
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(s.kind == 2 for s in collector.spans):
            time.sleep(0.2)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
        collector.close()
    server = [s for s in collector.spans if s.kind == 2]  # SpanKind.SERVER
    assert len(server) == 1 and "/cds-services/" in server[0].name, [s.name for s in collector.spans]
    trace_id = server[0].trace_id
    reads = [s for s in collector.spans if s.kind == 3 and s.trace_id == trace_id]  # SpanKind.CLIENT
    assert len(reads) >= 3, [s.name for s in collector.spans]  # Patient, Coverage, Conditions, …
    patient = SCENARIOS[KEY]["patientId"]
    for span in collector.spans:
        for attr in span.attributes:
            assert patient not in str(attr.value), (span.name, attr.key, attr.value)
    urls = [a.value.string_value for s in reads for a in s.attributes if "://" in a.value.string_value]
    assert any(u.endswith("/Patient/{id}") for u in urls), urls
    # The service's own log line for the call carries the trace id; gunicorn's lines are JSON too.
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    calls = [line for line in lines if line["msg"] == "hook call"]
    assert calls and calls[0]["trace_id"] == trace_id.hex(), calls
    assert any(line.get("logger") == "gunicorn.error" for line in lines)
    plain = [line for line in err.splitlines() if line and not line.startswith("{")]
    assert all(line.startswith(("***", "Tester's console")) for line in plain), plain


def test_traces_asked_for_without_opentelemetry_installed_is_one_line_at_start(tmp_path):
    """A real missing package: a sitecustomize that hides `opentelemetry` from the started process."""
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\nclass _Hide:\n    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'opentelemetry' or name.startswith('opentelemetry.'):\n"
        "            raise ModuleNotFoundError(name)\n        return None\nsys.meta_path.insert(0, _Hide())\n")
    env = _env(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9", PA_STORE_URL=f"sqlite:///{tmp_path / 's.db'}",
               PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([*CLI, "serve", "--dev", "--port", "0"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2, done.stderr
    assert "pip install 'pa-advisor[otel]'" in done.stderr and "Traceback" not in done.stderr
