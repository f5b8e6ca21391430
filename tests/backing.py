"""This machine's PostgreSQL and Redis (and other real parts) for the tests that need them: their URLs, and the
rule that such a test skips with a reason on a user's machine without them, and fails under CI=true."""

from __future__ import annotations

import os

import pytest

PG_URL = os.environ.get("PA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("PA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def needs(ok: bool, what: str) -> None:
    if not ok:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{what} is needed under CI")
        pytest.skip(f"{what} not available here; CI runs this test")


def postgres_or_skip() -> str:
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            pass
    except Exception as exc:  # driver missing or server down
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL must be reachable under CI at {PG_URL}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL} ({type(exc).__name__}); CI runs this test")
    return PG_URL


def redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except Exception as exc:  # driver raises several kinds
        needs(False, f"Redis at {REDIS_URL} ({type(exc).__name__})")
