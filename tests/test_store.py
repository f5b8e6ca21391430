"""Feedback and audit storage on SQLite (default) and PostgreSQL (option); the PostgreSQL tests run under CI."""

from __future__ import annotations

import os
import time
import uuid

import pytest

from cdshooks.store import Store, StoreError

PG_URL = os.environ.get("PA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_or_skip() -> str:
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            pass
    except Exception as exc:  # driver missing or server down
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL must be reachable under CI at {PG_URL}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL} ({type(exc).__name__}); CI runs this test")
    return PG_URL


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
    store = app.extensions["pa_store"]
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
