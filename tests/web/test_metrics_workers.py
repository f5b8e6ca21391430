"""/metrics under gunicorn with several workers: every scrape, whichever worker answers, sums all of them."""

from __future__ import annotations

import os
import re
import subprocess
import time

import requests
from loopback import CLI, wait_until_up

from cdshooks.cli.sandbox import free_port


def _count(text: str, endpoint: str) -> float:
    found = re.search(rf'^pa_requests_total\{{endpoint="{endpoint}",status="200"\}} ([0-9.e+]+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def test_four_workers_report_exact_counts_on_every_scrape(tmp_path):
    port = free_port()
    env = {**os.environ, "PA_STORE_URL": f"sqlite:///{tmp_path}/s.db", "PA_METRICS_DIR": str(tmp_path / "metrics")}
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "counter_stale.db").write_bytes(b"left over from an earlier run")
    server = subprocess.Popen([*CLI, "serve", "--dev", "--port", str(port), "--workers", "4"], cwd=tmp_path, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/healthz", server)
        time.sleep(1.0)  # every worker booted, so calls spread over all four
        n = 23
        for _ in range(n):  # a new connection each time: the kernel spreads them over the workers
            r = requests.get(f"{base}/openapi.json", headers={"Connection": "close"}, timeout=5)
            assert r.status_code == 200
        for _ in range(8):
            scrape = requests.get(f"{base}/metrics", headers={"Connection": "close"}, timeout=5)
            assert _count(scrape.text, "cds.openapi") == n
        assert not (tmp_path / "metrics" / "counter_stale.db").exists(), "the folder is emptied at start"
        assert len(list((tmp_path / "metrics").glob("counter_*.db"))) >= 2, "several workers wrote counts"
    finally:
        server.terminate()
        server.wait(timeout=30)
