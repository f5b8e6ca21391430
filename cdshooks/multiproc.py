"""The folder gunicorn workers share their Prometheus values through. Imports nothing of prometheus_client: it
must run before that library is first imported, which fixes how every metric stores its value."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from cdshooks.errors import PAAdvisorError

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The files prometheus_client's multiprocess mode writes (one per metric type and worker pid).
METRICS_FILE = re.compile(r"(counter|gauge_\w+|histogram|summary)_\w+\.db")


class MetricsDirError(PAAdvisorError, ValueError):
    """PA_METRICS_DIR names a folder that holds more than metrics files: it is never emptied."""


def shared_metrics_dir(path: str | None = None) -> Path:
    """Empty `path` of earlier metrics files (default: a new temporary folder) and name it for every worker to
    come: values of an earlier run must never be summed in. A folder holding anything else is refused, never
    emptied (a mistyped PA_METRICS_DIR must not delete someone's files). Call in the gunicorn master before any
    worker starts."""
    folder = Path(path) if path else Path(tempfile.mkdtemp(prefix="pa-advisor-metrics-"))
    if folder.exists() and not folder.is_dir():
        raise MetricsDirError(f"PA_METRICS_DIR={folder}: not a folder")
    if folder.is_dir():
        others = sorted(p.name for p in folder.iterdir() if not (p.is_file() and METRICS_FILE.fullmatch(p.name)))
        if others:
            shown = ", ".join(others[:3]) + (", …" if len(others) > 3 else "")
            raise MetricsDirError(f"PA_METRICS_DIR={folder}: holds files that are not metrics ({shown}); give an "
                                  "empty folder or one only PA Advisor's metrics use")
        for old in folder.iterdir():
            old.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(folder)
    return folder
