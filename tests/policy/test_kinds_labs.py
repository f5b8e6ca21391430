"""Lab and FLC kinds: windows, statuses, and UCUM conversion (never raw numbers)."""

from __future__ import annotations

import pytest

from cdshooks.policy import kinds_labs as k
from cdshooks.policy.model import Status

from .helpers import codeset, context, crit, obs, q

SPEP = codeset(("loinc", "33358-3"))
UPEP = codeset(("loinc", "42482-0"))
KAPPA, LAMBDA, RATIO = codeset(("loinc", "36916-5")), codeset(("loinc", "33944-0")), codeset(("loinc", "48378-4"))


def spep(**kw):
    return crit("lab", codes=SPEP, comparator=">=", threshold=q(0.5, "g/dL"), lookback_days=30, **kw)


@pytest.mark.parametrize("value, unit, status", [
    (1.2, "g/dL", Status.MET), (0.4, "g/dL", Status.NOT_MET), (5, "g/L", Status.MET), (4.9, "g/L", Status.NOT_MET),
    (500, "mg/dL", Status.MET),
])
def test_lab_compares_after_unit_conversion(value, unit, status):
    assert k.lab(spep(), context(obs("33358-3", value, unit, "2026-11-10"))).status is status


def test_lab_outside_the_window_is_missing_and_shows_the_stale_result():
    r = k.lab(spep(), context(obs("33358-3", 1.2, "g/dL", "2026-10-01")))
    assert r.status is Status.MISSING and "outside the look-back window" in r.evidence[0].text


def test_lab_uses_the_latest_final_in_window_result():
    older = obs("33358-3", 0.2, "g/dL", "2026-11-01")
    newer = obs("33358-3", 0.9, "g/dL", "2026-11-15")
    prelim = obs("33358-3", 0.1, "g/dL", "2026-11-18", status="preliminary")
    future = obs("33358-3", 0.1, "g/dL", "2026-11-25")
    r = k.lab(spep(), context(older, newer, prelim, future))
    assert r.status is Status.MET and r.evidence[0].date == "2026-11-15"


def test_lab_with_an_incomparable_unit_is_missing():
    c = crit("lab", codes=UPEP, comparator=">=", threshold=q(200, "mg/(24.h)"), lookback_days=30)
    r = k.lab(c, context(obs("42482-0", 30, "mg/dL", "2026-11-10")))
    assert r.status is Status.MISSING and "cannot be compared" in r.note
    assert k.lab(c, context(obs("42482-0", 0.25, "g/(24.h)", "2026-11-10"))).status is Status.MET
    assert k.lab(c, context(obs("42482-0", 150, "mg/(24.h)", "2026-11-10"))).status is Status.NOT_MET


def test_lab_without_observations_read_is_missing():
    assert k.lab(spep(), context(unavailable={"Observation": "FHIR server answered 500"})).status is Status.MISSING


def flc(*resources):
    c = crit("flc", kappa=KAPPA, ratio=RATIO, threshold=q(10, "mg/dL"), lookback_days=30, **{"lambda": LAMBDA})
    return k.flc(c, context(*resources))


def test_flc_kappa_involved_in_mg_per_litre_meets_10_mg_per_dl():
    r = flc(obs("36916-5", 150, "mg/L", "2026-11-12"), obs("33944-0", 8, "mg/L", "2026-11-12"),
            obs("48378-4", 18.75, "1", "2026-11-12"))
    assert r.status is Status.MET and "(= 15 mg/dL)" in r.evidence[1].text


def test_flc_lambda_involved_when_ratio_is_low():
    r = flc(obs("36916-5", 1.1, "mg/dL", "2026-11-12"), obs("33944-0", 12.5, "mg/dL", "2026-11-12"),
            obs("48378-4", 0.088, "1", "2026-11-12"))
    assert r.status is Status.MET and "λ" in r.evidence[1].text


def test_flc_normal_ratio_is_not_met_and_lab_interpretation_wins():
    normal = flc(obs("36916-5", 150, "mg/L", "2026-11-12"), obs("48378-4", 1.2, "1", "2026-11-12"))
    assert normal.status is Status.NOT_MET
    flagged = obs("48378-4", 1.9, "1", "2026-11-12", interpretation=[{"coding": [{"code": "N"}]}])
    assert flc(obs("36916-5", 150, "mg/L", "2026-11-12"), flagged).status is Status.NOT_MET


def test_flc_below_threshold_is_not_met_and_missing_pieces_are_missing():
    low = flc(obs("36916-5", 60, "mg/L", "2026-11-12"), obs("48378-4", 5.0, "1", "2026-11-12"))
    assert low.status is Status.NOT_MET
    assert flc(obs("36916-5", 150, "mg/L", "2026-11-12")).status is Status.MISSING  # no ratio
    assert flc(obs("48378-4", 5.0, "1", "2026-11-12")).status is Status.MISSING  # no κ from that draw
