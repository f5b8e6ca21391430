"""Structured JSON logs with fixed fields only: never names, identifiers, tokens or request bodies."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable

ALLOWED = ("service", "hook_instance", "status", "latency_ms", "outcomes", "policy", "reason", "fhir", "path",
           "method", "event", "count", "iss", "jti")
logger = logging.getLogger("pa_advisor")
# Set by tracing.setup when OpenTelemetry is on: the current (trace id, span id), or None outside a span.
trace_ids: Callable[[], tuple[str, str] | None] | None = None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ours (fixed fields only) and gunicorn's own (deploy/gunicorn.conf.py)."""

    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": round(record.created, 3), "level": record.levelname, "msg": record.getMessage()}
        if record.name != logger.name:
            out["logger"] = record.name
        for key in ALLOWED:
            if hasattr(record, key):
                out[key] = getattr(record, key)
        if trace_ids is not None and (ids := trace_ids()):
            out["trace_id"], out["span_id"] = ids
        return json.dumps(out, default=str)


# gunicorn's error log (start, workers, signals) as JSON lines too; its access log stays off (URLs may carry ids).
GUNICORN_LOGCONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "cdshooks.logs.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "root": {"level": "WARNING", "handlers": ["stderr"]},
    "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False}},
}


def setup(level: str = "INFO") -> None:
    logger.setLevel(level.upper())
    if any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def shape(value: object) -> str:
    """What a caller-chosen string looks like, never what it says: a uuid as itself (random, no PHI), anything
    else as its kind and length ("text(23)"), so free text a caller sent never reaches a log or the audit."""
    if isinstance(value, str) and _UUID.fullmatch(value):
        return value
    return f"text({len(value)})" if isinstance(value, str) else type(value).__name__


def event(msg: str, level: int = logging.INFO, **fields: object) -> None:
    """Log one event; only the fixed ALLOWED fields are ever written."""
    logger.log(level, msg, extra={k: v for k, v in fields.items() if k in ALLOWED})
