"""One record for each alternative branch of a policy that no other fixture meets, so every pathway the policy
text allows is shown reachable (tests/policy/test_pathways.py), each with the reviewer's answer.
"""

from __future__ import annotations

from builder import (
    ABECMA,
    BLINCYTO,
    DARATUMUMAB,
    DASATINIB,
    ELREXFIO,
    HEMONC,
    LEMTRADA,
    Patient,
    dosage,
    scenario,
    step,
)
from messy import elx_continued, weekly
from seed import (
    ABECMA_DOSE,
    BLIN_DOSE,
    BLIN_RR_C1,
    ELREXFIO_DOSE,
    LEMTRADA_FIRST,
    RELAPSED_MM,
    abecma_base,
    mm_base,
    mm_four_lines,
    ms_base,
)

APPROVED = "likely-approved"


NOT_IN_REMISSION = ("C90.00", "Multiple myeloma not having achieved remission", "active")


def elx_base(key: str, dx: tuple[str, str, str] = RELAPSED_MM) -> Patient:
    return mm_four_lines(mm_base(key, dx)).lab("33358-3", "Serum M-protein", 1.2, "g/dL", "2026-11-05")


# ---- LA.PHAR.652 ----------------------------------------------------------------------------------------------------
p = elx_base("elx-refractoryAttested", NOT_IN_REMISSION)
p.attest(rr_attest=True)
scenario("elx-refractoryAttested", "Elrexfio: refractory disease attested (no relapse code)", p,
         p.order(ELREXFIO, ELREXFIO_DOSE), APPROVED, cite="I.A.4", criteria={"rr-attest": "met", "rr": "met"})

p = elx_base("elx-literatureDose").attest(dose_literature=True)
scenario("elx-literatureDose", "Elrexfio 152 mg weekly with guideline support submitted (off-label dose)", p,
         p.order(ELREXFIO, [step(12, "mg", 1, "2026-11-23"), step(32, "mg", 2, "2026-11-26"),
                            step(152, "mg", 3, "2026-11-30", "2027-05-10", every=1)]), "documentation-needed",
         cite="I.A.8.b / I.A.8 note", criteria={"dose-literature": "met", "dose": "met", "regimen": "missing"})

p = elx_continued("elx-increaseLiterature", "2026-04-20", 1, 7)
weekly("2026-05-04", 14, ELREXFIO, p, 14)
p.attest(continued_dose_literature=True)
scenario("elx-increaseLiterature", "Elrexfio dose increase at week 31 with literature support: the off-label "
         "schedule still needs the regimen attested as NCCN-recommended", p,
         p.order(ELREXFIO, dosage(76, "mg", 1, "wk")), "documentation-needed", pathway="continued",
         cite="II.A.3.b / II.A.3 note",
         criteria={"continued-dose-literature": "met", "continued-dose": "met", "continued-regimen": "missing"})

p = elx_continued("elx-comboNccn", "2026-04-20", 1, 7)
weekly("2026-05-04", 14, ELREXFIO, p, 14)
p.ordered(DARATUMUMAB, "2026-11-01").attest(continued_regimen_fda_nccn=True)
scenario("elx-comboNccn", "Elrexfio continued with daratumumab, regimen attested as NCCN-recommended", p,
         p.order(ELREXFIO, dosage(76, "mg", 2, "wk")), APPROVED, pathway="continued", cite="II.A.3 note",
         criteria={"continued-regimen-fda-nccn": "met", "continued-monotherapy": "not-met"})

p = mm_four_lines(mm_base("elx-viaPlan"))
weekly("2026-11-02", 3, ELREXFIO, p, 7)  # started 18 days ago, paid by the plan
p.status("268910001", "Patient's condition improved", "2026-11-15").attest(receiving_via_plan=True)
scenario("elx-viaPlan", "Elrexfio continued: receiving via the plan's benefit (under 30 days of doses)", p,
         p.order(ELREXFIO, dosage(76, "mg", 1, "wk")), APPROVED, pathway="continued", cite="II.A.1",
         criteria={"receiving-via-plan": "met", "receiving-30-days": "not-met"})

# ---- CP.PHAR.481 ----------------------------------------------------------------------------------------------------


def ide_base(key: str, dx: tuple[str, str, str] = RELAPSED_MM) -> Patient:
    return abecma_base(key, dx, mprotein=False)


p = ide_base("ide-progression").status("271299001", "Patient's condition worsened", "2026-10-20")
scenario("ide-progression", "Abecma: progression 50 days after the last dose of Dara-Pd (no recent M-protein)", p,
         p.order(ABECMA, ABECMA_DOSE), APPROVED, cite="I.A.4.b", criteria={"progression": "met"})

p = ide_base("ide-flc").flc(2.1, 180, 0.012, "mg/L", "2026-11-09")
scenario("ide-flc", "Abecma: involved lambda FLC 180 mg/L with ratio 0.012", p, p.order(ABECMA, ABECMA_DOSE),
         APPROVED, cite="I.A.4.a.iii", criteria={"flc": "met"})

p = ide_base("ide-refractory", NOT_IN_REMISSION)
p.lab("33358-3", "Serum M-protein", 0.9, "g/dL", "2026-11-01").attest(rr_attest=True)
scenario("ide-refractory", "Abecma: refractory myeloma attested", p, p.order(ABECMA, ABECMA_DOSE), APPROVED,
         cite="I.A.1", criteria={"rr-attest": "met"})

# ---- MP-RX-FP-14-23 --------------------------------------------------------------------------------------------------


def all_base(key: str, code: str, display: str, birth: str = "1960-03-15", kg: float = 70, cm: float = 170,
             clinical: str = "active", onset: str = "2022-01-10") -> Patient:
    p = Patient(key, birth=birth).coverage("MMM Healthcare", "111", "MMM Medicare Advantage").prescriber(HEMONC)
    return p.vitals(kg, cm).condition("icd", code, display, clinical=clinical, onset=onset).attest(cd19_positive=True)


p = all_base("blin-pomp", "C91.01", "Acute lymphoblastic leukemia, in remission", clinical="remission")
p.attest(pomp_maintenance=True)
scenario("blin-pomp", "Blincyto as maintenance alternating with POMP", p, p.order(BLINCYTO, BLIN_DOSE), APPROVED,
         cite="A.x / A.xi", criteria={"pomp-pathway": "met"})

p = all_base("blin-interfant", "C91.00", "Acute lymphoblastic leukemia not having achieved remission",
             birth="2026-03-01", kg=7, cm=65, onset="2026-10-15").attest(interfant_regimen=True)
per_m2 = [step(0, "ug", 1, "2026-11-23", "2026-11-29", rate=(5, "ug/(m2.d)")),
          step(0, "ug", 2, "2026-11-30", "2026-12-20", rate=(15, "ug/(m2.d)"))]
scenario("blin-interfant", "Blincyto with an Interfant regimen for an 8-month-old, dosed per m²", p,
         p.order(BLINCYTO, per_m2), APPROVED, cite="A.xii", criteria={"interfant-pathway": "met", "dose-daily": "met"})

p = all_base("blin-tkiConsolidation", "C91.01", "Acute lymphoblastic leukemia, in remission", clinical="remission")
p.ordered(DASATINIB, "2026-11-01").attest(consolidation=True)
scenario("blin-tkiConsolidation", "Blincyto with dasatinib as consolidation", p, p.order(BLINCYTO, BLIN_DOSE),
         APPROVED, cite="A.vi.B", criteria={"tki-consolidation": "met", "tki-pathway": "met"})

p = all_base("blin-consolidation", "C91.01", "Acute lymphoblastic leukemia, in remission", clinical="remission")
p.attest(consolidation=True)
scenario("blin-consolidation", "Blincyto single agent as consolidation", p, p.order(BLINCYTO, BLIN_DOSE), APPROVED,
         cite="A.iii.C", criteria={"consolidation": "met", "label-pathway": "met"})

p = all_base("blin-worsened", "C91.00", "Acute lymphoblastic leukemia not having achieved remission")
p.status("271299001", "Patient's condition worsened", "2026-11-10")
scenario("blin-worsened", "Blincyto: disease assessed as worsened (refractory), cycle 1 step-up", p,
         p.order(BLINCYTO, BLIN_RR_C1), APPROVED, cite="A.iii.A", criteria={"rr-status": "met"})

p = all_base("blin-refractory", "C91.00", "Acute lymphoblastic leukemia not having achieved remission")
p.attest(rr_attest=True)
scenario("blin-refractory", "Blincyto: refractory disease attested, cycle 1 step-up", p,
         p.order(BLINCYTO, BLIN_RR_C1), APPROVED, cite="A.iii.A", criteria={"rr-attest": "met"})

# ---- CP.PHAR.243 ----------------------------------------------------------------------------------------------------
p = ms_base("lem-allContraindicated").condition("icd", "G35.A", "Relapsing-remitting multiple sclerosis")
p.attest(dmt_all_contraindicated=True)
scenario("lem-allContraindicated", "Lemtrada: all four first agents contraindicated (documented)", p,
         p.order(LEMTRADA, LEMTRADA_FIRST), APPROVED, cite="I.A.4", criteria={"dmt-all-contraindicated": "met"})

p = ms_base("lem-continuity").condition("icd", "G35.A", "Relapsing-remitting multiple sclerosis")
p.given(LEMTRADA, "2025-06-02", "2025-06-06").attest(continuity_of_care=True, responding=True)
scenario("lem-continuity", "Lemtrada second course for a member under continuity-of-care rules", p,
         p.order(LEMTRADA, dosage(12, "mg", 1, "d", days=3)), APPROVED, pathway="continued", cite="II.A.1.b",
         criteria={"continuity-of-care": "met"})

