"""The registry of criterion kinds: one registration per YAML `kind` says all the service needs to know of it —
the function (criterion, context) → Result, its parameters, the record data it reads (the discovery's record
templates follow from it), the codes it reads Observations by, and its DTR answer type."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cdshooks.policy import kinds_clinical as clinical
from cdshooks.policy import kinds_dose, kinds_labs, kinds_medication
from cdshooks.policy.context import Context
from cdshooks.policy.model import Criterion, Result

# The record data a kind may read, by group (service/hooks.py maps each group to its templates). The patient,
# the coverage and the DTR answers are read for every call and every kind.
DATA = frozenset({"conditions", "observations", "medications", "procedures", "allergies", "practitioner"})
ANSWER_TYPES = frozenset({"boolean", "integer", "decimal", "attachment"})


@dataclass(frozen=True)
class Kind:
    evaluate: Callable[[Criterion, Context], Result]
    required: frozenset[str]
    optional: frozenset[str]
    reads: frozenset[str]
    # (system, code) of the Observations it reads, from a criterion's parameters: the narrow Observation template.
    observation_codes: Callable[[Criterion], Iterable[tuple[str, str]]] | None = None
    # Its DTR item: a yes/no attestation unless said otherwise; documentation with `report` asks for the report.
    answer: str = "boolean"
    # The older attestation questionnaire (an alias id) may answer it: attestations, counts and lab values only.
    alias: bool = False
    # Met by the absence of something in the record, which a prescriber's answer can contradict.
    absence: bool = False

    def __call__(self, c: Criterion, ctx: Context) -> Result:
        return self.evaluate(c, ctx)

    def answer_type(self, c: Criterion) -> str:
        return "attachment" if self.answer == "boolean" and c.params.get("report") else self.answer


def _codes_of(*params: str) -> Callable[[Criterion], Iterable[tuple[str, str]]]:
    def codes(c: Criterion) -> Iterable[tuple[str, str]]:
        return [code for p in params if p in c.params for code in c.params[p].codes]
    return codes


def _kind(evaluate: Callable[[Criterion, Context], Result], required: str, optional: str, reads: str,
          **more: object) -> Kind:
    return Kind(evaluate, frozenset(required.split()), frozenset(optional.split()), frozenset(reads.split()),
                **more)  # type: ignore[arg-type]


MEDS = "medications"
KINDS: dict[str, Kind] = {
    "diagnosis": _kind(clinical.diagnosis, "codes",
                       "ask_codes clinical_status not_met_codes order_reason unspecific_codes", "conditions"),
    "no_diagnosis": _kind(clinical.no_diagnosis, "codes", "ask_codes unless_codes", "conditions", absence=True),
    "age": _kind(clinical.age, "", "min below at_diagnosis", "conditions"),
    "specialty": _kind(clinical.specialty, "codes", "", "practitioner"),
    "disease_status": _kind(clinical.disease_status, "codes met_values", "not_met_values since_first_dose",
                            f"observations {MEDS}", observation_codes=_codes_of("codes")),
    "progression_window": _kind(clinical.progression_window, "codes days drugs worsened", "",
                                f"observations {MEDS}", observation_codes=_codes_of("codes")),
    "documentation": _kind(clinical.documentation, "", "report", "", alias=True),
    "never": _kind(clinical.never, "", "reason", ""),
    "lab": _kind(kinds_labs.lab, "codes threshold", "comparator label lookback_days", "observations",
                 observation_codes=_codes_of("codes"), answer="decimal", alias=True),
    "flc": _kind(kinds_labs.flc, "kappa lambda ratio threshold", "comparator lookback_days ratio_high ratio_low",
                 "observations", observation_codes=_codes_of("kappa", "lambda", "ratio")),
    "med_class": _kind(kinds_medication.med_class, "codes", "intolerance_counts intolerance_reasons label",
                       f"{MEDS} allergies"),
    "no_prior": _kind(kinds_medication.no_prior, "codes", "history_codes", f"{MEDS} procedures conditions",
                      absence=True),
    "concurrent": _kind(kinds_medication.concurrent, "codes",
                        "stale_days long_interval long_interval_days status_codes worsened",
                        f"{MEDS} observations", observation_codes=_codes_of("status_codes"),
                        absence=True),
    "combination": _kind(kinds_medication.combination, "components", "window_days", MEDS),
    "lines": _kind(kinds_medication.lines, "codes min", "transplant change_reasons status_codes worsened",
                   f"{MEDS} procedures observations", observation_codes=_codes_of("status_codes"),
                   answer="integer", alias=True),
    "failure": _kind(kinds_medication.failure, "codes reasons", "", f"{MEDS} allergies"),
    "time_since_last": _kind(kinds_medication.time_since_last, "months", "", MEDS),
    "receiving": _kind(kinds_medication.receiving, "", "current_within_days min_days new_course_after_days "
                       "transplant", f"{MEDS} procedures"),
    "cycles": _kind(kinds_medication.cycles, "max", "gap_days", MEDS),
    "order_quantity": _kind(kinds_medication.order_quantity, "max", "", ""),
    "dose": _kind(kinds_dose.dose, "phases", "phase_by strict_phase course_label body_within_days bsa_formula "
                  "hcpcs_unit hcpcs_unit_code", f"{MEDS} observations", observation_codes=kinds_dose.body_codes),
    "dose_increase": _kind(kinds_dose.dose_increase, "", "", MEDS),
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
    **{kind: (spec.required, spec.optional) for kind, spec in KINDS.items()},
    "same_as": (frozenset({"ref"}), frozenset({"missing_as", "note"})),
    "all": (frozenset(), frozenset()), "any": (frozenset(), frozenset()), "not": (frozenset(), frozenset()),
    "at_least": (frozenset({"n"}), frozenset()),
}
# Keys of one phase of a dose schedule (and of its step_up doses).
PHASE_KEYS = frozenset({"from_week", "to_week", "course", "max_dose", "max_dose_per_kg", "max_daily",
                        "max_daily_per_m2", "max_days", "max_cycle_days", "max_count", "after_days",
                        "per_kg_rounding_pct", "min_interval_days", "step_up", "weight_below_kg"})
