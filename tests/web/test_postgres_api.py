"""The API → PostgreSQL path: a real hook call and its feedback land in PostgreSQL (audit and feedback rows)."""

from __future__ import annotations

import json
import time
import uuid
from datetime import date

from backing import postgres_or_skip as _postgres_or_skip
from conftest import scenario_request

from cdshooks.settings import Settings
from cdshooks.store import Store
from cdshooks.web.app import create_app


def test_a_hook_call_and_its_feedback_are_stored_in_postgresql(library):
    url = _postgres_or_skip()
    # Retention far beyond any row's age: the app must not purge rows other users of the database wrote.
    app = create_app(Settings(dev_mode=True, store_url=url, audit_retention_days=36500))
    app.extensions["pa"].hooks.today = lambda: date(2026, 11, 20)
    # Nor expired DTR contexts of others: this process has "just purged".
    app.extensions["pa"].store._last_context_purge = time.time()
    client = app.test_client()
    body = scenario_request("ide-approve", library)
    body["hookInstance"] = str(uuid.uuid4())
    resp = client.post("/cds-services/pa-order-sign", json=body)
    assert resp.status_code == 200
    card = resp.json["cards"][0]
    assert card["extension"]["pa-advisor.evaluation"]["outcome"] == "likely-approved"
    fb = client.post("/cds-services/pa-order-sign/feedback", json={"feedback": [
        {"card": card["uuid"], "outcome": "accepted", "outcomeTimestamp": "2026-11-20T10:00:00Z"}]})
    assert fb.status_code == 200, fb.get_data(as_text=True)
    store = Store(url)
    try:
        (row,) = store.query("SELECT status, service_id, orders, outcomes FROM audit WHERE hook_instance = ?",
                             (body["hookInstance"],))
        assert row[0] == 200 and row[1] == "pa-order-sign"
        assert json.loads(row[2]) == ["MedicationRequest/ide-approve-order"]
        assert json.loads(row[3])[0]["outcome"] == "likely-approved"
        assert store.query("SELECT outcome FROM feedback WHERE card_uuid = ?", (card["uuid"],)) == [("accepted",)]
        # The coverage assertion's context is kept in PostgreSQL and pre-fills its DTR form.
        info = {e["url"]: e for e in resp.json["systemActions"][0]["resource"]["extension"][-1]["extension"]}
        aid = info["coverage-assertion-id"]["valueString"]
        assert store.dtr_context(aid)[0] == "CP.PHAR.481"
        order = resp.json["systemActions"][0]["resource"]
        package = client.post("/fhir/Questionnaire/$questionnaire-package", json={
            "resourceType": "Parameters", "parameter": [{"name": "context", "valueString": aid},
                                                        {"name": "order", "resource": order}]})
        entries = package.json["parameter"][0]["resource"]["entry"]
        assert [e["resource"]["resourceType"] for e in entries] == ["Questionnaire", "QuestionnaireResponse", "Library"]
    finally:
        store.close()
