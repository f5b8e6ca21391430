"""UCUM-aware quantity conversion (ucumvert on top of pint); parsed units are cached."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cdshooks.errors import PAAdvisorError


class UnitError(PAAdvisorError, ValueError):
    pass


@lru_cache(maxsize=1)
def _registry() -> Any:
    from ucumvert import PintUcumRegistry  # heavy: loaded once, on first use

    return PintUcumRegistry()


@lru_cache(maxsize=512)
def _unit(ucum: str) -> Any:
    code = ucum.strip()
    # UCUM annotations such as {ratio} or {cells} are dimensionless 1.
    if code in ("", "1") or (code.startswith("{") and code.endswith("}")):
        return _registry().from_ucum("1")
    try:
        unit = _registry().from_ucum(code)
    except Exception as exc:  # ucumvert raises several parser error types
        raise UnitError(f"not a UCUM unit: {ucum!r}") from exc
    if isinstance(unit, str):
        raise UnitError(f"not a UCUM unit: {ucum!r}")
    return unit


def check_unit(ucum: str) -> None:
    _unit(ucum)


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """value in from_unit expressed in to_unit; UnitError when the dimensions differ or a unit is unknown."""
    if from_unit == to_unit:
        return float(value)
    try:
        # A UCUM unit with a factor, e.g. g/(24.h), parses to a quantity (1/24 g/h): divide the factor back out.
        source, target = _unit(from_unit), _unit(to_unit)
        qty = float(value) * source
        target_units = getattr(target, "units", target)
        target_factor = float(getattr(target, "magnitude", 1.0))
        # Rounded to 12 significant digits: binary floating point makes 0.2 g into 200.00000000000003 mg, and a
        # value exactly at a threshold must compare as exactly at it whatever unit the lab reported it in.
        return float(f"{float(qty.to(target_units).magnitude) / target_factor:.12g}")
    except UnitError:
        raise
    except Exception as exc:  # pint DimensionalityError and friends
        raise UnitError(f"cannot convert {from_unit!r} to {to_unit!r}") from exc


def compare(value: float, comparator: str, threshold: float) -> bool:
    return {
        ">=": value >= threshold,
        ">": value > threshold,
        "<=": value <= threshold,
        "<": value < threshold,
        "==": value == threshold,
    }[comparator]


def compare_reported(value: float, reported_as: str | None, comparator: str, threshold: float) -> bool | None:
    """`comparator threshold` for a result reported with its own comparator (FHIR valueQuantity.comparator):
    "<0.5" is some value below 0.5. True when every value it can be meets the criterion, False when none does,
    None when the report cannot decide (e.g. "<0.5" against "≥ 0.2")."""
    if reported_as not in ("<", "<=", ">", ">="):
        return compare(value, comparator, threshold)
    below = reported_as in ("<", "<=")
    closed = reported_as in ("<=", ">=")  # the bound itself is a possible value
    at_bound = compare(value, comparator, threshold)
    if comparator == "==":
        return None
    wants_above = comparator in (">", ">=")
    if below == wants_above:
        # The possible values run away from the satisfied side: decided by the bound alone, and only if it
        # fails there (an open bound that sits exactly on the threshold fails too).
        if not at_bound or (not closed and value == threshold):
            return False
        return None
    # The possible values run into the satisfied side: every one meets it when the bound (or just past it) does.
    if at_bound or (not closed and value == threshold):
        return True
    return None
