"""Writes the synthetic patients: one FHIR R4 transaction Bundle per scenario, plus manifest.json.

Each scenario states its own answer (expected outcome, pathway and the status of the criteria it is about);
tests/test_fixtures.py walks the manifest, so a new case needs no test code. Run:
    python fhir_fixtures/build.py        (rewrites bundles/ and manifest.json)
Every id is prefixed with the scenario key, so all bundles can live in one FHIR server.
"""

from __future__ import annotations

import json
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

    def coverage(self, payer: str, sopt: str | None, plan: str | None = None) -> Patient:
        org = self.add({"resourceType": "Organization", "id": self._id("org"), "name": payer})
        cov: dict[str, Any] = {
            "resourceType": "Coverage", "id": self._id("cov"), "status": "active",
            "beneficiary": self.subject, "payor": [{"reference": f"Organization/{org['id']}", "display": payer}],
            "subscriberId": f"SUB-{self.key}",
        }
        if sopt:
            cov["type"] = {"coding": [{"system": SYS["sopt"], "code": sopt}]}
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

    def intolerance(self, drug: dict) -> Patient:
        self.add({"resourceType": "AllergyIntolerance", "id": self._id("ai"), "patient": self.subject,
                  "type": "intolerance", "category": ["medication"], "code": drug, "recordedDate": "2024-05-01",
                  "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                                                 "code": "active"}]}})
        return self

    def history(self, system: str, code: str, display: str) -> Patient:
        return self.condition(system, code, display, clinical="resolved")

    def attest(self, **answers: Any) -> Patient:
        items = []
        for link, value in answers.items():
            key = "valueBoolean" if isinstance(value, bool) else "valueInteger"
            items.append({"linkId": link.replace("_", "-"), "answer": [{key: value}]})
        self.add({"resourceType": "QuestionnaireResponse", "id": self._id("qr"), "status": "completed",
                  "questionnaire": ATTEST, "subject": self.subject, "authored": "2026-11-19", "item": items})
        return self

    def order(self, drug: dict, dosage: list[dict] | None, key: str = "order") -> dict:
        res = {"resourceType": "MedicationRequest", "id": f"{self.key}-{key}", "status": "draft", "intent": "order",
               "subject": self.subject, "authoredOn": ANCHOR, "requester": {"reference": self.requester},
               "medicationCodeableConcept": drug}
        if dosage:
            res["dosageInstruction"] = dosage
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
             pathway: str = "initial", criteria: dict[str, str] | None = None, extra_orders: list[dict] = ()) -> None:
    SCENARIOS.append({"key": key, "description": description, "patient": patient, "order": order,
                      "extra_orders": list(extra_orders), "outcome": outcome, "pathway": pathway,
                      "criteria": criteria or {}})


# ---------------------------------------------------------------------------------------------------------------
# LA.PHAR.652 elranatamab — Louisiana Healthcare Connections Medicaid
def mm_base(key: str, **kw: Any) -> Patient:
    p = Patient(key, **kw).coverage("Louisiana Healthcare Connections", "21", "Louisiana Medicaid Managed Care")
    p.prescriber(HEMONC).condition("icd", "C90.02", "Multiple myeloma in relapse", clinical="relapse")
    return p


def mm_four_lines(p: Patient) -> Patient:
    return (p.line("L1", "2022-02-01", "2022-09-30", BORTEZOMIB, LENALIDOMIDE)
             .line("L2", "2022-11-01", "2023-08-31", CARFILZOMIB, POMALIDOMIDE)
             .line("L3", "2023-10-01", "2024-09-30", DARATUMUMAB, POMALIDOMIDE)
             .line("L4", "2024-11-01", "2026-09-15", IXAZOMIB, LENALIDOMIDE))


# Label step-up for a first course: 12 mg day 1, 32 mg day 4, 76 mg weekly from day 8.
ELREXFIO_DOSE = [step(12, "mg", 1, "2026-11-23"), step(32, "mg", 2, "2026-11-26"),
                 step(76, "mg", 3, "2026-11-30", "2027-05-10", every=1)]
ELREXFIO_WEEKLY = dosage(76, "mg", 1, "wk")

p = mm_four_lines(mm_base("elx-approve")).lab("33358-3", "Serum M-protein", 1.2, "g/dL", "2026-11-05")
scenario("elx-approve", "Elrexfio: every criterion shown by the record, label step-up", p,
         p.order(ELREXFIO, ELREXFIO_DOSE),
         "likely-approved", criteria={"dx-mm": "met", "prescriber": "met", "age": "met", "rr": "met",
                                      "serum-mprotein": "met", "monotherapy": "met", "prior-lines": "met",
                                      "prior-pi": "met", "prior-imid": "met", "prior-cd38": "met",
                                      "dose-wk1-24": "met", "regimen": "met"})

p = mm_four_lines(mm_base("elx-age", birth="2009-12-01")).lab("33358-3", "Serum M-protein", 1.2, "g/dL", "2026-11-05")
p.attest(regimen_fda_nccn=True)
scenario("elx-age", "Elrexfio: patient is 16", p, p.order(ELREXFIO, ELREXFIO_DOSE), "likely-denied",
         criteria={"age": "not-met"})

p = Patient("elx-wrongdx").coverage("Louisiana Healthcare Connections", "21").prescriber(HEMONC)
p.condition("icd", "C90.00", "Multiple myeloma not having achieved remission", verification="refuted")
p.condition("icd", "C83.38", "Diffuse large B-cell lymphoma, lymph nodes of multiple sites")
mm_four_lines(p).lab("33358-3", "Serum M-protein", 1.2, "g/dL", "2026-11-05").attest(regimen_fda_nccn=True)
scenario("elx-wrongdx", "Elrexfio: myeloma diagnosis refuted (lymphoma instead)", p, p.order(ELREXFIO, ELREXFIO_DOSE),
         "likely-denied", criteria={"dx-mm": "not-met", "non-fda-indication": "not-met"})

p = mm_four_lines(mm_base("elx-combo")).lab("33358-3", "Serum M-protein", 1.2, "g/dL", "2026-11-05")
p.attest(regimen_fda_nccn=True)
scenario("elx-combo", "Elrexfio ordered together with daratumumab (not monotherapy)", p,
         p.order(ELREXFIO, ELREXFIO_DOSE), "likely-denied", criteria={"monotherapy": "not-met"},
         extra_orders=[p.order(DARATUMUMAB, dosage(1800, "mg", 1, "wk"), key="dara")])

p = mm_four_lines(mm_base("elx-overdose")).lab("33358-3", "Serum M-protein", 1.2, "g/dL", "2026-11-05")
p.attest(regimen_fda_nccn=True)
scenario("elx-overdose", "Elrexfio 152 mg weekly: over the label limit, literature support still possible", p,
         p.order(ELREXFIO, [step(12, "mg", 1, "2026-11-23"), step(32, "mg", 2, "2026-11-26"),
                            step(152, "mg", 3, "2026-11-30", "2027-05-10", every=1)]), "documentation-needed",
         criteria={"dose-label": "not-met", "dose-literature": "missing", "dose": "missing"})

p = mm_base("elx-fewlines").line("L1", "2023-01-01", "2024-01-01", BORTEZOMIB, LENALIDOMIDE, DARATUMUMAB)
p.lab("33358-3", "Serum M-protein", 1.2, "g/dL", "2026-11-05").attest(regimen_fda_nccn=True, prior_lines=2)
scenario("elx-fewlines", "Elrexfio: prescriber attests only 2 prior lines", p, p.order(ELREXFIO, ELREXFIO_DOSE),
         "likely-denied", criteria={"prior-lines": "not-met", "prior-pi": "met"})

p = mm_four_lines(mm_base("elx-stale")).lab("33358-3", "Serum M-protein", 1.2, "g/dL", "2026-09-20")
p.attest(regimen_fda_nccn=True)
scenario("elx-stale", "Elrexfio: last M-protein is 61 days old (outside the 30-day window)", p,
         p.order(ELREXFIO, ELREXFIO_DOSE), "documentation-needed",
         criteria={"serum-mprotein": "missing", "measurable": "missing"})

p = Patient("elx-nospec").coverage("Louisiana Healthcare Connections", "21").prescriber(None)
p.condition("icd", "C90.02", "Multiple myeloma in relapse")
mm_four_lines(p).lab("33358-3", "Serum M-protein", 1.2, "g/dL", "2026-11-05").attest(regimen_fda_nccn=True)
scenario("elx-nospec", "Elrexfio: prescriber's specialty not on record", p, p.order(ELREXFIO, ELREXFIO_DOSE),
         "documentation-needed", criteria={"prescriber": "missing"})

p = mm_four_lines(mm_base("elx-flc-mgl")).flc(150, 8, 18.75, "mg/L", "2026-11-12").attest(regimen_fda_nccn=True)
scenario("elx-flc-mgl", "Elrexfio: measurable disease by FLC reported in mg/L (150 mg/L = 15 mg/dL)", p,
         p.order(ELREXFIO, ELREXFIO_DOSE), "likely-approved", criteria={"flc": "met", "serum-mprotein": "missing"})

p = mm_four_lines(mm_base("elx-flc-mgdl")).flc(1.1, 12.5, 0.088, "mg/dL", "2026-11-12").attest(regimen_fda_nccn=True)
scenario("elx-flc-mgdl", "Elrexfio: lambda-involved FLC 12.5 mg/dL with low ratio", p,
         p.order(ELREXFIO, ELREXFIO_DOSE), "likely-approved", criteria={"flc": "met"})

p = mm_four_lines(mm_base("elx-continued"))
for day, mg in (("2026-09-01", 12), ("2026-09-04", 32), ("2026-09-08", 76), ("2026-09-15", 76), ("2026-09-22", 76),
                ("2026-10-20", 76), ("2026-11-17", 76)):
    p.given(ELREXFIO, day, dose=(mg, "mg"))
p.status("268910001", "Patient's condition improved", "2026-11-10")
scenario("elx-continued", "Elrexfio: receiving since September and responding (continued therapy)", p,
         p.order(ELREXFIO, ELREXFIO_WEEKLY), "likely-approved", pathway="continued",
         criteria={"receiving-30-days": "met", "responding": "met", "continued-dose-wk1-24": "met"})

p = mm_four_lines(Patient("elx-otherplan").coverage("Aetna Better Health", "51").prescriber(HEMONC))
p.condition("icd", "C90.02", "Multiple myeloma in relapse")
scenario("elx-otherplan", "Elrexfio: Coverage is a plan LA.PHAR.652 does not cover (no card)", p,
         p.order(ELREXFIO, ELREXFIO_DOSE), None)

# ---------------------------------------------------------------------------------------------------------------
# CP.PHAR.481 idecabtagene vicleucel — Centene affiliates
ABECMA_DOSE = dosage(450, "10*6")


def abecma_base(key: str, **kw: Any) -> Patient:
    p = Patient(key, **kw).coverage("Sunshine Health", "21", "Florida Medicaid").prescriber(HEMONC)
    p.condition("icd", "C90.02", "Multiple myeloma in relapse", clinical="relapse")
    p.line("L1", "2023-01-01", "2023-12-31", BORTEZOMIB, LENALIDOMIDE)
    p.line("L2", "2024-02-01", "2026-08-31", DARATUMUMAB, POMALIDOMIDE)
    return p.lab("33358-3", "Serum M-protein", 0.9, "g/dL", "2026-11-01")


p = abecma_base("ide-approve")
scenario("ide-approve", "Abecma: relapsed MM after 2 lines, all criteria met", p, p.order(ABECMA, ABECMA_DOSE),
         "likely-approved", criteria={"dx-rrmm": "met", "prior-lines": "met", "no-cns": "met", "no-prior-bcma": "met",
                                      "no-prior-cart": "met", "no-concurrent-cart": "met", "dose": "met"})

p = abecma_base("ide-cns").condition("icd", "G40.909", "Epilepsy, unspecified, not intractable", onset="2015-04-01")
scenario("ide-cns", "Abecma: history of epilepsy (clinically relevant CNS pathology)", p, p.order(ABECMA, ABECMA_DOSE),
         "likely-denied", criteria={"no-cns": "not-met", "cns-not-authorized": "not-met"})

p = abecma_base("ide-bcma").given(TECLISTAMAB, "2025-06-01")
scenario("ide-bcma", "Abecma: prior teclistamab (anti-BCMA)", p, p.order(ABECMA, ABECMA_DOSE), "likely-denied",
         criteria={"no-prior-bcma": "not-met"})

p = abecma_base("ide-cart").history("icd", "Z92.850", "Personal history of CAR T-cell therapy")
scenario("ide-cart", "Abecma: personal history of CAR-T therapy", p, p.order(ABECMA, ABECMA_DOSE), "likely-denied",
         criteria={"no-prior-cart": "not-met"})

p = abecma_base("ide-concurrent")
scenario("ide-concurrent", "Abecma ordered with Carvykti", p, p.order(ABECMA, ABECMA_DOSE), "likely-denied",
         criteria={"no-concurrent-cart": "not-met"},
         extra_orders=[p.order(CARVYKTI, dosage(0.75, "10*6/kg"), key="carvykti")])

p = abecma_base("ide-overdose")
scenario("ide-overdose", "Abecma: 600 x 10^6 cells ordered", p, p.order(ABECMA, dosage(600, "10*6")), "likely-denied",
         criteria={"dose": "not-met"})

p = abecma_base("ide-continued").given(ABECMA, "2026-05-01")
scenario("ide-continued", "Abecma: second infusion requested (one-time therapy)", p, p.order(ABECMA, ABECMA_DOSE),
         "likely-denied", pathway="continued", criteria={"no-continued": "not-met"})

p = Patient("ide-urine").coverage("Ambetter from Sunshine Health", "51", "Ambetter Marketplace").prescriber(HEMONC)
p.condition("icd", "C90.02", "Multiple myeloma in relapse")
p.line("L1", "2023-01-01", "2023-12-31", BORTEZOMIB, LENALIDOMIDE).line("L2", "2024-02-01", "2026-08-31",
                                                                          DARATUMUMAB, POMALIDOMIDE)
p.lab("42482-0", "Urine M-protein 24h", 0.25, "g/(24.h)", "2026-11-10")
scenario("ide-urine", "Abecma: measurable disease by 24-h urine M-protein in g/(24.h)", p,
         p.order(ABECMA, ABECMA_DOSE), "likely-approved", criteria={"urine-mprotein": "met"})

p = abecma_base("ide-age", birth="2010-02-02")
scenario("ide-age", "Abecma: patient is 16", p, p.order(ABECMA, ABECMA_DOSE), "likely-denied",
         criteria={"age": "not-met"})

p = Patient("ide-wrongdx").coverage("Sunshine Health", "21").prescriber(HEMONC)
p.condition("icd", "C90.00", "Multiple myeloma not having achieved remission", verification="refuted")
p.line("L1", "2023-01-01", "2023-12-31", BORTEZOMIB, LENALIDOMIDE).line("L2", "2024-02-01", "2026-08-31",
                                                                          DARATUMUMAB, POMALIDOMIDE)
p.lab("33358-3", "Serum M-protein", 0.9, "g/dL", "2026-11-01")
scenario("ide-wrongdx", "Abecma: myeloma diagnosis refuted", p, p.order(ABECMA, ABECMA_DOSE), "likely-denied",
         criteria={"dx-mm": "not-met", "dx-rrmm": "not-met"})

p = Patient("ide-nospec").coverage("Sunshine Health", "21").prescriber(None)
p.condition("icd", "C90.02", "Multiple myeloma in relapse")
p.line("L1", "2023-01-01", "2023-12-31", BORTEZOMIB, LENALIDOMIDE).line("L2", "2024-02-01", "2026-08-31",
                                                                          DARATUMUMAB, POMALIDOMIDE)
p.lab("33358-3", "Serum M-protein", 0.9, "g/dL", "2026-11-01")
scenario("ide-nospec", "Abecma: prescriber's specialty not on record", p, p.order(ABECMA, ABECMA_DOSE),
         "documentation-needed", criteria={"prescriber": "missing"})

p = Patient("ide-stale").coverage("Sunshine Health", "21").prescriber(HEMONC)
p.condition("icd", "C90.02", "Multiple myeloma in relapse", clinical="relapse")
p.line("L1", "2023-01-01", "2023-12-31", BORTEZOMIB, LENALIDOMIDE).line("L2", "2024-02-01", "2026-08-31",
                                                                          DARATUMUMAB, POMALIDOMIDE)
p.lab("33358-3", "Serum M-protein", 0.9, "g/dL", "2026-08-01")
scenario("ide-stale", "Abecma: last M-protein is older than 30 days", p, p.order(ABECMA, ABECMA_DOSE),
         "documentation-needed", criteria={"serum-mprotein": "missing"})

p = abecma_base("ide-fewlines").attest(prior_lines=1)
scenario("ide-fewlines", "Abecma: prescriber attests a single prior line", p, p.order(ABECMA, ABECMA_DOSE),
         "likely-denied", criteria={"prior-lines": "not-met"})

p = Patient("ide-otherplan").coverage("UnitedHealthcare Community Plan", "21").prescriber(HEMONC)
p.condition("icd", "C90.02", "Multiple myeloma in relapse")
scenario("ide-otherplan", "Abecma: non-Centene plan (no card)", p, p.order(ABECMA, ABECMA_DOSE), None)

# ---------------------------------------------------------------------------------------------------------------
# MP-RX-FP-14-23 blinatumomab — MMM Medicare Advantage
BLIN_DOSE = dosage(0, "ug", rate=(28, "ug/d"))
# Relapsed/refractory cycle 1: 9 µg/day on days 1-7, then 28 µg/day on days 8-28.
BLIN_RR_C1 = [step(0, "ug", 1, "2026-11-23", "2026-11-29", rate=(9, "ug/d")),
              step(0, "ug", 2, "2026-11-30", "2026-12-20", rate=(28, "ug/d"))]


def ball_base(key: str, **kw: Any) -> Patient:
    p = Patient(key, **kw).coverage("MMM Healthcare", "111", "MMM Medicare Advantage").prescriber(HEMONC)
    p.vitals(70, 170)
    return p.condition("icd", "C91.02", "Acute lymphoblastic leukemia, in relapse", clinical="relapse")


p = ball_base("blin-approve").attest(cd19_positive=True)
scenario("blin-approve", "Blincyto: relapsed CD19+ B-ALL, single agent, cycle 1 step-up 9 then 28 mcg/day", p,
         p.order(BLINCYTO, BLIN_RR_C1),
         "likely-approved", criteria={"dx-ball": "met", "single-agent": "met", "rr": "met", "dose-limit": "met",
                                      "label-pathway": "met"})

p = Patient("blin-dlbcl").coverage("MMM Healthcare", "111").prescriber(HEMONC).vitals(70, 170)
p.condition("icd", "C83.38", "Diffuse large B-cell lymphoma, lymph nodes of multiple sites").attest(cd19_positive=True)
scenario("blin-dlbcl", "Blincyto requested for DLBCL (not covered)", p, p.order(BLINCYTO, BLIN_DOSE), "likely-denied",
         criteria={"not-dlbcl": "not-met"})

p = ball_base("blin-tki").attest(cd19_positive=True).active(DASATINIB)
scenario("blin-tki", "Blincyto with dasatinib (TKI pathway) for relapsed Ph+ B-ALL", p, p.order(BLINCYTO, BLIN_RR_C1),
         "likely-approved", criteria={"single-agent": "not-met", "with-tki": "met", "tki-pathway": "met"})

p = ball_base("blin-overdose").attest(cd19_positive=True)
scenario("blin-overdose", "Blincyto 40 mcg/day (above 28 mcg/day)", p,
         p.order(BLINCYTO, dosage(0, "ug", rate=(40, "ug/d"))), "likely-denied", criteria={"dose-limit": "not-met"})

p = ball_base("blin-nocd19")
scenario("blin-nocd19", "Blincyto: CD19 status not documented", p, p.order(BLINCYTO, BLIN_RR_C1),
         "documentation-needed", criteria={"cd19-positive": "missing", "dx-ball": "missing"})

p = ball_base("blin-cd19neg").attest(cd19_positive=False)
scenario("blin-cd19neg", "Blincyto: blasts documented CD19-negative", p, p.order(BLINCYTO, BLIN_RR_C1), "likely-denied",
         criteria={"cd19-positive": "not-met", "dx-ball": "not-met"})

p = ball_base("blin-continued").attest(cd19_positive=True, no_toxicity=True, duration=True, oncology_note=True,
                                       imaging=True)
p.given(BLINCYTO, "2026-08-01", "2026-08-28").given(BLINCYTO, "2026-09-12", "2026-10-09")
p.status("359746009", "Patient's condition stable", "2026-11-01")
scenario("blin-continued", "Blincyto cycle 3: stable disease, documentation attested", p, p.order(BLINCYTO, BLIN_DOSE),
         "likely-approved", pathway="continued", criteria={"no-progression": "met", "continued-indication": "met"})

p = Patient("blin-medicaid").coverage("MMM Healthcare", "21").prescriber(HEMONC)
p.condition("icd", "C91.02", "Acute lymphoblastic leukemia, in relapse")
scenario("blin-medicaid", "Blincyto: MMM coverage on a Medicaid line the policy does not list (no card)", p,
         p.order(BLINCYTO, BLIN_DOSE), None)

# ---------------------------------------------------------------------------------------------------------------
# CP.PHAR.243 alemtuzumab — Centene affiliates
LEMTRADA_FIRST = dosage(12, "mg", 1, "d", days=5)


def ms_base(key: str, **kw: Any) -> Patient:
    kw.setdefault("birth", "1989-06-02")
    p = Patient(key, **kw).coverage("Ambetter from Superior HealthPlan", "51", "Ambetter Marketplace")
    return p.prescriber(NEURO)


def ms_failures(p: Patient) -> Patient:
    p.given(DMF, "2019-01-01", "2019-12-31", kind="MedicationRequest", reason=NO_RESPONSE)
    p.given(TERIFLUNOMIDE, "2020-02-01", "2020-10-31", kind="MedicationRequest", reason=NOT_TOLERATED)
    p.given(FINGOLIMOD, "2021-01-01", "2021-03-01", kind="MedicationRequest").intolerance(FINGOLIMOD)
    return p.given(GLATIRAMER, "2021-06-01", "2025-12-31", kind="MedicationRequest", reason=NO_RESPONSE)


p = ms_failures(ms_base("lem-approve").condition("icd", "G35.A", "Relapsing-remitting multiple sclerosis"))
scenario("lem-approve", "Lemtrada: RRMS after failure of all four required DMTs, first course", p,
         p.order(LEMTRADA, LEMTRADA_FIRST), "likely-approved",
         criteria={"dx-ms": "met", "prescriber": "met", "failed-dmf": "met", "failed-teriflunomide": "met",
                   "failed-fingolimod": "met", "failed-ifn-ga": "met", "no-concurrent-dmt": "met",
                   "dose-first-course": "met", "not-ppms": "met"})

p = ms_failures(ms_base("lem-ppms").condition("icd", "G35.B1", "Active primary progressive multiple sclerosis"))
scenario("lem-ppms", "Lemtrada: primary progressive MS (excluded)", p, p.order(LEMTRADA, LEMTRADA_FIRST),
         "likely-denied", criteria={"dx-ms": "not-met", "not-ppms": "not-met"})

p = ms_base("lem-nofailreason").condition("icd", "G35.A", "Relapsing-remitting multiple sclerosis")
p.given(DMF, "2019-01-01", "2019-12-31", kind="MedicationRequest")
p.given(TERIFLUNOMIDE, "2020-02-01", "2020-10-31", kind="MedicationRequest", reason=NOT_TOLERATED)
p.given(FINGOLIMOD, "2021-01-01", "2021-03-01", kind="MedicationRequest", reason=NO_RESPONSE)
p.given(GLATIRAMER, "2021-06-01", "2025-12-31", kind="MedicationRequest", reason=NO_RESPONSE)
scenario("lem-nofailreason", "Lemtrada: dimethyl fumarate stopped with no documented reason", p,
         p.order(LEMTRADA, LEMTRADA_FIRST), "documentation-needed", criteria={"failed-dmf": "missing"})

p = ms_failures(ms_base("lem-concurrent").condition("icd", "G35.A", "Relapsing-remitting multiple sclerosis"))
p.active(OCRELIZUMAB)
scenario("lem-concurrent", "Lemtrada while ocrelizumab is still active", p, p.order(LEMTRADA, LEMTRADA_FIRST),
         "likely-denied", criteria={"no-concurrent-dmt": "not-met"})

p = ms_failures(ms_base("lem-overdose").condition("icd", "G35.A", "Relapsing-remitting multiple sclerosis"))
scenario("lem-overdose", "Lemtrada first course ordered for 7 days", p,
         p.order(LEMTRADA, dosage(12, "mg", 1, "d", days=7)), "likely-denied",
         criteria={"dose-first-course": "not-met", "dose": "not-met"})

p = ms_failures(ms_base("lem-continued").condition("icd", "G35.A", "Relapsing-remitting multiple sclerosis"))
p.given(LEMTRADA, "2025-06-02", "2025-06-06").attest(via_centene=True, responding=True)
scenario("lem-continued", "Lemtrada second course 17 months after the first", p,
         p.order(LEMTRADA, dosage(12, "mg", 1, "d", days=3)), "likely-approved", pathway="continued",
         criteria={"twelve-months": "met", "continued-dose": "met", "continued-no-concurrent-dmt": "met"})

p = ms_failures(ms_base("lem-toosoon").condition("icd", "G35.A", "Relapsing-remitting multiple sclerosis"))
p.given(LEMTRADA, "2026-06-01", "2026-06-05").attest(via_centene=True, responding=True)
scenario("lem-toosoon", "Lemtrada second course only 5 months after the first", p,
         p.order(LEMTRADA, dosage(12, "mg", 1, "d", days=3)), "likely-denied", pathway="continued",
         criteria={"twelve-months": "not-met"})

p = ms_failures(ms_base("lem-unspecified").condition("icd", "G35.D", "Multiple sclerosis, unspecified"))
scenario("lem-unspecified", "Lemtrada: MS coded without a subtype", p, p.order(LEMTRADA, LEMTRADA_FIRST),
         "documentation-needed", criteria={"dx-ms": "missing"})

p = ms_base("lem-age", birth="2010-06-02")
ms_failures(p.condition("icd", "G35.A", "Relapsing-remitting multiple sclerosis"))
scenario("lem-age", "Lemtrada: patient is 16", p, p.order(LEMTRADA, LEMTRADA_FIRST), "likely-denied",
         criteria={"age": "not-met"})

p = Patient("lem-nospec", birth="1989-06-02").coverage("Ambetter from Superior HealthPlan", "51").prescriber(None)
ms_failures(p.condition("icd", "G35.A", "Relapsing-remitting multiple sclerosis"))
scenario("lem-nospec", "Lemtrada: prescriber's specialty not on record", p, p.order(LEMTRADA, LEMTRADA_FIRST),
         "documentation-needed", criteria={"prescriber": "missing"})

p = ms_failures(Patient("lem-otherplan", birth="1989-06-02").coverage("Cigna Healthcare", "51").prescriber(NEURO))
p.condition("icd", "G35.A", "Relapsing-remitting multiple sclerosis")
scenario("lem-otherplan", "Lemtrada: non-Centene commercial plan (no card)", p, p.order(LEMTRADA, LEMTRADA_FIRST), None)


def transaction(resources: list[dict]) -> dict:
    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": f"urn:pa-advisor:{r['resourceType']}/{r['id']}", "resource": r,
         "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}} for r in resources]}


def main() -> None:
    out = HERE / "bundles"
    out.mkdir(exist_ok=True)
    for old in out.glob("*.json"):
        old.unlink()
    manifest = []
    for s in SCENARIOS:
        p: Patient = s["patient"]
        # The draft orders are part of the record too, as an EHR that saved them before signing would have.
        resources = p.resources + [s["order"]] + s["extra_orders"] if s["order"] else p.resources
        (out / f"{s['key']}.json").write_text(json.dumps(transaction(resources), indent=1) + "\n")
        manifest.append({
            "key": s["key"], "description": s["description"], "bundle": f"bundles/{s['key']}.json",
            "patientId": p.pid, "userId": p.requester, "draftOrders": [s["order"]] + s["extra_orders"],
            "expected": None if s["outcome"] is None else {
                "outcome": s["outcome"], "pathway": s["pathway"], "criteria": s["criteria"]},
        })
    (HERE / "manifest.json").write_text(json.dumps({"anchorDate": ANCHOR, "scenarios": manifest}, indent=1) + "\n")
    print(f"wrote {len(manifest)} scenarios")


if __name__ == "__main__":
    main()
