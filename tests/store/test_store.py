"""Feedback and audit storage on SQLite (default) and PostgreSQL (option); the PostgreSQL tests run under CI."""

from __future__ import annotations

import time
import uuid

import pytest
from backing import postgres_or_skip as _postgres_or_skip

from cdshooks.store import Store, StoreError


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        s = Store(f"sqlite:///{tmp_path / 'pa.db'}")
    else:
        s = Store(_postgres_or_skip())  # rows are keyed by fresh uuids: nothing of anyone else is touched
    yield s
    s.close()


def test_feedback_round_trip(store):
    service = f"test-{uuid.uuid4().hex[:8]}"
    n = store.save_feedback(service, [{"card": "c1", "outcome": "accepted", "outcomeTimestamp": "2026-11-20T10:00:00Z",
                                       "acceptedSuggestions": [{"id": "s1"}]}])
    assert n == 1
    rows = store.query("SELECT card_uuid, outcome, accepted_suggestions FROM feedback WHERE service_id = ?", (service,))
    assert rows == [("c1", "accepted", '[{"id": "s1"}]')]


def test_audit_round_trip_and_retention(store):
    hook_instance = f"hi-{uuid.uuid4()}"
    store.save_audit(hook_instance=hook_instance, service_id="pa-order-sign", status=200,
                     orders=["MedicationRequest/1"], outcomes=[{"outcome": "likely-approved"}], latency_ms=12.5,
                     iss="https://ehr.example", jti="j1")
    rows = store.query("SELECT status, jwt_iss, latency_ms FROM audit WHERE hook_instance = ?", (hook_instance,))
    assert rows == [(200, "https://ehr.example", 12.5)]
    if store.url.startswith("sqlite"):  # purging is database-wide: only on the test's own database
        assert store.purge_audit(older_than_days=-1) >= 1
        assert store.query("SELECT COUNT(*) FROM audit WHERE hook_instance = ?", (hook_instance,)) == [(0,)]


def test_audit_retention_drops_old_rows_on_write(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'r.db'}", retention_days=30)
    store.query("INSERT INTO audit (hook_instance, service_id, received_at, status, orders, outcomes, latency_ms) "
                "VALUES ('old', 's', 0, 200, '[]', '[]', 1)")
    store.save_audit(hook_instance="new", service_id="s", status=200, orders=[], outcomes=[], latency_ms=1)
    assert store.query("SELECT hook_instance FROM audit") == [("new",)]


def test_store_ping_and_failure_is_a_store_error(tmp_path):
    good = Store(f"sqlite:///{tmp_path / 'ok.db'}")
    assert good.ping()
    with pytest.raises(StoreError):
        Store(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")


def test_feedback_answers_503_when_the_store_fails(client, app, tmp_path):
    store = app.extensions["pa"].store
    store.url = f"sqlite:///{tmp_path / 'gone' / 'x.db'}"  # the next reconnect fails for real
    store.close()
    resp = client.post("/cds-services/pa-order-sign/feedback",
                       json={"feedback": [{"card": "c", "outcome": "accepted", "outcomeTimestamp": "t"}]})
    assert resp.status_code == 503 and resp.json["resourceType"] == "OperationOutcome"
    assert client.get("/readyz").status_code == 503


def test_dtr_contexts_are_kept_with_the_audit_row_and_expire(store):
    store._last_context_purge = time.time()  # never purge others' expired rows of a shared database
    kept, expired = str(uuid.uuid4()), str(uuid.uuid4())
    body = {"order": "MedicationRequest/o1", "pathway": "initial",
            "criteria": {"age": {"status": "met", "evidence": "age 66", "value": None, "applies": True}}}
    store.save_audit(hook_instance=f"test-{kept}", service_id="pa-order-sign", status=200, orders=[], outcomes=[],
                     latency_ms=1.0, contexts=[(kept, "LA.PHAR.652", "p1", body)], context_ttl=3600)
    store.save_audit(hook_instance=f"test-{expired}", service_id="pa-order-sign", status=200, orders=[],
                     outcomes=[], latency_ms=1.0, contexts=[(expired, "LA.PHAR.652", "p1", body)], context_ttl=-1)
    assert store.dtr_context(kept) == ("LA.PHAR.652", "p1", body)
    assert store.dtr_context(expired) is None  # past its time it unlocks nothing, purged or not
    assert store.dtr_context(str(uuid.uuid4())) is None


# ---- migrations and the pool --------------------------------------------------------------------------------

OLD_SCHEMA = (  # what stores created before migrations existed hold (CREATE TABLE IF NOT EXISTS at start)
    "CREATE TABLE feedback (id INTEGER PRIMARY KEY, service_id TEXT NOT NULL, card_uuid TEXT NOT NULL, outcome TEXT "
    "NOT NULL, outcome_timestamp TEXT NOT NULL, accepted_suggestions TEXT, override_reason TEXT, received_at REAL "
    "NOT NULL)",
    "CREATE TABLE audit (id INTEGER PRIMARY KEY, hook_instance TEXT NOT NULL, service_id TEXT NOT NULL, received_at "
    "REAL NOT NULL, jwt_iss TEXT, jwt_jti TEXT, status INTEGER NOT NULL, orders TEXT NOT NULL, outcomes TEXT NOT "
    "NULL, latency_ms REAL NOT NULL)",
    "CREATE TABLE jwt_seen (key TEXT PRIMARY KEY, expires_at REAL NOT NULL)",
    "INSERT INTO audit (hook_instance, service_id, received_at, status, orders, outcomes, latency_ms) "
    "VALUES ('kept', 's', 1, 200, '[]', '[]', 1)",
)


def test_a_store_made_before_migrations_is_adopted_with_its_rows(tmp_path):
    import sqlite3

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        for sql in OLD_SCHEMA:
            conn.execute(sql)
    store = Store(f"sqlite:///{path}")
    from cdshooks.store.migrate import versions

    current, head = versions(store.engine)
    assert current == head
    assert store.query("SELECT hook_instance FROM audit") == [("kept",)]
    assert store.dtr_context("nothing") is None  # the table the old schema lacked now exists
    store.save_audit(hook_instance="new", service_id="s", status=200, orders=[], outcomes=[], latency_ms=1,
                     contexts=[("a1", "P", "pt", {"x": 1})], context_ttl=60)
    assert store.dtr_context("a1") == ("P", "pt", {"x": 1})


def test_db_commands_upgrade_and_report_the_revision(tmp_path):
    from click.testing import CliRunner

    from cdshooks.cli.commands import main

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    behind = runner.invoke(main, ["db", "current", "--store", url])
    assert behind.exit_code == 1 and "revision none" in behind.output
    up = runner.invoke(main, ["db", "upgrade", "--store", url])
    from cdshooks.store.migrate import HEAD

    assert up.exit_code == 0 and f"store at revision {HEAD} (newest {HEAD})" in up.output
    assert runner.invoke(main, ["db", "current", "--store", url]).exit_code == 0
    bad = runner.invoke(main, ["db", "upgrade", "--store", f"sqlite:///{tmp_path / 'no' / 'dir.db'}"])
    assert bad.exit_code == 1 and "cannot upgrade the store" in bad.output and "Traceback" not in bad.output


def test_postgres_calls_share_a_bounded_pool_of_connections():
    """40 calls from 8 threads reuse a few pooled connections (counted by PostgreSQL itself), never one each."""
    from concurrent.futures import ThreadPoolExecutor

    name = f"pa-test-{uuid.uuid4().hex[:8]}"
    store = Store(_postgres_or_skip(), application_name=name)
    try:
        keys = [f"pool-{name}-{i}" for i in range(40)]
        with ThreadPoolExecutor(8) as pool:
            assert all(pool.map(lambda k: store.first_use(k, 60), keys))
        (open_now,) = store.query("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = ?", (name,))[0]
        assert 1 <= open_now <= 8
        assert not store.first_use(keys[0], 60)  # still the same store: a replay is refused
    finally:
        store.query("DELETE FROM jwt_seen WHERE key LIKE ?", (f"pool-{name}-%",))  # only the rows this test wrote
        store.close()


def test_processes_opening_a_new_store_together_take_turns_migrating_it(tmp_path):
    """gunicorn workers without --preload each open the store: none may fail on a half-made schema."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'race.db'}"
    code = f"from cdshooks.store import Store; Store({url!r}).save_feedback('s', [])"
    procs = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True) for _ in range(6)]
    errors = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, errors


def test_the_start_up_shortcut_names_the_newest_migration(tmp_path):
    """migrate.HEAD lets a store at the newest revision start without Alembic: it must be that revision."""
    from cdshooks.store.migrate import HEAD, versions

    store = Store(f"sqlite:///{tmp_path / 'h.db'}")
    assert versions(store.engine) == (HEAD, HEAD)
