"""Every number that decides a verdict, hand-copied from the policy texts in ../shared/policies/ (not from the
mappings). tests/policy/test_pinned_numbers.py checks the loaded mappings against this table, and each pin has a
just-inside and a just-outside fixture (fhir_fixtures/boundaries.py) with the reviewer's answer.

path: where the number lives in the compiled criterion (params keys, phases[i], step_up[i]); value: the number
as the policy text states it ("0.5 g/dL" is compared after UCUM parsing, plain numbers as numbers).
"""

from __future__ import annotations

from typing import NamedTuple


class Pin(NamedTuple):
    id: str
    policy: str
    item: str
    text: str  # the policy's own words
    criterion: str
    path: str
    value: object


ELX, IDE, BLIN, LEM = "LA.PHAR.652", "CP.PHAR.481", "MP-RX-FP-14-23", "CP.PHAR.243"

PINS: tuple[Pin, ...] = (
    # LA.PHAR.652 elranatamab (000_811ee841f9364976.txt)
    Pin("elx-age", ELX, "I.A.3", "Age ≥ 18 years", "age", "min", 18),
    Pin("elx-mprotein", ELX, "I.A.5.a.i", "Serum M-protein ≥ 0.5 g/dL", "serum-mprotein", "threshold", "0.5 g/dL"),
    Pin("elx-lookback", ELX, "I.A.5.a", "assessed within the last 30 days", "serum-mprotein", "lookback_days", 30),
    Pin("elx-urine", ELX, "I.A.5.a.ii", "Urine M-protein ≥ 200 mg/24 h", "urine-mprotein", "threshold",
        "200 mg/(24.h)"),
    Pin("elx-flc", ELX, "I.A.5.a.iii", "involved FLC level ≥ 10 mg/dL (100 mg/L)", "flc", "threshold", "10 mg/dL"),
    Pin("elx-pd-window", ELX, "I.A.5.b", "assessed within 60 days following the last dose", "progression", "days", 60),
    Pin("elx-lines", ELX, "I.A.7", "≥ 4 prior lines of therapy", "prior-lines", "min", 4),
    Pin("elx-step1", ELX, "I.A.8.a.i", "12 mg on day 1", "dose-wk1-24", "phases[0].step_up[0].max_dose", "12 mg"),
    Pin("elx-step2", ELX, "I.A.8.a.i", "32 mg on day 4", "dose-wk1-24", "phases[0].step_up[1].max_dose", "32 mg"),
    Pin("elx-dose", ELX, "I.A.8.a.i", "76 mg on day 8 and weekly thereafter through week 24", "dose-wk1-24",
        "phases[0].max_dose", "76 mg"),
    Pin("elx-weekly", ELX, "I.A.8.a.i", "weekly thereafter through week 24", "dose-wk1-24",
        "phases[0].min_interval_days", 7),
    Pin("elx-receiving", ELX, "II.A.1", "has received this medication for at least 30 days", "receiving-30-days",
        "min_days", 30),
    Pin("elx-q2w", ELX, "II.A.3.a.ii", "Week 25 through week 48: 76 mg every 2 weeks", "continued-dose-wk25-48",
        "phases[0].min_interval_days", 14),
    Pin("elx-q4w", ELX, "I.A.8.a.iii", "Week 49 of therapy and beyond: 76 mg every 4 weeks", "dose-wk49",
        "phases[0].min_interval_days", 28),
    # CP.PHAR.481 idecabtagene vicleucel (002_c6b69c5c4e22c6c1.txt)
    Pin("ide-age", IDE, "I.A.3", "Age ≥ 18 years", "age", "min", 18),
    Pin("ide-mprotein", IDE, "I.A.4.a.i", "Serum M-protein ≥ 0.5 g/dL", "serum-mprotein", "threshold", "0.5 g/dL"),
    Pin("ide-lookback", IDE, "I.A.4.a", "assessed within the last 30 days", "serum-mprotein", "lookback_days", 30),
    Pin("ide-urine", IDE, "I.A.4.a.ii", "Urine M-protein ≥ 200 mg/24 h", "urine-mprotein", "threshold",
        "200 mg/(24.h)"),
    Pin("ide-flc", IDE, "I.A.4.a.iii", "involved FLC level ≥ 10 mg/dL (100 mg/L)", "flc", "threshold", "10 mg/dL"),
    Pin("ide-pd-window", IDE, "I.A.4.b", "assessed within 60 days following the last dose", "progression", "days", 60),
    Pin("ide-lines", IDE, "I.A.5", "≥ 2 prior lines of therapy", "prior-lines", "min", 2),
    Pin("ide-dose", IDE, "I.A.10", "Dose does not exceed 510 x 10^6 CAR-positive T-cells", "dose",
        "phases[0].max_dose", "510 10*6"),
    Pin("ide-one-dose", IDE, "I.A (approval)", "1 dose only", "dose", "phases[0].max_count", 1),
    # MP-RX-FP-14-23 blinatumomab (003_87c451977d53c8c4.txt)
    Pin("blin-mrd", BLIN, "A.iii.B", "MRD greater than or equal to 0.1%", "mrd-level", "threshold", "0.1 %"),
    Pin("blin-daily", BLIN, "Limits.A", "28 mcg/day", "dose-daily", "phases[0].max_daily", "28 ug/d"),
    Pin("blin-weight", BLIN, "Limits.A", "Patients weighing 45 kg or more (Fixed Dose)", "dose-daily",
        "phases[0].weight_below_kg", 45),
    Pin("blin-bsa", BLIN, "Limits.A", "15 mcg/m2/day", "dose-daily", "phases[0].max_daily_per_m2", "15 ug/(m2.d)"),
    Pin("blin-rr-step", BLIN, "Limits.A", "Induction Cycle 1 Days 1-7: 9 mcg/day", "dose-rr-cycle1",
        "phases[0].step_up[0].max_daily", "9 ug/d"),
    Pin("blin-cycles-rr", BLIN, "Limits.A / B.i", "Up to 9 cycles of treatment", "cycles-within-9", "max", 9),
    Pin("blin-cycles-mrd", BLIN, "Limits.A / B.i", "Up to 4 cycles", "cycles-within-4", "max", 4),
    # CP.PHAR.243 alemtuzumab (004_9f65f01cc7694eb0.txt)
    Pin("lem-age", LEM, "I.A.3", "Age ≥ 18 years", "age", "min", 18),
    Pin("lem-first-dose", LEM, "I.A.6.a", "First treatment course: 12 mg per day", "dose-first-course",
        "phases[0].max_dose", "12 mg"),
    Pin("lem-first-days", LEM, "I.A.6.a", "for 5 consecutive days (60 mg total)", "dose-first-course",
        "phases[0].max_days", 5),
    Pin("lem-later-days", LEM, "II.A.5", "12 mg per day for 3 consecutive days (36 mg total)", "continued-dose",
        "phases[0].max_days", 3),
    Pin("lem-12-months", LEM, "II.A.4", "at least 12 months since completion of the prior treatment course",
        "twelve-months", "months", 12),
)

# Approval durations as the current revision states them, per line of business.
DURATIONS: tuple[tuple[str, str, str | None, str], ...] = (
    # The 12.22.25 revision changes it from 6 to 12 months but awaits LDH approval: 6 until then (owner).
    (ELX, "initial", None, "6 months (12 months once the 12.22.25 revision is approved)"),
    (ELX, "continued", None, "12 months"),
    (IDE, "initial", None,
     "3 months (1 dose only; up to 4 doses of tocilizumab at up to 800 mg per dose if requested)"),
    (BLIN, "initial", None, "Per cycle"),
    (LEM, "initial", "medicaid", "12 months (1 treatment course only)"),
    (LEM, "initial", "marketplace", "12 months (1 treatment course only)"),
    (LEM, "initial", "commercial",
     "6 months or to the member's renewal date, whichever is longer (1 treatment course only)"),
)
