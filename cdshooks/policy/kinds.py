"""The table of criterion kinds: YAML `kind` → plain function (criterion, context) → Result."""

from __future__ import annotations

from collections.abc import Callable

from . import kinds_clinical as clinical
from . import kinds_dose, kinds_labs, kinds_medication
from .context import Context
from .model import Criterion, Result

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
    "ask_codes", "transplant", "status_codes", "change_reasons",
})
# Parameters that are a list of value sets, each kept separate.
CODESET_LIST_PARAMS = frozenset({"components"})
# Parameters written "<number> <UCUM unit>", compiled to Quantity and checked against UCUM at load time.
QUANTITY_PARAMS = frozenset({"threshold", "max_dose", "max_daily", "max_daily_per_m2"})
