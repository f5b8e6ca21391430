"""gunicorn settings for PA Advisor: `gunicorn -c deploy/gunicorn.conf.py "cdshooks.web.app:create_app()"`."""

import multiprocessing
import os
import sys

from cdshooks.logs import GUNICORN_LOGCONFIG
from cdshooks.multiproc import MetricsDirError, shared_metrics_dir
from cdshooks.settings import bind_address

# Before any worker imports prometheus_client: every worker's metrics land in one folder, summed by /metrics.
try:
    shared_metrics_dir(os.environ.get("PA_METRICS_DIR"))
except MetricsDirError as exc:  # one line, never a traceback, and never someone else's files deleted
    print(f"pa-advisor: {exc}", file=sys.stderr)
    raise SystemExit(2) from None

bind = bind_address()  # the HEALTHCHECK (`pa-advisor probe`) reads the same PA_BIND
workers = int(os.environ.get("PA_WORKERS", str(min(4, multiprocessing.cpu_count() * 2))))
# Threaded workers: a slow client (or a slow-loris attack) holds one thread, not a whole worker, so /healthz and
# other callers keep being answered. In production put a reverse proxy (nginx) in front: it buffers whole
# requests before they reach gunicorn, with its own header and body timeouts.
worker_class = "gthread"
threads = int(os.environ.get("PA_THREADS", "16"))
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = None  # our own JSON log carries the fields we allow (no PHI in URLs or bodies)
errorlog = "-"
logconfig_dict = GUNICORN_LOGCONFIG  # gunicorn's own lines as JSON, like ours
# gunicorn ≥ 27 opens a control socket under $HOME; the image's user has no home (an ERROR line at every start),
# and nothing here uses it.
control_socket_disable = True


def on_starting(server):  # noqa: ARG001 (gunicorn's hook signature)
    """Check the settings and mappings once in the master: a bad PA_* value or mapping file is one line and exit 2,
    not a traceback from every worker ("Worker failed to boot")."""
    import sys

    from cdshooks.web.app import STARTUP_ERRORS, create_app, startup_message

    try:
        create_app()
    except STARTUP_ERRORS as exc:
        sys.stderr.write(f"pa-advisor: cannot start: {startup_message(exc)}\n")
        sys.exit(2)
