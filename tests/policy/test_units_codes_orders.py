"""Units (UCUM via ucumvert), code matching (NDC, HCPCS spellings, names) and Coverage routing."""

from __future__ import annotations

from datetime import date

import pytest

from cdshooks.fhir.codes import normalize_ndc
from cdshooks.fhir.record import PatientRecord
from cdshooks.policy.codes import CodeSet
from cdshooks.policy.routing import line_of_business, match_coverage
from cdshooks.policy.units import UnitError, convert


@pytest.mark.parametrize("value, src, dst, expected", [
    (1, "g/dL", "g/L", 10), (150, "mg/L", "mg/dL", 15), (0.25, "g/(24.h)", "mg/(24.h)", 250),
    (0.001, "1", "%", 0.1), (4.5e8, "{cells}", "10*6", 450), (0.028, "mg/d", "ug/d", 28),
])
def test_convert(value, src, dst, expected):
    assert convert(value, src, dst) == pytest.approx(expected)


@pytest.mark.parametrize("value, src, dst, threshold", [
    (0.2, "g/(24.h)", "mg/(24.h)", 200), (0.3, "g/dL", "mg/dL", 300), (0.1, "g/dL", "mg/dL", 100),
    (5.1e8, "{cells}", "10*6", 510), (0.7, "g/(24.h)", "mg/(24.h)", 700), (0.028, "mg/d", "ug/d", 28),
])
def test_a_value_at_a_threshold_in_another_unit_is_exactly_at_it(value, src, dst, threshold):
    """Not approximately: 0.2 g/24 h must meet "≥ 200 mg/24 h" and fail "> 200 mg/24 h" (binary floating point
    alone makes it 200.00000000000003)."""
    assert convert(value, src, dst) == threshold


@pytest.mark.parametrize("src, dst", [("mg/dL", "mg/(24.h)"), ("furlong", "mg"), ("mg", "m")])
def test_convert_refuses_incompatible_or_unknown_units(src, dst):
    with pytest.raises(UnitError):
        convert(1, src, dst)


@pytest.mark.parametrize("raw, eleven", [("0069-4494-02", "00069449402"), ("57894-449-01", "57894044901"),
                                         ("55513-0160-1", "55513016001"), ("00069449402", "00069449402")])
def test_ndc_normalisation(raw, eleven):
    assert normalize_ndc(raw) == eleven


def test_ndc_and_hcpcs_spellings_match(library):
    drug = library.valuesets["DRUG-ELRANATAMAB"]
    assert drug.match([{"coding": [{"system": "http://hl7.org/fhir/sid/ndc", "code": "00069-4494-02"}]}])
    assert drug.match([{"coding": [{"system": "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
                                    "code": "j1323"}]}])
    by_name = drug.match([{"text": "ELREXFIO 76 mg/1.9 mL SC"}])
    assert by_name and by_name.by_text
    assert not drug.match([{"text": "elranatamabx"}])


def test_campath_product_does_not_route_to_the_lemtrada_policy(library):
    assert not library.valuesets["DRUG-ALEMTUZUMAB-LEMTRADA"].match(
        [{"coding": [{"system": "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", "code": "J9010"}]}],
        use_text=False)


@pytest.mark.parametrize("coverage, lob", [
    ({"type": {"coding": [{"system": "https://nahdo.org/sopt", "code": "21"}]}}, "medicaid"),
    ({"type": {"coding": [{"system": "https://nahdo.org/sopt", "code": "111"}]}}, "medicare"),
    ({"type": {"coding": [{"system": "https://nahdo.org/sopt", "code": "51"}]}}, "commercial"),
    ({"type": {"text": "Marketplace silver"}}, "marketplace"),
    ({"class": [{"value": "LA Medicaid managed care", "name": "plan"}]}, "medicaid"),
    ({}, None),
])
def test_line_of_business(coverage, lob):
    assert line_of_business(coverage) == lob


ON = date(2026, 11, 20)


def coverage(payer: str, sopt: str | None, status: str = "active", cid: str = "c1", **kw) -> dict:
    cov = {"resourceType": "Coverage", "id": cid, "status": status, "payor": [{"display": payer}],
           "beneficiary": {"reference": "Patient/p1"}, **kw}
    if sopt:
        cov["type"] = {"coding": [{"system": "https://nahdo.org/sopt", "code": sopt}]}
    return cov


def coverage_record(payer: str, sopt: str | None, status: str = "active", **kw) -> PatientRecord:
    return PatientRecord.from_resources("p1", [coverage(payer, sopt, status, **kw)])


def policy(library, pid):
    return next(p for p in library.policies if p.id == pid)


def test_coverage_routing_by_payer_and_line_of_business(library):
    lhcc = policy(library, "LA.PHAR.652")
    assert match_coverage(lhcc, coverage_record("Louisiana Healthcare Connections", "2"), ON).payer_name == \
        "Louisiana Healthcare Connections"
    assert match_coverage(lhcc, coverage_record("Louisiana Healthcare Connections", "5"), ON) is None  # not Medicaid
    assert match_coverage(lhcc, coverage_record("Louisiana Healthcare Connections", "2", "cancelled"), ON) is None
    assert match_coverage(lhcc, coverage_record("Aetna", "2"), ON) is None
    abecma = policy(library, "CP.PHAR.481")
    assert match_coverage(abecma, coverage_record("Ambetter from Peach State Health Plan", "51"), ON)
    assert match_coverage(abecma, coverage_record("Wellcare of Georgia", "111"), ON) is None  # Medicare not listed
    blin = policy(library, "MP-RX-FP-14-23")
    assert match_coverage(blin, coverage_record("MMM Multihealth", "21"), ON)  # any line of business
    assert match_coverage(blin, coverage_record("MMM Healthcare", "21"), ON) is None


@pytest.mark.parametrize("plan", ["Buckeye Health Plan", "Home State Health", "Arizona Complete Health",
                                  "Magnolia Health", "Coordinated Care", "Sunshine Health", "Peach State Health Plan",
                                  "Superior HealthPlan", "Absolute Total Care", "Western Sky Community Care"])
def test_every_centene_medicaid_plan_gets_the_centene_policies(library, plan):
    """CP.PHAR.481/243 apply to health plans affiliated with Centene (policy text), on the lines they list."""
    for pid in ("CP.PHAR.481", "CP.PHAR.243"):
        assert match_coverage(policy(library, pid), coverage_record(plan, "21"), ON), (pid, plan)


def test_a_plan_whose_line_of_business_cannot_be_read_gets_no_card(library):
    # A WellCare member whose Coverage names no line of business could be Medicare: never a Medicaid card.
    assert match_coverage(policy(library, "CP.PHAR.481"), coverage_record("WellCare", None), ON) is None
    assert match_coverage(policy(library, "CP.PHAR.481"), coverage_record("Wellcare Medicare HMO", None), ON) is None


def test_the_order_date_must_fall_inside_the_coverage_period(library):
    abecma = policy(library, "CP.PHAR.481")
    ended = coverage_record("Sunshine Health", "21", period={"start": "2025-01-01", "end": "2026-06-30"})
    assert match_coverage(abecma, ended, ON) is None
    future = coverage_record("Sunshine Health", "21", period={"start": "2027-01-01"})
    assert match_coverage(abecma, future, ON) is None
    current = coverage_record("Sunshine Health", "21", period={"start": "2026-01-01", "end": "2026-12-31"})
    assert match_coverage(abecma, current, ON)


def test_with_several_coverages_the_first_in_coverage_order_that_a_policy_names_wins(library):
    abecma = policy(library, "CP.PHAR.481")
    record = PatientRecord.from_resources("p1", [
        coverage("Ambetter from Sunshine Health", "51", cid="second", order=2),
        coverage("Sunshine Health", "21", cid="first", order=1),
        coverage("Medicare Part B", "1", cid="zeroth", order=0),  # no policy names it
    ])
    assert match_coverage(abecma, record, ON).ref == "Coverage/first"


def test_payer_identifier_matches_when_configured():
    from cdshooks.policy.model import Applicability, Payer
    from cdshooks.policy.routing import _payer_matches

    app = Applicability(Payer("x", "X Health", ("x health",), ("PAYER-123",)), frozenset())
    assert _payer_matches(app, [], ["PAYER-123"]) == "X Health"
    assert _payer_matches(app, ["Other"], ["PAYER-9"]) is None


def test_codeset_union_and_minus():
    a = CodeSet("a", frozenset({("s", "1"), ("s", "2")}), names=("x",))
    b = CodeSet("b", frozenset({("s", "2")}))
    assert a.minus(b, "c").codes == {("s", "1")}
    assert a.union(b, "d").codes == {("s", "1"), ("s", "2")}
