"""Every fixture gives its stated outcome, pathway and criterion statuses through the real HTTP endpoint."""

from __future__ import annotations

import pytest
from conftest import SCENARIOS, scenario_request


def evaluation(response: dict, order_ref: str) -> dict | None:
    for card in response.get("cards", []):
        ev = card["extension"]["pa-advisor.evaluation"]
        if ev["order"] == order_ref:
            return ev
    return None


def check_scenario(key: str, response: dict) -> None:
    s = SCENARIOS[key]
    order = s["draftOrders"][0]
    ev = evaluation(response, f"MedicationRequest/{order['id']}")
    expected = s["expected"]
    if expected is None:
        assert ev is None, f"{key}: expected no card"
        assert "systemActions" not in response
        return
    assert ev is not None, f"{key}: no card for the order"
    statuses = {c["id"]: c["status"] for c in ev["criteria"]}
    assert ev["outcome"] == expected["outcome"], (key, ev["outcome"], ev.get("missingDocumentation"),
                                                   ev.get("denialReasons"))
    assert ev["pathway"] == expected["pathway"]
    for cid, status in expected["criteria"].items():
        assert statuses.get(cid) == status, f"{key}: criterion {cid} is {statuses.get(cid)}, expected {status}"


@pytest.mark.parametrize("key", sorted(SCENARIOS))
def test_fixture_outcome_with_full_prefetch(key, client, library):
    response = client.post("/cds-services/pa-order-sign", json=scenario_request(key, library))
    assert response.status_code == 200, response.json
    check_scenario(key, response.json)
