"""A record just inside and one just outside every number the policy texts set (tests/policy/pinned.py), each
with the reviewer's answer. The order date is 2026-11-20 throughout.
"""

from __future__ import annotations

from builder import (
    ABECMA,
    BLINCYTO,
    BORTEZOMIB,
    CARFILZOMIB,
    CARVYKTI,
    DARATUMUMAB,
    ELREXFIO,
    FINGOLIMOD,
    HEMONC,
    IXAZOMIB,
    LEMTRADA,
    LENALIDOMIDE,
    POMALIDOMIDE,
    Patient,
    dosage,
    scenario,
    step,
)
from seed import (
    ABECMA_DOSE,
    BLIN_DOSE,
    ELREXFIO_DOSE,
    ELREXFIO_WEEKLY,
    LEMTRADA_FIRST,
    abecma_base,
    ball_base,
    mm_base,
    mm_four_lines,
    ms_base,
    ms_failures,
)

APPROVED, DENIED, DOCS = "likely-approved", "likely-denied", "documentation-needed"


def pin(pin_id: str, side: str, key: str, description: str, p: Patient, order: dict, outcome: str, cite: str,
        criteria: dict[str, str], pathway: str = "initial") -> None:
    scenario(key, description, p, order, outcome, pathway=pathway, criteria=criteria, cite=cite,
             boundary=(pin_id, side))


def elx(key: str, lab: tuple | None = ("33358-3", "Serum M-protein", 1.2, "g/dL", "2026-11-05"), **kw) -> Patient:
    p = mm_four_lines(mm_base(key, **kw))
    return p.lab(*lab) if lab else p


def elx_steps(first: float = 12, second: float = 32, then: float = 76) -> list[dict]:
    return [step(first, "mg", 1, "2026-11-23"), step(second, "mg", 2, "2026-11-26"),
            step(then, "mg", 3, "2026-11-30", "2027-05-10", every=1)]


# ---- LA.PHAR.652 ------------------------------------------------------------------------------------------------
p = elx("elx-age18", birth="2008-11-20")
pin("elx-age", "inside", "elx-age18", "Elrexfio: 18th birthday on the order date", p, p.order(ELREXFIO, ELREXFIO_DOSE),
    APPROVED, "I.A.3", {"age": "met"})
p = elx("elx-age17", birth="2008-11-21")
pin("elx-age", "outside", "elx-age17", "Elrexfio: 18 tomorrow, 17 on the order date", p,
    p.order(ELREXFIO, ELREXFIO_DOSE), DENIED, "I.A.3", {"age": "not-met"})

p = elx("elx-mp050", ("33358-3", "Serum M-protein", 5, "g/L", "2026-11-05"))
pin("elx-mprotein", "inside", "elx-mp050", "Elrexfio: serum M-protein 5 g/L (= 0.5 g/dL, the threshold)", p,
    p.order(ELREXFIO, ELREXFIO_DOSE), APPROVED, "I.A.5.a.i", {"serum-mprotein": "met"})
p = elx("elx-mp049", ("33358-3", "Serum M-protein", 0.49, "g/dL", "2026-11-05"))
pin("elx-mprotein", "outside", "elx-mp049", "Elrexfio: serum M-protein 0.49 g/dL, just under 0.5", p,
    p.order(ELREXFIO, ELREXFIO_DOSE), DOCS, "I.A.5.a.i", {"serum-mprotein": "not-met", "measurable": "missing"})

p = elx("elx-lab30d", ("33358-3", "Serum M-protein", 1.2, "g/dL", "2026-10-21T23:30:00-05:00"))
pin("elx-lookback", "inside", "elx-lab30d", "Elrexfio: M-protein drawn 30 days before (late evening, UTC-5)", p,
    p.order(ELREXFIO, ELREXFIO_DOSE), APPROVED, "I.A.5.a", {"serum-mprotein": "met"})
p = elx("elx-lab31d", ("33358-3", "Serum M-protein", 1.2, "g/dL", "2026-10-20T08:00:00-05:00"))
pin("elx-lookback", "outside", "elx-lab31d", "Elrexfio: M-protein drawn 31 days before", p,
    p.order(ELREXFIO, ELREXFIO_DOSE), DOCS, "I.A.5.a", {"serum-mprotein": "missing"})

p = elx("elx-urine200", ("42482-0", "Urine M-protein 24h", 200, "mg/(24.h)", "2026-11-10"))
pin("elx-urine", "inside", "elx-urine200", "Elrexfio: urine M-protein 200 mg/24 h", p,
    p.order(ELREXFIO, ELREXFIO_DOSE), APPROVED, "I.A.5.a.ii", {"urine-mprotein": "met"})
p = elx("elx-urine199", ("42482-0", "Urine M-protein 24h", 199, "mg/(24.h)", "2026-11-10"))
pin("elx-urine", "outside", "elx-urine199", "Elrexfio: urine M-protein 199 mg/24 h", p,
    p.order(ELREXFIO, ELREXFIO_DOSE), DOCS, "I.A.5.a.ii", {"urine-mprotein": "not-met"})

p = elx("elx-flc10", None).flc(100, 8, 12.5, "mg/L", "2026-11-12")
pin("elx-flc", "inside", "elx-flc10", "Elrexfio: involved κ FLC 100 mg/L (= 10 mg/dL), ratio 12.5", p,
    p.order(ELREXFIO, ELREXFIO_DOSE), APPROVED, "I.A.5.a.iii", {"flc": "met"})
p = elx("elx-flc99", None).flc(99, 8, 12.4, "mg/L", "2026-11-12")
pin("elx-flc", "outside", "elx-flc99", "Elrexfio: involved κ FLC 99 mg/L, just under 10 mg/dL", p,
    p.order(ELREXFIO, ELREXFIO_DOSE), DOCS, "I.A.5.a.iii", {"flc": "not-met"})

# The last anti-myeloma doses (line 4, ixazomib and lenalidomide) end on 2026-09-15.
p = elx("elx-pd60", None).status("271299001", "Patient's condition worsened", "2026-11-14")
pin("elx-pd-window", "inside", "elx-pd60", "Elrexfio: progression 60 days after the last anti-myeloma dose", p,
    p.order(ELREXFIO, ELREXFIO_DOSE), APPROVED, "I.A.5.b", {"progression": "met"})
p = elx("elx-pd61", None).status("271299001", "Patient's condition worsened", "2026-11-15")
pin("elx-pd-window", "outside", "elx-pd61", "Elrexfio: progression 61 days after the last dose", p,
    p.order(ELREXFIO, ELREXFIO_DOSE), DOCS, "I.A.5.b", {"progression": "missing"})

p = elx("elx-4lines")
pin("elx-lines", "inside", "elx-4lines", "Elrexfio: four lines given", p, p.order(ELREXFIO, ELREXFIO_DOSE), APPROVED,
    "I.A.7", {"prior-lines": "met"})
p = mm_base("elx-3lines").lab("33358-3", "Serum M-protein", 1.2, "g/dL", "2026-11-05")
p.line("L1", "2022-02-01", "2022-09-30", BORTEZOMIB, LENALIDOMIDE)
p.line("L2", "2022-11-01", "2023-08-31", CARFILZOMIB, POMALIDOMIDE)
p.line("L3", "2023-10-01", "2026-09-30", DARATUMUMAB, IXAZOMIB)
pin("elx-lines", "outside", "elx-3lines", "Elrexfio: three lines given", p, p.order(ELREXFIO, ELREXFIO_DOSE), DOCS,
    "I.A.7", {"prior-lines": "missing"})

p = elx("elx-step12")
pin("elx-step1", "inside", "elx-step12", "Elrexfio: step-up dose 1 is 12 mg", p, p.order(ELREXFIO, elx_steps(12)),
    APPROVED, "I.A.8.a.i", {"dose-wk1-24": "met"})
p = elx("elx-step13")
pin("elx-step1", "outside", "elx-step13", "Elrexfio: step-up dose 1 is 13 mg", p, p.order(ELREXFIO, elx_steps(13)),
    DOCS, "I.A.8.a.i", {"dose-wk1-24": "not-met"})
p = elx("elx-step32")
pin("elx-step2", "inside", "elx-step32", "Elrexfio: step-up dose 2 is 32 mg", p,
    p.order(ELREXFIO, elx_steps(12, 32)), APPROVED, "I.A.8.a.i", {"dose-wk1-24": "met"})
p = elx("elx-step33")
pin("elx-step2", "outside", "elx-step33", "Elrexfio: step-up dose 2 is 33 mg", p,
    p.order(ELREXFIO, elx_steps(12, 33)), DOCS, "I.A.8.a.i", {"dose-wk1-24": "not-met"})
p = elx("elx-dose76")
pin("elx-dose", "inside", "elx-dose76", "Elrexfio: treatment dose 76 mg weekly", p,
    p.order(ELREXFIO, elx_steps(12, 32, 76)), APPROVED, "I.A.8.a.i", {"dose-wk1-24": "met"})
p = elx("elx-dose77")
pin("elx-dose", "outside", "elx-dose77", "Elrexfio: treatment dose 77 mg weekly", p,
    p.order(ELREXFIO, elx_steps(12, 32, 77)), DOCS, "I.A.8.a.i", {"dose-wk1-24": "not-met"})
p = elx("elx-every7d")
pin("elx-weekly", "inside", "elx-every7d", "Elrexfio: 76 mg every 7 days", p,
    p.order(ELREXFIO, elx_steps()[:2] + [step(76, "mg", 3, "2026-11-30", "2027-05-10", every=7, per="d")]),
    APPROVED, "I.A.8.a.i", {"dose-wk1-24": "met"})
p = elx("elx-every6d")
pin("elx-weekly", "outside", "elx-every6d", "Elrexfio: 76 mg every 6 days", p,
    p.order(ELREXFIO, elx_steps()[:2] + [step(76, "mg", 3, "2026-11-30", "2027-05-10", every=6, per="d")]),
    DOCS, "I.A.8.a.i", {"dose-wk1-24": "not-met"})


def elx_on_therapy(key: str, first: str, every: int, last: str) -> Patient:
    """Given Elrexfio from `first`, every `every` days until `last`, responding."""
    from datetime import date, timedelta

    p = elx(key, None)
    d, end = date.fromisoformat(first), date.fromisoformat(last)
    while d <= end:
        p.given(ELREXFIO, d.isoformat(), dose=(76, "mg"))
        d += timedelta(days=every)
    return p.status("268910001", "Patient's condition improved", "2026-11-10")


p = elx_on_therapy("elx-recv30", "2026-10-21", 7, "2026-11-18")
pin("elx-receiving", "inside", "elx-recv30", "Elrexfio: first dose 30 days before the order", p,
    p.order(ELREXFIO, ELREXFIO_WEEKLY), APPROVED, "II.A.1", {"receiving-30-days": "met"}, pathway="continued")
p = elx_on_therapy("elx-recv29", "2026-10-22", 7, "2026-11-19")
pin("elx-receiving", "outside", "elx-recv29", "Elrexfio: first dose 29 days before the order", p,
    p.order(ELREXFIO, ELREXFIO_WEEKLY), DOCS, "II.A.1", {"receiving-30-days": "not-met"}, pathway="continued")

# Week 31, every 2 weeks so far: 14 days is the label interval; 13 days is an increase beyond it.
p = elx_on_therapy("elx-q14d", "2026-04-20", 14, "2026-11-16")
pin("elx-q2w", "inside", "elx-q14d", "Elrexfio week 31: 76 mg every 14 days", p,
    p.order(ELREXFIO, dosage(76, "mg", 14, "d")), APPROVED, "II.A.3.a.ii", {"continued-dose": "met"},
    pathway="continued")
p = elx_on_therapy("elx-q13d", "2026-04-20", 14, "2026-11-16")
pin("elx-q2w", "outside", "elx-q13d", "Elrexfio week 31: 76 mg every 13 days, more often than the label", p,
    p.order(ELREXFIO, dosage(76, "mg", 13, "d")), DOCS, "II.A.3.a.ii",
    {"continued-dose-wk25-48": "not-met", "continued-dose": "missing"}, pathway="continued")
p = elx_on_therapy("elx-q28d", "2025-10-06", 28, "2026-11-09")
pin("elx-q4w", "inside", "elx-q28d", "Elrexfio week 59: 76 mg every 28 days", p,
    p.order(ELREXFIO, dosage(76, "mg", 28, "d")), APPROVED, "I.A.8.a.iii / II.A.3", {"continued-dose": "met"},
    pathway="continued")
p = elx_on_therapy("elx-q27d", "2025-10-06", 28, "2026-11-09")
pin("elx-q4w", "outside", "elx-q27d", "Elrexfio week 59: 76 mg every 27 days", p,
    p.order(ELREXFIO, dosage(76, "mg", 27, "d")), DOCS, "I.A.8.a.iii / II.A.3",
    {"continued-dose-wk49": "not-met", "continued-dose": "missing"}, pathway="continued")

# ---- CP.PHAR.481 ------------------------------------------------------------------------------------------------
p = abecma_base("ide-age18", birth="2008-11-20")
pin("ide-age", "inside", "ide-age18", "Abecma: 18th birthday on the order date", p, p.order(ABECMA, ABECMA_DOSE),
    APPROVED, "I.A.3", {"age": "met"})
p = abecma_base("ide-age17", birth="2008-11-21")
pin("ide-age", "outside", "ide-age17", "Abecma: 17 on the order date", p, p.order(ABECMA, ABECMA_DOSE), DENIED,
    "I.A.3", {"age": "not-met"})


def ide(key: str, value: float, unit: str, when: str) -> Patient:
    p = abecma_base(key)
    p.resources = [r for r in p.resources if not (r["resourceType"] == "Observation")]
    return p.lab("33358-3", "Serum M-protein", value, unit, when)


p = ide("ide-mp050", 0.5, "g/dL", "2026-11-01")
pin("ide-mprotein", "inside", "ide-mp050", "Abecma: serum M-protein 0.5 g/dL", p, p.order(ABECMA, ABECMA_DOSE),
    APPROVED, "I.A.4.a.i", {"serum-mprotein": "met"})
p = ide("ide-mp049", 4.9, "g/L", "2026-11-01")
pin("ide-mprotein", "outside", "ide-mp049", "Abecma: serum M-protein 4.9 g/L (0.49 g/dL)", p,
    p.order(ABECMA, ABECMA_DOSE), DOCS, "I.A.4.a.i", {"serum-mprotein": "not-met"})
p = ide("ide-lab30d", 0.9, "g/dL", "2026-10-21")
pin("ide-lookback", "inside", "ide-lab30d", "Abecma: M-protein 30 days old", p, p.order(ABECMA, ABECMA_DOSE),
    APPROVED, "I.A.4.a", {"serum-mprotein": "met"})
p = ide("ide-lab31d", 0.9, "g/dL", "2026-10-20")
pin("ide-lookback", "outside", "ide-lab31d", "Abecma: M-protein 31 days old", p, p.order(ABECMA, ABECMA_DOSE),
    DOCS, "I.A.4.a", {"serum-mprotein": "missing"})

def ide_without_mprotein(key: str) -> Patient:
    return abecma_base(key, mprotein=False)  # the last Dara-Pd doses end on 2026-08-31


p = ide_without_mprotein("ide-urine200").lab("42482-0", "Urine M-protein 24h", 0.2, "g/(24.h)", "2026-11-10")
pin("ide-urine", "inside", "ide-urine200", "Abecma: urine M-protein 0.2 g/24 h (= 200 mg/24 h)", p,
    p.order(ABECMA, ABECMA_DOSE), APPROVED, "I.A.4.a.ii", {"urine-mprotein": "met"})
p = ide_without_mprotein("ide-urine199").lab("42482-0", "Urine M-protein 24h", 199, "mg/(24.h)", "2026-11-10")
pin("ide-urine", "outside", "ide-urine199", "Abecma: urine M-protein 199 mg/24 h", p, p.order(ABECMA, ABECMA_DOSE),
    DOCS, "I.A.4.a.ii", {"urine-mprotein": "not-met"})
p = ide_without_mprotein("ide-flc10").flc(1.5, 10, 0.15, "mg/dL", "2026-11-12")
pin("ide-flc", "inside", "ide-flc10", "Abecma: involved λ FLC 10 mg/dL with ratio 0.15", p,
    p.order(ABECMA, ABECMA_DOSE), APPROVED, "I.A.4.a.iii", {"flc": "met"})
p = ide_without_mprotein("ide-flc99").flc(1.4, 9.9, 0.14, "mg/dL", "2026-11-12")
pin("ide-flc", "outside", "ide-flc99", "Abecma: involved λ FLC 9.9 mg/dL, just under 10", p,
    p.order(ABECMA, ABECMA_DOSE), DOCS, "I.A.4.a.iii", {"flc": "not-met"})
p = ide_without_mprotein("ide-pd60").status("271299001", "Patient's condition worsened", "2026-10-30")
pin("ide-pd-window", "inside", "ide-pd60", "Abecma: progression 60 days after the last dose (2026-08-31)", p,
    p.order(ABECMA, ABECMA_DOSE), APPROVED, "I.A.4.b", {"progression": "met"})
p = ide_without_mprotein("ide-pd61").status("271299001", "Patient's condition worsened", "2026-10-31")
pin("ide-pd-window", "outside", "ide-pd61", "Abecma: progression 61 days after the last dose", p,
    p.order(ABECMA, ABECMA_DOSE), DOCS, "I.A.4.b", {"progression": "missing"})

p = abecma_base("ide-2lines")
pin("ide-lines", "inside", "ide-2lines", "Abecma: two lines given", p, p.order(ABECMA, ABECMA_DOSE), APPROVED,
    "I.A.5", {"prior-lines": "met"})
p = Patient("ide-1line").coverage("Sunshine Health", "21", "Florida Medicaid").prescriber(HEMONC)
p.condition("icd", "C90.02", "Multiple myeloma in relapse", clinical="relapse")
p.line("L1", "2023-01-01", "2026-08-31", BORTEZOMIB, LENALIDOMIDE, DARATUMUMAB)
p.lab("33358-3", "Serum M-protein", 0.9, "g/dL", "2026-11-01")
pin("ide-lines", "outside", "ide-1line", "Abecma: one line (D-VRd) given", p, p.order(ABECMA, ABECMA_DOSE), DOCS,
    "I.A.5", {"prior-lines": "missing"})

p = abecma_base("ide-dose510")
pin("ide-dose", "inside", "ide-dose510", "Abecma: 510 × 10⁶ CAR+ T cells", p, p.order(ABECMA, dosage(510, "10*6")),
    APPROVED, "I.A.10", {"dose": "met"})
p = abecma_base("ide-dose511")
pin("ide-dose", "outside", "ide-dose511", "Abecma: 511 × 10⁶ CAR+ T cells", p, p.order(ABECMA, dosage(511, "10*6")),
    DENIED, "I.A.10", {"dose": "not-met"})
p = abecma_base("ide-oneBag")
pin("ide-one-dose", "inside", "ide-oneBag", "Abecma: one infusion bag", p,
    p.order(ABECMA, ABECMA_DOSE, dispenseRequest={"quantity": {"value": 1, "unit": "bag"}}), APPROVED,
    "I.A (1 dose only)", {"dose": "met"})
p = abecma_base("ide-twoInfusions")
twice = dosage(450, "10*6")
twice[0]["timing"] = {"repeat": {"count": 2, "frequency": 1, "period": 1, "periodUnit": "d"}}
pin("ide-one-dose", "outside", "ide-twoInfusions", "Abecma: two infusions requested", p, p.order(ABECMA, twice),
    DENIED, "I.A (1 dose only)", {"dose": "not-met"})

# ---- MP-RX-FP-14-23 ------------------------------------------------------------------------------------------------


def mrd(key: str, level: float) -> Patient:
    p = Patient(key).coverage("MMM Healthcare", "111", "MMM Medicare Advantage").prescriber(HEMONC).vitals(70, 170)
    p.condition("icd", "C91.01", "Acute lymphoblastic leukemia, in remission", clinical="remission")
    return p.attest(cd19_positive=True, mrd_level=level, mrd_cr1_cr2=True)


p = mrd("blin-mrd010", 0.1)
pin("blin-mrd", "inside", "blin-mrd010", "Blincyto: MRD 0.1 % in first remission", p, p.order(BLINCYTO, BLIN_DOSE),
    APPROVED, "A.iii.B", {"mrd-level": "met"})
p = mrd("blin-mrd009", 0.09)
pin("blin-mrd", "outside", "blin-mrd009", "Blincyto: MRD 0.09 % in first remission", p,
    p.order(BLINCYTO, BLIN_DOSE), DOCS, "A.iii.B", {"mrd-level": "not-met"})
p = mrd("blin-daily28", 0.5)
pin("blin-daily", "inside", "blin-daily28", "Blincyto (MRD): 28 mcg/day", p, p.order(BLINCYTO, BLIN_DOSE), APPROVED,
    "Limits.A", {"dose-daily": "met"})
p = mrd("blin-daily29", 0.5)
pin("blin-daily", "outside", "blin-daily29", "Blincyto (MRD): 29 mcg/day", p,
    p.order(BLINCYTO, dosage(0, "ug", rate=(29, "ug/d"))), DENIED, "Limits.A", {"dose-daily": "not-met"})


def blin_weight(key: str, kg: float, cm: float) -> Patient:
    p = Patient(key).coverage("MMM Healthcare", "111", "MMM Medicare Advantage").prescriber(HEMONC).vitals(kg, cm)
    p.condition("icd", "C91.01", "Acute lymphoblastic leukemia, in remission", clinical="remission")
    return p.attest(cd19_positive=True, mrd_level=0.5, mrd_cr1_cr2=True)


p = blin_weight("blin-45kg", 45, 150)
pin("blin-weight", "inside", "blin-45kg", "Blincyto: 45 kg takes the fixed 28 mcg/day", p,
    p.order(BLINCYTO, BLIN_DOSE), APPROVED, "Limits.A", {"dose-daily": "met"})
p = blin_weight("blin-44kg", 44.9, 150)
pin("blin-weight", "outside", "blin-44kg", "Blincyto: 44.9 kg, 150 cm (BSA 1.37 m²): 28 mcg/day is above 15 mcg/m²",
    p, p.order(BLINCYTO, BLIN_DOSE), DENIED, "Limits.A", {"dose-daily": "not-met"})
# 30 kg, 135 cm: BSA (Mosteller) 1.0607 m², so 15 mcg/m²/day is 15.91 mcg/day.
p = blin_weight("blin-bsa159", 30, 135)
pin("blin-bsa", "inside", "blin-bsa159", "Blincyto: 30 kg child at 15.9 mcg/day (limit 15.91)", p,
    p.order(BLINCYTO, dosage(0, "ug", rate=(15.9, "ug/d"))), APPROVED, "Limits.A", {"dose-daily": "met"})
p = blin_weight("blin-bsa160", 30, 135)
pin("blin-bsa", "outside", "blin-bsa160", "Blincyto: 30 kg child at 16 mcg/day (limit 15.91)", p,
    p.order(BLINCYTO, dosage(0, "ug", rate=(16, "ug/d"))), DENIED, "Limits.A", {"dose-daily": "not-met"})


def rr_c1(first_week: float) -> list[dict]:
    return [step(0, "ug", 1, "2026-11-23", "2026-11-29", rate=(first_week, "ug/d")),
            step(0, "ug", 2, "2026-11-30", "2026-12-20", rate=(28, "ug/d"))]


p = ball_base("blin-step9").attest(cd19_positive=True)
pin("blin-rr-step", "inside", "blin-step9", "Blincyto relapsed, cycle 1: 9 mcg/day on days 1-7", p,
    p.order(BLINCYTO, rr_c1(9)), APPROVED, "Limits.A", {"dose-rr-cycle1": "met"})
p = ball_base("blin-step10").attest(cd19_positive=True)
pin("blin-rr-step", "outside", "blin-step10", "Blincyto relapsed, cycle 1: 10 mcg/day on days 1-7", p,
    p.order(BLINCYTO, rr_c1(10)), DENIED, "Limits.A", {"dose-rr-cycle1": "not-met"})


def cycles_given(p: Patient, n: int) -> Patient:
    from datetime import date, timedelta

    # Cycles every 70 days (28 days of infusion, then the break), the last one ending two weeks before the order.
    d = date(2026, 11, 6) - timedelta(days=27 + 70 * (n - 1))
    for _ in range(n):
        p.given(BLINCYTO, d.isoformat(), (d + timedelta(days=27)).isoformat())
        d += timedelta(days=70)
    return p.status("359746009", "Patient's condition stable", "2026-11-01")


p = cycles_given(ball_base("blin-rrCycle9").attest(cd19_positive=True, no_toxicity=True, oncology_note=True,
                                                    imaging=True), 8)
pin("blin-cycles-rr", "inside", "blin-rrCycle9", "Blincyto relapsed: 8 cycles given, cycle 9 requested", p,
    p.order(BLINCYTO, BLIN_DOSE), APPROVED, "B.i / Limits.A", {"cycles-within-9": "met"}, pathway="continued")
p = cycles_given(ball_base("blin-rrCycle10").attest(cd19_positive=True, no_toxicity=True, oncology_note=True,
                                                     imaging=True), 9)
pin("blin-cycles-rr", "outside", "blin-rrCycle10", "Blincyto relapsed: 9 cycles given, cycle 10 requested", p,
    p.order(BLINCYTO, BLIN_DOSE), DENIED, "B.i / Limits.A", {"cycles-within-9": "not-met"}, pathway="continued")
p = cycles_given(mrd("blin-mrdCycle4", 0.5).attest(no_toxicity=True, oncology_note=True, imaging=True), 3)
pin("blin-cycles-mrd", "inside", "blin-mrdCycle4", "Blincyto MRD: 3 cycles given, cycle 4 requested", p,
    p.order(BLINCYTO, BLIN_DOSE), APPROVED, "B.i / Limits.A", {"cycles-within-4": "met"}, pathway="continued")
p = cycles_given(mrd("blin-mrdCycle5b", 0.5).attest(no_toxicity=True, oncology_note=True, imaging=True), 4)
pin("blin-cycles-mrd", "outside", "blin-mrdCycle5b", "Blincyto MRD: 4 cycles given, cycle 5 requested", p,
    p.order(BLINCYTO, BLIN_DOSE), DOCS, "B.i / Limits.A", {"cycles-within-4": "not-met"}, pathway="continued")

# ---- CP.PHAR.243 ------------------------------------------------------------------------------------------------


def lem(key: str, **kw) -> Patient:
    return ms_failures(ms_base(key, **kw).condition("icd", "G35.A", "Relapsing-remitting multiple sclerosis"))


p = lem("lem-age18", birth="2008-11-20")
pin("lem-age", "inside", "lem-age18", "Lemtrada: 18th birthday on the order date", p,
    p.order(LEMTRADA, LEMTRADA_FIRST), APPROVED, "I.A.3", {"age": "met"})
p = lem("lem-age17", birth="2008-11-21")
pin("lem-age", "outside", "lem-age17", "Lemtrada: 17 on the order date", p, p.order(LEMTRADA, LEMTRADA_FIRST),
    DENIED, "I.A.3", {"age": "not-met"})
p = lem("lem-12mg")
pin("lem-first-dose", "inside", "lem-12mg", "Lemtrada first course 12 mg/day x 5", p,
    p.order(LEMTRADA, dosage(12, "mg", 1, "d", days=5)), APPROVED, "I.A.6.a", {"dose-first-course": "met"})
p = lem("lem-13mg")
pin("lem-first-dose", "outside", "lem-13mg", "Lemtrada first course 13 mg/day x 5", p,
    p.order(LEMTRADA, dosage(13, "mg", 1, "d", days=5)), DENIED, "I.A.6.a", {"dose-first-course": "not-met"})
p = lem("lem-5days")
pin("lem-first-days", "inside", "lem-5days", "Lemtrada first course: 5 days", p,
    p.order(LEMTRADA, dosage(12, "mg", 1, "d", days=5)), APPROVED, "I.A.6.a", {"dose-first-course": "met"})
p = lem("lem-6days")
pin("lem-first-days", "outside", "lem-6days", "Lemtrada first course: 6 days", p,
    p.order(LEMTRADA, dosage(12, "mg", 1, "d", days=6)), DENIED, "I.A.6.a", {"dose-first-course": "not-met"})


def lem_second(key: str, last_day: str) -> Patient:
    from datetime import date, timedelta

    end = date.fromisoformat(last_day)
    p = lem(key).given(LEMTRADA, (end - timedelta(days=4)).isoformat(), last_day)
    return p.attest(via_centene=True, responding=True)


p = lem_second("lem-3days", "2025-06-06")
pin("lem-later-days", "inside", "lem-3days", "Lemtrada second course: 3 days", p,
    p.order(LEMTRADA, dosage(12, "mg", 1, "d", days=3)), APPROVED, "II.A.5", {"continued-dose": "met"},
    pathway="continued")
p = lem_second("lem-4days", "2025-06-06")
pin("lem-later-days", "outside", "lem-4days", "Lemtrada second course: 4 days", p,
    p.order(LEMTRADA, dosage(12, "mg", 1, "d", days=4)), DENIED, "II.A.5", {"continued-dose": "not-met"},
    pathway="continued")
p = lem_second("lem-12months", "2025-11-20")
pin("lem-12-months", "inside", "lem-12months", "Lemtrada: prior course ended exactly 12 months before", p,
    p.order(LEMTRADA, dosage(12, "mg", 1, "d", days=3)), APPROVED, "II.A.4", {"twelve-months": "met"},
    pathway="continued")
p = lem_second("lem-11months", "2025-11-21")
pin("lem-12-months", "outside", "lem-11months", "Lemtrada: prior course ended 12 months less a day before", p,
    p.order(LEMTRADA, dosage(12, "mg", 1, "d", days=3)), DENIED, "II.A.4", {"twelve-months": "not-met"},
    pathway="continued")


# ---- Numbers that are the reviewers' reading, not the policy text's ---------------------------------------------
# The normal serum FLC ratio (0.26–1.65, the laboratory reference range "abnormal" refers to), how old an order may
# be with no dose before it is asked about rather than counted as current therapy (90 days), and the 30-day
# look-back of the urine and FLC values (the text's "within the last 30 days" covers every measurable-disease value).
p = elx("elx-ratio165", None).flc(100, 60.6, 1.65, "mg/L", "2026-11-12")
scenario("elx-ratio165", "Elrexfio: κ FLC 100 mg/L with a ratio of 1.65, the upper normal limit", p,
         p.order(ELREXFIO, ELREXFIO_DOSE), DOCS, criteria={"flc": "not-met"}, cite="I.A.5.a.iii")
p = elx("elx-ratio166", None).flc(100, 60.2, 1.66, "mg/L", "2026-11-12")
scenario("elx-ratio166", "Elrexfio: κ FLC 100 mg/L with a ratio of 1.66, just abnormal", p,
         p.order(ELREXFIO, ELREXFIO_DOSE), APPROVED, criteria={"flc": "met"}, cite="I.A.5.a.iii")
p = elx("elx-ratio026", None).flc(26, 100, 0.26, "mg/L", "2026-11-12")
scenario("elx-ratio026", "Elrexfio: λ FLC 100 mg/L with a ratio of 0.26, the lower normal limit", p,
         p.order(ELREXFIO, ELREXFIO_DOSE), DOCS, criteria={"flc": "not-met"}, cite="I.A.5.a.iii")
p = elx("elx-ratio025", None).flc(25, 100, 0.25, "mg/L", "2026-11-12")
scenario("elx-ratio025", "Elrexfio: λ FLC 100 mg/L with a ratio of 0.25, just abnormal", p,
         p.order(ELREXFIO, ELREXFIO_DOSE), APPROVED, criteria={"flc": "met"}, cite="I.A.5.a.iii")

p = elx("elx-order90d").ordered(CARFILZOMIB, "2026-08-22")
scenario("elx-order90d", "Elrexfio: an active carfilzomib order written 90 days before, no dose since: current", p,
         p.order(ELREXFIO, ELREXFIO_DOSE), DENIED, criteria={"monotherapy": "not-met"}, cite="I.A.6")
p = elx("elx-order91d").ordered(CARFILZOMIB, "2026-08-21")
scenario("elx-order91d", "Elrexfio: an active carfilzomib order written 91 days before, no dose since: asked", p,
         p.order(ELREXFIO, ELREXFIO_DOSE), DOCS, criteria={"monotherapy": "missing"}, cite="I.A.6")

p = elx("elx-urine30d", ("42482-0", "Urine M-protein 24h", 250, "mg/(24.h)", "2026-10-21"))
scenario("elx-urine30d", "Elrexfio: urine M-protein 30 days old", p, p.order(ELREXFIO, ELREXFIO_DOSE), APPROVED,
         criteria={"urine-mprotein": "met"}, cite="I.A.5.a")
p = elx("elx-urine31d", ("42482-0", "Urine M-protein 24h", 250, "mg/(24.h)", "2026-10-20"))
scenario("elx-urine31d", "Elrexfio: urine M-protein 31 days old", p, p.order(ELREXFIO, ELREXFIO_DOSE), DOCS,
         criteria={"urine-mprotein": "missing"}, cite="I.A.5.a")
p = elx("elx-flc30d", None).flc(150, 8, 18.8, "mg/L", "2026-10-21")
scenario("elx-flc30d", "Elrexfio: FLC 30 days old", p, p.order(ELREXFIO, ELREXFIO_DOSE), APPROVED,
         criteria={"flc": "met"}, cite="I.A.5.a")
p = elx("elx-flc31d", None).flc(150, 8, 18.8, "mg/L", "2026-10-20")
scenario("elx-flc31d", "Elrexfio: FLC 31 days old", p, p.order(ELREXFIO, ELREXFIO_DOSE), DOCS,
         criteria={"flc": "missing"}, cite="I.A.5.a")
p = ide_without_mprotein("ide-flc30d").flc(1.5, 12, 0.13, "mg/dL", "2026-10-21")
scenario("ide-flc30d", "Abecma: FLC 30 days old", p, p.order(ABECMA, ABECMA_DOSE), APPROVED,
         criteria={"flc": "met"}, cite="I.A.4.a")
p = ide_without_mprotein("ide-flc31d").flc(1.5, 12, 0.13, "mg/dL", "2026-10-20")
scenario("ide-flc31d", "Abecma: FLC 31 days old", p, p.order(ABECMA, ABECMA_DOSE), DOCS,
         criteria={"flc": "missing"}, cite="I.A.4.a")
p = ide_without_mprotein("ide-urine200mg").lab("42482-0", "Urine M-protein 24h", 200, "mg/(24.h)", "2026-11-10")
scenario("ide-urine200mg", "Abecma: urine M-protein exactly 200 mg/24 h", p, p.order(ABECMA, ABECMA_DOSE), APPROVED,
         criteria={"urine-mprotein": "met"}, cite="I.A.4.a.ii")

p = ide_without_mprotein("ide-ratio165").flc(10, 6.06, 1.65, "mg/dL", "2026-11-12")
scenario("ide-ratio165", "Abecma: κ FLC 10 mg/dL with a ratio of 1.65, the upper normal limit", p,
         p.order(ABECMA, ABECMA_DOSE), DOCS, criteria={"flc": "not-met"}, cite="I.A.4.a.iii")
p = ide_without_mprotein("ide-ratio166").flc(10, 6.02, 1.66, "mg/dL", "2026-11-12")
scenario("ide-ratio166", "Abecma: κ FLC 10 mg/dL with a ratio of 1.66, just abnormal", p,
         p.order(ABECMA, ABECMA_DOSE), APPROVED, criteria={"flc": "met"}, cite="I.A.4.a.iii")
p = ide_without_mprotein("ide-ratio026").flc(2.6, 10, 0.26, "mg/dL", "2026-11-12")
scenario("ide-ratio026", "Abecma: λ FLC 10 mg/dL with a ratio of 0.26, the lower normal limit", p,
         p.order(ABECMA, ABECMA_DOSE), DOCS, criteria={"flc": "not-met"}, cite="I.A.4.a.iii")
p = ide_without_mprotein("ide-ratio025").flc(2.5, 10, 0.25, "mg/dL", "2026-11-12")
scenario("ide-ratio025", "Abecma: λ FLC 10 mg/dL with a ratio of 0.25, just abnormal", p,
         p.order(ABECMA, ABECMA_DOSE), APPROVED, criteria={"flc": "met"}, cite="I.A.4.a.iii")

p = abecma_base("ide-order90d").ordered(CARVYKTI, "2026-08-22")
scenario("ide-order90d", "Abecma: an active Carvykti order written 90 days before, never given: current", p,
         p.order(ABECMA, ABECMA_DOSE), DENIED, criteria={"no-concurrent-cart": "not-met"}, cite="I.A.9")
p = abecma_base("ide-order91d").ordered(CARVYKTI, "2026-08-21")
scenario("ide-order91d", "Abecma: an active Carvykti order written 91 days before, never given: asked", p,
         p.order(ABECMA, ABECMA_DOSE), DOCS, criteria={"no-concurrent-cart": "missing"}, cite="I.A.9")
p = lem("lem-order90d").ordered(FINGOLIMOD, "2026-08-22")
scenario("lem-order90d", "Lemtrada: an active fingolimod order written 90 days before, never given: current", p,
         p.order(LEMTRADA, LEMTRADA_FIRST), DENIED, criteria={"no-concurrent-dmt": "not-met"}, cite="I.A.5")
p = lem("lem-order91d").ordered(FINGOLIMOD, "2026-08-21")
scenario("lem-order91d", "Lemtrada: an active fingolimod order written 91 days before, never given: asked", p,
         p.order(LEMTRADA, LEMTRADA_FIRST), DOCS, criteria={"no-concurrent-dmt": "missing"}, cite="I.A.5")
p = lem_second("lem-c-order90d", "2025-06-06").ordered(FINGOLIMOD, "2026-08-22")
scenario("lem-c-order90d", "Lemtrada second course with an active fingolimod order 90 days old", p,
         p.order(LEMTRADA, dosage(12, "mg", 1, "d", days=3)), DENIED,
         criteria={"continued-no-concurrent-dmt": "not-met"}, cite="II.A.3", pathway="continued")
p = lem_second("lem-c-order91d", "2025-06-06").ordered(FINGOLIMOD, "2026-08-21")
scenario("lem-c-order91d", "Lemtrada second course with an active fingolimod order 91 days old", p,
         p.order(LEMTRADA, dosage(12, "mg", 1, "d", days=3)), DOCS,
         criteria={"continued-no-concurrent-dmt": "missing"}, cite="II.A.3", pathway="continued")
p = elx_on_therapy("elx-c-order90d", "2026-10-21", 7, "2026-11-18").ordered(CARFILZOMIB, "2026-08-22")
scenario("elx-c-order90d", "Elrexfio on therapy with an active carfilzomib order 90 days old: not the label "
         "regimen", p, p.order(ELREXFIO, ELREXFIO_WEEKLY), DOCS, criteria={"continued-monotherapy": "not-met"},
         cite="II.A.3", pathway="continued")
p = elx_on_therapy("elx-c-order91d", "2026-10-21", 7, "2026-11-18").ordered(CARFILZOMIB, "2026-08-21")
scenario("elx-c-order91d", "Elrexfio on therapy with an active carfilzomib order 91 days old: asked", p,
         p.order(ELREXFIO, ELREXFIO_WEEKLY), DOCS, criteria={"continued-monotherapy": "missing"}, cite="II.A.3",
         pathway="continued")
p = ide_without_mprotein("ide-urine30d").lab("42482-0", "Urine M-protein 24h", 250, "mg/(24.h)", "2026-10-21")
scenario("ide-urine30d", "Abecma: urine M-protein 30 days old", p, p.order(ABECMA, ABECMA_DOSE), APPROVED,
         criteria={"urine-mprotein": "met"}, cite="I.A.4.a")
p = ide_without_mprotein("ide-urine31d").lab("42482-0", "Urine M-protein 24h", 250, "mg/(24.h)", "2026-10-20")
scenario("ide-urine31d", "Abecma: urine M-protein 31 days old", p, p.order(ABECMA, ABECMA_DOSE), DOCS,
         criteria={"urine-mprotein": "missing"}, cite="I.A.4.a")
