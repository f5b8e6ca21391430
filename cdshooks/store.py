"""Feedback, audit trail and seen JWT ids: SQLite by default (a file path or sqlite:/// URL), PostgreSQL by URL.

One connection per store, guarded by a lock and reopened after a failure; every write is one transaction.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS feedback (
        id {serial} PRIMARY KEY,
        service_id TEXT NOT NULL,
        card_uuid TEXT NOT NULL,
        outcome TEXT NOT NULL,
        outcome_timestamp TEXT NOT NULL,
        accepted_suggestions TEXT,
        override_reason TEXT,
        received_at DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS audit (
        id {serial} PRIMARY KEY,
        hook_instance TEXT NOT NULL,
        service_id TEXT NOT NULL,
        received_at DOUBLE PRECISION NOT NULL,
        jwt_iss TEXT,
        jwt_jti TEXT,
        status INTEGER NOT NULL,
        orders TEXT NOT NULL,
        outcomes TEXT NOT NULL,
        latency_ms DOUBLE PRECISION NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS audit_received ON audit (received_at)",
    # One row per JWT (issuer|jti) accepted, until the token could no longer be used anyway.
    """CREATE TABLE IF NOT EXISTS jwt_seen (
        key TEXT PRIMARY KEY,
        expires_at DOUBLE PRECISION NOT NULL)""",
    # The evaluation behind a CRD coverage-assertion-id, for a DTR pre-filled form: criterion ids, statuses,
    # evidence text (never resources), kept PA_DTR_CONTEXT_HOURS.
    """CREATE TABLE IF NOT EXISTS dtr_context (
        id TEXT PRIMARY KEY,
        policy_id TEXT NOT NULL,
        patient_id TEXT NOT NULL,
        body TEXT NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL)""",
)


CONTEXT_INSERT = "INSERT INTO dtr_context (id, policy_id, patient_id, body, expires_at) VALUES (?, ?, ?, ?, ?)"


class StoreError(Exception):
    pass


class Store:
    def __init__(self, url: str, retention_days: float | None = None) -> None:
        self.url = url
        self.retention_days = retention_days
        self._last_purge = self._last_seen_purge = self._last_context_purge = 0.0
        self.kind = "postgresql" if url.startswith(("postgresql://", "postgres://")) else "sqlite"
        self._lock = threading.Lock()
        self._conn: Any = None
        with self._lock:
            self._run(lambda cur: [cur.execute(self._sql(s)) for s in SCHEMA])
        # Reconnect lazily: gunicorn forks workers after create_app, and a connection must not cross a fork.
        self.close()

    def _connect(self) -> Any:
        if self.kind == "postgresql":
            import psycopg  # optional dependency: pip install 'pa-advisor[postgres]'

            return psycopg.connect(self.url, autocommit=False, connect_timeout=5)
        path = self.url.removeprefix("sqlite:///").removeprefix("sqlite://") or ":memory:"
        conn = sqlite3.connect(path, check_same_thread=False, timeout=5)
        conn.execute("PRAGMA journal_mode=WAL")
        # WAL with synchronous=NORMAL: a commit survives a crash of the service, without an fsync per call.
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _sql(self, sql: str) -> str:
        serial = "BIGSERIAL" if self.kind == "postgresql" else "INTEGER"
        sql = sql.replace("{serial}", serial)
        if self.kind == "sqlite":
            sql = sql.replace("DOUBLE PRECISION", "REAL")
        return sql.replace("?", "%s") if self.kind == "postgresql" else sql

    def _run(self, fn: Any) -> Any:
        """Run fn(cursor) in one transaction; reconnect once if the connection went away."""
        for attempt in (1, 2):
            try:
                if self._conn is None:
                    self._conn = self._connect()
                cur = self._conn.cursor()
                try:
                    result = fn(cur)
                    self._conn.commit()
                    return result
                finally:
                    cur.close()
            except Exception as exc:  # driver errors differ between sqlite3 and psycopg
                try:
                    if self._conn is not None:
                        self._conn.close()
                except Exception:
                    pass
                self._conn = None
                if attempt == 2:
                    raise StoreError(f"{self.kind} store failed: {type(exc).__name__}") from exc
        return None

    def ping(self) -> bool:
        try:
            with self._lock:
                self._run(lambda cur: cur.execute("SELECT 1"))
            return True
        except StoreError:
            return False

    def save_feedback(self, service_id: str, items: Iterable[Mapping[str, Any]]) -> int:
        now = time.time()
        rows = [
            (service_id, i["card"], i["outcome"], i["outcomeTimestamp"],
             json.dumps(i.get("acceptedSuggestions")) if i.get("acceptedSuggestions") else None,
             json.dumps(i.get("overrideReason")) if i.get("overrideReason") else None, now)
            for i in items
        ]
        sql = self._sql("INSERT INTO feedback (service_id, card_uuid, outcome, outcome_timestamp, "
                        "accepted_suggestions, override_reason, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
        with self._lock:
            self._run(lambda cur: cur.executemany(sql, rows))
        return len(rows)

    def save_audit(self, *, hook_instance: str, service_id: str, status: int, orders: list[str],
                   outcomes: list[dict], latency_ms: float, iss: str | None = None, jti: str | None = None,
                   contexts: Iterable[tuple[str, str, str, dict]] = (), context_ttl: float = 0) -> None:
        """One audit row and, in the same transaction, the call's DTR contexts: (assertion id, policy id,
        patient id, body) per coverage assertion, kept context_ttl seconds."""
        sql = self._sql("INSERT INTO audit (hook_instance, service_id, received_at, jwt_iss, jwt_jti, status, "
                        "orders, outcomes, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
        now = time.time()
        row = (hook_instance[:200], service_id, now, iss, jti, status, json.dumps(orders),
               json.dumps(outcomes), latency_ms)
        values = [(a, p, pt, json.dumps(body), now + context_ttl) for a, p, pt, body in contexts]

        def write(cur: Any) -> None:
            cur.execute(sql, row)
            if values:
                cur.executemany(self._sql(CONTEXT_INSERT), values)

        with self._lock:
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
        sql = self._sql("INSERT INTO jwt_seen (key, expires_at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
                        "expires_at = excluded.expires_at WHERE jwt_seen.expires_at < ?")
        with self._lock:
            inserted = self._run(lambda cur: (cur.execute(sql, (key[:500], now + ttl, now)), cur.rowcount)[1])
            if now - self._last_seen_purge > 3600:  # expired ids are dead weight: drop them hourly
                self._last_seen_purge = now
                self._run(lambda cur: cur.execute(self._sql("DELETE FROM jwt_seen WHERE expires_at < ?"), (now,)))
        return inserted == 1

    def _purge_contexts(self, now: float) -> None:
        if now - self._last_context_purge > 3600:  # expired contexts are dead weight: drop them hourly
            self._last_context_purge = now
            with self._lock:
                self._run(lambda cur: cur.execute(self._sql("DELETE FROM dtr_context WHERE expires_at < ?"), (now,)))

    def dtr_context(self, assertion_id: str) -> tuple[str, str, dict] | None:
        """(policy id, patient id, body) of a coverage assertion still kept, else None."""
        sql = self._sql("SELECT policy_id, patient_id, body FROM dtr_context WHERE id = ? AND expires_at >= ?")
        with self._lock:
            rows = self._run(lambda cur: (cur.execute(sql, (assertion_id[:100], time.time())), cur.fetchall())[1])
        if not rows:
            return None
        policy_id, patient_id, body = rows[0]
        return str(policy_id), str(patient_id), json.loads(body)

    def purge_audit(self, older_than_days: float) -> int:
        cutoff = time.time() - older_than_days * 86400
        sql = self._sql("DELETE FROM audit WHERE received_at < ?")
        with self._lock:
            return int(self._run(lambda cur: (cur.execute(sql, (cutoff,)), cur.rowcount)[1]) or 0)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Run one statement and return its rows, if it has any (tests and operators)."""

        def run(cur: Any) -> list[tuple]:
            cur.execute(self._sql(sql), params)
            return [tuple(row) for row in cur.fetchall()] if cur.description else []

        with self._lock:
            return self._run(run)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
