"""PA Advisor benchmarks: `python -m bench all` (or latency | fanout | scaling | startup | soak).

Every figure is printed next to a baseline measured in the same run, as a ratio; bench/README.md keeps the
latest figures. Loopback only; every loop is bounded in calls or time.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from datetime import date
from pathlib import Path

import click

from .harness import best_of, gunicorn, load, rss_mb


def _library():
    from cdshooks.policy.loader import load_library
    from cdshooks.settings import DEFAULT_MAPPINGS

    return load_library(DEFAULT_MAPPINGS)


def _app(**settings):
    from cdshooks.settings import Settings
    from cdshooks.web.app import create_app

    tmp = Path(tempfile.mkdtemp(prefix="pa-bench-"))
    app = create_app(Settings(dev_mode=True, store_url=f"sqlite:///{tmp / 'store.db'}", log_level="WARNING",
                              **settings))
    app.extensions["pa"].hooks.today = lambda: date(2026, 11, 20)
    return app


@click.group()
def main() -> None:
    """PA Advisor benchmarks (ratios against same-run baselines)."""


@main.command()
@click.option("--calls", default=400, show_default=True, help="calls per concurrency level")
@click.option("--workers", default=2, show_default=True, help="gunicorn workers (the machine has 2 cores)")
def latency(calls: int, workers: int) -> None:
    """1. Hook latency with full prefetch through gunicorn vs a bare Flask route answering the same size."""
    from .records import padded, request_body

    library = _library()
    body = json.dumps(request_body(library, padded(300, 10, 18))).encode()
    app = _app()
    answer = app.test_client().post("/cds-services/pa-order-sign", data=body, content_type="application/json")
    assert answer.status_code == 200 and answer.json["cards"], answer.json
    resp_file = Path(tempfile.mkdtemp()) / "response.json"
    resp_file.write_bytes(answer.get_data())
    click.echo(f"record: ~300 Observations, 30 medication entries, 20 conditions; request {len(body) / 1024:.0f} KB, "
               f"response {len(answer.get_data()) / 1024:.0f} KB; gunicorn sync workers={workers}")

    def has_cards(r):
        return r.status_code == 200 and b'"cards"' in r.content

    with gunicorn(workers, {"PA_BENCH_RESPONSE": str(resp_file)}) as (base, _):
        for url in (f"{base}/cds-services/pa-order-sign", f"{base}/bench/baseline"):  # warm every worker
            load(url, body, 4, 40, has_cards)
        for conc in (1, 8, 32, 64):
            n = calls if conc == 1 else max(calls, conc * 10)
            svc = load(f"{base}/cds-services/pa-order-sign", body, conc, n, has_cards)
            ref = load(f"{base}/bench/baseline", body, conc, n, has_cards)
            click.echo(f"c={conc:2d} service  {svc.row()}")
            click.echo(f"     baseline {ref.row()}")
            click.echo(f"     ratio p50 {svc.p50 / ref.p50:.2f}x  p99 {svc.p99 / ref.p99:.2f}x (target <= 2)  "
                       f"throughput {svc.rps / ref.rps:.2f}x (target >= 0.5)  errors {svc.errors}")


@main.command()
@click.option("--delay-ms", default=50, show_default=True, help="latency injected into every FHIR request")
def fanout(delay_ms: int) -> None:
    """2. No prefetch: all reads from a real FHIR server behind a delaying proxy; total vs slowest query."""
    from .fhir import delaying_proxy, sekmet_with_fixtures
    from .records import scenario

    library = _library()
    app = _app()
    client = app.test_client()
    s = scenario()
    with sekmet_with_fixtures() as (fhir, token), delaying_proxy(fhir, delay_ms / 1000) as proxied:
        from cdshooks.ehr.request import hook_request

        body = hook_request("order-sign", s["patientId"], s["draftOrders"], user_id=s["userId"],
                            fhir_server=proxied, token=token)

        def call():
            r = client.post("/cds-services/pa-order-sign", json=body)
            assert r.status_code == 200 and r.json["cards"], r.json

        call()
        total = best_of(call, 7)
        import requests

        from cdshooks.service.hooks import fill_template, prefetch_specs

        slowest = 0.0
        with requests.Session() as session:
            for spec in prefetch_specs(library):
                q = fill_template(spec.template, s["patientId"], s["userId"])
                if q:
                    slowest = max(slowest, best_of(lambda q=q: session.get(f"{proxied}/{q}", headers={
                        "Authorization": f"Bearer {token}"}, timeout=30), 3))
    click.echo(f"injected latency {delay_ms} ms per FHIR request")
    click.echo(f"hook total {total * 1000:.1f} ms; slowest single query {slowest * 1000:.1f} ms; "
               f"ratio {total / slowest:.2f}x (target <= 1.3)")


@main.command()
def scaling() -> None:
    """3. Hook time for growing records next to serialising + parsing the same body (the floor)."""
    from .records import padded, request_body

    library = _library()
    app = _app(max_body_bytes=512 * 1024 * 1024, max_bundle_entries=200_000)
    client = app.test_client()
    rows = []
    for n in (100, 1000, 5000, 20000):
        body_obj = request_body(library, padded(n, n // 4, 20))
        text = json.dumps(body_obj)
        floor = best_of(lambda body_obj=body_obj: json.loads(json.dumps(body_obj)), 3)
        data = text.encode()

        def call(data=data):
            r = client.post("/cds-services/pa-order-sign", data=data, content_type="application/json")
            assert r.status_code == 200 and r.json["cards"]

        hook = best_of(call, 3)
        rows.append((n, hook, floor))
        target = "  (target <= 3 at 5000)" if n == 5000 else ""
        click.echo(f"{n:6d} obs + {n // 4:5d} meds ({len(data) / 1e6:6.2f} MB): hook {hook * 1000:8.1f} ms   "
                   f"floor {floor * 1000:8.1f} ms   ratio {hook / floor:5.2f}x{target}")
    (n0, h0, _), (n1, h1, _) = rows[1], rows[-1]
    click.echo(f"growth 1,000 → 20,000: hook x{h1 / h0:.1f} for x{n1 / n0:.0f} the data (linear = x{n1 / n0:.0f})")


@main.command()
def startup() -> None:
    """4. Loading and compiling all mappings vs only parsing their YAML."""
    import yaml

    from cdshooks.policy.loader import load_library
    from cdshooks.settings import DEFAULT_MAPPINGS

    files = sorted(DEFAULT_MAPPINGS.rglob("*.yaml"))
    floor = best_of(lambda: [yaml.safe_load(f.read_text()) for f in files], 5)
    full = best_of(lambda: load_library(DEFAULT_MAPPINGS), 5)
    t = time.perf_counter()
    _app()
    app_time = time.perf_counter() - t
    click.echo(f"{len(files)} mapping files: load+validate+compile {full * 1000:.1f} ms; YAML parse alone "
               f"{floor * 1000:.1f} ms; ratio {full / floor:.2f}x; whole create_app {app_time * 1000:.0f} ms")


@main.command()
@click.option("--seconds", default=60, show_default=True, help="how long to keep the callers busy")
@click.option("--callers", default=50, show_default=True)
@click.option("--workers", default=4, show_default=True)
@click.option("--interval", default=30, show_default=True, help="seconds per report line")
def soak(seconds: int, callers: int, workers: int, interval: int) -> None:
    """Keep N callers busy against gunicorn on loopback; report errors, p50/p99 and RSS over time."""
    import threading

    import requests

    from .harness import percentile
    from .records import padded, request_body

    body = json.dumps(request_body(_library(), padded(300, 10, 18))).encode()
    stop = time.monotonic() + seconds
    lock = threading.Lock()
    window: list[float] = []
    totals = {"calls": 0, "errors": 0}

    def caller():
        with requests.Session() as s:
            while time.monotonic() < stop:
                t = time.perf_counter()
                try:
                    r = s.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=30)
                    ok = r.status_code == 200 and b'"cards"' in r.content
                except requests.RequestException:
                    ok = False
                with lock:
                    window.append(time.perf_counter() - t)
                    totals["calls"] += 1
                    totals["errors"] += not ok

    with gunicorn(workers) as (base, proc):
        url = f"{base}/cds-services/pa-order-sign"
        threads = [threading.Thread(target=caller, daemon=True) for _ in range(callers)]
        for t in threads:
            t.start()
        started = time.monotonic()
        click.echo(f"soak: {callers} callers, gunicorn {workers} workers, {seconds} s; RSS at start "
                   f"{rss_mb(proc.pid):.0f} MB")
        while time.monotonic() < stop:
            time.sleep(min(interval, max(0.0, stop - time.monotonic())))
            with lock:
                lat, window[:] = list(window), []
                calls, errors = totals["calls"], totals["errors"]
            click.echo(f"t={time.monotonic() - started:6.0f}s calls={calls:7d} errors={errors:4d} "
                       f"p50={percentile(lat, 0.5) * 1000:7.1f} ms p99={percentile(lat, 0.99) * 1000:7.1f} ms "
                       f"rate={len(lat) / interval:6.1f}/s RSS={rss_mb(proc.pid):6.0f} MB")
        for t in threads:
            t.join(timeout=35)
    click.echo(f"total calls {totals['calls']}, errors {totals['errors']}")


@main.command(name="all")
@click.pass_context
def run_all(ctx: click.Context) -> None:
    """The four benchmarks, one after the other."""
    for name, cmd in (("1. latency", latency), ("2. FHIR fan-out", fanout), ("3. scaling", scaling),
                      ("4. start-up", startup)):
        click.echo(f"\n== {name} ==")
        ctx.invoke(cmd)


if __name__ == "__main__":
    os.environ.setdefault("PA_LOG_LEVEL", "WARNING")  # gunicorn workers inherit it
    main()
