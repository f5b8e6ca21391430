"""Synthetic but realistic patient records for the benchmarks, built on a fixture that gets a clean approval."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

from cdshooks.ehr.request import hook_request, prefetch_from_resources
from cdshooks.policy.loader import Library
from cdshooks.service.hooks import prefetch_specs

FIXTURES = Path(__file__).resolve().parent.parent / "fhir_fixtures"
LOINC = ["33358-3", "42482-0", "36916-5", "33944-0", "48378-4", "97509-4", "2345-7", "718-7", "6690-2", "2160-0"]
RXNORM = ["358258", "342369", "1721947", "3264", "8640", "161", "1191", "5640", "6809", "2670"]
ICD = ["I10", "E11.9", "E78.5", "N18.3", "D63.0", "M81.0", "K21.9", "J44.9", "F32.9", "G47.33"]


def scenario(key: str = "elx-approve") -> dict[str, Any]:
    manifest = json.loads((FIXTURES / "manifest.json").read_text())
    return next(s for s in manifest["scenarios"] if s["key"] == key)


def resources_of(key: str) -> list[dict]:
    bundle = json.loads((FIXTURES / "bundles" / f"{key}.json").read_text())
    return [e["resource"] for e in bundle["entry"]]


def padded(observations: int, medications: int, conditions: int, seed: int = 7, key: str = "elx-approve") -> list[dict]:
    """The fixture's own resources plus filler history that the policies do not decide on (other labs, drugs,
    problems), dated in the past year, so evaluation sees a realistic volume."""
    rnd = random.Random(seed)
    base = resources_of(key)
    subject = {"reference": f"Patient/{key}-pt"}
    extra: list[dict] = []
    for i in range(observations):
        code = rnd.choice(LOINC[5:])
        extra.append({"resourceType": "Observation", "id": f"bench-obs-{i}", "status": "final", "subject": subject,
                      "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                      "effectiveDateTime": f"2026-{rnd.randint(1, 10):02d}-{rnd.randint(1, 28):02d}",
                      "valueQuantity": {"value": round(rnd.uniform(1, 200), 1), "unit": "mg/dL",
                                        "system": "http://unitsofmeasure.org", "code": "mg/dL"}})
    for i in range(medications):
        extra.append({"resourceType": "MedicationRequest", "id": f"bench-med-{i}", "status": "completed",
                      "intent": "order", "subject": subject, "authoredOn": f"2025-{rnd.randint(1, 12):02d}-01",
                      "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                                "code": rnd.choice(RXNORM[5:])}]}})
    for i in range(conditions):
        extra.append({"resourceType": "Condition", "id": f"bench-cond-{i}", "subject": subject,
                      "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": rnd.choice(ICD)}]},
                      "clinicalStatus": {"coding": [{"code": "active"}]}})
    return base + extra


def request_body(library: Library, resources: list[dict], key: str = "elx-approve") -> dict[str, Any]:
    s = scenario(key)
    prefetch = prefetch_from_resources(resources, prefetch_specs(library), s["patientId"], s["userId"])
    return hook_request("order-sign", s["patientId"], copy.deepcopy(s["draftOrders"]), user_id=s["userId"],
                        prefetch=prefetch)
