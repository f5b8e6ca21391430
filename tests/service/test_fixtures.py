"""Every fixture gives its stated outcome, pathway and criterion statuses through the real HTTP endpoint, and
every card it gets is one a clinician can act on."""

from __future__ import annotations

import re

import pytest
from conftest import SCENARIOS, needs_of, scenario_request
from markdown_it import MarkdownIt

from cdshooks.service.cards import md

# Raw identifiers a clinician should never read in a card: FHIR references and value-set ids.
FHIR_REF = re.compile(r"\b(?:Patient|Condition|Observation|Medication\w*|Procedure|Coverage|Practitioner\w*|"
                      r"QuestionnaireResponse|AllergyIntolerance|Organization)/[A-Za-z0-9\-.]+")
VALUESET_ID = re.compile(r"\b(?:VS|DRUG|LAB|SPEC|STATUS|REASON)-[A-Z0-9-]+\b")
MD = MarkdownIt("commonmark")


def evaluation(response: dict, order_ref: str) -> tuple[dict, dict] | tuple[None, None]:
    for card in response.get("cards", []):
        ev = card.get("extension", {}).get("pa-advisor.evaluation")  # an Instructions card has none
        if ev and ev["order"] == order_ref:
            return card, ev
    return None, None


def coverage_information(response: dict, order_ref: str) -> dict:
    for action in response.get("systemActions", []):
        res = action["resource"]
        if f"{res['resourceType']}/{res['id']}" == order_ref:
            return {e["url"]: e for e in res["extension"][-1]["extension"]}
    return {}


def check_card(key: str, card: dict, ev: dict) -> None:
    """What every card must be (issue: the card a clinician reads)."""
    assert len(card["summary"]) < 140, (key, card["summary"])
    assert len(card["detail"]) <= 2000, (key, len(card["detail"]))
    prose = card["summary"] + "\n" + card["detail"]
    assert not FHIR_REF.search(prose), (key, FHIR_REF.search(prose).group(0))
    assert not VALUESET_ID.search(prose), (key, VALUESET_ID.search(prose).group(0))
    if ev["outcome"] == "likely-approved":
        assert "not met" not in prose.lower() and "❌" not in prose, key
        assert "denialReasons" not in ev
    if ev["outcome"] == "documentation-needed":
        assert ev.get("missingDocumentation"), key
        assert re.search(r"^1\. ", card["detail"], re.M), key
        # Every item to document is a whole step: never cut mid-word, no alternative dropped (only what the
        # record already shows may be left out to keep the detail short).
        assert len(ev["missing"]) == len(ev["missingDocumentation"])
        for need in needs_of(ev["missing"]):
            asked = f"{need['source']}: {need['request']}" if "source" in need else need["request"]
            assert md(asked) in card["detail"], (key, asked)
        assert "Document I.A.2: Document" not in card["detail"] and ": Document Document" not in card["detail"]
    if ev.get("notCovered"):
        assert "Approval if granted" not in card["detail"], key
    if ev["outcome"] == "likely-denied":
        assert ev.get("denialReasons"), key
    # Every bold block title renders as its own paragraph, never inside the list before it.
    html = MD.render(card["detail"])
    for title in re.findall(r"^\*\*(.+?)\*\*$", card["detail"], re.M):
        assert f"<p><strong>{title}</strong></p>" in html, (key, title)


def check_scenario(key: str, response: dict) -> None:
    s = SCENARIOS[key]
    order_ref = f"MedicationRequest/{s['draftOrders'][0]['id']}"
    card, ev = evaluation(response, order_ref)
    expected = s["expected"]
    if expected is None:
        # No policy of ours judges it: no PA card, and (CRD) still coverage-information for the order —
        # conditional with the reason said — or, with no Coverage in force, an Instructions card instead.
        assert ev is None, f"{key}: expected no card"
        if response.get("systemActions"):
            info = coverage_information(response, order_ref)
            assert (info["covered"]["valueCode"], info["pa-needed"]["valueCode"]) == ("conditional", "conditional")
            assert info["reason"]["valueCodeableConcept"]["coding"][0]["code"] == "no-policy", key
            assert "info-needed" in info  # CRD q3: a conditional needs info-needed
        else:
            (card,) = response["cards"]
            assert card["source"]["topic"]["code"] == "insurance" and "links" not in card, key
        return
    assert ev is not None, f"{key}: no card for the order"
    statuses = {c["id"]: c["status"] for c in ev["criteria"]}
    assert ev["outcome"] == expected["outcome"], (key, ev["outcome"], ev.get("missingDocumentation"),
                                                   ev.get("denialReasons"))
    assert ev["pathway"] == expected["pathway"]
    for cid, status in expected["criteria"].items():
        assert statuses.get(cid) == status, f"{key}: criterion {cid} is {statuses.get(cid)}, expected {status}"
    if "approval" in expected:
        assert ev["approvalDuration"] == expected["approval"], (key, ev["approvalDuration"])
    info = coverage_information(response, order_ref)
    covered = expected.get("covered", "covered")
    assert info["covered"]["valueCode"] == covered, key
    assert ("pa-needed" in info) == (covered != "not-covered"), key  # CRD: no pa-needed when not covered
    check_card(key, card, ev)


@pytest.mark.parametrize("key", sorted(SCENARIOS))
def test_fixture_outcome_with_full_prefetch(key, client, library):
    response = client.post("/cds-services/pa-order-sign", json=scenario_request(key, library))
    assert response.status_code == 200, response.json
    check_scenario(key, response.json)


def test_there_are_fixtures_for_every_outcome_and_policy(library):
    """Every policy in the mappings (found, not listed): a patient for each outcome, and one it does not cover."""
    from cdshooks.fhir.record import PatientRecord
    from cdshooks.policy.routing import governing_policies, order_concepts

    outcomes = set()
    for s in SCENARIOS.values():
        order = s["draftOrders"][0]
        concepts = order_concepts(order, PatientRecord.from_resources("", [], draft_orders=[order]))
        for policy, _ in governing_policies(library, concepts):
            outcomes.add((policy.id, (s["expected"] or {}).get("outcome")))
    for policy in library.policies:
        for outcome in ("likely-approved", "likely-denied", "documentation-needed", None):
            assert (policy.id, outcome) in outcomes, (policy.id, outcome)


def test_one_cd19_negative_result_is_one_denial_reason(client, library):
    """Mirrored into four pathways (and the infant pathway is not for this adult): one decisive reason."""
    response = client.post("/cds-services/pa-order-sign", json=scenario_request("blin-cd19neg", library)).json
    ev = response["cards"][0]["extension"]["pa-advisor.evaluation"]
    assert ev["denialReasons"] == ["A.i: Leukemic blasts are CD19-positive — attested: no (by the prescriber)"]


@pytest.mark.parametrize("key, notice, link", [
    ("ide-approve", "Precision Drug Action Committee (PDAC)", "FDA label: Abecma (DailyMed)"),
    ("elx-approve", "REMS: Elrexfio", "Patient information (NCI): Elranatamab-bcmm"),
    ("lem-approve", "REMS: Lemtrada", "FDA label: Lemtrada (DailyMed)"),
    ("blin-approve", "Boxed warnings", "FDA label: Blincyto (DailyMed)"),
])
def test_cards_carry_the_policy_notices_and_links(key, notice, link, client, library):
    card = client.post("/cds-services/pa-order-sign", json=scenario_request(key, library)).json["cards"][0]
    assert notice in card["detail"]
    assert link in [x["label"] for x in card["links"]]


def test_blincyto_doses_are_described_by_cycle_and_elrexfio_by_week(client, library):
    for key, word in (("blin-approve", "first cycle"), ("elx-approve", "week 1 of therapy")):
        ev = client.post("/cds-services/pa-order-sign", json=scenario_request(key, library)).json["cards"][0][
            "extension"]["pa-advisor.evaluation"]
        texts = [e["text"] for c in ev["criteria"] if c["kind"] == "dose" for e in c.get("evidence", [])]
        assert any(t.startswith(word) for t in texts), (key, texts)
