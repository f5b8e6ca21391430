"""Records as real EHRs hold them, each with the answer a payer reviewer gives from the policy text.

Never-given orders, stale active orders, order sets that are not lines, bags and infusion durations, weights,
SNOMED-only codes, affiliates, periods. `cite` names the policy item the answer rests on.
"""

from __future__ import annotations

from builder import (
    ABECMA,
    BLINCYTO,
    BORTEZOMIB,
    CARFILZOMIB,
    DARATUMUMAB,
    DMF,
    ELREXFIO,
    FINGOLIMOD,
    GLATIRAMER,
    HEMONC,
    LEMTRADA,
    LENALIDOMIDE,
    NEURO,
    NO_RESPONSE,
    NOT_TOLERATED,
    POMALIDOMIDE,
    TERIFLUNOMIDE,
    Patient,
    cc,
    dosage,
    qty,
    scenario,
)
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

DEXAMETHASONE = cc("rx", "3264", "dexamethasone")
MELPHALAN = cc("rx", "6718", "melphalan")
METHOTREXATE = cc("rx", "6851", "methotrexate")
CYTARABINE = cc("rx", "3041", "cytarabine")
CYCLOPHOSPHAMIDE = cc("rx", "3002", "cyclophosphamide")
VINCRISTINE = cc("rx", "11202", "vincristine")
INOTUZUMAB = cc("rx", "1942950", "inotuzumab ozogamicin")
KESIMPTA = cc("rx", "712566", "ofatumumab")  # as the EHR codes it: ingredient only
ALEMTUZUMAB_ONLY = cc("rx", "117055", "alemtuzumab")
MPROTEIN = ("33358-3", "Serum M-protein")


def measurable(p: Patient) -> Patient:
    return p.lab(*MPROTEIN, 1.2, "g/dL", "2026-11-05")


def weekly(start: str, n: int, drug: dict, p: Patient, every: int = 7, mg: float = 76) -> Patient:
    from datetime import date, timedelta

    d = date.fromisoformat(start)
    for i in range(n):
        p.given(drug, (d + timedelta(days=every * i)).isoformat(), dose=(mg, "mg"))
    return p


# ---- A. Treatment history: an order is not a dose given ---------------------------------------------------------
p = measurable(mm_four_lines(mm_base("elx-neverGiven")))
p.ordered(ELREXFIO, "2026-08-01", status="completed")  # written in August, never administered
scenario("elx-neverGiven", "Elrexfio: an August order that was never given does not make this continued therapy",
         p, p.order(ELREXFIO, ELREXFIO_DOSE), "likely-approved", pathway="initial", cite="I.A / II.A.1",
         criteria={"prior-lines": "met", "dose-wk1-24": "met"})

p = measurable(mm_four_lines(mm_base("elx-staleOrder")))
p.ordered(POMALIDOMIDE, "2023-10-01")  # still 'active' in the EHR, nothing given or dispensed since 2024
scenario("elx-staleOrder", "Elrexfio: a 2023 pomalidomide order still marked active is a question, not a combination",
         p, p.order(ELREXFIO, ELREXFIO_DOSE), "documentation-needed", cite="I.A.6",
         criteria={"monotherapy": "missing"})

p = measurable(mm_four_lines(mm_base("elx-dexPremed")))
p.ordered(DEXAMETHASONE, "2026-11-19")  # premedication before each dose
scenario("elx-dexPremed", "Elrexfio with dexamethasone premedication is still monotherapy", p,
         p.order(ELREXFIO, ELREXFIO_DOSE), "likely-approved", cite="I.A.6", criteria={"monotherapy": "met"})

p = measurable(mm_base("elx-orderSets"))
# Two regimens given (VRd, then KPd after progression), each signed as two order sets in the EHR.
p.line("VRd", "2023-01-01", "2023-09-30", BORTEZOMIB, LENALIDOMIDE)
p.line("KPd", "2023-11-01", "2024-10-31", CARFILZOMIB, POMALIDOMIDE)
p.line("dara", "2024-11-15", "2026-09-30", DARATUMUMAB)  # daratumumab started after KPd ended: a third line
for n, (drug, start) in enumerate([(BORTEZOMIB, "2023-01-01"), (LENALIDOMIDE, "2023-01-01"),
                                   (CARFILZOMIB, "2023-11-01"), (POMALIDOMIDE, "2023-11-01")]):
    p.add({"resourceType": "MedicationRequest", "id": f"elx-orderSets-set{n}", "status": "completed",
           "intent": "order", "subject": p.subject, "medicationCodeableConcept": drug, "authoredOn": start,
           "groupIdentifier": {"system": "urn:ehr:orderset", "value": f"set-{n}"}})
scenario("elx-orderSets", "Elrexfio: 3 lines given; 4 order sets are not 4 lines", p,
         p.order(ELREXFIO, ELREXFIO_DOSE), "documentation-needed", cite="I.A.7",
         criteria={"prior-lines": "missing", "prior-pi": "met", "prior-imid": "met", "prior-cd38": "met"})

p = abecma_base("ide-neverGiven").ordered(ABECMA, "2026-06-01", status="completed")
scenario("ide-neverGiven", "Abecma: an earlier order never infused is no prior infusion (not continued therapy); "
         "whether it was given is asked", p, p.order(ABECMA, ABECMA_DOSE), "documentation-needed", pathway="initial",
         cite="I.A.8 / II.A.1", criteria={"no-prior-cart": "missing", "no-prior-bcma": "missing"})

p = Patient("ide-dvrdMaint").coverage("Sunshine Health", "21", "Florida Medicaid").prescriber(HEMONC)
p.condition("icd", "C90.02", "Multiple myeloma in relapse", clinical="relapse")
p.lab(*MPROTEIN, 0.9, "g/dL", "2026-11-01")
# D-VRd induction, autologous transplant with melphalan conditioning, lenalidomide maintenance: ONE line
# (CP.PHAR.481 footnote), though the EHR holds it as two order sets.
p.line("D-VRd", "2022-01-10", "2022-05-20", DARATUMUMAB, BORTEZOMIB, LENALIDOMIDE)
p.given(MELPHALAN, "2022-06-14").procedure("sct", "58776007", "Autologous bone marrow transplant", "2022-06-16")
p.line("maintenance", "2022-08-01", "2026-09-30", LENALIDOMIDE)
for n, drug in enumerate([DARATUMUMAB, LENALIDOMIDE]):
    p.add({"resourceType": "MedicationRequest", "id": f"ide-dvrdMaint-set{n}", "status": "completed",
           "intent": "order", "subject": p.subject, "medicationCodeableConcept": drug,
           "authoredOn": "2022-01-10" if n == 0 else "2022-08-01",
           "groupIdentifier": {"system": "urn:ehr:orderset", "value": f"set-{n}"}})
scenario("ide-dvrdMaint", "Abecma: D-VRd induction + transplant + lenalidomide maintenance is one line, not two", p,
         p.order(ABECMA, ABECMA_DOSE), "documentation-needed", cite="I.A.5 footnote",
         criteria={"prior-lines": "missing", "prior-imid": "met", "prior-pi": "met", "prior-cd38": "met"})

p = Patient("ide-twoLinesPd").coverage("Sunshine Health", "21", "Florida Medicaid").prescriber(HEMONC)
p.condition("icd", "C90.02", "Multiple myeloma in relapse", clinical="relapse")
p.lab(*MPROTEIN, 0.9, "g/dL", "2026-11-01")
p.line("VRd", "2022-01-10", "2022-05-20", BORTEZOMIB, LENALIDOMIDE)
p.given(MELPHALAN, "2022-06-14").procedure("sct", "58776007", "Autologous bone marrow transplant", "2022-06-16")
p.line("maintenance", "2022-08-01", "2024-03-01", LENALIDOMIDE)
p.status("271299001", "Patient's condition worsened", "2024-02-20")
p.line("Dara-Pd", "2024-03-10", "2026-09-30", DARATUMUMAB, POMALIDOMIDE)
scenario("ide-twoLinesPd", "Abecma: progression on maintenance, then Dara-Pd: two lines", p,
         p.order(ABECMA, ABECMA_DOSE), "likely-approved", cite="I.A.5", criteria={"prior-lines": "met"})

p = Patient("ide-priorCartCpt").coverage("Sunshine Health", "21", "Florida Medicaid").prescriber(HEMONC)
p.condition("icd", "C90.02", "Multiple myeloma in relapse", clinical="relapse")
p.lab(*MPROTEIN, 0.9, "g/dL", "2026-11-01")
p.line("L1", "2023-01-01", "2023-12-31", BORTEZOMIB, LENALIDOMIDE).line("L2", "2024-02-01", "2026-08-31",
                                                                          DARATUMUMAB, POMALIDOMIDE)
p.procedure("cpt", "38228", "CAR-T therapy administration", "2025-03-04")
scenario("ide-priorCartCpt", "Abecma: a CAR-T infusion recorded only as a procedure (CPT 38228) is prior CAR-T", p,
         p.order(ABECMA, ABECMA_DOSE), "likely-denied", cite="I.A.8", criteria={"no-prior-cart": "not-met"})

p = ball_base("blin-itMtx").attest(cd19_positive=True)
p.ordered(METHOTREXATE, "2026-11-18", route="intrathecal")  # CNS prophylaxis, not combination therapy
scenario("blin-itMtx", "Blincyto with intrathecal methotrexate prophylaxis is still single agent", p,
         p.order(BLINCYTO, BLIN_RR_C1), "likely-approved", cite="A.ii", criteria={"single-agent": "met"})

p = ball_base("blin-cycle10").attest(cd19_positive=True, no_toxicity=True, oncology_note=True, imaging=True)
for start, end in [("2025-02-01", "2025-02-28"), ("2025-03-14", "2025-04-10"), ("2025-04-24", "2025-05-21"),
                   ("2025-06-04", "2025-07-01"), ("2025-07-15", "2025-08-11"), ("2025-10-06", "2025-11-02"),
                   ("2026-01-01", "2026-01-28"), ("2026-04-01", "2026-04-28"), ("2026-07-01", "2026-07-28")]:
    p.given(BLINCYTO, start, end)
p.status("359746009", "Patient's condition stable", "2026-11-01")
scenario("blin-cycle10", "Blincyto: 9 cycles given for relapsed ALL; a 10th exceeds the 9-cycle limit", p,
         p.order(BLINCYTO, BLIN_DOSE), "likely-denied", pathway="continued", cite="B.i / Limits.A",
         criteria={"duration": "not-met", "cycles-within-9": "not-met"})

p = Patient("blin-mrdCycle5").coverage("MMM Healthcare", "111", "MMM Medicare Advantage").prescriber(HEMONC)
p.vitals(72, 175).condition("icd", "C91.01", "Acute lymphoblastic leukemia, in remission", clinical="remission")
p.attest(cd19_positive=True, no_toxicity=True, oncology_note=True, imaging=True)
for start, end in [("2026-01-05", "2026-02-01"), ("2026-02-15", "2026-03-14"), ("2026-03-28", "2026-04-24"),
                   ("2026-05-08", "2026-06-04")]:
    p.given(BLINCYTO, start, end)
p.status("359746009", "Patient's condition stable", "2026-11-01")
scenario("blin-mrdCycle5", "Blincyto for MRD-positive ALL: 4 cycles given, a 5th exceeds 4 unless relapsed", p,
         p.order(BLINCYTO, BLIN_DOSE), "documentation-needed", pathway="continued", cite="B.i / Limits.A",
         criteria={"cycles-within-4": "not-met", "duration": "missing"})

p = ms_failures(ms_base("lem-neverGiven").condition("icd", "G35.A", "Relapsing-remitting multiple sclerosis"))
p.ordered(LEMTRADA, "2025-05-01", status="completed")  # ordered last year, never infused
scenario("lem-neverGiven", "Lemtrada: a never-given 2025 order does not make this a second course", p,
         p.order(LEMTRADA, LEMTRADA_FIRST), "likely-approved", pathway="initial", cite="I.A.6.a",
         criteria={"dose-first-course": "met"})

p = ms_failures(ms_base("lem-staleDmt").condition("icd", "G35.A", "Relapsing-remitting multiple sclerosis"))
p.ordered(TERIFLUNOMIDE, "2020-02-01")  # never closed in the EHR; stopped in 2020 for intolerance
scenario("lem-staleDmt", "Lemtrada: a 2020 teriflunomide order still 'active' asks to confirm it was stopped", p,
         p.order(LEMTRADA, LEMTRADA_FIRST), "documentation-needed", cite="I.A.5",
         criteria={"no-concurrent-dmt": "missing"})

p = mm_four_lines(mm_base("elx-stoppedLongAgo"))
weekly("2025-01-06", 20, ELREXFIO, p)  # January to May 2025, nothing since
p.status("268910001", "Patient's condition improved", "2026-11-10")
scenario("elx-stoppedLongAgo", "Elrexfio: doses ended 18 months ago: 'currently receiving' is not shown", p,
         p.order(ELREXFIO, ELREXFIO_DOSE), "documentation-needed", pathway="continued", cite="II.A.1",
         criteria={"receiving-30-days": "missing", "currently-receiving": "missing"})

# ---- B. Dosing ----------------------------------------------------------------------------------------------------
p = mm_four_lines(mm_base("elx-first76")).lab(*MPROTEIN, 1.2, "g/dL", "2026-11-05")
scenario("elx-first76", "Elrexfio: a first dose of 76 mg skips the label step-up (12 mg, 32 mg)", p,
         p.order(ELREXFIO, dosage(76, "mg", 1, "wk")), "documentation-needed", cite="I.A.8.a.i",
         criteria={"dose-wk1-24": "not-met", "dose-label": "not-met", "dose-literature": "missing"})


def elx_continued(key: str, first: str, n: int, every: int) -> Patient:
    p = mm_four_lines(mm_base(key))
    p.given(ELREXFIO, first, dose=(12, "mg"))
    weekly(first, n, ELREXFIO, p, every)
    return p.status("268910001", "Patient's condition improved", "2026-11-10")


p = elx_continued("elx-wk31q2w", "2026-04-20", 1, 7)
weekly("2026-05-04", 14, ELREXFIO, p, 14)  # responders move to every 2 weeks at week 25
scenario("elx-wk31q2w", "Elrexfio week 31, responding, 76 mg every 2 weeks as given: no increase", p,
         p.order(ELREXFIO, dosage(76, "mg", 2, "wk")), "likely-approved", pathway="continued", cite="II.A.3",
         criteria={"continued-dose": "met", "continued-regimen": "met"})

p = elx_continued("elx-wk54q4w", "2025-11-03", 1, 7)
weekly("2026-01-26", 10, ELREXFIO, p, 28)
scenario("elx-wk54q4w", "Elrexfio week 55 at the label's 76 mg every 4 weeks: continued therapy accepts it", p,
         p.order(ELREXFIO, dosage(76, "mg", 4, "wk")), "likely-approved", pathway="continued", cite="II.A.3 / V",
         criteria={"continued-label-wk49": "met", "continued-regimen": "met"})

p = elx_continued("elx-increase", "2026-04-20", 1, 7)
weekly("2026-05-04", 14, ELREXFIO, p, 14)
scenario("elx-increase", "Elrexfio week 31 back to weekly after every-2-weeks dosing is a dose increase", p,
         p.order(ELREXFIO, dosage(76, "mg", 1, "wk")), "documentation-needed", pathway="continued", cite="II.A.3",
         criteria={"continued-dose": "missing", "continued-dose-wk25-48": "not-met"})

p = ball_base("blin-bag96h").attest(cd19_positive=True, no_toxicity=True, oncology_note=True, imaging=True)
p.given(BLINCYTO, "2026-08-01", "2026-08-28").status("359746009", "Patient's condition stable", "2026-11-01")
bag = [{"text": "112 mcg over 96 hours", "doseAndRate": [{"doseQuantity": qty(112, "ug")}],
        "timing": {"repeat": {"duration": 96, "durationUnit": "h"}}}]
scenario("blin-bag96h", "Blincyto cycle 2 as 112 mcg bags over 96 h: 28 mcg/day, within the limit", p,
         p.order(BLINCYTO, bag), "likely-approved", pathway="continued", cite="Limits.A",
         criteria={"continued-dose-limit": "met"})


def child(key: str, **kw) -> Patient:
    p = Patient(key, birth="2017-05-01").coverage("MMM Healthcare", "111", "MMM Medicare Advantage").prescriber(HEMONC)
    p.condition("icd", "C91.02", "Acute lymphoblastic leukemia, in relapse", clinical="relapse")
    p.attest(cd19_positive=True, no_toxicity=True, oncology_note=True, imaging=True)
    p.given(BLINCYTO, "2026-08-01", "2026-08-28").status("359746009", "Patient's condition stable", "2026-11-01")
    return p.vitals(30, 135)  # BSA (Mosteller) = 1.06 m²: 15 mcg/m²/day is 15.9 mcg/day


p = child("blin-child28")
scenario("blin-child28", "Blincyto: a 30 kg child on the adult 28 mcg/day is above 15 mcg/m²/day", p,
         p.order(BLINCYTO, BLIN_DOSE), "likely-denied", pathway="continued", cite="Limits.A",
         criteria={"continued-dose-limit": "not-met"})

p = child("blin-childBsa")
scenario("blin-childBsa", "Blincyto: a 30 kg child on 15 mcg/m²/day is within the body-surface dose", p,
         p.order(BLINCYTO, dosage(0, "ug", rate=(15, "ug/(m2.d)"))), "likely-approved", pathway="continued",
         cite="Limits.A", criteria={"continued-dose-limit": "met"})

p = Patient("blin-noWeight").coverage("MMM Healthcare", "111", "MMM Medicare Advantage").prescriber(HEMONC)
p.condition("icd", "C91.02", "Acute lymphoblastic leukemia, in relapse", clinical="relapse").attest(cd19_positive=True)
scenario("blin-noWeight", "Blincyto: no current body weight, so the applicable dose limit is unknown", p,
         p.order(BLINCYTO, BLIN_RR_C1), "documentation-needed", cite="Limits.A", criteria={"dose-daily": "missing"})

p = ball_base("blin-rrNoStep").attest(cd19_positive=True)
scenario("blin-rrNoStep", "Blincyto: relapsed ALL, cycle 1 at 28 mcg/day from day 1 skips the 9 mcg/day week", p,
         p.order(BLINCYTO, BLIN_DOSE), "likely-denied", cite="Limits.A",
         criteria={"dose-rr-cycle1": "not-met", "dose-daily": "met"})

p = ms_failures(ms_base("lem-boundsPeriod").condition("icd", "G35.A", "Relapsing-remitting multiple sclerosis"))
course = [{"text": "12 mg IV daily x5", "doseAndRate": [{"doseQuantity": qty(12, "mg")}],
           "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d",
                                 "boundsPeriod": {"start": "2026-12-01", "end": "2026-12-05"}}}}]
scenario("lem-boundsPeriod", "Lemtrada first course 12 mg/day written with a boundsPeriod of 5 days", p,
         p.order(LEMTRADA, course), "likely-approved", cite="I.A.6.a", criteria={"dose-first-course": "met"})

p = abecma_base("ide-twoBags")
scenario("ide-twoBags", "Abecma: two infusion bags requested; the policy allows one dose only", p,
         p.order(ABECMA, ABECMA_DOSE, dispenseRequest={"quantity": {"value": 2, "unit": "bag"}}), "likely-denied",
         cite="I.A.10 / I.A (1 dose only)", criteria={"dose": "not-met"})

# ---- C. Codes, coverage and routing ---------------------------------------------------------------------------------
p = abecma_base("ide-concussion").condition("icd", "S06.0X0A", "Concussion without loss of consciousness",
                                            clinical="resolved", onset="2019-03-02")
scenario("ide-concussion", "Abecma: a resolved mild concussion is no severe brain injury", p,
         p.order(ABECMA, ABECMA_DOSE), "likely-approved", cite="I.A.6", criteria={"no-cns": "met"})

p = abecma_base("ide-strokeSnomed").condition("sct", "422504002", "Ischemic stroke", clinical="resolved",
                                              onset="2021-07-10")
scenario("ide-strokeSnomed", "Abecma: a stroke coded only in SNOMED CT is CNS pathology", p,
         p.order(ABECMA, ABECMA_DOSE), "likely-denied", cite="I.A.6 / III.B",
         criteria={"no-cns": "not-met", "cns-not-authorized": "not-met"}, covered="not-covered")

p = abecma_base("ide-lewy").condition("icd", "G31.83", "Neurocognitive disorder with Lewy bodies")
scenario("ide-lewy", "Abecma: Lewy body dementia (G31.83) is dementia", p, p.order(ABECMA, ABECMA_DOSE),
         "likely-denied", cite="I.A.6 / III.B", criteria={"no-cns": "not-met"}, covered="not-covered")

p = abecma_base("ide-cnsMyeloma").condition("icd", "C79.49",
                                            "Secondary malignant neoplasm of other parts of nervous system")
scenario("ide-cnsMyeloma", "Abecma: myeloma deposit in the nervous system (C79.49) is CNS involvement", p,
         p.order(ABECMA, ABECMA_DOSE), "likely-denied", cite="I.A.6 / III.B", criteria={"no-cns": "not-met"},
         covered="not-covered")

p = abecma_base("ide-tia").condition("icd", "Z86.73", "Personal history of TIA without residual deficits",
                                     clinical="resolved")
scenario("ide-tia", "Abecma: a past TIA without deficit: whether it is clinically relevant is the prescriber's call",
         p, p.order(ABECMA, ABECMA_DOSE), "documentation-needed", cite="I.A.6", criteria={"no-cns": "missing"})

p = abecma_base("ide-febrile", birth="1962-02-02").condition("icd", "R56.00", "Simple febrile convulsions",
                                                              clinical="resolved", onset="1964-05-01")
scenario("ide-febrile", "Abecma: a childhood febrile seizure: clinical relevance is asked, not assumed", p,
         p.order(ABECMA, ABECMA_DOSE), "documentation-needed", cite="I.A.6", criteria={"no-cns": "missing"})

p = ms_failures(ms_base("lem-kesimpta").condition("icd", "G35.A", "Relapsing-remitting multiple sclerosis"))
p.ordered(KESIMPTA, "2026-10-15")
scenario("lem-kesimpta", "Lemtrada while ofatumumab (Kesimpta) is active: not with another MS DMT", p,
         p.order(LEMTRADA, LEMTRADA_FIRST), "likely-denied", cite="I.A.5 / Appendix D",
         criteria={"no-concurrent-dmt": "not-met"})

p = ms_base("lem-allergyAe").condition("icd", "G35.A", "Relapsing-remitting multiple sclerosis")
p.given(DMF, "2019-01-01", "2019-12-31", kind="MedicationRequest", reason=NO_RESPONSE)
p.given(TERIFLUNOMIDE, "2020-02-01", "2020-10-31", kind="MedicationRequest", reason=NOT_TOLERATED)
p.given(FINGOLIMOD, "2021-01-01", "2021-03-01", kind="MedicationStatement").intolerance(FINGOLIMOD, kind=None)
p.given(GLATIRAMER, "2021-06-01", "2025-12-31", kind="MedicationRequest", reason=NO_RESPONSE)
scenario("lem-allergyAe", "Lemtrada: fingolimod's adverse effect recorded as an AllergyIntolerance (no type)", p,
         p.order(LEMTRADA, LEMTRADA_FIRST), "likely-approved", cite="I.A.4.c",
         criteria={"failed-fingolimod": "met"})

p = Patient("lem-campath", birth="1958-01-01")
p.coverage("Ambetter from Superior HealthPlan", "51", "Ambetter Marketplace")
p.prescriber(HEMONC).condition("icd", "C91.10", "Chronic lymphocytic leukemia of B-cell type not in remission")
scenario("lem-campath", "Alemtuzumab ordered by ingredient for CLL is Campath: the MS policy gives no card", p,
         p.order(ALEMTUZUMAB_ONLY, dosage(30, "mg", 3, "d"),
                 reasonCode=[cc("icd", "C91.10", "Chronic lymphocytic leukemia of B-cell type")]), None,
         cite="drug routing")

p = ms_failures(ms_base("lem-ingredientMs").condition("icd", "G35.A", "Relapsing-remitting multiple sclerosis"))
scenario("lem-ingredientMs", "Alemtuzumab ordered by ingredient for relapsing MS is judged as Lemtrada", p,
         p.order(ALEMTUZUMAB_ONLY, LEMTRADA_FIRST), "likely-approved", cite="drug routing",
         approval="12 months (1 treatment course only)")

p = ms_failures(Patient("lem-commercial", birth="1989-06-02").coverage("Health Net", "51", "Health Net Employer PPO"))
p.prescriber(NEURO).condition("icd", "G35.A", "Relapsing-remitting multiple sclerosis")
scenario("lem-commercial", "Lemtrada, commercial plan: 6 months or to the renewal date", p,
         p.order(LEMTRADA, LEMTRADA_FIRST), "likely-approved", cite="I.A approval duration",
         approval="6 months or to the member's renewal date, whichever is longer (1 treatment course only)")

p = measurable(mm_four_lines(Patient("elx-covEnded").coverage(
    "Louisiana Healthcare Connections", "21", "Louisiana Medicaid",
    period={"start": "2024-01-01", "end": "2026-06-30"})))
p.prescriber(HEMONC).condition("icd", "C90.02", "Multiple myeloma in relapse", clinical="relapse")
scenario("elx-covEnded", "Elrexfio: the only Coverage ended in June: no card", p, p.order(ELREXFIO, ELREXFIO_DOSE),
         None, cite="Coverage.period")

p = abecma_base("ide-buckeye")
p.resources = [r for r in p.resources if r["resourceType"] not in ("Coverage", "Organization")]
p.coverage("Buckeye Health Plan", "21", "Ohio Medicaid")
scenario("ide-buckeye", "Abecma: Buckeye Health Plan (a Centene plan) Medicaid member gets the Centene policy", p,
         p.order(ABECMA, ABECMA_DOSE), "likely-approved", cite="CP.PHAR.481 line of business")

p = abecma_base("ide-wellcareNoLob")
p.resources = [r for r in p.resources if r["resourceType"] not in ("Coverage", "Organization")]
p.coverage("WellCare", None, "WellCare Value Plan")
scenario("ide-wellcareNoLob", "Abecma: a WellCare plan whose line of business cannot be read: no card", p,
         p.order(ABECMA, ABECMA_DOSE), None, cite="CP.PHAR.481 line of business")

p = measurable(mm_four_lines(mm_base("elx-deceased"))).deceased("2026-11-18")
scenario("elx-deceased", "Elrexfio: the record shows the patient died two days ago: never likely approved", p,
         p.order(ELREXFIO, ELREXFIO_DOSE), "likely-denied", cite="member eligibility")

# ---- D. Outcomes and what the coverage-information says -------------------------------------------------------------
p = Patient("blin-mrd").coverage("MMM Healthcare", "111", "MMM Medicare Advantage").prescriber(HEMONC).vitals(70, 170)
p.condition("icd", "C91.01", "Acute lymphoblastic leukemia, in remission", clinical="remission")
p.attest(cd19_positive=True, mrd_level=0.4, mrd_cr1_cr2=True)  # MRD 0.4 % by flow, in first remission
scenario("blin-mrd", "Blincyto for MRD 0.4 % in first remission (no standard MRD code): the MRD pathway", p,
         p.order(BLINCYTO, BLIN_DOSE), "likely-approved", cite="A.iii.B",
         criteria={"mrd-level": "met", "mrd": "met", "rr": "missing"})

p = ball_base("blin-hyperCvd").attest(cd19_positive=True)
for drug in (CYCLOPHOSPHAMIDE, VINCRISTINE, DEXAMETHASONE, INOTUZUMAB):
    p.given(drug, "2026-10-05")  # course A
for drug in (METHOTREXATE, CYTARABINE):
    p.given(drug, "2026-10-30")  # course B
scenario("blin-hyperCvd", "Blincyto with mini-hyper-CVD + inotuzumab, courses A and B alternating", p,
         p.order(BLINCYTO, BLIN_RR_C1), "likely-approved", cite="A.viii", criteria={"with-hypercvd": "met"},
         extra_orders=[p.order(CYTARABINE, dosage(100, "mg", 1, "d"), key="cytarabine")])

p = Patient("elx-amyloid").coverage("Louisiana Healthcare Connections", "21", "Louisiana Medicaid").prescriber(HEMONC)
p.condition("icd", "E85.81", "Light chain (AL) amyloidosis")
scenario("elx-amyloid", "Elrexfio ordered for AL amyloidosis: reviewed under the off-label policy LA.PMN.53", p,
         p.order(ELREXFIO, ELREXFIO_DOSE, reasonCode=[cc("icd", "E85.81", "Light chain (AL) amyloidosis")]),
         "likely-denied", cite="I.B.2", criteria={"dx-mm": "not-met"})
