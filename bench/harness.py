"""Shared benchmark machinery: a gunicorn server on loopback, concurrent callers, latency statistics."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from cdshooks.cli.sandbox import free_port

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def gunicorn(workers: int = 2, env: dict[str, str] | None = None, threads: int = 1):
    """The bench app under gunicorn (the deploy config's worker class) on a free loopback port."""
    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", str(workers), "--threads", str(threads),
           "--backlog", "2048", "--timeout", "60", "--log-level", "warning", "bench.apps:create_bench_app()"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or workers still booting
                time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not start")
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@dataclass
class Stats:
    n: int
    errors: int
    p50: float
    p99: float
    max: float
    rps: float

    def row(self) -> str:
        return (f"n={self.n:5d} err={self.errors:3d} p50={self.p50 * 1000:7.2f} ms p99={self.p99 * 1000:7.2f} ms "
                f"max={self.max * 1000:7.2f} ms  {self.rps:7.1f}/s")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load(url: str, body: bytes, concurrency: int, calls: int, check: Callable[[requests.Response], bool]) -> Stats:
    """`calls` POSTs spread over `concurrency` threads, each with its own keep-alive session."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    per_thread = max(1, calls // concurrency)

    def worker() -> None:
        nonlocal errors
        with requests.Session() as s:
            for _ in range(per_thread):
                t = time.perf_counter()
                try:
                    r = s.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=60)
                    ok = check(r)
                except requests.RequestException:
                    ok = False
                dt = time.perf_counter() - t
                with lock:
                    latencies.append(dt)
                    errors += not ok

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    return Stats(len(latencies), errors, statistics.median(latencies), percentile(latencies, 0.99), max(latencies),
                 len(latencies) / wall)


def best_of(fn: Callable[[], Any], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (gunicorn master + workers), in MB."""
    total = 0
    pids = [pid] + [int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
                    .stdout.split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024
