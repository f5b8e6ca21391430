"""The app the HTTP benchmarks serve: the real service plus a baseline route in the same process.

The baseline is what any Flask service pays: read the same request body, parse it, answer with a response
of the same size (a recorded PA response). gunicorn runs "bench.apps:create_bench_app()".
"""

from __future__ import annotations

import json
import os
from datetime import date

from flask import Flask, Response, request

from cdshooks.settings import Settings
from cdshooks.web.app import create_app


def create_bench_app() -> Flask:
    settings = Settings.from_env(dev_mode=True, store_url=os.environ.get("PA_STORE_URL", "sqlite:////tmp/pa-bench.db"))
    app = create_app(settings)
    app.extensions["pa"].hooks.today = lambda: date(2026, 11, 20)
    # The PA response for the benchmark request, computed by the harness before the server started.
    path = os.environ.get("PA_BENCH_RESPONSE")
    recorded = open(path, "rb").read() if path else b'{"cards": []}'

    @app.post("/bench/baseline")
    def baseline() -> Response:
        json.loads(request.get_data())
        return Response(recorded, mimetype="application/json")

    return app
