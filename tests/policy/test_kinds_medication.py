"""Medication-history, concurrency, line-count, failure, timing and dose kinds, status by status."""

from __future__ import annotations

from cdshooks.policy import kinds_dose
from cdshooks.policy import kinds_medication as k
from cdshooks.policy.model import Status

from .helpers import EMPTY, attestation, cc, codeset, context, crit, given, order, q

PI = codeset(("rx", "358258"), names=("bortezomib", "kyprolis"))
BCMA = codeset(("rx", "2619426"))
NOT_TOLERATED = codeset(("sct", "407563006"))
FAIL_OR_AE = codeset(("sct", "407563006"), ("sct", "266721009"))
ANTIMM = codeset(("rx", "358258"), ("rx", "342369"), ("rx", "1721947"), ("hcpcs", "J1323"))


def test_med_class_met_by_administration_or_by_name():
    assert k.med_class(crit("med_class", codes=PI), context(given(cc("rx", "358258"), "2024-01-01"))).status \
        is Status.MET
    by_name = given({"text": "Kyprolis 20 mg"}, "2024-01-01")
    r = k.med_class(crit("med_class", codes=PI), context(by_name))
    assert r.status is Status.MET and "kyprolis" in r.evidence[0].text


def test_med_class_absent_is_missing_and_entered_in_error_does_not_count():
    assert k.med_class(crit("med_class", codes=PI), context()).status is Status.MISSING
    wrong = given(cc("rx", "358258"), "2024-01-01", status="entered-in-error")
    assert k.med_class(crit("med_class", codes=PI), context(wrong)).status is Status.MISSING


def test_med_class_intolerance_counts_only_when_the_policy_says_so():
    ai = {"resourceType": "AllergyIntolerance", "id": "ai1", "patient": {"reference": "Patient/p1"},
          "type": "intolerance", "code": cc("rx", "358258")}
    c = crit("med_class", codes=PI, intolerance_counts=True, intolerance_reasons=NOT_TOLERATED)
    assert k.med_class(c, context(ai)).status is Status.MET
    assert k.med_class(crit("med_class", codes=PI), context(ai)).status is Status.MISSING


def test_no_prior_statuses():
    c = crit("no_prior", codes=BCMA, history_codes=codeset(("icd", "Z92.850")))
    assert k.no_prior(c, context()).status is Status.MET
    assert k.no_prior(c, context(given(cc("rx", "2619426"), "2025-01-01"))).status is Status.NOT_MET
    from .helpers import condition

    assert k.no_prior(c, context(condition("icd", "Z92.850", clinical="resolved"))).status is Status.NOT_MET
    unread = context(unavailable={"MedicationAdministration": "FHIR server answered 500"})
    assert k.no_prior(c, unread).status is Status.MISSING


def test_concurrent_not_met_by_another_order_now_or_an_active_one():
    c = crit("concurrent", codes=ANTIMM)
    other = order(cc("rx", "1721947"), id="dara")
    assert k.concurrent(c, context(others=(other,))).status is Status.NOT_MET
    active = given(cc("rx", "342369"), "2026-10-01", "2027-03-01", rtype="MedicationRequest", status="active")
    assert k.concurrent(c, context(active)).status is Status.NOT_MET
    taking = given(cc("rx", "342369"), "2026-06-01", rtype="MedicationStatement", status="active",
                   effectivePeriod={"start": "2026-06-01"})
    assert k.concurrent(c, context(taking)).status is Status.NOT_MET


def test_concurrent_ignores_the_ordered_drug_and_stopped_orders():
    c = crit("concurrent", codes=ANTIMM)
    same_drug = order(cc("hcpcs", "J1323"), id="second-dose")
    ended = given(cc("rx", "342369"), "2026-01-01", "2026-06-01", rtype="MedicationRequest", status="active")
    assert k.concurrent(c, context(ended, others=(same_drug,))).status is Status.MET


def test_combination_needs_every_component():
    tki = codeset(("rx", "475342"))
    c = crit("combination", components=(tki,))
    assert k.combination(c, context(others=(order(cc("rx", "475342"), id="tki"),))).status is Status.MET
    assert k.combination(c, context()).status is Status.NOT_MET


def test_lines_counted_from_dates_and_drug_sets_and_decided_by_attestation():
    def stmt(code, start, end, rid):
        return given(cc("rx", code), start, end, rtype="MedicationStatement", id=rid)

    c = crit("lines", cid="prior-lines", codes=ANTIMM, min=2)
    two = (stmt("358258", "2022-01-01", "2022-06-30", "v"), stmt("1721947", "2022-09-01", "2023-03-01", "d"))
    assert k.lines(c, context(*two)).status is Status.MET
    # Orders are intentions: grouped order sets prove no line at all.
    orders = [given(cc("rx", code), f"202{n}-01-01", rtype="MedicationRequest", id=f"o{n}",
                    groupIdentifier={"value": f"L{n}"}) for n, code in ((1, "358258"), (2, "342369"))]
    assert k.lines(c, context(*orders)).status is Status.MISSING
    assert k.lines(c, context(attestation(prior_lines=1))).status is Status.NOT_MET
    assert k.lines(c, context(attestation(prior_lines=3))).status is Status.MET


def test_failure_needs_a_reason():
    dmf = cc("rx", "1373478")
    c = crit("failure", codes=codeset(("rx", "1373478")), reasons=FAIL_OR_AE)
    stopped = given(dmf, "2020-01-01", rtype="MedicationRequest", status="stopped",
                    statusReason=cc("sct", "266721009", "No response"))
    assert k.failure(c, context(stopped)).status is Status.MET
    taken = given(dmf, "2019-01-01", "2019-12-31", rtype="MedicationStatement")
    r = k.failure(c, context(taken))
    assert r.status is Status.MISSING and "no failure" in r.note
    only_ordered = given(dmf, "2020-01-01", rtype="MedicationRequest", status="stopped")
    assert k.failure(c, context(only_ordered)).status is Status.MISSING
    assert k.failure(c, context()).status is Status.MISSING


def test_time_since_last_course():
    c = crit("time_since_last", months=12)
    assert k.time_since_last(c, context(given(cc("hcpcs", "J1323"), "2025-06-01", "2025-06-05"))).status is Status.MET
    assert k.time_since_last(c, context(given(cc("hcpcs", "J1323"), "2026-06-01"))).status is Status.NOT_MET
    assert k.time_since_last(c, context()).status is Status.MISSING


def test_receiving_for_at_least_n_days():
    c = crit("receiving", min_days=30)
    assert k.receiving(c, context(given(cc("hcpcs", "J1323"), "2026-09-01"))).status is Status.MET
    assert k.receiving(c, context(given(cc("hcpcs", "J1323"), "2026-11-10"))).status is Status.NOT_MET
    assert k.receiving(c, context()).status is Status.MISSING


def test_order_quantity():
    c = crit("order_quantity", max=1)
    assert k.order_quantity(c, context(draft=order(dispenseRequest={"quantity": {"value": 1}}))).status is Status.MET
    assert k.order_quantity(c, context(draft=order(dispenseRequest={"quantity": {"value": 2}}))).status \
        is Status.NOT_MET
    assert k.order_quantity(c, context()).status is Status.MISSING


# ---- dose -----------------------------------------------------------------------------------------------------
def dosage(amount, unit, period=None, per="wk", days=None, rate=None):
    d = {"doseAndRate": [{}]}
    if amount is not None:
        d["doseAndRate"][0]["doseQuantity"] = {"value": amount, "unit": unit, "code": unit}
    if rate:
        d["doseAndRate"][0]["rateQuantity"] = {"value": rate[0], "code": rate[1]}
    if period:
        d["timing"] = {"repeat": {"frequency": 1, "period": period, "periodUnit": per}}
        if days:
            d["timing"]["repeat"]["boundsDuration"] = {"value": days, "code": "d"}
    return [d]


WEEKLY = crit("dose", phases=({"from_week": 1, "to_week": 24, "max_dose": q(76, "mg"), "min_interval_days": 7},),
              strict_phase=True)


def dose(c, dosage_instruction, *history):
    return kinds_dose.dose(c, context(*history, draft=order(dosageInstruction=dosage_instruction)))


def test_dose_within_limits_and_in_other_units():
    assert dose(WEEKLY, dosage(76, "mg", 1)).status is Status.MET
    assert dose(WEEKLY, dosage(0.076, "g", 1)).status is Status.MET


def test_dose_over_amount_or_too_frequent_is_not_met():
    assert dose(WEEKLY, dosage(100, "mg", 1)).status is Status.NOT_MET
    r = dose(WEEKLY, dosage(76, "mg", 3, "d"))
    assert r.status is Status.NOT_MET and "more often" in r.note


def test_dose_unstructured_or_missing_is_missing():
    assert dose(WEEKLY, [{"text": "76 mg weekly"}]).status is Status.MISSING
    assert kinds_dose.dose(WEEKLY, context()).status is Status.MISSING


def test_dose_phase_follows_week_of_therapy_and_strict_phases_do_not_apply_elsewhere():
    first = given(cc("hcpcs", "J1323"), "2026-03-01")  # week 38 on 2026-11-20
    assert dose(WEEKLY, dosage(76, "mg", 1), first).status is Status.NOT_MET
    later = crit("dose", phases=({"from_week": 25, "to_week": 48, "max_dose": q(76, "mg"), "min_interval_days": 14},),
                 strict_phase=True)
    assert dose(later, dosage(76, "mg", 2), first).status is Status.MET
    assert dose(later, dosage(76, "mg", 1), first).status is Status.NOT_MET


def test_dose_daily_rate_and_course_days():
    blin = crit("dose", phases=({"max_daily": q(28, "ug/d")},))
    assert dose(blin, dosage(None, "", rate=(28, "ug/d"))).status is Status.MET
    assert dose(blin, dosage(None, "", rate=(0.04, "mg/d"))).status is Status.NOT_MET
    lem = crit("dose", phase_by="course", phases=({"course": "first", "max_dose": q(12, "mg"), "min_interval_days": 1,
                                                  "max_days": 5},))
    assert dose(lem, dosage(12, "mg", 1, "d", days=5)).status is Status.MET
    assert dose(lem, dosage(12, "mg", 1, "d", days=7)).status is Status.NOT_MET
    assert dose(lem, dosage(12, "mg", 1, "d")).status is Status.MISSING  # course length not stated


def test_empty_codeset_matches_nothing():
    assert EMPTY.match([cc("rx", "1")]) is None
