"""The engine's comparisons and day constants at their edges, with literal inputs: a value exactly at a limit, a
date exactly at a window's end, and one step past it. Mutation testing (scripts/mutation.sh) found these were
reached by no fixture: each test here names the reading it pins.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cdshooks.fhir.record import PatientRecord
from cdshooks.policy import kinds_clinical as clin
from cdshooks.policy import kinds_dose
from cdshooks.policy import kinds_labs as labs
from cdshooks.policy import kinds_medication as med
from cdshooks.policy.context import Context
from cdshooks.policy.kinds_medication import regimen_lines
from cdshooks.policy.model import Status
from cdshooks.policy.units import compare

from .helpers import ANCHOR, ATTEST, DRUG, SYS, cc, codeset, context, crit, given, obs, order, q

ELX = cc("hcpcs", "J1323")


def day(offset: int) -> str:
    return (ANCHOR + timedelta(days=offset)).isoformat()


@pytest.mark.parametrize("comparator, below, at, above", [
    (">=", False, True, True), (">", False, False, True), ("<=", True, True, False), ("<", True, False, False),
    ("==", False, True, False)])
def test_every_comparator_below_at_and_above_its_threshold(comparator, below, at, above):
    assert [compare(v, comparator, 5.0) for v in (4.0, 5.0, 6.0)] == [below, at, above]


def test_a_lab_drawn_on_the_order_date_counts_and_one_dated_after_it_does_not():
    spep = crit("lab", codes=codeset(("loinc", "33358-3")), comparator=">=", threshold=q(0.5, "g/dL"),
                lookback_days=30)
    assert labs.lab(spep, context(obs("33358-3", 1.0, "g/dL", day(0)))).status is Status.MET
    assert labs.lab(spep, context(obs("33358-3", 1.0, "g/dL", day(1)))).status is Status.MISSING


def _born(birth: str) -> Context:
    record = PatientRecord.from_resources("p1", [{"resourceType": "Patient", "id": "p1", "birthDate": birth}])
    return Context(record, order(), ANCHOR, DRUG, (ATTEST,))


def test_age_on_the_day_of_birth_is_zero_not_unknown_and_below_is_exclusive():
    assert clin.age(crit("age", min=18), _born(day(0))).status is Status.NOT_MET
    assert clin.age(crit("age", below=18), _born("2008-11-20")).status is Status.NOT_MET  # 18 today
    assert clin.age(crit("age", below=18), _born("2008-11-21")).status is Status.MET  # 17 until tomorrow


def test_a_body_weight_30_days_old_is_used_and_31_days_old_is_not():
    weight = (SYS["loinc"], "29463-7")
    used = kinds_dose._latest_body(context(obs("29463-7", 44, "kg", day(-30))), weight, "kg")
    assert used is not None and used[0] == 44
    assert kinds_dose._latest_body(context(obs("29463-7", 44, "kg", day(-31))), weight, "kg") is None


def test_the_week_of_therapy_picks_the_phase_with_both_ends_inclusive():
    c = crit("dose", phases=({"from_week": 1, "to_week": 24, "max_dose": q(76, "mg")},
                             {"from_week": 25, "to_week": 48, "max_dose": q(76, "mg")},
                             {"from_week": 49, "max_dose": q(76, "mg")}))
    for first_dose, week in ((-(7 * 23), 24), (-(7 * 24), 25), (-(7 * 47), 48), (-(7 * 48), 49)):
        phase, label, _ = kinds_dose._phase(c, context(given(ELX, day(first_dose))))
        assert label == f"week {week} of therapy"
        assert phase is not None and phase.get("from_week") <= week <= phase.get("to_week", week), (week, phase)


def test_no_repeats_allowed_is_not_a_second_dose():
    c = crit("dose", phases=({"max_dose": q(510, "10*6"), "max_count": 1},))
    single = [{"doseAndRate": [{"doseQuantity": {"value": 450, "code": "10*6"}}]}]
    ctx = context(draft=order(dosageInstruction=single, dispenseRequest={"numberOfRepeatsAllowed": 0}))
    assert kinds_dose.dose(c, ctx).status is Status.MET
    ctx = context(draft=order(dosageInstruction=single, dispenseRequest={"numberOfRepeatsAllowed": 1}))
    assert kinds_dose.dose(c, ctx).status is Status.NOT_MET


def test_a_gap_of_exactly_gap_days_starts_a_new_cycle():
    c = crit("cycles", max=2, gap_days=14)
    assert med.cycles(c, context(given(ELX, day(-40), id="a"), given(ELX, day(-26), id="b"))).status \
        is Status.NOT_MET  # two cycles given: this is the third
    assert med.cycles(c, context(given(ELX, day(-40), id="a"), given(ELX, day(-27), id="b"))).status is Status.MET


def test_an_ordered_quantity_equal_to_the_limit_is_within_it():
    c = crit("order_quantity", max=2)
    assert med.order_quantity(c, context(draft=order(dispenseRequest={"quantity": {"value": 2}}))).status \
        is Status.MET
    assert med.order_quantity(c, context(draft=order(dispenseRequest={"quantity": {"value": 3}}))).status \
        is Status.NOT_MET


def test_currently_receiving_allows_a_last_dose_exactly_within_days_ago():
    c = crit("receiving", min_days=0, current_within_days=60)
    assert med.receiving(c, context(given(ELX, day(-90), id="a"), given(ELX, day(-60), id="b"))).status \
        is Status.MET
    assert med.receiving(c, context(given(ELX, day(-90), id="a"), given(ELX, day(-61), id="b"))).status \
        is Status.MISSING


def test_therapy_ending_on_the_order_date_is_current_and_ended_the_day_before_is_not():
    c = crit("concurrent", codes=codeset(("rx", "342369")))
    lenalidomide = cc("rx", "342369")
    ending_today = given(lenalidomide, day(-60), day(0), rtype="MedicationStatement", status="active")
    assert med.concurrent(c, context(ending_today)).status is Status.NOT_MET
    ended = given(lenalidomide, day(-60), day(-1), rtype="MedicationStatement", status="active")
    assert med.concurrent(c, context(ended)).status is Status.MET


def _lines(*items: tuple[str, str, str], transplants: tuple[date, ...] = (), changes: tuple[date, ...] = ()):
    resources = [given(cc("rx", code), start, end, rtype="MedicationStatement", id=f"{code}-{start}")
                 for code, start, end in items]
    record = PatientRecord.from_resources("p1", resources)
    exposures = [(e, e.keys[0][1]) for e in record.exposures]
    lines, unsure = regimen_lines(exposures, list(transplants), list(changes))
    return len(lines), unsure


BORT, LEN, DARA, CYCLO = "358258", "342369", "1721947", "3002"


def test_a_drug_added_within_30_days_of_a_line_start_belongs_to_it():
    assert _lines((BORT, "2022-01-01", "2022-12-31"), (LEN, "2022-01-31", "2022-12-31")) == (1, 0)
    # day 31, the first drug still running: not certainly a new line (the count stays a lower bound)
    assert _lines((BORT, "2022-01-01", "2022-12-31"), (LEN, "2022-02-01", "2022-12-31")) == (1, 1)


def test_maintenance_started_up_to_180_days_after_a_transplant_is_the_same_line():
    induction = (BORT, "2022-01-01", "2022-03-01")
    transplant = (date(2022, 3, 15),)
    # 2022-03-15 + 180 days = 2022-09-11 (IMWG: consolidation and maintenance belong to the transplant's line)
    assert _lines(induction, (LEN, "2022-09-11", "2023-09-11"), transplants=transplant) == (1, 0)
    assert _lines(induction, (LEN, "2022-09-12", "2023-09-12"), transplants=transplant) == (2, 0)


def test_mobilisation_started_up_to_60_days_before_a_transplant_is_the_same_line():
    induction = (BORT, "2022-01-01", "2022-02-01")
    transplant = (date(2022, 6, 1),)
    # 2022-06-01 - 60 days = 2022-04-02; the induction ended in February, so only the transplant joins them
    assert _lines(induction, (CYCLO, "2022-04-02", "2022-04-03"), transplants=transplant) == (1, 0)
    assert _lines(induction, (CYCLO, "2022-04-01", "2022-04-02"), transplants=transplant) == (2, 0)


def test_a_progression_between_transplant_and_maintenance_starts_a_new_line():
    induction = (BORT, "2022-01-01", "2022-03-01")
    transplant = (date(2022, 3, 15),)
    assert _lines(induction, (LEN, "2022-06-01", "2023-06-01"), transplants=transplant,
                  changes=(date(2022, 5, 20),)) == (2, 0)


def test_progression_starts_a_new_line_when_it_falls_after_the_line_start_up_to_the_new_drug():
    first = (BORT, "2022-01-01", "2022-12-31")
    # recorded the day the new drug starts: a change of line
    assert _lines(first, (DARA, "2022-01-20", "2022-12-31"), changes=(date(2022, 1, 20),)) == (2, 0)
    # recorded the day the line itself started: that closed the previous line, not this one
    assert _lines(first, (DARA, "2022-01-20", "2022-12-31"), changes=(date(2022, 1, 1),)) == (1, 0)


def test_an_order_whose_drug_was_last_given_exactly_at_the_stale_window_is_current():
    c = crit("concurrent", codes=codeset(("rx", "342369")), stale_days=90)
    lenalidomide = cc("rx", "342369")
    old_order = given(lenalidomide, day(-200), day(300), rtype="MedicationRequest", status="active", id="o")
    at_edge = given(lenalidomide, day(-90), id="dose")
    assert med.concurrent(c, context(old_order, at_edge)).status is Status.NOT_MET  # given 90 days ago: current
    past_edge = given(lenalidomide, day(-91), id="dose")
    assert med.concurrent(c, context(old_order, past_edge)).status is Status.MISSING  # asked: stopped?


def test_a_status_assessed_on_the_day_of_the_first_dose_counts_as_since_the_first_dose():
    c = crit("disease_status", codes=codeset(("loinc", "97509-4")), since_first_dose=True,
             met_values=codeset(("sct", "268910001")))
    improved = {"resourceType": "Observation", "id": "st", "status": "final", "code": cc("loinc", "97509-4"),
                "subject": {"reference": "Patient/p1"}, "valueCodeableConcept": cc("sct", "268910001")}
    first = given(ELX, day(-60), id="first")
    assert clin.disease_status(c, context(first, {**improved, "effectiveDateTime": day(-60)})).status is Status.MET
    assert clin.disease_status(c, context(first, {**improved, "effectiveDateTime": day(-61)})).status \
        is Status.MISSING


# ---- edges found by the full mutation run of 2026-12-05 ---------------------------------------------------------

def _record_with_patient(patient: dict, *resources: dict) -> Context:
    draft = order()
    record = PatientRecord.from_resources("p1", [patient, *resources], draft_orders=[draft],
                                          retrieved={"Patient", "Observation", "MedicationRequest"})
    return Context(record, draft, ANCHOR, DRUG, (ATTEST,))


def test_a_patient_recorded_dead_on_the_order_date_is_never_approved_and_a_later_date_is_not_read_yet():
    from cdshooks.policy.evaluate import _deceased

    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "1960-01-01"}
    assert _deceased(_record_with_patient({**patient, "deceasedDateTime": day(0)})) is not None
    assert _deceased(_record_with_patient({**patient, "deceasedDateTime": day(1)})) is None


def test_a_disease_status_assessed_on_the_order_date_counts_and_one_dated_after_it_does_not():
    c = crit("disease_status", codes=codeset(("loinc", "97509-4")), met_values=codeset(("sct", "268910001")))
    improved = {"resourceType": "Observation", "id": "st", "status": "final", "code": cc("loinc", "97509-4"),
                "subject": {"reference": "Patient/p1"}, "valueCodeableConcept": cc("sct", "268910001")}
    assert clin.disease_status(c, context({**improved, "effectiveDateTime": day(0)})).status is Status.MET
    assert clin.disease_status(c, context({**improved, "effectiveDateTime": day(1)})).status is Status.MISSING


def test_progression_counts_only_after_the_last_dose_not_on_its_day():
    """LA.PHAR.652 I.A.5.b "within 60 days following the last dose": a progression coded on the day of the last
    dose is not following it (it may be why the dose was the last)."""
    drugs = codeset(("rx", "358258"))
    c = crit("progression_window", codes=codeset(("loinc", "97509-4")), worsened=codeset(("sct", "271299001")),
             drugs=drugs, days=60)
    dose = given(cc("rx", "358258"), day(-40), day(-30))
    worse = {"resourceType": "Observation", "id": "pd", "status": "final", "code": cc("loinc", "97509-4"),
             "subject": {"reference": "Patient/p1"}, "valueCodeableConcept": cc("sct", "271299001")}
    assert clin.progression_window(c, context(dose, {**worse, "effectiveDateTime": day(-29)})).status is Status.MET
    assert clin.progression_window(c, context(dose, {**worse, "effectiveDateTime": day(-30)})).status \
        is Status.MISSING


def test_free_light_chains_drawn_3_days_from_the_ratio_are_one_draw_and_4_days_are_not():
    kappa, ratio = codeset(("loinc", "36916-5")), codeset(("loinc", "48378-4"))
    c = crit("flc", kappa=kappa, ratio=ratio, threshold=q(10, "mg/dL"), lookback_days=30,
             **{"lambda": codeset(("loinc", "33944-0"))})
    ratio_obs = obs("48378-4", 18.75, "1", day(-5))
    assert labs.flc(c, context(obs("36916-5", 15, "mg/dL", day(-8)), ratio_obs)).status is Status.MET
    assert labs.flc(c, context(obs("36916-5", 15, "mg/dL", day(-9)), ratio_obs)).status is Status.MISSING


def test_a_body_weight_measured_on_the_order_date_is_used_and_one_dated_after_it_is_not():
    weight = (SYS["loinc"], "29463-7")
    assert kinds_dose._latest_body(context(obs("29463-7", 44, "kg", day(0))), weight, "kg") is not None
    assert kinds_dose._latest_body(context(obs("29463-7", 44, "kg", day(1))), weight, "kg") is None


def test_an_attested_count_equal_to_the_minimum_meets_it():
    from .helpers import attestation

    c = crit("lines", min=4, codes=codeset(("rx", "358258")))
    assert med.lines(c, context(attestation(c1=4))).status is Status.MET
    assert med.lines(c, context(attestation(c1=3))).status is Status.NOT_MET


def test_an_order_of_the_class_written_on_the_order_date_is_asked_about_and_a_later_one_is_not():
    """`no_prior`: an earlier order with no dose recorded may have been given; one dated after the request is
    not history yet."""
    c = crit("no_prior", codes=codeset(("rx", "2587890")))
    teclistamab = cc("rx", "2587890")
    same_day = given(teclistamab, day(0), rtype="MedicationRequest", status="active", id="o")
    assert med.no_prior(c, context(same_day)).status is Status.MISSING
    later = given(teclistamab, day(1), rtype="MedicationRequest", status="active", id="o")
    assert med.no_prior(c, context(later)).status is Status.MET


def test_a_drug_started_the_day_the_last_line_ended_is_not_certainly_a_new_line_and_the_next_day_is():
    first = (BORT, "2022-01-01", "2022-06-30")
    assert _lines(first, (DARA, "2022-06-30", "2022-12-31")) == (1, 1)  # a lower bound: counted as unsure
    assert _lines(first, (DARA, "2022-07-01", "2022-12-31")) == (2, 0)


def _per_kg_order(value: float, unit: str) -> dict:
    return order(dosageInstruction=[{"doseAndRate": [{"doseQuantity": {"value": value, "unit": unit,
                                                                       "system": "http://unitsofmeasure.org",
                                                                       "code": unit}}]}])


@pytest.mark.parametrize("dose, unit, weight, status", [
    (105, "mg", 70, Status.MET),          # 1.5 mg/kg × 70 kg = 105 mg exactly
    (106, "mg", 70, Status.NOT_MET),
    (0.105, "g", 70, Status.MET),         # any mass unit, converted
    (105, "mg", None, Status.MISSING),    # no weight of the last 30 days: the limit cannot be applied
    (1.5, "mg/kg", None, Status.MET),     # written per kg: compared as written, no weight needed
    (1.6, "mg/kg", None, Status.NOT_MET),
])
def test_a_weight_based_dose_limit_uses_the_latest_body_weight(dose, unit, weight, status):
    c = crit("dose", phases=({"max_dose_per_kg": q(1.5, "mg/kg")},))
    resources = [obs("29463-7", weight, "kg", day(-3))] if weight else []
    assert kinds_dose.dose(c, context(*resources, draft=_per_kg_order(dose, unit))).status is status


def _daily_order(mcg_per_day: float) -> dict:
    return order(dosageInstruction=[{"doseAndRate": [{"rateQuantity": {
        "value": mcg_per_day, "unit": "ug/d", "system": "http://unitsofmeasure.org", "code": "ug/d"}}]}])


# A 40 kg, 150 cm child: Mosteller 1.2910 m² (ceiling 19.36 µg/day at 15 µg/m²/day), DuBois 1.3028 m² (19.54).
@pytest.mark.parametrize("formula, daily, status", [
    ("mosteller", 19.3, Status.MET), ("mosteller", 19.5, Status.NOT_MET),
    ("dubois", 19.5, Status.MET), ("dubois", 19.6, Status.NOT_MET),
])
def test_the_policy_names_the_body_surface_formula(formula, daily, status):
    c = crit("dose", bsa_formula=formula, phases=({"max_daily_per_m2": q(15, "ug/(m2.d)"), "weight_below_kg": 45,
                                                    "max_daily": q(28, "ug/d")},))
    body = [obs("29463-7", 40, "kg", day(-3)), obs("8302-2", 150, "cm", day(-3))]
    assert kinds_dose.dose(c, context(*body, draft=_daily_order(daily))).status is status


@pytest.mark.parametrize("within, weighed_days_ago, status", [
    (30, 20, Status.MET), (14, 20, Status.MISSING), (14, 14, Status.MET),
])
def test_the_policy_sets_how_recent_a_body_weight_must_be(within, weighed_days_ago, status):
    c = crit("dose", body_within_days=within, phases=({"max_dose_per_kg": q(1.5, "mg/kg")},))
    result = kinds_dose.dose(c, context(obs("29463-7", 70, "kg", day(-weighed_days_ago)), draft=_per_kg_order(105,
                                                                                                              "mg")))
    assert result.status is status
    if status is Status.MISSING:
        assert f"no body weight in the last {within} days" in result.note


@pytest.mark.parametrize("period, in_force", [
    ({"start": "2026-11-20"}, True),                      # starts on the order date
    ({"end": "2026-11-20"}, True),                        # ends on the order date: still in force that day
    ({"start": "2026-11-21"}, False),
    ({"end": "2026-11-19"}, False),
    ({"start": "2025-01-01", "end": "2026-12-31"}, True),
])
def test_a_coverage_is_in_force_on_both_ends_of_its_period(period, in_force):
    from cdshooks.policy.routing import in_force as covers

    assert covers({"status": "active", "period": period}, ANCHOR) is in_force


@pytest.mark.parametrize("days_ago, status", [(212, Status.NOT_MET), (213, Status.MET)])
def test_a_long_interval_drug_stays_current_for_its_interval_plus_30_days(days_ago, status):
    """Ocrelizumab every 182 days: a dose 212 days ago is current therapy, 213 days ago no longer (decision 14)."""
    ocrelizumab = codeset(("rx", "1876366"))
    c = crit("concurrent", codes=ocrelizumab, stale_days=90, long_interval=(ocrelizumab,), long_interval_days=(182,))
    assert med.concurrent(c, context(given(cc("rx", "1876366"), day(-days_ago), id="dose"))).status is status


def test_an_order_the_disease_progressed_on_is_asked_about_not_current():
    c = crit("concurrent", codes=codeset(("rx", "342369")), stale_days=90, status_codes=codeset(("loinc", "97509-4")),
             worsened=codeset(("sct", "271299001")))
    active = given(cc("rx", "342369"), day(-30), day(300), rtype="MedicationRequest", status="active", id="o")
    assert med.concurrent(c, context(active)).status is Status.NOT_MET
    worse = obs("97509-4", None, "", day(-10), valueCodeableConcept=cc("sct", "271299001"))
    assert med.concurrent(c, context(active, worse)).status is Status.MISSING
