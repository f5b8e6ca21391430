"""Readable builders for synthetic patients, and the scenario registry the fixture modules fill.

Every id is prefixed with the scenario key, so all bundles can live in one FHIR server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ANCHOR = "2026-11-20"
SYS = {
    "icd": "http://hl7.org/fhir/sid/icd-10-cm",
    "sct": "http://snomed.info/sct",
    "loinc": "http://loinc.org",
    "rx": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "hcpcs": "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "nucc": "http://nucc.org/provider-taxonomy",
    "ucum": "http://unitsofmeasure.org",
    "sopt": "https://nahdo.org/sopt",
}
ATTEST = "urn:pa-advisor:Questionnaire:pa-attestation"


def cc(system: str, code: str, display: str) -> dict:
    return {"coding": [{"system": SYS[system], "code": code, "display": display}], "text": display}


def qty(value: float, unit: str) -> dict:
    return {"value": value, "unit": unit, "system": SYS["ucum"], "code": unit}


class Patient:
    """Builds one scenario's resources with readable helpers."""

    def __init__(self, key: str, birth: str = "1960-03-15", gender: str = "female") -> None:
        self.key, self.n = key, 0
        self.pid = f"{key}-pt"
        self.resources: list[dict] = [{
            "resourceType": "Patient", "id": self.pid, "birthDate": birth, "gender": gender,
            "name": [{"family": "Testpatient", "given": [key.replace("-", " ").title()]}],
            "identifier": [{"system": "urn:pa-advisor:fixture-mrn", "value": f"MRN-{key}"}],
        }]
        self.requester = f"Practitioner/{key}-dr"

    def _id(self, kind: str) -> str:
        self.n += 1
        return f"{self.key}-{kind}{self.n}"

    def add(self, res: dict) -> dict:
        self.resources.append(res)
        return res

    @property
    def subject(self) -> dict:
        return {"reference": f"Patient/{self.pid}"}

    def coverage(self, payer: str, sopt: str | None, plan: str | None = None, **extra: Any) -> Patient:
        """A Coverage; extra sets period, order, status or a type text."""
        org = self.add({"resourceType": "Organization", "id": self._id("org"), "name": payer})
        cov: dict[str, Any] = {
            "resourceType": "Coverage", "id": self._id("cov"), "status": "active",
            "beneficiary": self.subject, "payor": [{"reference": f"Organization/{org['id']}", "display": payer}],
            "subscriberId": f"SUB-{self.key}",
        }
        if sopt:
            cov["type"] = {"coding": [{"system": SYS["sopt"], "code": sopt}]}
        if "type_text" in extra:
            cov["type"] = {"text": extra.pop("type_text")}
        cov.update(extra)
        if plan:
            cov["class"] = [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/coverage-class",
                                                   "code": "plan"}]}, "value": plan, "name": plan}]
        self.add(cov)
        return self

    def prescriber(self, specialty: tuple[str, str] | None) -> Patient:
        self.add({"resourceType": "Practitioner", "id": f"{self.key}-dr",
                  "name": [{"family": "Prescriber", "given": ["Pat"]}]})
        if specialty:
            self.add({"resourceType": "PractitionerRole", "id": f"{self.key}-role",
                      "practitioner": {"reference": self.requester},
                      "specialty": [cc("nucc", specialty[0], specialty[1])]})
        return self

    def condition(self, system: str, code: str, display: str, clinical: str = "active",
                  verification: str = "confirmed", onset: str = "2022-01-10") -> Patient:
        self.add({
            "resourceType": "Condition", "id": self._id("cond"), "subject": self.subject,
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                           "code": clinical}]},
            "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                               "code": verification}]},
            "code": cc(system, code, display), "onsetDateTime": onset,
        })
        return self

    def lab(self, loinc: str, display: str, value: float, unit: str, when: str, **extra: Any) -> Patient:
        obs = {"resourceType": "Observation", "id": self._id("obs"), "status": "final",
               "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                         "code": "laboratory"}]}],
               "code": cc("loinc", loinc, display), "subject": self.subject, "effectiveDateTime": when,
               "valueQuantity": qty(value, unit)}
        obs.update(extra)
        self.add(obs)
        return self

    def flc(self, kappa: float, lam: float, ratio: float, unit: str, when: str) -> Patient:
        """One serum free light chain draw: κ, λ and their ratio."""
        self.lab("36916-5", "Kappa free light chains", kappa, unit, when)
        self.lab("33944-0", "Lambda free light chains", lam, unit, when)
        return self.lab("48378-4", "Kappa/Lambda free light chain ratio", ratio, "{ratio}", when)

    def status(self, snomed: str, display: str, when: str) -> Patient:
        self.add({"resourceType": "Observation", "id": self._id("obs"), "status": "final",
                  "code": cc("loinc", "97509-4", "Cancer disease progression"), "subject": self.subject,
                  "effectiveDateTime": when, "valueCodeableConcept": cc("sct", snomed, display)})
        return self

    def given(self, drug: dict, start: str, end: str | None = None, line: str | None = None,
              kind: str = "MedicationAdministration", reason: tuple[str, str] | None = None,
              status: str | None = None, dose: tuple[float, str] | None = None) -> Patient:
        """A drug actually received (an administration or a medication statement), or a past order (kind
        MedicationRequest: an intention, with a stop reason when the prescriber recorded one)."""
        res: dict[str, Any] = {"resourceType": kind, "id": self._id("med"), "subject": self.subject,
                               "medicationCodeableConcept": drug}
        if kind in ("MedicationAdministration", "MedicationStatement"):
            res["status"] = status or "completed"
            res["effectivePeriod" if end else "effectiveDateTime"] = {"start": start, "end": end} if end else start
            if reason:
                res["statusReason"] = [cc("sct", *reason)]
            if dose:
                res["dosage"] = {"dose": qty(*dose)}
        else:
            res.update(status=status or ("stopped" if reason else "completed"), intent="order", authoredOn=start,
                       requester={"reference": self.requester},
                       dosageInstruction=[{"timing": {"repeat": {"boundsPeriod": {"start": start,
                                                                                   "end": end or start}}}}])
            if reason:
                res["statusReason"] = cc("sct", *reason)
        if line and kind == "MedicationRequest":
            res["groupIdentifier"] = {"system": "urn:pa-advisor:regimen", "value": f"{self.key}-{line}"}
        self.add(res)
        return self

    def line(self, name: str, start: str, end: str, *drugs: dict, reason: tuple[str, str] | None = None) -> Patient:
        """One line of therapy as the record holds it: each drug a medication statement over the line's dates
        (no regimen grouping: lines are counted from dates and drug sets). `name` is for the reader."""
        for drug in drugs:
            self.given(drug, start, end, kind="MedicationStatement", reason=reason)
        return self

    def vitals(self, weight_kg: float, height_cm: float | None = None, when: str = "2026-11-15") -> Patient:
        self.lab("29463-7", "Body weight", weight_kg, "kg", when)
        if height_cm:
            self.lab("8302-2", "Body height", height_cm, "cm", when)
        return self

    def active(self, drug: dict, start: str = "2026-10-01") -> Patient:
        self.add({"resourceType": "MedicationRequest", "id": self._id("med"), "status": "active", "intent": "order",
                  "subject": self.subject, "medicationCodeableConcept": drug, "authoredOn": start,
                  "requester": {"reference": self.requester}})
        return self

    def intolerance(self, drug: dict, kind: str | None = "intolerance") -> Patient:
        """A documented intolerance or adverse effect (kind None: recorded with no type, as many EHRs do)."""
        res = {"resourceType": "AllergyIntolerance", "id": self._id("ai"), "patient": self.subject}
        if kind:
            res["type"] = kind
        self.add({**res, "category": ["medication"], "code": drug, "recordedDate": "2024-05-01",
                  "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                                                 "code": "active"}]}})
        return self

    def procedure(self, system: str, code: str, display: str, when: str, status: str = "completed") -> Patient:
        sysmap = {**SYS, "cpt": "http://www.ama-assn.org/go/cpt", "pcs": "http://www.cms.gov/Medicare/Coding/ICD10"}
        self.add({"resourceType": "Procedure", "id": self._id("proc"), "status": status, "subject": self.subject,
                  "code": {"coding": [{"system": sysmap[system], "code": code, "display": display}], "text": display},
                  "performedDateTime": when})
        return self

    def deceased(self, when: str | None = None) -> Patient:
        pt = self.resources[0]
        if when:
            pt["deceasedDateTime"] = when
        else:
            pt["deceasedBoolean"] = True
        return self

    def ordered(self, drug: dict, start: str, status: str = "active", route: str | None = None,
                end: str | None = None) -> Patient:
        """A past or current order in the record (an intention: no dose given unless recorded separately)."""
        res: dict[str, Any] = {"resourceType": "MedicationRequest", "id": self._id("med"), "status": status,
                               "intent": "order", "subject": self.subject, "medicationCodeableConcept": drug,
                               "authoredOn": start, "requester": {"reference": self.requester}}
        if route or end:
            d: dict[str, Any] = {}
            if route:
                d["route"] = cc("sct", "72607000", "Intrathecal route") if route == "intrathecal" else {"text": route}
            if end:
                d["timing"] = {"repeat": {"boundsPeriod": {"start": start, "end": end}}}
            res["dosageInstruction"] = [d]
        self.add(res)
        return self

    def history(self, system: str, code: str, display: str) -> Patient:
        return self.condition(system, code, display, clinical="resolved")

    def attest(self, **answers: Any) -> Patient:
        items = []
        for link, value in answers.items():
            key = ("valueBoolean" if isinstance(value, bool) else "valueInteger" if isinstance(value, int)
                   else "valueDecimal")
            items.append({"linkId": link.replace("_", "-"), "answer": [{key: value}]})
        # Answered by the prescriber the day before signing: only a practitioner's answer decides a criterion.
        self.add({"resourceType": "QuestionnaireResponse", "id": self._id("qr"), "status": "completed",
                  "questionnaire": ATTEST, "subject": self.subject, "authored": "2026-11-19",
                  "author": {"reference": self.requester}, "item": items})
        return self

    def order(self, drug: dict, dosage: list[dict] | None, key: str = "order", **extra: Any) -> dict:
        res = {"resourceType": "MedicationRequest", "id": f"{self.key}-{key}", "status": "draft", "intent": "order",
               "subject": self.subject, "authoredOn": ANCHOR, "requester": {"reference": self.requester},
               "medicationCodeableConcept": drug}
        # CRD order profiles mark insurance Must Support; the CRD request generator needs it to launch DTR.
        coverages = [r for r in self.resources if r["resourceType"] == "Coverage"]
        if coverages:
            res["insurance"] = [{"reference": f"Coverage/{coverages[0]['id']}"}]
        if dosage:
            res["dosageInstruction"] = dosage
        res.update(extra)
        return res


def step(amount: float, unit: str, seq: int, start: str, end: str | None = None, every: float | None = None,
         per: str = "wk", rate: tuple[float, str] | None = None) -> dict:
    """One dosage step of a schedule (sequence + boundsPeriod), e.g. a step-up dose."""
    dr: dict[str, Any] = {"doseQuantity": qty(amount, unit)} if amount else {}
    if rate:
        dr["rateQuantity"] = qty(*rate)
    repeat: dict[str, Any] = {"boundsPeriod": {"start": start, "end": end or start}}
    if every:
        repeat.update(frequency=1, period=every, periodUnit=per)
    else:
        repeat["count"] = 1
    return {"sequence": seq, "text": "structured dose", "doseAndRate": [dr], "timing": {"repeat": repeat}}


def dosage(amount: float, unit: str, every: float | None = None, per: str = "wk", days: float | None = None,
           rate: tuple[float, str] | None = None) -> list[dict]:
    d: dict[str, Any] = {"text": "structured dose"}
    dr: dict[str, Any] = {}
    if amount:
        dr["doseQuantity"] = qty(amount, unit)
    if rate:
        dr["rateQuantity"] = qty(*rate)
    d["doseAndRate"] = [dr]
    if every:
        repeat: dict[str, Any] = {"frequency": 1, "period": every, "periodUnit": per}
        if days:
            repeat["boundsDuration"] = {"value": days, "unit": "d", "system": SYS["ucum"], "code": "d"}
        d["timing"] = {"repeat": repeat}
    return [d]


# Drug concepts used by the scenarios (codes from mappings/valuesets/drugs.yaml).
ELREXFIO = cc("hcpcs", "J1323", "Elrexfio (elranatamab-bcmm)")
ABECMA = cc("hcpcs", "Q2055", "Abecma (idecabtagene vicleucel)")
BLINCYTO = cc("rx", "1597258", "blinatumomab")
LEMTRADA = cc("rx", "1594660", "alemtuzumab 10 MG/ML [Lemtrada]")
BORTEZOMIB = cc("rx", "358258", "bortezomib")
CARFILZOMIB = cc("rx", "1302966", "carfilzomib")
IXAZOMIB = cc("rx", "1723735", "ixazomib")
LENALIDOMIDE = cc("rx", "342369", "lenalidomide")
POMALIDOMIDE = cc("rx", "1369713", "pomalidomide")
DARATUMUMAB = cc("rx", "1721947", "daratumumab")
TECLISTAMAB = cc("rx", "2619426", "teclistamab")
CARVYKTI = cc("rx", "2594775", "ciltacabtagene autoleucel")
DASATINIB = cc("rx", "475342", "dasatinib")
DMF = cc("rx", "1373478", "dimethyl fumarate")
TERIFLUNOMIDE = cc("rx", "1310520", "teriflunomide")
FINGOLIMOD = cc("rx", "1012892", "fingolimod")
GLATIRAMER = cc("rx", "84375", "glatiramer acetate")
OCRELIZUMAB = cc("rx", "1876366", "ocrelizumab")
NO_RESPONSE = ("266721009", "No response to treatment")
NOT_TOLERATED = ("407563006", "Treatment not tolerated")
HEMONC = ("207RX0202X", "Internal Medicine - Medical Oncology")
NEURO = ("2084N0400X", "Psychiatry & Neurology - Neurology")

SCENARIOS: list[dict] = []


def scenario(key: str, description: str, patient: Patient, order: dict | None, outcome: str | None,
             pathway: str = "initial", criteria: dict[str, str] | None = None, extra_orders: list[dict] = (),
             cite: str | None = None, boundary: tuple[str, str] | None = None, covered: str | None = None,
             approval: str | None = None) -> None:
    """Register a scenario. `cite` names the policy item the reviewer's answer rests on; `boundary` is
    (pin id from tests/policy/pinned.py, "inside" | "outside"); `covered` and `approval` pin the
    coverage-information `covered` code and the approval duration when the scenario is about them."""
    SCENARIOS.append({"key": key, "description": description, "patient": patient, "order": order,
                      "extra_orders": list(extra_orders), "outcome": outcome, "pathway": pathway,
                      "criteria": criteria or {}, "cite": cite, "boundary": boundary, "covered": covered,
                      "approval": approval})
