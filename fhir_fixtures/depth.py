"""Clinical depth: treatment episodes, schedules across orders, dates, code lists and the FHIR shapes real EHRs
send. Each record is written from the policy text the way a payer reviewer reads it; `cite` names the item.
"""

from __future__ import annotations

from typing import Any

from builder import (
    ABECMA,
    BLINCYTO,
    BORTEZOMIB,
    CARFILZOMIB,
    DARATUMUMAB,
    ELREXFIO,
    FINGOLIMOD,
    HEMONC,
    IXAZOMIB,
    LEMTRADA,
    LENALIDOMIDE,
    OCRELIZUMAB,
    POMALIDOMIDE,
    SYS,
    Patient,
    cc,
    dosage,
    qty,
    scenario,
    step,
)
from messy import CYCLOPHOSPHAMIDE, MELPHALAN
from seed import (
    ABECMA_DOSE,
    BLIN_DOSE,
    BLIN_RR_C1,
    ELREXFIO_DOSE,
    LEMTRADA_FIRST,
    abecma_base,
    ball_base,
    mm_base,
    mm_four_lines,
    ms_base,
    ms_failures,
)

APPROVED, DENIED, DOCS = "likely-approved", "likely-denied", "documentation-needed"
CLADRIBINE = cc("rx", "44157", "cladribine")
ASCT = ("sct", "58776007", "Autologous bone marrow transplant")
HSCT = ("sct", "234336002", "Hemopoietic stem cell transplant")
WORSENED = ("271299001", "Patient's condition worsened")
IMPROVED = ("268910001", "Patient's condition improved")


def elx(key: str, **kw: Any) -> Patient:
    """Elrexfio candidate with four lines given; no measurable-disease result unless a scenario adds one."""
    return mm_four_lines(mm_base(key, **kw))


def ide(key: str) -> Patient:
    """Abecma candidate (Sunshine Health Medicaid) with no lines yet and a serum M-protein of 0.9 g/dL."""
    p = Patient(key).coverage("Sunshine Health", "21", "Florida Medicaid").prescriber(HEMONC)
    p.condition("icd", "C90.02", "Multiple myeloma in relapse", clinical="relapse")
    return p.lab("33358-3", "Serum M-protein", 0.9, "g/dL", "2026-11-01")


def lem(key: str) -> Patient:
    return ms_failures(ms_base(key).condition("icd", "G35.A", "Relapsing-remitting multiple sclerosis"))


def panel(p: Patient, code: tuple[str, str], when: str, *components: dict, **extra: Any) -> Patient:
    """One Observation panel whose results are its `component`s (as many EHRs file an SPEP or FLC panel)."""
    p.add({"resourceType": "Observation", "id": p._id("panel"), "status": "final", "subject": p.subject,
           "code": cc("loinc", *code), "effectiveDateTime": when, "component": list(components), **extra})
    return p


def component(code: str, display: str, value: float | None, unit: str, **extra: Any) -> dict:
    out: dict[str, Any] = {"code": cc("loinc", code, display), **extra}
    if value is not None:
        out["valueQuantity"] = qty(value, unit)
    return out


def flag(code: str) -> list[dict]:
    return [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                         "code": code}]}]


def ingredient_only(p: Patient, drug: dict, contained: bool = True) -> dict:
    """A Medication with no code of its own, only its ingredient: contained in the resource, or in the record."""
    med = {"resourceType": "Medication", "id": f"{p.key}-ing{p.n}",
           "ingredient": [{"itemCodeableConcept": drug, "isActive": True}]}
    if contained:
        return {"contained": [med], "medicationReference": {"reference": f"#{med['id']}"}}
    p.add(med)
    return {"medicationReference": {"reference": f"Medication/{med['id']}"}}


def given_by_ref(p: Patient, drug: dict, start: str, end: str, contained: bool = True) -> Patient:
    res = {"resourceType": "MedicationStatement", "id": p._id("med"), "status": "completed", "subject": p.subject,
           "effectivePeriod": {"start": start, "end": end}, **ingredient_only(p, drug, contained)}
    p.add(res)
    return p


# ---- A. FHIR shapes ------------------------------------------------------------------------------------------------
SPEP = ("51435-6", "Protein electrophoresis panel - Serum or Plasma")
FLC_PANEL = ("72048-2", "Kappa and lambda free light chain panel - Serum")
MPROT = ("33358-3", "Protein.monoclonal [Mass/volume] in Serum or Plasma by Electrophoresis")

p = panel(elx("elx-spepPanel"), SPEP, "2026-11-05", component("2885-2", "Protein total", 7.1, "g/dL"),
          component(*MPROT, 1.2, "g/dL"))
scenario("elx-spepPanel", "Elrexfio: the serum M-protein is a component of the SPEP panel (1.2 g/dL)", p,
         p.order(ELREXFIO, ELREXFIO_DOSE), APPROVED, cite="I.A.5.a.i", criteria={"serum-mprotein": "met"})

p = panel(elx("elx-spepPanelLow"), SPEP, "2026-11-05", component(*MPROT, 0.3, "g/dL"))
scenario("elx-spepPanelLow", "Elrexfio: SPEP panel with an M-protein of 0.3 g/dL: serum criterion not met", p,
         p.order(ELREXFIO, ELREXFIO_DOSE), DOCS, cite="I.A.5.a.i", criteria={"serum-mprotein": "not-met"})

p = elx("elx-mproteinBelow").lab(*MPROT, 0.5, "g/dL", "2026-11-05",
                                 valueQuantity={**qty(0.5, "g/dL"), "comparator": "<"})
scenario("elx-mproteinBelow", "Elrexfio: M-protein reported as '<0.5 g/dL' never meets ≥ 0.5 g/dL", p,
         p.order(ELREXFIO, ELREXFIO_DOSE), DOCS, cite="I.A.5.a.i", criteria={"serum-mprotein": "not-met"})

p = elx("elx-mproteinAbove").lab(*MPROT, 2.0, "g/dL", "2026-11-05",
                                 valueQuantity={**qty(2.0, "g/dL"), "comparator": ">"})
scenario("elx-mproteinAbove", "Elrexfio: M-protein reported as '>2.0 g/dL' meets ≥ 0.5 g/dL", p,
         p.order(ELREXFIO, ELREXFIO_DOSE), APPROVED, cite="I.A.5.a.i", criteria={"serum-mprotein": "met"})

p = elx("elx-urineBelowBound").lab("42482-0", "Urine M-protein 24h", 300, "mg/(24.h)", "2026-11-05",
                                   valueQuantity={**qty(300, "mg/(24.h)"), "comparator": "<"})
scenario("elx-urineBelowBound", "Elrexfio: urine M-protein '<300 mg/24 h' cannot show ≥ 200 mg/24 h: asked", p,
         p.order(ELREXFIO, ELREXFIO_DOSE), DOCS, cite="I.A.5.a.ii", criteria={"urine-mprotein": "missing"})

p = panel(elx("elx-flcPanel"), FLC_PANEL, "2026-11-05", component("36916-5", "Kappa free light chains", 45, "mg/dL"),
          component("33944-0", "Lambda free light chains", 1.5, "mg/dL"),
          component("48378-4", "Kappa/Lambda ratio", 30, "{ratio}"))
scenario("elx-flcPanel", "Elrexfio: κ, λ and ratio as components of one FLC panel (κ 45 mg/dL, ratio 30)", p,
         p.order(ELREXFIO, ELREXFIO_DOSE), APPROVED, cite="I.A.5.a.iii", criteria={"flc": "met"})

p = elx("elx-flcFlagOnly").lab("36916-5", "Kappa free light chains", 45, "mg/dL", "2026-11-05")
p.lab("33944-0", "Lambda free light chains", 1.5, "mg/dL", "2026-11-05")
p.lab("48378-4", "Kappa/Lambda ratio", 0, "{ratio}", "2026-11-05", interpretation=flag("H"))
p.resources[-1].pop("valueQuantity")
scenario("elx-flcFlagOnly", "Elrexfio: the FLC ratio has no number, only the lab's 'H' flag; κ 45 mg/dL", p,
         p.order(ELREXFIO, ELREXFIO_DOSE), APPROVED, cite="I.A.5.a.iii", criteria={"flc": "met"})

p = elx("elx-flcFlagNormal").lab("36916-5", "Kappa free light chains", 45, "mg/dL", "2026-11-05")
p.lab("48378-4", "Kappa/Lambda ratio", 0, "{ratio}", "2026-11-05", interpretation=flag("N"))
p.resources[-1].pop("valueQuantity")
scenario("elx-flcFlagNormal", "Elrexfio: the FLC ratio flagged normal ('N', no number): the FLC route is not met", p,
         p.order(ELREXFIO, ELREXFIO_DOSE), DOCS, cite="I.A.5.a.iii", criteria={"flc": "not-met"})

p = ide("ide-ingredientContained")
given_by_ref(p, BORTEZOMIB, "2023-01-01", "2023-12-31")
given_by_ref(p, LENALIDOMIDE, "2023-01-01", "2023-12-31")
p.line("L2", "2024-02-01", "2026-08-31", DARATUMUMAB, POMALIDOMIDE)
scenario("ide-ingredientContained", "Abecma: line 1 recorded with contained Medications coded only by ingredient", p,
         p.order(ABECMA, ABECMA_DOSE), APPROVED, cite="I.A.5 / I.A.7",
         criteria={"prior-pi": "met", "prior-lines": "met"})

p = ide("ide-ingredientReferenced")
given_by_ref(p, BORTEZOMIB, "2023-01-01", "2023-12-31", contained=False)
given_by_ref(p, LENALIDOMIDE, "2023-01-01", "2023-12-31", contained=False)
p.line("L2", "2024-02-01", "2026-08-31", DARATUMUMAB, POMALIDOMIDE)
scenario("ide-ingredientReferenced", "Abecma: line 1 recorded with referenced Medications coded only by ingredient",
         p, p.order(ABECMA, ABECMA_DOSE), APPROVED, cite="I.A.5 / I.A.7",
         criteria={"prior-pi": "met", "prior-lines": "met"})

p = abecma_base("ide-orderByIngredient")
draft = p.order(ABECMA, ABECMA_DOSE)
draft.pop("medicationCodeableConcept")
draft.update(ingredient_only(p, cc("rx", "2536430", "idecabtagene vicleucel")))
scenario("ide-orderByIngredient", "Abecma: the draft order names a contained Medication coded only by ingredient", p,
         draft, APPROVED, cite="I.A")

p = ide("ide-reportedLine")
p.line("L1", "2023-01-01", "2023-12-31", BORTEZOMIB, LENALIDOMIDE)
for drug in (DARATUMUMAB, POMALIDOMIDE):  # US Core: a medication the patient takes, reported by another provider
    p.add({"resourceType": "MedicationRequest", "id": p._id("med"), "status": "completed", "intent": "plan",
           "subject": p.subject, "medicationCodeableConcept": drug, "authoredOn": "2024-02-01",
           "reportedReference": {"display": "Outside oncology clinic"},
           "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": {"start": "2024-02-01",
                                                                          "end": "2026-08-31"}}}}]})
scenario("ide-reportedLine", "Abecma: line 2 known only from reported medications (reportedReference)", p,
         p.order(ABECMA, ABECMA_DOSE), APPROVED, cite="I.A.5", criteria={"prior-cd38": "met", "prior-lines": "met"})

p = ide("ide-statementByPatient").line("L1", "2023-01-01", "2023-12-31", BORTEZOMIB, LENALIDOMIDE)
for drug in (DARATUMUMAB, POMALIDOMIDE):
    p.add({"resourceType": "MedicationStatement", "id": p._id("med"), "status": "completed", "subject": p.subject,
           "medicationCodeableConcept": drug, "effectivePeriod": {"start": "2024-02-01", "end": "2026-08-31"},
           "informationSource": {"reference": f"Patient/{p.pid}"}})
scenario("ide-statementByPatient", "Abecma: line 2 stated by the patient (informationSource) still counts", p,
         p.order(ABECMA, ABECMA_DOSE), APPROVED, cite="I.A.5", criteria={"prior-lines": "met"})

p = abecma_base("ide-payorIdentifier")
cov = next(r for r in p.resources if r["resourceType"] == "Coverage")
cov["payor"] = [{"identifier": {"system": "urn:oid:2.16.840.1.113883.3.221.5", "value": "68069"}}]
cov["class"][0]["name"] = "Sunshine Health Florida Medicaid"
scenario("ide-payorIdentifier", "Abecma: Coverage.payor only an identifier, the plan named in Coverage.class", p,
         p.order(ABECMA, ABECMA_DOSE), APPROVED, cite="I (Centene-affiliated plan)")

p = lem("lem-statementActive")
p.add({"resourceType": "MedicationStatement", "id": p._id("med"), "status": "active", "subject": p.subject,
       "medicationCodeableConcept": FINGOLIMOD, "effectiveDateTime": "2025-06-01"})
scenario("lem-statementActive", "Lemtrada: an active statement that the patient takes fingolimod is current therapy",
         p, p.order(LEMTRADA, LEMTRADA_FIRST), DENIED, cite="I.A.5", criteria={"no-concurrent-dmt": "not-met"})

# ---- B. Treatment episodes: lines of therapy (IMWG; CP.PHAR.481 footnote) ------------------------------------------
p = ide("ide-asctNewMaint")
p.line("VRd", "2022-01-10", "2022-05-20", BORTEZOMIB, LENALIDOMIDE)
p.given(MELPHALAN, "2022-06-14").procedure(*ASCT, "2022-06-16")
p.line("ixazomib maintenance", "2022-11-15", "2026-09-30", IXAZOMIB)  # 152 days after the transplant
scenario("ide-asctNewMaint", "Abecma: VRd, transplant, then ixazomib maintenance 5 months later is ONE line", p,
         p.order(ABECMA, ABECMA_DOSE), DOCS, cite="I.A.5 footnote (IMWG)", criteria={"prior-lines": "missing"})

p = ide("ide-mobilisation")
p.line("VRd", "2022-01-10", "2022-04-30", BORTEZOMIB, LENALIDOMIDE)
p.given(CYCLOPHOSPHAMIDE, "2022-05-01")  # stem cell mobilisation
p.given(MELPHALAN, "2022-06-08").procedure(*ASCT, "2022-06-10")
p.line("maintenance", "2022-07-20", "2026-09-30", LENALIDOMIDE)
scenario("ide-mobilisation", "Abecma: VRd, cyclophosphamide mobilisation, transplant, maintenance: one line", p,
         p.order(ABECMA, ABECMA_DOSE), DOCS, cite="I.A.5 footnote", criteria={"prior-lines": "missing"})

p = ide("ide-tandem")
p.line("VRd", "2022-01-10", "2022-05-20", BORTEZOMIB, LENALIDOMIDE)
p.procedure(*ASCT, "2022-06-16").procedure(*ASCT, "2022-10-20")
p.line("maintenance", "2023-01-10", "2026-09-30", DARATUMUMAB)
scenario("ide-tandem", "Abecma: induction, tandem transplant, daratumumab maintenance: one line", p,
         p.order(ABECMA, ABECMA_DOSE), DOCS, cite="I.A.5 footnote", criteria={"prior-lines": "missing"})

p = ide("ide-asctProgressed")
p.line("VRd", "2022-01-10", "2022-05-20", BORTEZOMIB, LENALIDOMIDE)
p.procedure(*ASCT, "2022-06-16").status(*WORSENED, "2022-09-01")
p.line("Dara-Pd", "2022-10-01", "2026-09-30", DARATUMUMAB, POMALIDOMIDE)
scenario("ide-asctProgressed", "Abecma: progression after the transplant, then Dara-Pd: two lines", p,
         p.order(ABECMA, ABECMA_DOSE), APPROVED, cite="I.A.5", criteria={"prior-lines": "met"})

p = mm_base("elx-asctMaint").lab(*MPROT, 1.2, "g/dL", "2026-11-05")
p.line("VRd", "2020-01-10", "2020-05-20", BORTEZOMIB, LENALIDOMIDE)
p.procedure(*ASCT, "2020-06-16")
p.line("maintenance", "2020-10-01", "2022-01-31", IXAZOMIB)  # 107 days after the transplant
p.status(*WORSENED, "2022-01-20")
p.line("KPd", "2022-02-15", "2023-08-31", CARFILZOMIB, POMALIDOMIDE)
p.status(*WORSENED, "2023-08-20")
p.line("Dara", "2023-09-15", "2026-09-30", DARATUMUMAB)
scenario("elx-asctMaint", "Elrexfio: VRd + transplant + maintenance, then KPd, then daratumumab: 3 lines, not 4",
         p, p.order(ELREXFIO, ELREXFIO_DOSE), DOCS, cite="I.A.7", criteria={"prior-lines": "missing"})

# ---- C. Re-treatment is a new course; old orders after progression; long-interval drugs ---------------------------
p = ball_base("blin-retreat").attest(cd19_positive=True)
p.given(BLINCYTO, "2023-01-05", "2023-02-01").given(BLINCYTO, "2023-03-15", "2023-04-11")
p.status(*IMPROVED, "2023-05-01").status(*WORSENED, "2026-11-01")
scenario("blin-retreat", "Blincyto: two cycles in 2023, remission, relapse in 2026: a new initial request", p,
         p.order(BLINCYTO, BLIN_RR_C1), APPROVED, cite="A / B.i (current regimen)", pathway="initial")

p = ball_base("blin-afterTransplant").attest(cd19_positive=True)
p.given(BLINCYTO, "2025-09-01", "2025-09-28").procedure(*HSCT, "2025-12-01")
scenario("blin-afterTransplant", "Blincyto: a cycle before an allogeneic transplant, relapse after it: a new course",
         p, p.order(BLINCYTO, BLIN_RR_C1), APPROVED, cite="A / B.i", pathway="initial")

p = ball_base("blin-progressedOnCourse").attest(no_toxicity=True, oncology_note=True, imaging=True, cd19_positive=True)
p.given(BLINCYTO, "2026-09-01", "2026-09-28").status(*WORSENED, "2026-10-20")
scenario("blin-progressedOnCourse", "Blincyto: progression three weeks after cycle 1: progression on the current "
         "regimen, continuation denied", p, p.order(BLINCYTO, BLIN_DOSE), DENIED, cite="B.i", pathway="continued",
         criteria={"no-progression": "not-met"})

p = elx("elx-orderProgressed").lab(*MPROT, 1.2, "g/dL", "2026-11-05")
p.ordered(CARFILZOMIB, "2026-09-01").status(*WORSENED, "2026-10-15")
scenario("elx-orderProgressed", "Elrexfio: a carfilzomib order followed by recorded progression is asked about, "
         "not current therapy", p, p.order(ELREXFIO, ELREXFIO_DOSE), DOCS, cite="I.A.6",
         criteria={"monotherapy": "missing"})

p = lem("lem-ocrelizumab150d").given(OCRELIZUMAB, "2026-06-23")
scenario("lem-ocrelizumab150d", "Lemtrada: an ocrelizumab infusion 150 days ago (dosed every 6 months) is current",
         p, p.order(LEMTRADA, LEMTRADA_FIRST), DENIED, cite="I.A.5", criteria={"no-concurrent-dmt": "not-met"})

p = lem("lem-ocrelizumabOrder").ordered(OCRELIZUMAB, "2025-12-01").given(OCRELIZUMAB, "2026-05-04")
scenario("lem-ocrelizumabOrder", "Lemtrada: an active ocrelizumab order, last infusion 200 days ago: still current",
         p, p.order(LEMTRADA, LEMTRADA_FIRST), DENIED, cite="I.A.5", criteria={"no-concurrent-dmt": "not-met"})

p = lem("lem-ocrelizumabOld").ordered(OCRELIZUMAB, "2025-01-01").given(OCRELIZUMAB, "2026-02-01")
scenario("lem-ocrelizumabOld", "Lemtrada: last ocrelizumab 292 days ago, order still active: asked, not current",
         p, p.order(LEMTRADA, LEMTRADA_FIRST), DOCS, cite="I.A.5", criteria={"no-concurrent-dmt": "missing"})

p = lem("lem-cladribine").given(CLADRIBINE, "2026-02-02", "2026-02-06")
scenario("lem-cladribine", "Lemtrada: a cladribine course in February (yearly courses) is current therapy", p,
         p.order(LEMTRADA, LEMTRADA_FIRST), DENIED, cite="I.A.5", criteria={"no-concurrent-dmt": "not-met"})

# ---- D. Schedules across several draft orders and days --------------------------------------------------------------
STEP12 = [step(12, "mg", 1, "2026-11-23")]
STEP32 = [step(32, "mg", 1, "2026-11-26")]
STEP76 = [step(76, "mg", 1, "2026-11-30", "2027-05-10", every=1)]


def split(key: str, mine: list[dict], others: list[list[dict]], outcome: str, status: str, text: str) -> None:
    p = elx(key).lab(*MPROT, 1.2, "g/dL", "2026-11-05")
    extra = [p.order(ELREXFIO, d, key=f"order{i + 2}") for i, d in enumerate(others)]
    scenario(key, text, p, p.order(ELREXFIO, mine), outcome, extra_orders=extra, cite="I.A.8.a.i",
             criteria={"dose-wk1-24": status})


split("elx-split12", STEP12, [STEP32, STEP76], APPROVED, "met",
      "Elrexfio step-up signed as three orders (12 / 32 / 76 mg on days 1 / 4 / 8): the 12 mg order")
split("elx-split32", STEP32, [STEP12, STEP76], APPROVED, "met",
      "Elrexfio step-up signed as three orders (12 / 32 / 76 mg on days 1 / 4 / 8): the 32 mg order")
split("elx-split76", STEP76, [STEP12, STEP32], APPROVED, "met",
      "Elrexfio step-up signed as three orders (12 / 32 / 76 mg on days 1 / 4 / 8): the 76 mg order")
split("elx-split32early", [step(32, "mg", 1, "2026-11-24")], [STEP12, [step(76, "mg", 1, "2026-11-25", "2027-05-10",
                                                                          every=1)]], DOCS, "not-met",
      "Elrexfio step-up as three orders on days 1 / 2 / 3: the 32 mg order comes a day after the 12 mg")
split("elx-splitNoDates", [dict(step(32, "mg", 1, "2026-11-26"), timing={"repeat": {"count": 1}})],
      [[dict(step(12, "mg", 1, "2026-11-23"), timing={"repeat": {"count": 1}})]], DOCS, "missing",
      "Elrexfio step-up as two orders with no start dates: which comes first cannot be told")

p = elx("elx-stepDays123").lab(*MPROT, 1.2, "g/dL", "2026-11-05")
scenario("elx-stepDays123", "Elrexfio step-up in one order on days 1 / 2 / 3 (label: days 1 / 4 / 8)", p,
         p.order(ELREXFIO, [step(12, "mg", 1, "2026-11-23"), step(32, "mg", 2, "2026-11-24"),
                            step(76, "mg", 3, "2026-11-25", "2027-05-10", every=1)]),
         DOCS, cite="I.A.8.a.i", criteria={"dose-wk1-24": "not-met"})

p = ball_base("blin-56days").attest(cd19_positive=True)
scenario("blin-56days", "Blincyto: one order for 56 days of infusion is two cycles (a cycle is 28 days)", p,
         p.order(BLINCYTO, [step(0, "ug", 1, "2026-11-23", "2026-11-29", rate=(9, "ug/d")),
                            step(0, "ug", 2, "2026-11-30", "2027-01-17", rate=(28, "ug/d"))]),
         DENIED, cite="Limits.A", criteria={"dose-daily": "not-met"})

p = Patient("blin-mrdNoStep").coverage("MMM Healthcare", "111", "MMM Medicare Advantage").prescriber(HEMONC)
p.vitals(70, 170).condition("icd", "C91.00", "Acute lymphoblastic leukemia not having achieved remission")
p.attest(cd19_positive=True, mrd_level=0.4, mrd_cr1_cr2=True)
scenario("blin-mrdNoStep", "Blincyto for MRD 0.4 % in first remission: 28 mcg/day from day 1, no step-up asked", p,
         p.order(BLINCYTO, BLIN_DOSE), APPROVED, cite="A.iii.B / Limits.A",
         criteria={"mrd": "met", "dose-rr-cycle1": "met"})

# ---- E. Dates -------------------------------------------------------------------------------------------------------
p = elx("elx-diedAfterOrder").lab(*MPROT, 1.2, "g/dL", "2026-11-05").deceased("2026-11-19")
scenario("elx-diedAfterOrder", "Elrexfio: order dated 2026-11-18, death recorded 2026-11-19, the call on 2026-11-20",
         p, p.order(ELREXFIO, ELREXFIO_DOSE, authoredOn="2026-11-18"), DENIED, cite="(member eligibility)",
         criteria={"deceased": "not-met"})

p = Patient("blin-infantAtDx", birth="2025-09-01").coverage("MMM Healthcare", "111", "MMM Medicare Advantage")
p.prescriber(HEMONC).vitals(9, 72)
p.condition("icd", "C91.00", "Acute lymphoblastic leukemia not having achieved remission", onset="2026-07-15")
p.attest(cd19_positive=True, interfant_regimen=True)
scenario("blin-infantAtDx", "Blincyto with Interfant: diagnosed at 10 months, ordered at 14 months: infant ALL", p,
         p.order(BLINCYTO, [step(0, "ug", 1, "2026-11-23", "2026-11-29", rate=(5, "ug/(m2.d)")),
                            step(0, "ug", 2, "2026-11-30", "2026-12-20", rate=(15, "ug/(m2.d)"))]),
         APPROVED, cite="A.xii", criteria={"interfant-infant": "met"})

# ---- F. Code lists and units of order -------------------------------------------------------------------------------
p = abecma_base("ide-priorLynozyfic")
p.given({"text": "Lynozyfic 200 mg IV"}, "2025-03-01")
scenario("ide-priorLynozyfic", "Abecma after linvoseltamab (Lynozyfic, named only in text): prior anti-BCMA", p,
         p.order(ABECMA, ABECMA_DOSE), DENIED, cite="I.A.8", criteria={"no-prior-bcma": "not-met"})

p = abecma_base("ide-f06").condition("icd", "F06.70", "Mild neurocognitive disorder due to known physiological "
                                     "condition without behavioral disturbance")
scenario("ide-f06", "Abecma: a mental disorder due to a physiological condition (F06.x) is asked, not decisive", p,
         p.order(ABECMA, ABECMA_DOSE), DOCS, cite="I.A.6", criteria={"no-cns": "missing"})

p = abecma_base("ide-cartCentral").procedure("pcs", "XW043C7", "Introduction of autologous engineered CAR T-cell "
                                             "immunotherapy into central vein", "2025-04-10")
scenario("ide-cartCentral", "Abecma after a CAR-T infusion into a central vein (XW043C7): prior CAR-T", p,
         p.order(ABECMA, ABECMA_DOSE), DENIED, cite="I.A.8", criteria={"no-prior-cart": "not-met"})

p = ms_failures(ms_base("lem-spmsNonActive").condition("icd", "G35.C2", "Non-active secondary progressive MS"))
scenario("lem-spmsNonActive", "Lemtrada for non-active SPMS (the label says active SPMS): asked", p,
         p.order(LEMTRADA, LEMTRADA_FIRST), DOCS, cite="I.A.1", criteria={"dx-ms": "missing"})

p = abecma_base("ide-q2055x1")
scenario("ide-q2055x1", "Abecma ordered as HCPCS Q2055 × 1 (one billing unit: up to 510 million cells)", p,
         p.order(ABECMA, [{"text": "1 unit", "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "each"}}],
                           "timing": {"repeat": {"count": 1}}}],
                 dispenseRequest={"quantity": {"value": 1, "unit": "each"}}),
         APPROVED, cite="I.A.10", criteria={"dose": "met"})

p = abecma_base("ide-q2055x2")
scenario("ide-q2055x2", "Abecma ordered as Q2055 × 2: two infusions exceed the one-time dose", p,
         p.order(ABECMA, None, dispenseRequest={"quantity": {"value": 2, "unit": "each"}}),
         DENIED, cite="I.A.10", criteria={"dose": "not-met"})

# SYS is re-exported for scenario authors writing codings by hand.
__all__ = ["SYS", "dosage"]
