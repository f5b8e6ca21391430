"""Bring a database to the newest schema with Alembic (run at start-up, and by `pa-advisor db upgrade`)."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, inspect, text

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Any fixed number: instances starting together take turns on PostgreSQL instead of racing to create tables.
LOCK_ID = 774_418_201
# The newest revision in migrations/versions (tests/store/test_store.py checks): a store already there starts without
# loading Alembic at all (about 100 ms of imports).
HEAD = "0002"


def _config(connection: Connection) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine) -> None:
    """To the newest revision. Processes starting together (gunicorn workers, instances) take turns: a
    PostgreSQL advisory lock, or an flock on a file beside the SQLite database."""
    with _sqlite_turn(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": LOCK_ID})
        if _revision(conn) != HEAD:
            from alembic import command

            command.upgrade(_config(conn), "head")


def _revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


@contextmanager
def _sqlite_turn(engine: Engine) -> Iterator[None]:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def versions(engine: Engine) -> tuple[str | None, str]:
    """(the database's revision, the newest revision the migrations hold)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        head = ScriptDirectory.from_config(_config(conn)).get_current_head()
    return current, str(head)
