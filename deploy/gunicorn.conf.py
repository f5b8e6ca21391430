"""gunicorn settings for PA Advisor: `gunicorn -c deploy/gunicorn.conf.py "cdshooks.app:create_app()"`."""

import multiprocessing
import os

bind = os.environ.get("PA_BIND", "0.0.0.0:8080")
workers = int(os.environ.get("PA_WORKERS", str(min(4, multiprocessing.cpu_count() * 2))))
# FHIR reads run on a small thread pool inside each worker; sync workers keep the app simple.
worker_class = "sync"
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = None  # our own JSON log carries the fields we allow (no PHI in URLs or bodies)
errorlog = "-"
