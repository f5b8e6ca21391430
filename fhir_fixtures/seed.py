"""The first fixtures: one clean record per outcome and per decisive criterion of each seed policy."""

from __future__ import annotations

from typing import Any

from builder import (
    ABECMA,
    BLINCYTO,
    BORTEZOMIB,
    CARFILZOMIB,
    CARVYKTI,
    DARATUMUMAB,
    DASATINIB,
    DMF,
    ELREXFIO,
    FINGOLIMOD,
    GLATIRAMER,
    HEMONC,
    IXAZOMIB,
    LEMTRADA,
    LENALIDOMIDE,
    NEURO,
    NO_RESPONSE,
    NOT_TOLERATED,
    OCRELIZUMAB,
    POMALIDOMIDE,
    TECLISTAMAB,
    TERIFLUNOMIDE,
    Patient,
    dosage,
    scenario,
    step,
)

# ---------------------------------------------------------------------------------------------------------------
# LA.PHAR.652 elranatamab — Louisiana Healthcare Connections Medicaid
RELAPSED_MM = ("C90.02", "Multiple myeloma in relapse", "relapse")


def mm_base(key: str, dx: tuple[str, str, str] = RELAPSED_MM, **kw: Any) -> Patient:
    p = Patient(key, **kw).coverage("Louisiana Healthcare Connections", "21", "Louisiana Medicaid Managed Care")
    code, display, clinical = dx
    p.prescriber(HEMONC).condition("icd", code, display, clinical=clinical)
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
         "likely-approved", approval="6 months (12 months once the 12.22.25 revision is approved)",
         cite="I.A; approval duration: 6 months until the 12.22.25 revision is approved",
         criteria={"dx-mm": "met", "prescriber": "met", "age": "met", "rr": "met",
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


def abecma_base(key: str, dx: tuple[str, str, str] = RELAPSED_MM, mprotein: bool = True, **kw: Any) -> Patient:
    """Two lines given (VRd, then Dara-Pd) and, unless told otherwise, a serum M-protein of 0.9 g/dL."""
    p = Patient(key, **kw).coverage("Sunshine Health", "21", "Florida Medicaid").prescriber(HEMONC)
    code, display, clinical = dx
    p.condition("icd", code, display, clinical=clinical)
    p.line("L1", "2023-01-01", "2023-12-31", BORTEZOMIB, LENALIDOMIDE)
    p.line("L2", "2024-02-01", "2026-08-31", DARATUMUMAB, POMALIDOMIDE)
    return p.lab("33358-3", "Serum M-protein", 0.9, "g/dL", "2026-11-01") if mprotein else p


p = abecma_base("ide-approve")
scenario("ide-approve", "Abecma: relapsed MM after 2 lines, all criteria met", p, p.order(ABECMA, ABECMA_DOSE),
         "likely-approved", criteria={"dx-rrmm": "met", "prior-lines": "met", "no-cns": "met", "no-prior-bcma": "met",
                                      "no-prior-cart": "met", "no-concurrent-cart": "met", "dose": "met"})

p = abecma_base("ide-cns").condition("icd", "G40.909", "Epilepsy, unspecified, not intractable", onset="2015-04-01")
scenario("ide-cns", "Abecma: history of epilepsy (clinically relevant CNS pathology)", p, p.order(ABECMA, ABECMA_DOSE),
         "likely-denied", criteria={"no-cns": "not-met", "cns-not-authorized": "not-met"},
         covered="not-covered", cite="I.A.6 / III.B")

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
         criteria={"not-dlbcl": "not-met"}, covered="not-covered", cite="D.i")

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
scenario("blin-cd19neg", "Blincyto: blasts documented CD19-negative (one reason, whatever the pathway)", p,
         p.order(BLINCYTO, BLIN_RR_C1), "likely-denied", cite="A.i / A.iv / A.vii / A.x",
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
         "likely-denied", criteria={"dx-ms": "not-met", "not-ppms": "not-met"}, covered="not-covered", cite="III.B")

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


