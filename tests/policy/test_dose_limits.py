"""Dose limits read from the label and policy texts (not the mappings), run through the real criteria.

Blincyto: 9 mcg/day in cycle 1 days 1-7 of relapsed disease (under 45 kg 5 mcg/m²/day), 28 mcg/day after (under
45 kg 15 mcg/m²/day); body-surface area by Mosteller: 44.9 kg and 150 cm give 1.3678 m². Elrexfio continued
therapy (LA.PHAR.652 II.A.3.a): 76 mg weekly through week 24, every 2 weeks in weeks 25-48, every 4 weeks from
week 49 (the label schedule), week 1 being the week of the first dose.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from cdshooks.policy.loader import load_library
from cdshooks.policy.model import Status
from cdshooks.settings import DEFAULT_MAPPINGS

from .helpers import ANCHOR, SYS, cc, given, obs, run_criterion

LIBRARY = load_library(DEFAULT_MAPPINGS)
BLIN = next(p for p in LIBRARY.policies if p.id == "MP-RX-FP-14-23")
ELX = next(p for p in LIBRARY.policies if p.id == "LA.PHAR.652")
BLINCYTO = {"coding": [{"system": SYS["rx"], "code": "1597258", "display": "blinatumomab"}]}


def ucum(value: float, unit: str) -> dict:
    return {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}


def evaluate(criterion: str, kg: float, mcg_per_day: float, earlier_cycle: bool = False) -> Status:
    body = [obs("29463-7", kg, "kg", "2026-11-15"), obs("8302-2", 150, "cm", "2026-11-15")]
    history = [given(BLINCYTO, "2026-09-01", "2026-09-28")] if earlier_cycle else []
    order = {"medicationCodeableConcept": BLINCYTO,
             "dosageInstruction": [{"doseAndRate": [{"rateQuantity": ucum(mcg_per_day, "ug/d")}]}]}
    return run_criterion(BLIN, criterion, [*body, *history], order, birth="1990-01-01")


@pytest.mark.parametrize("kg, mcg, status", [
    (45, 9, Status.MET), (45, 9.1, Status.NOT_MET),  # 45 kg takes the fixed step-up dose
    (44.9, 6.8, Status.MET), (44.9, 6.9, Status.NOT_MET),  # 5 mcg/m² × 1.3678 m² = 6.84 mcg/day
])
def test_relapsed_cycle_one_step_up(kg, mcg, status):
    assert evaluate("dose-rr-cycle1", kg, mcg) is status


@pytest.mark.parametrize("kg, mcg, status", [
    (45, 28, Status.MET), (45, 28.5, Status.NOT_MET),
    (44.9, 20.5, Status.MET), (44.9, 20.6, Status.NOT_MET),  # 15 mcg/m² × 1.3678 m² = 20.52 mcg/day
])
def test_later_cycles(kg, mcg, status):
    assert evaluate("continued-dose-limit", kg, mcg, earlier_cycle=True) is status


def elrexfio(criterion: str, week: int, every_days: int, mg: float = 76) -> Status:
    """An order of `mg` every `every_days` days, in `week` of therapy (first dose (week - 1) × 7 days before)."""
    first = ANCHOR - timedelta(days=7 * (week - 1))
    order = {"medicationCodeableConcept": cc("hcpcs", "J1323"),
             "dosageInstruction": [{"doseAndRate": [{"doseQuantity": ucum(mg, "mg")}],
                                    "timing": {"repeat": {"frequency": 1, "period": every_days, "periodUnit": "d"}}}]}
    return run_criterion(ELX, criterion, [given(cc("hcpcs", "J1323"), first.isoformat())], order)


WK24, WK48, WK49 = "continued-dose-wk1-24", "continued-dose-wk25-48", "continued-dose-wk49"


@pytest.mark.parametrize("criterion, week, every, status", [
    (WK24, 24, 7, Status.MET), (WK24, 25, 7, Status.NOT_MET), (WK24, 24, 6, Status.NOT_MET),
    (WK48, 24, 14, Status.NOT_MET), (WK48, 25, 14, Status.MET), (WK48, 48, 14, Status.MET),
    (WK48, 49, 14, Status.NOT_MET), (WK48, 30, 13, Status.NOT_MET),
    (WK49, 48, 28, Status.NOT_MET), (WK49, 49, 28, Status.MET), (WK49, 60, 27, Status.NOT_MET),
])
def test_elrexfio_continued_schedule_by_week(criterion, week, every, status):
    assert elrexfio(criterion, week, every) is status


@pytest.mark.parametrize("criterion, week, every", [(WK24, 10, 7), (WK48, 30, 14), (WK49, 60, 28)])
def test_elrexfio_continued_dose_is_76_mg(criterion, week, every):
    assert elrexfio(criterion, week, every, mg=76) is Status.MET
    assert elrexfio(criterion, week, every, mg=77) is Status.NOT_MET


LEM = next(p for p in LIBRARY.policies if p.id == "CP.PHAR.243")
LEMTRADA = cc("rx", "1594660", "alemtuzumab 10 MG/ML [Lemtrada]")


def lemtrada(criterion: str, every_hours: int, days: int, earlier_course: bool, mg: float = 12) -> Status:
    """`mg` every `every_hours` hours for `days` days; a first course ended 2025-06-06 when `earlier_course`."""
    repeat = {"frequency": 1, "period": every_hours, "periodUnit": "h", "boundsDuration": ucum(days, "d")}
    order = {"medicationCodeableConcept": LEMTRADA,
             "dosageInstruction": [{"doseAndRate": [{"doseQuantity": ucum(mg, "mg")}], "timing": {"repeat": repeat}}]}
    history = [given(LEMTRADA, "2025-06-02", "2025-06-06")] if earlier_course else []
    return run_criterion(LEM, criterion, history, order, birth="1980-01-01")


@pytest.mark.parametrize("criterion, every_hours, days, earlier, status", [
    ("dose-first-course", 24, 5, False, Status.MET), ("dose-first-course", 12, 5, False, Status.NOT_MET),
    ("dose-first-course", 24, 6, False, Status.NOT_MET),
    ("dose-later-course", 24, 3, True, Status.MET), ("dose-later-course", 12, 3, True, Status.NOT_MET),
    ("dose-later-course", 24, 4, True, Status.NOT_MET), ("dose-later-course", 24, 2, True, Status.MET),
    ("continued-dose", 24, 3, True, Status.MET), ("continued-dose", 12, 3, True, Status.NOT_MET),
    ("continued-dose", 24, 4, True, Status.NOT_MET),
])
def test_lemtrada_12_mg_once_a_day_for_5_then_3_days(criterion, every_hours, days, earlier, status):
    """I.A.6 / II.A.5: 12 mg/day on 5 consecutive days, then 12 mg/day on 3 consecutive days."""
    assert lemtrada(criterion, every_hours, days, earlier) is status


@pytest.mark.parametrize("criterion, days, earlier", [("dose-first-course", 5, False), ("dose-later-course", 3, True),
                                                     ("continued-dose", 3, True)])
def test_lemtrada_dose_is_12_mg(criterion, days, earlier):
    assert lemtrada(criterion, 24, days, earlier, mg=12) is Status.MET
    assert lemtrada(criterion, 24, days, earlier, mg=13) is Status.NOT_MET


def test_elrexfio_week_one_is_in_the_first_phase():
    assert elrexfio(WK24, 1, 7) is Status.MET
