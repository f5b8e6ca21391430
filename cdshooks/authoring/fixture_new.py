"""`pa-advisor fixtures new --from KEY --key NEW --set …`: a test patient derived from an existing one.

The new bundle is the old one with every id renamed (so both load into one FHIR server) and the changes
applied in order; its manifest entry keeps the recipe (`derivedFrom`), so `fhir_fixtures/build.py` derives it
again from the rebuilt base. Changes (FIELD=VALUE):
  payer=NAME          the Coverage's payer (and its Organization's name)
  plan=LOB            commercial · medicaid · medicare · marketplace (Coverage.type)
  drug=SYSTEM:CODE    the draft order's drug (hcpcs:J9380, rxnorm:…, ndc:…), its display from the value sets
  dose=AMOUNT UNIT[/every N d][@START]  a structured dose on the draft order (e.g. 1.5 mg/kg/every 7 d); the
                      first replaces the order's dosage, each further one adds a step
  weight=N kg[@DATE]  a body-weight Observation
  lab=LOINC:VALUE UNIT[@DATE]    a laboratory Observation
  condition=SYSTEM:CODE[@ONSET]  an active, confirmed problem-list Condition (icd10cm:C90.00)
  status=SNOMED[@DATE]           a disease-status Observation (LOINC 97509-4)
  given=SYSTEM:CODE@DATE[,DATE…] administrations of a drug (completed)
  attest=CRITERION:yes|no|N      the prescriber's answer on the PA questionnaire
  birth=YYYY-MM-DD    the patient's birth date
  drop=CODE           every Condition, Observation or medication resource carrying that code
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from cdshooks.errors import PAAdvisorError
from cdshooks.fhir.codes import SYSTEMS, codings_of
from cdshooks.settings import Settings

ATTEST = Settings.attestation_questionnaire  # the old questionnaire alias the service reads attestations from
LOB_TYPE = {"commercial": {"coding": [{"system": SYSTEMS["sopt"], "code": "5", "display": "Private Health Insurance"}]},
            "medicaid": {"coding": [{"system": SYSTEMS["sopt"], "code": "2", "display": "Medicaid"}]},
            "medicare": {"coding": [{"system": SYSTEMS["sopt"], "code": "1", "display": "Medicare"}]},
            "marketplace": {"text": "Marketplace (exchange) plan"}}
MED_TYPES = ("MedicationRequest", "MedicationAdministration", "MedicationStatement")


class FixtureError(PAAdvisorError, ValueError):
    """A change that cannot be applied: one line for the command line."""


class _Deriver:
    def __init__(self, resources: list[dict], entry: dict, key: str, anchor: str, displays: Mapping) -> None:
        self.resources, self.entry, self.key, self.displays = resources, entry, key, displays
        self.anchor = date.fromisoformat(anchor)
        self.count = 0
        self.dosed = False
        self.patient = next(r for r in resources if r["resourceType"] == "Patient")
        self.order_id = entry["draftOrders"][0]["id"]

    def new_id(self, kind: str) -> str:
        taken = {r.get("id") for r in self.resources}
        while True:
            self.count += 1
            if f"{self.key}-{kind}{self.count}" not in taken:
                return f"{self.key}-{kind}{self.count}"

    @property
    def subject(self) -> dict:
        return {"reference": f"Patient/{self.patient['id']}"}

    def when(self, text: str | None, default_days: int = 5) -> str:
        if not text:
            return (self.anchor - timedelta(days=default_days)).isoformat()
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError as exc:
            raise FixtureError(f"{text!r} is not a date (YYYY-MM-DD)") from exc

    def concept(self, spec: str) -> dict:
        alias, _, code = spec.partition(":")
        if alias not in SYSTEMS or not code:
            raise FixtureError(f"{spec!r}: write a code as SYSTEM:CODE, SYSTEM one of {', '.join(sorted(SYSTEMS))}")
        display = self.displays.get((alias, code), code)
        return {"coding": [{"system": SYSTEMS[alias], "code": code, "display": display}]}

    def order(self) -> dict:
        return next(r for r in self.resources if r.get("id") == self.order_id)

    # the changes, one method each
    def payer(self, value: str) -> None:
        for cov in self._all("Coverage"):
            for payor in cov.get("payor", []):
                payor["display"] = value
                ref = payor.get("reference", "").partition("/")[2]
                for org in self._all("Organization"):
                    if org["id"] == ref:
                        org["name"] = value

    def plan(self, value: str) -> None:
        if value not in LOB_TYPE:
            raise FixtureError(f"plan={value!r}: one of {', '.join(LOB_TYPE)}")
        for cov in self._all("Coverage"):
            cov["type"] = copy.deepcopy(LOB_TYPE[value])
            cov.pop("class", None)

    def drug(self, value: str) -> None:
        concept = self.concept(value)
        self.order()["medicationCodeableConcept"] = {**concept, "text": concept["coding"][0]["display"]}

    def dose(self, value: str) -> None:
        """The first dose= replaces the order's dosage; each further one adds the next step (step-up dosing)."""
        m = re.fullmatch(r"\s*([0-9.]+)\s*([^/\s@]+(?:/kg|/m2)?)\s*(?:/\s*every\s+([0-9.]+)\s*d)?\s*"
                         r"(?:@\s*(\S+))?\s*", value)
        if not m:
            raise FixtureError(f"dose={value!r}: write AMOUNT UNIT[/every N d][@START], e.g. '1.5 mg/kg/every 7 d'")
        amount, unit, every, start = m.groups()
        start = self.when(start) if start else self.anchor.isoformat()
        repeat: dict[str, Any] = {"boundsPeriod": {"start": start}}
        if every:
            repeat.update(frequency=1, period=float(every), periodUnit="d")
        else:
            repeat.update(count=1, boundsPeriod={"start": start, "end": start})
        order = self.order()
        steps = order.get("dosageInstruction", []) if self.dosed else []
        self.dosed = True
        order["dosageInstruction"] = steps + [{
            "sequence": len(steps) + 1, "text": f"{amount} {unit}" + (f" every {every} days" if every else ""),
            "doseAndRate": [{"doseQuantity": {"value": float(amount), "unit": unit, "system": SYSTEMS["ucum"],
                                              "code": unit}}],
            "timing": {"repeat": repeat}}]

    def weight(self, value: str) -> None:
        self.lab(f"29463-7:{value}", category="vital-signs")

    def lab(self, value: str, category: str = "laboratory") -> None:
        m = re.fullmatch(r"\s*([0-9]+-[0-9])\s*:\s*([0-9.]+)\s*(\S+)\s*(?:@\s*(\S+))?\s*", value)
        if not m:
            raise FixtureError(f"{value!r}: write LOINC:VALUE UNIT[@DATE], e.g. '33358-3:1.2 g/dL@2026-11-10'")
        loinc, amount, unit, on = m.groups()
        self._add({"resourceType": "Observation", "id": self.new_id("obs"), "status": "final",
                   "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                             "code": category}]}],
                   "code": self.concept(f"loinc:{loinc}"), "subject": self.subject,
                   "effectiveDateTime": self.when(on), "valueQuantity": {
                       "value": float(amount), "unit": unit, "system": SYSTEMS["ucum"], "code": unit}})

    def condition(self, value: str) -> None:
        code, _, on = value.partition("@")
        self._add({"resourceType": "Condition", "id": self.new_id("cond"), "subject": self.subject,
                   "clinicalStatus": {"coding": [{"system": SYSTEMS["condition-clinical"], "code": "active"}]},
                   "verificationStatus": {"coding": [{
                       "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]},
                   "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                             "code": "problem-list-item"}]}],
                   "code": self.concept(code), "onsetDateTime": self.when(on or None, 365)})

    def status(self, value: str) -> None:
        code, _, on = value.partition("@")
        self._add({"resourceType": "Observation", "id": self.new_id("obs"), "status": "final",
                   "code": self.concept("loinc:97509-4"), "subject": self.subject,
                   "effectiveDateTime": self.when(on or None), "valueCodeableConcept": self.concept(f"snomed:{code}")})

    def given(self, value: str) -> None:
        drug, _, dates = value.partition("@")
        if not dates:
            raise FixtureError(f"given={value!r}: write SYSTEM:CODE@DATE[,DATE…]")
        for on in dates.split(","):
            self._add({"resourceType": "MedicationAdministration", "id": self.new_id("med"), "status": "completed",
                       "subject": self.subject, "medicationCodeableConcept": self.concept(drug),
                       "effectiveDateTime": self.when(on.strip())})

    def attest(self, value: str) -> None:
        link, _, answer = value.partition(":")
        low = answer.strip().lower()
        if low in ("yes", "no"):
            typed: dict[str, Any] = {"valueBoolean": low == "yes"}
        elif re.fullmatch(r"[0-9]+", low):
            typed = {"valueInteger": int(low)}
        else:
            raise FixtureError(f"attest={value!r}: write CRITERION:yes, CRITERION:no or CRITERION:NUMBER")
        form = next((r for r in self._all("QuestionnaireResponse") if r.get("questionnaire") == ATTEST), None)
        if form is None:
            form = self._add({"resourceType": "QuestionnaireResponse", "id": self.new_id("qr"),
                              "status": "completed", "questionnaire": ATTEST, "subject": self.subject,
                              "authored": self.when(None, 1), "author": self.order().get("requester"), "item": []})
        form["item"] = [i for i in form.get("item", []) if i.get("linkId") != link] + [
            {"linkId": link, "answer": [typed]}]

    def birth(self, value: str) -> None:
        self.patient["birthDate"] = self.when(value)

    def drop(self, value: str) -> None:
        def carries(res: dict) -> bool:
            concepts = [res.get("code"), res.get("medicationCodeableConcept"), res.get("valueCodeableConcept")]
            return any(c.get("code") == value for concept in concepts for c in codings_of(concept))
        kept = [r for r in self.resources
                if r.get("id") == self.order_id or r["resourceType"] not in ("Condition", "Observation", *MED_TYPES)
                or not carries(r)]
        if len(kept) == len(self.resources):
            raise FixtureError(f"drop={value!r}: no Condition, Observation or medication carries that code")
        self.resources[:] = kept

    def _all(self, kind: str) -> list[dict]:
        return [r for r in self.resources if r["resourceType"] == kind]

    def _add(self, res: dict) -> dict:
        self.resources.append(res)
        return res


CHANGES: Mapping[str, Callable[[_Deriver, str], None]] = {
    name: getattr(_Deriver, name) for name in
    ("payer", "plan", "drug", "dose", "weight", "lab", "condition", "status", "given", "attest", "birth", "drop")}


def parse_sets(sets: Sequence[str]) -> list[tuple[str, str]]:
    out = []
    for item in sets:
        field, sep, value = item.partition("=")
        if not sep or field not in CHANGES:
            raise FixtureError(f"--set {item!r}: write FIELD=VALUE, FIELD one of {', '.join(CHANGES)}")
        out.append((field, value))
    return out


def rename(data: Any, old: str, new: str) -> Any:
    """Every id, reference and identifier of the old patient under the new key (`old-…`, `MRN-old` → `new`)."""
    text = re.sub(rf'(?<=["/-]){re.escape(old)}(?=[-"/])', new, json.dumps(data))
    return json.loads(text)


def derive(bundle: dict, entry: dict, key: str, sets: Sequence[str], anchor: str, displays: Mapping,
           expected: dict | None, description: str) -> tuple[dict, dict]:
    """(new bundle, new manifest entry)."""
    base_key = entry["key"]
    bundle, entry = rename(bundle, base_key, key), rename(entry, base_key, key)
    resources = [e["resource"] for e in bundle.get("entry", [])]
    deriver = _Deriver(resources, entry, key, anchor, displays)
    for field, value in parse_sets(sets):
        CHANGES[field](deriver, value)
    order = deriver.order()
    new_entry = {
        "key": key, "description": description, "bundle": f"bundles/{key}.json",
        "patientId": deriver.patient["id"], "userId": entry["userId"],
        "draftOrders": [order] + entry["draftOrders"][1:],
        "expected": expected, "derivedFrom": {"key": base_key, "set": list(sets)},
    }
    return transaction(resources), new_entry


def transaction(resources: list[dict]) -> dict:
    """A FHIR transaction Bundle that PUTs each resource under its own id (every fixture bundle is one)."""
    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": f"urn:pa-advisor:{r['resourceType']}/{r['id']}", "resource": r,
         "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}} for r in resources]}


def code_displays(mappings: Path) -> dict[tuple[str, str], str]:
    """(system alias, code) → display, from every value-set file."""
    out: dict[tuple[str, str], str] = {}
    for path in sorted((Path(mappings) / "valuesets").glob("*.yaml")):
        for body in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("valuesets", {}).values():
            for alias, code, display, *_ in body.get("codes", []):
                out.setdefault((alias, str(code)), display)
    return out


def expectation(outcome: str | None, pathway: str | None, criteria: Sequence[str]) -> dict | None:
    if outcome is None:
        return None
    statuses = {}
    for item in criteria:
        cid, sep, status = item.partition("=")
        if not sep or status not in ("met", "not-met", "missing"):
            raise FixtureError(f"--criterion {item!r}: write ID=met, ID=not-met or ID=missing")
        statuses[cid] = status
    return {"outcome": outcome, "pathway": pathway or "initial", "criteria": statuses}


def add_fixture(fixtures: Path, base: str, key: str, sets: Sequence[str], expected: dict | None,
                description: str, mappings: Path) -> Path:
    """Write bundles/KEY.json and its manifest entry (replacing an earlier entry of that key)."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,40}", key):
        raise FixtureError(f"--key {key!r}: lower-case letters, digits and hyphens")
    manifest_path = Path(fixtures) / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    entries = {s["key"]: s for s in manifest["scenarios"]}
    if base not in entries:
        raise FixtureError(f"--from {base!r}: no such fixture in {manifest_path}")
    if key in entries and "derivedFrom" not in entries[key]:
        raise FixtureError(f"--key {key!r} is a built fixture (fhir_fixtures/build.py); choose another key")
    bundle = json.loads((Path(fixtures) / entries[base]["bundle"]).read_text(encoding="utf-8"))
    new_bundle, entry = derive(bundle, entries[base], key, sets, manifest["anchorDate"], code_displays(mappings),
                               expected, description)
    out = Path(fixtures) / entry["bundle"]
    out.write_text(json.dumps(new_bundle, indent=1) + "\n", encoding="utf-8")
    keys = [s["key"] for s in manifest["scenarios"]]
    if key in keys:  # re-derived: keep its place, after its base and before what is derived from it
        manifest["scenarios"][keys.index(key)] = entry
    else:
        manifest["scenarios"].append(entry)
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return out
