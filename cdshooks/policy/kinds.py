"""The table of criterion kinds: YAML `kind` → plain function (criterion, context) → Result."""

from __future__ import annotations

from collections.abc import Callable

from cdshooks.policy import kinds_clinical as clinical
from cdshooks.policy import kinds_dose, kinds_labs, kinds_medication
from cdshooks.policy.context import Context
from cdshooks.policy.model import Criterion, Result

Kind = Callable[[Criterion, Context], Result]

KINDS: dict[str, Kind] = {
    "diagnosis": clinical.diagnosis,
    "no_diagnosis": clinical.no_diagnosis,
    "age": clinical.age,
    "specialty": clinical.specialty,
    "disease_status": clinical.disease_status,
    "progression_window": clinical.progression_window,
    "documentation": clinical.documentation,
    "never": clinical.never,
    "lab": kinds_labs.lab,
    "flc": kinds_labs.flc,
    "med_class": kinds_medication.med_class,
    "no_prior": kinds_medication.no_prior,
    "concurrent": kinds_medication.concurrent,
    "combination": kinds_medication.combination,
    "lines": kinds_medication.lines,
    "failure": kinds_medication.failure,
    "time_since_last": kinds_medication.time_since_last,
    "receiving": kinds_medication.receiving,
    "cycles": kinds_medication.cycles,
    "order_quantity": kinds_medication.order_quantity,
    "dose": kinds_dose.dose,
    "dose_increase": kinds_dose.dose_increase,
}

# Parameters that name value sets (compiled to one CodeSet, the union when a list is given).
CODESET_PARAMS = frozenset({
    "codes", "not_met_codes", "unspecific_codes", "unless_codes", "history_codes", "intolerance_reasons",
    "reasons", "met_values", "not_met_values", "worsened", "drugs", "kappa", "lambda", "ratio",
    "ask_codes", "transplant", "status_codes", "change_reasons", "at_diagnosis",
})
# Parameters that are a list of value sets, each kept separate.
CODESET_LIST_PARAMS = frozenset({"components", "long_interval"})
# Parameters written "<number> <UCUM unit>", compiled to Quantity and checked against UCUM at load time.
QUANTITY_PARAMS = frozenset({"threshold", "max_dose", "max_daily", "max_daily_per_m2", "max_dose_per_kg",
                             "hcpcs_unit"})

# Each kind's parameters: (required, optional). The loader refuses a missing required one and any other name
# ("did you mean …" for a near miss), so a typo fails `lint` and start-up instead of evaluating to `missing`.
PARAMS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    kind: (frozenset(required.split()), frozenset(optional.split())) for kind, required, optional in (
        ("diagnosis", "codes", "ask_codes clinical_status not_met_codes order_reason unspecific_codes"),
        ("no_diagnosis", "codes", "ask_codes unless_codes"),
        ("age", "", "min below at_diagnosis"),
        ("specialty", "codes", ""),
        ("disease_status", "codes met_values", "not_met_values since_first_dose"),
        ("progression_window", "codes days drugs worsened", ""),
        ("documentation", "", "report"),
        ("never", "", "reason"),
        ("lab", "codes threshold", "comparator label lookback_days"),
        ("flc", "kappa lambda ratio threshold", "comparator lookback_days ratio_high ratio_low"),
        ("med_class", "codes", "intolerance_counts intolerance_reasons label"),
        ("no_prior", "codes", "history_codes"),
        ("concurrent", "codes", "stale_days long_interval long_interval_days status_codes worsened"),
        ("combination", "components", "window_days"),
        ("lines", "codes min", "transplant change_reasons status_codes worsened"),
        ("failure", "codes reasons", ""),
        ("time_since_last", "months", ""),
        ("receiving", "", "current_within_days min_days new_course_after_days transplant"),
        ("cycles", "max", "gap_days"),
        ("order_quantity", "max", ""),
        ("dose", "phases", "phase_by strict_phase course_label body_within_days bsa_formula hcpcs_unit "
                           "hcpcs_unit_code"),
        ("dose_increase", "", ""),
        ("same_as", "ref", "missing_as note"),
        ("all", "", ""), ("any", "", ""), ("not", "", ""), ("at_least", "n", ""),
    )
}
# Keys of one phase of a dose schedule (and of its step_up doses).
PHASE_KEYS = frozenset({"from_week", "to_week", "course", "max_dose", "max_dose_per_kg", "max_daily",
                        "max_daily_per_m2", "max_days", "max_cycle_days", "max_count", "after_days",
                        "per_kg_rounding_pct", "min_interval_days", "step_up", "weight_below_kg"})
