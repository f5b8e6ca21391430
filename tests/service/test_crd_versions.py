"""Every response stays inside what CRD 2.0.1 (the version Inferno validates) and CRD 2.2.1 both accept: the
coverage-information invariants of each version (q1–q9 and their 2.0.1 forms), codes common to both, a coded
`reason` with its text, the drug's HCPCS `billingCode`, and the card rules for links and suggestions — checked
on every fixture, signed and dispatched."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from conftest import SCENARIOS, scenario_request

CRD = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"
HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
COMMON = {  # codes both versions define
    "covered": {"covered", "not-covered", "conditional"},
    "pa-needed": {"no-auth", "auth-needed", "satisfied", "performpa", "conditional"},
    "doc-needed": {"clinical", "admin", "conditional"},
    "doc-purpose": {"withpa", "withclaim", "withorder", "retain-doc", "OTH"},
    "info-needed": {"performer", "location", "timeframe", "contract-window", "OTH"},
}
ONLY_22 = {"expiry-date", "response"}


def problems_of_information(info: dict) -> list[str]:
    out = []
    parts: dict[str, list[dict]] = {}
    for e in info["extension"]:
        parts.setdefault(e["url"], []).append(e)
    one = {k: v[0] for k, v in parts.items()}
    for key, allowed in COMMON.items():
        out += [f"{key}={e['valueCode']} is not in both versions" for e in parts.get(key, [])
                if e["valueCode"] not in allowed]
    out += [f"{k} is 2.2 only" for k in ONLY_22 if k in parts]
    for key in ("coverage", "covered", "date", "coverage-assertion-id"):
        if len(parts.get(key, [])) != 1:
            out.append(f"{key} must be there once")
    if len(parts.get("doc-needed", [])) > 1:
        out.append("2.0.1 allows one doc-needed")
    covered = one["covered"]["valueCode"]
    if ("pa-needed" in one) != (covered != "not-covered"):
        out.append("q2: pa-needed exactly when not not-covered")
    conditional = any(e["valueCode"] == "conditional" for k in ("covered", "pa-needed", "doc-needed")
                      for e in parts.get(k, []))
    if ("info-needed" in one) != conditional:
        out.append("q3: info-needed exactly when something is conditional")
    if "questionnaire" in one and "doc-needed" not in one:
        out.append("q1: questionnaire needs doc-needed")
    purposes = {e["valueCode"] for e in parts.get("doc-purpose", [])}
    if "withpa" in purposes and one.get("pa-needed", {}).get("valueCode") in ("satisfied", "no-auth", None):
        out.append("q4: withpa without PA needed")
    reason = one.get("reason", {}).get("valueCodeableConcept")
    if (purposes - {"conditional"} or any(e["valueCode"] == "OTH" for e in parts.get("info-needed", []))) \
            and not reason:
        out.append("q6/q8: reason required")
    if not reason or not reason.get("coding") or not reason.get("text"):
        out.append("the reason is coded and has its text (q7)")
    for e in parts.get("billingCode", []):
        if not (e["valueCoding"].get("system") == HCPCS and e["valueCoding"].get("code")):
            out.append("billingCode is an HCPCS Coding")
    return out


def problems_of_card(card: dict, drafts: set[str]) -> list[str]:
    out = []
    for link in card.get("links", []):
        url = urlsplit(link["url"])
        if url.scheme not in ("http", "https") or not url.netloc or link["type"] not in ("absolute", "smart"):
            out.append(f"bad link {link}")
        if "appContext" in link and link["type"] != "smart":
            out.append("appContext only on smart links")
    if card.get("suggestions"):
        if card.get("selectionBehavior") != "at-most-one":  # CDS Hooks 2.0 knows only at-most-one
            out.append("selectionBehavior")
        for s in card["suggestions"]:
            if not s.get("uuid") or not s.get("label") or not s.get("actions"):
                out.append("a suggestion needs uuid, label, actions")
            for a in s.get("actions", []):
                if not a.get("description"):
                    out.append("an action needs its description")
                if a["type"] == "update" and f"{a['resource']['resourceType']}/{a['resource']['id']}" not in drafts:
                    out.append("an update targets a draft order of the request")
    return out


@pytest.mark.parametrize("hook", ["order-sign", "order-dispatch"])
def test_every_response_is_valid_in_crd_2_0_1_and_2_2(client, library, hook):
    found: dict[str, list[str]] = {}
    billed = 0
    for key in sorted(SCENARIOS):
        body = scenario_request(key, library, hook=hook)
        r = client.post(f"/cds-services/pa-{hook}", json=body)
        assert r.status_code == 200, (key, r.json)
        drafts = {f"{e['resource']['resourceType']}/{e['resource']['id']}"
                  for e in (body["context"].get("draftOrders") or {}).get("entry", [])}
        problems = []
        for action in r.json.get("systemActions", []):
            infos = [e for e in action["resource"].get("extension", []) if e["url"] == CRD]
            problems += [p for info in infos for p in problems_of_information(info)]
            billed += any(e["url"] == "billingCode" for info in infos for e in info["extension"])
        for card in r.json["cards"]:
            problems += problems_of_card(card, drafts if hook == "order-sign" else set())
        if problems:
            found[key] = sorted(set(problems))
    assert not found, dict(list(found.items())[:5])
    assert billed > 100  # the HCPCS-coded drugs carry their billing code


def test_the_checker_catches_what_it_checks():
    """The checks above can fail: a few broken extensions, each caught."""
    base = [{"url": "coverage", "valueReference": {"reference": "Coverage/1"}}, {"url": "date", "valueDate": "x"},
            {"url": "coverage-assertion-id", "valueString": "a"}]
    reason = {"url": "reason", "valueCodeableConcept": {"coding": [{"code": "c"}], "text": "t"}}
    assert "q2: pa-needed exactly when not not-covered" in problems_of_information(
        {"extension": [*base, {"url": "covered", "valueCode": "covered"}, reason]})
    assert "q3: info-needed exactly when something is conditional" in problems_of_information(
        {"extension": [*base, {"url": "covered", "valueCode": "conditional"},
                       {"url": "pa-needed", "valueCode": "conditional"}, reason]})
    assert any("both versions" in p for p in problems_of_information(
        {"extension": [*base, {"url": "covered", "valueCode": "indeterminate"},
                       {"url": "pa-needed", "valueCode": "auth-needed"}, reason]}))
    assert "the reason is coded and has its text (q7)" in problems_of_information(
        {"extension": [*base, {"url": "covered", "valueCode": "covered"},
                       {"url": "pa-needed", "valueCode": "auth-needed"}]})
