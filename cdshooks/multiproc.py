"""The folder gunicorn workers share their Prometheus values through. Imports nothing of prometheus_client: it
must run before that library is first imported, which fixes how every metric stores its value."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def shared_metrics_dir(path: str | None = None) -> Path:
    """Empty `path` (default: a new temporary folder) and name it for every worker to come: values of an earlier
    run must never be summed in. Call in the gunicorn master before any worker starts."""
    folder = Path(path) if path else Path(tempfile.mkdtemp(prefix="pa-advisor-metrics-"))
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(folder)
    return folder
