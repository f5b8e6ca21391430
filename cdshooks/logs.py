"""Structured JSON logs with fixed fields only: never names, identifiers, tokens or request bodies."""

from __future__ import annotations

import json
import logging
import sys
import time

ALLOWED = ("service", "hook_instance", "status", "latency_ms", "outcomes", "policy", "reason", "fhir", "path",
           "method", "event", "count", "iss", "jti")
logger = logging.getLogger("pa_advisor")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": round(time.time(), 3), "level": record.levelname, "msg": record.getMessage()}
        for key in ALLOWED:
            if hasattr(record, key):
                out[key] = getattr(record, key)
        return json.dumps(out, default=str)


def setup(level: str = "INFO") -> None:
    logger.setLevel(level.upper())
    if any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


def event(msg: str, level: int = logging.INFO, **fields: object) -> None:
    """Log one event; only the fixed ALLOWED fields are ever written."""
    logger.log(level, msg, extra={k: v for k, v in fields.items() if k in ALLOWED})
