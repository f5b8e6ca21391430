"""The store: SQLite by default (a file path or sqlite:/// URL), PostgreSQL by URL, through one SQLAlchemy engine.

PostgreSQL gets a connection pool (checked before use, so a restarted server costs one failed check, not a
failed call); SQLite a connection per thread in WAL mode. Every write is one transaction; the schema is brought
to the newest migration when the store opens.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, delete, event, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from cdshooks.errors import PAAdvisorError
from cdshooks.store.migrate import upgrade
from cdshooks.store.tables import audit, dtr_context, dtr_response, feedback, jwt_seen

POOL = {"pool_size": 5, "max_overflow": 10, "pool_timeout": 5, "pool_pre_ping": True, "pool_recycle": 1800}


class StoreError(PAAdvisorError):
    pass


class StoreDriverMissing(StoreError):
    """The store URL needs a driver this install lacks (an extra): the message says which."""


def engine_for(url: str, application_name: str = "pa-advisor") -> Engine:
    """An engine for the URL as operators write it: postgresql://… (psycopg 3), sqlite:///path, or a path."""
    if url.startswith(("postgresql://", "postgres://")):
        try:
            import psycopg  # noqa: F401  (the driver is an extra: say which one, not a traceback)
        except ImportError as exc:
            raise StoreDriverMissing("PA_STORE_URL is PostgreSQL, whose driver is not installed: "
                                     "pip install 'pa-advisor[postgres]'") from exc
        return create_engine("postgresql+psycopg://" + url.split("://", 1)[1],
                             connect_args={"connect_timeout": 5, "application_name": application_name}, **POOL)
    path = url.removeprefix("sqlite:///").removeprefix("sqlite://") or ":memory:"
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 5})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        # WAL with synchronous=NORMAL: a commit survives a crash of the service, without an fsync per call.
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA synchronous=NORMAL")

    return engine


class Store:
    def __init__(self, url: str, retention_days: float | None = None, application_name: str = "pa-advisor") -> None:
        self.url = url
        self.application_name = application_name  # how PostgreSQL's pg_stat_activity names our connections
        self.retention_days = retention_days
        self._last_purge = self._last_seen_purge = self._last_context_purge = 0.0
        self.kind = "postgresql" if url.startswith(("postgresql://", "postgres://")) else "sqlite"
        self._engine: Engine | None = None
        try:
            upgrade(self.engine)
        except (SQLAlchemyError, OSError) as exc:  # OSError: the SQLite file's folder is missing or read-only
            raise self._failed(exc) from exc
        # Reconnect lazily: gunicorn forks workers after create_app, and a connection must not cross a fork.
        self.close()

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = engine_for(self.url, self.application_name)
        return self._engine

    def _run(self, fn: Callable[[Connection], Any]) -> Any:
        """Run fn(connection) in one transaction; a lost connection is retried once on a fresh one."""
        for attempt in (1, 2):
            try:
                with self.engine.begin() as conn:
                    return fn(conn)
            except SQLAlchemyError as exc:
                if attempt == 2 or not getattr(exc, "connection_invalidated", False):
                    raise self._failed(exc) from exc
        return None

    def _failed(self, exc: Exception) -> StoreError:
        """The driver's error type only (its message may quote the URL, with a password, or row values)."""
        return StoreError(f"{self.kind} store failed: {type(getattr(exc, 'orig', None) or exc).__name__}")

    def ping(self) -> bool:
        try:
            self._run(lambda conn: conn.exec_driver_sql("SELECT 1"))
            return True
        except StoreError:
            return False

    def save_feedback(self, service_id: str, items: Iterable[Mapping[str, Any]]) -> int:
        now = time.time()
        rows = [
            {"service_id": service_id, "card_uuid": i["card"], "outcome": i["outcome"],
             "outcome_timestamp": i["outcomeTimestamp"],
             "accepted_suggestions": json.dumps(i.get("acceptedSuggestions")) if i.get("acceptedSuggestions") else None,
             "override_reason": json.dumps(i.get("overrideReason")) if i.get("overrideReason") else None,
             "received_at": now}
            for i in items
        ]
        if rows:
            self._run(lambda conn: conn.execute(insert(feedback), rows))
        return len(rows)

    def save_audit(self, *, hook_instance: str, service_id: str, status: int, orders: list[str],
                   outcomes: list[dict], latency_ms: float, iss: str | None = None, jti: str | None = None,
                   contexts: Iterable[tuple[str, str, str, dict]] = (), context_ttl: float = 0) -> None:
        """One audit row and, in the same transaction, the call's DTR contexts: (assertion id, policy id,
        patient id, body) per coverage assertion, kept context_ttl seconds."""
        now = time.time()
        row = {"hook_instance": hook_instance[:200], "service_id": service_id, "received_at": now, "jwt_iss": iss,
               "jwt_jti": jti, "status": status, "orders": json.dumps(orders), "outcomes": json.dumps(outcomes),
               "latency_ms": latency_ms}
        values = [{"id": a, "policy_id": p, "patient_id": pt, "body": json.dumps(body), "expires_at": now + context_ttl}
                  for a, p, pt, body in contexts]

        def write(conn: Connection) -> None:
            conn.execute(insert(audit), row)
            if values:
                conn.execute(insert(dtr_context), values)

        self._run(write)
        self._purge_contexts(now)
        # Retention: drop audit rows past their time, at most once an hour per process.
        if self.retention_days is not None and time.time() - self._last_purge > 3600:
            self._last_purge = time.time()
            self.purge_audit(self.retention_days)

    def first_use(self, key: str, ttl: int) -> bool:
        """Record a JWT id; False when it was already recorded and has not expired (a replay). One statement, so
        two workers or two instances racing with the same token cannot both win."""
        now = time.time()
        insert = (pg_insert if self.kind == "postgresql" else sqlite_insert)(jwt_seen).values(
            key=key[:500], expires_at=now + ttl)
        stmt = insert.on_conflict_do_update(index_elements=[jwt_seen.c.key],
                                            set_={"expires_at": insert.excluded.expires_at},
                                            where=jwt_seen.c.expires_at < now).returning(jwt_seen.c.key)
        # A row comes back when the id was new (or its earlier use expired): RETURNING, as rowcount is -1 here.
        inserted = self._run(lambda conn: len(conn.execute(stmt).all()))
        if now - self._last_seen_purge > 3600:  # expired ids are dead weight: drop them hourly
            self._last_seen_purge = now
            self._run(lambda conn: conn.execute(delete(jwt_seen).where(jwt_seen.c.expires_at < now)))
        return inserted == 1

    def _purge_contexts(self, now: float) -> None:
        if now - self._last_context_purge > 3600:  # expired contexts are dead weight: drop them hourly
            self._last_context_purge = now
            self._run(lambda conn: (conn.execute(delete(dtr_context).where(dtr_context.c.expires_at < now)),
                                    conn.execute(delete(dtr_response).where(dtr_response.c.expires_at < now))))

    def dtr_context(self, assertion_id: str) -> tuple[str, str, dict] | None:
        """(policy id, patient id, body) of a coverage assertion still kept, else None."""
        query = (select(dtr_context.c.policy_id, dtr_context.c.patient_id, dtr_context.c.body)
                 .where(dtr_context.c.id == assertion_id[:100], dtr_context.c.expires_at >= time.time()))
        row = self._run(lambda conn: conn.execute(query).first())
        if row is None:
            return None
        policy_id, patient_id, body = row
        return str(policy_id), str(patient_id), json.loads(body)

    def dtr_contexts_of(self, patient_id: str) -> list[tuple[str, str, dict]]:
        """(assertion id, policy id, body) of every kept coverage assertion of a patient, newest last."""
        query = (select(dtr_context.c.id, dtr_context.c.policy_id, dtr_context.c.body)
                 .where(dtr_context.c.patient_id == patient_id[:200], dtr_context.c.expires_at >= time.time())
                 .order_by(dtr_context.c.expires_at))
        rows = self._run(lambda conn: conn.execute(query).all())
        return [(str(aid), str(pid), json.loads(body)) for aid, pid, body in rows]

    def add_dtr_response(self, assertion_id: str, response: Mapping[str, Any]) -> bool:
        """Keep a completed QuestionnaireResponse with its assertion (as long as the assertion is kept), for the
        next signing; False when the assertion is no longer kept."""
        def write(conn: Connection) -> bool:
            row = conn.execute(select(dtr_context.c.patient_id, dtr_context.c.policy_id, dtr_context.c.body,
                                      dtr_context.c.expires_at)
                               .where(dtr_context.c.id == assertion_id[:100],
                                      dtr_context.c.expires_at >= time.time())).first()
            if row is None:
                return False
            patient_id, policy_id, body, expires_at = row
            binding = json.loads(body).get("binding") or {}
            conn.execute(insert(dtr_response), {"id": str(uuid.uuid4()), "assertion_id": assertion_id[:100],
                                                "patient_id": patient_id, "policy_id": policy_id,
                                                "binding": json.dumps(binding), "body": json.dumps(dict(response)),
                                                "expires_at": expires_at})
            return True

        return bool(self._run(write))

    def dtr_responses(self, patient_id: str) -> list[tuple[dict, dict]]:
        """(binding, response) of every kept DTR response of a patient (an indexed read: most patients have
        none)."""
        query = (select(dtr_response.c.binding, dtr_response.c.body)
                 .where(dtr_response.c.patient_id == patient_id[:200], dtr_response.c.expires_at >= time.time())
                 .order_by(dtr_response.c.expires_at))
        rows = self._run(lambda conn: conn.execute(query).all())
        return [(json.loads(binding), json.loads(body)) for binding, body in rows]

    def purge_audit(self, older_than_days: float) -> int:
        cutoff = time.time() - older_than_days * 86400
        return int(self._run(lambda conn: conn.execute(delete(audit).where(audit.c.received_at < cutoff)).rowcount)
                   or 0)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Run one SQL statement (`?` placeholders) and return its rows, if it has any (tests and operators)."""
        sql = sql.replace("?", "%s") if self.kind == "postgresql" else sql

        def run(conn: Connection) -> list[tuple]:
            result = conn.exec_driver_sql(sql, params)
            return [tuple(row) for row in result] if result.returns_rows else []

        return self._run(run)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
