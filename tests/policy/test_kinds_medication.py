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
    other = given(cc("rx", "358258"), "2024-01-01")  # bortezomib: a history that holds no anti-BCMA agent
    assert k.no_prior(c, context(other)).status is Status.MET
    # an empty history is no proof that nothing was given (issue #23: an empty search is never "none")
    assert k.no_prior(c, context()).status is Status.MISSING
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
    kind = kinds_dose.dose_increase if c.kind == "dose_increase" else kinds_dose.dose
    return kind(c, context(*history, draft=order(dosageInstruction=dosage_instruction)))


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


def test_an_earlier_order_is_asked_about_unless_it_was_cancelled():
    c = crit("no_prior", codes=BCMA)
    completed = given(cc("rx", "2619426"), "2025-06-01", rtype="MedicationRequest", status="completed")
    r = k.no_prior(c, context(completed))
    assert r.status is Status.MISSING and "confirm whether it was given" in r.note
    cancelled = given(cc("rx", "2619426"), "2025-06-01", rtype="MedicationRequest", status="cancelled")
    assert k.no_prior(c, context(cancelled)).status is Status.MET


def test_a_stale_active_order_is_a_question_and_a_recent_dose_keeps_it_current():
    c = crit("concurrent", codes=ANTIMM)
    old_order = given(cc("rx", "342369"), "2024-01-01", rtype="MedicationRequest", status="active",
                      dosageInstruction=[])  # no period: current since 2024, no dose since
    r = k.concurrent(c, context(old_order))
    assert r.status is Status.MISSING and r.note == "confirm this order was stopped"
    dispensed = {"resourceType": "MedicationDispense", "id": "d1", "status": "completed",
                 "subject": {"reference": "Patient/p1"}, "medicationCodeableConcept": cc("rx", "342369"),
                 "whenHandedOver": "2026-10-30"}
    assert k.concurrent(c, context(old_order, dispensed)).status is Status.NOT_MET


def test_intrathecal_use_is_not_combination_therapy():
    c = crit("concurrent", codes=codeset(("rx", "6851")))
    it = order(cc("rx", "6851"), id="it-mtx",
               dosageInstruction=[{"route": cc("sct", "72607000", "Intrathecal route")}])
    assert k.concurrent(c, context(others=(it,))).status is Status.MET
    iv = order(cc("rx", "6851"), id="iv-mtx", dosageInstruction=[{"route": {"text": "intravenous"}}])
    assert k.concurrent(c, context(others=(iv,))).status is Status.NOT_MET


def test_lines_keep_induction_transplant_and_maintenance_as_one_and_split_on_progression():
    from cdshooks.fhir.record import PatientRecord
    from cdshooks.policy.kinds_medication import regimen_lines

    def stmt(code, start, end, rid):
        return given(cc("rx", code), start, end, rtype="MedicationStatement", id=rid)

    rec = PatientRecord.from_resources("p1", [
        stmt("358258", "2022-01-10", "2022-05-20", "v"), stmt("342369", "2022-01-10", "2022-05-20", "r"),
        stmt("6718", "2022-06-14", "2022-06-14", "mel"),  # conditioning for the transplant on 06-16
        stmt("342369", "2022-08-01", "2024-02-25", "maint")])
    from datetime import date

    exposures = [(e, e.text or e.keys[0][1]) for e in rec.exposures]
    lines, _ = regimen_lines(exposures, [date(2022, 6, 16)], [])
    assert len(lines) == 1
    dara = stmt("1721947", "2024-03-10", "2025-01-01", "d")
    rec2 = PatientRecord.from_resources("p1", [*[e.resource for e in rec.exposures], dara])
    exposures = [(e, e.text or e.keys[0][1]) for e in rec2.exposures]
    assert len(regimen_lines(exposures, [date(2022, 6, 16)], [date(2024, 2, 20)])[0]) == 2


def test_an_amount_over_a_duration_is_a_daily_rate():
    blin = crit("dose", phases=({"max_daily": q(28, "ug/d")},))
    bag = [{"doseAndRate": [{"doseQuantity": {"value": 112, "code": "ug"}}],
            "timing": {"repeat": {"duration": 96, "durationUnit": "h"}}}]
    assert dose(blin, bag).status is Status.MET  # 112 µg over 4 days = 28 µg/day
    bag[0]["doseAndRate"][0]["doseQuantity"]["value"] = 120
    assert dose(blin, bag).status is Status.NOT_MET  # 30 µg/day
    no_duration = [{"doseAndRate": [{"doseQuantity": {"value": 112, "code": "ug"}}]}]
    assert dose(blin, no_duration).status is Status.MISSING  # how long the bag runs is unknown


def test_bounds_period_counts_consecutive_calendar_days():
    lem = crit("dose", phases=({"max_dose": q(12, "mg"), "min_interval_days": 1, "max_days": 5},))

    def course(end):
        return [{"doseAndRate": [{"doseQuantity": {"value": 12, "code": "mg"}}],
                 "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d",
                                       "boundsPeriod": {"start": "2026-12-01", "end": end}}}}]

    assert dose(lem, course("2026-12-05")).status is Status.MET
    assert dose(lem, course("2026-12-06")).status is Status.NOT_MET


def test_a_first_course_follows_the_step_up_and_a_later_one_does_not_need_to():
    c = crit("dose", phases=({"max_dose": q(76, "mg"), "step_up": ({"max_dose": q(12, "mg")},)},))
    assert dose(c, dosage(76, "mg", 1)).status is Status.NOT_MET  # 76 mg as the very first dose
    steps = [{"sequence": 1, "doseAndRate": [{"doseQuantity": {"value": 12, "code": "mg"}}],
              "timing": {"repeat": {"count": 1}}}] + dosage(76, "mg", 1)
    assert dose(c, steps).status is Status.MET
    assert dose(c, dosage(76, "mg", 1), given(cc("hcpcs", "J1323"), "2026-10-01")).status is Status.MET


def test_under_the_weight_band_the_body_surface_limit_applies():
    c = crit("dose", phases=({"max_daily": q(28, "ug/d"), "weight_below_kg": 45,
                              "max_daily_per_m2": q(15, "ug/(m2.d)")},))
    weight = obs_("29463-7", 30, "kg")
    height = obs_("8302-2", 135, "cm")
    assert dose(c, dosage(None, "", rate=(28, "ug/d")), weight, height).status is Status.NOT_MET
    assert dose(c, dosage(None, "", rate=(15.9, "ug/d")), weight, height).status is Status.MET
    assert dose(c, dosage(None, "", rate=(15, "ug/(m2.d)")), weight).status is Status.MET  # written per m²
    assert dose(c, dosage(None, "", rate=(15, "ug/d")), weight).status is Status.MISSING  # no height for BSA
    assert dose(c, dosage(None, "", rate=(28, "ug/d"))).status is Status.MISSING  # no weight at all
    adult = obs_("29463-7", 45, "kg")
    assert dose(c, dosage(None, "", rate=(28, "ug/d")), adult).status is Status.MET


def obs_(loinc, value, unit):
    from .helpers import obs

    return obs(loinc, value, unit, "2026-11-15")


def test_one_infusion_only():
    c = crit("dose", phases=({"max_dose": q(510, "10*6"), "max_count": 1},))
    assert dose(c, dosage(450, "10*6")).status is Status.MET
    two = kinds_dose.dose(c, context(draft=order(dosageInstruction=dosage(450, "10*6"),
                                                 dispenseRequest={"quantity": {"value": 2}})))
    assert two.status is Status.NOT_MET


def test_dose_increase_is_a_larger_dose_or_a_shorter_interval_than_the_usual_one():
    c = crit("dose_increase")
    history = [given(cc("hcpcs", "J1323"), d, id=f"a{d}", dosage={"dose": {"value": 76, "code": "mg"}})
               for d in ("2026-09-07", "2026-09-21", "2026-10-05", "2026-10-19", "2026-11-02", "2026-11-16")]
    assert dose(c, dosage(76, "mg", 2), *history).status is Status.NOT_MET  # same schedule
    assert dose(c, dosage(76, "mg", 1), *history).status is Status.MET  # weekly after every 2 weeks
    assert dose(c, dosage(100, "mg", 2), *history).status is Status.MET  # larger dose
    assert dose(c, dosage(76, "mg", 4), *history).status is Status.NOT_MET  # less often
