"""The dose kind: the order's structured dosage against the policy's limits for the current phase.

A phase is chosen by week of therapy (weeks since the first dose of the ordered drug) or by course
(first course when the drug was never given before). Limits per phase: `max_dose` per administration,
`max_daily` amount per day, `min_interval_days` between repeated doses, `max_days` of dosing per course.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .context import Context, missing
from .model import Criterion, Evidence, Quantity, Result, Status
from .units import UnitError, convert, quantity_of

DAYS = {"s": 1 / 86400, "min": 1 / 1440, "h": 1 / 24, "d": 1, "wk": 7, "mo": 30, "a": 365}


@dataclass(frozen=True)
class Dose:
    amount: Quantity | None
    rate: Quantity | None  # amount per time, e.g. ug/d
    interval_days: float | None  # between administrations; None for a single administration
    per_day: float  # administrations per day
    days: float | None  # course length in days, when stated


def _dose_of(dosage: dict[str, Any]) -> Dose:
    amount = rate = None
    for dr in dosage.get("doseAndRate") or []:
        amount = amount or quantity_of(dr.get("doseQuantity")) or quantity_of((dr.get("doseRange") or {}).get("high"))
        rate = rate or quantity_of(dr.get("rateQuantity"))
        ratio = dr.get("rateRatio")
        if rate is None and isinstance(ratio, dict):
            num, den = quantity_of(ratio.get("numerator")), quantity_of(ratio.get("denominator"))
            if num and den and den.value:
                rate = Quantity(num.value / den.value, f"{num.unit}/{den.unit}")
    repeat = (dosage.get("timing") or {}).get("repeat") or {}
    freq = repeat.get("frequency") or 1
    period, unit = repeat.get("period"), repeat.get("periodUnit")
    interval = per_day = None
    if isinstance(period, int | float) and unit in DAYS and period > 0:
        interval = period * DAYS[unit] / freq
        per_day = 1 / interval if interval else None
    count = repeat.get("count")
    days = None
    bounds = repeat.get("boundsDuration")
    if isinstance(bounds, dict) and isinstance(bounds.get("value"), int | float):
        days = bounds["value"] * DAYS.get(bounds.get("code") or bounds.get("unit") or "d", 1)
    elif isinstance(count, int) and interval:
        days = count * interval
    if count == 1:
        interval = None
    return Dose(amount, rate, interval, per_day or 1.0, days)


def _phase(c: Criterion, ctx: Context) -> tuple[dict | None, str]:
    """The phase for this order, or None when `strict_phase` and the order falls in none of the phases."""
    phases = c.params["phases"]
    given = [e.start for e, _ in ctx.received(ctx.drug) if e.start]
    strict = c.params.get("strict_phase", False)
    if c.params.get("phase_by") == "course":
        key = "subsequent" if given else "first"
        label = f"{key} course"
        for ph in phases:
            if ph.get("course", key) == key:
                return ph, label
    else:
        week = ((ctx.anchor - min(given)).days // 7 + 1) if given else 1
        label = f"week {week} of therapy"
        for ph in phases:
            if ph.get("from_week", 1) <= week <= ph.get("to_week", 10**6):
                return ph, label
    return (None, label) if strict else (phases[-1], label)


def _check(dose: Dose, phase: dict) -> tuple[list[str], list[str]]:
    """(problems, undecidable) for one dosage line against one phase."""
    problems, unknown = [], []
    max_dose: Quantity | None = phase.get("max_dose")
    if max_dose:
        if dose.amount is None:
            unknown.append("dose per administration not stated")
        else:
            try:
                if convert(dose.amount.value, dose.amount.unit, max_dose.unit) > max_dose.value + 1e-9:
                    problems.append(f"{dose.amount} per dose exceeds {max_dose}")
            except UnitError:
                unknown.append(f"dose unit '{dose.amount.unit}' is not comparable with {max_dose.unit}")
    max_daily: Quantity | None = phase.get("max_daily")
    if max_daily:
        daily = dose.rate
        if daily is None and dose.amount:
            daily = Quantity(dose.amount.value * dose.per_day, f"{dose.amount.unit}/d")
        if daily is None:
            unknown.append("daily amount not stated")
        else:
            try:
                if convert(daily.value, daily.unit, max_daily.unit) > max_daily.value + 1e-9:
                    problems.append(f"{daily} exceeds {max_daily}")
            except UnitError:
                unknown.append(f"rate unit '{daily.unit}' is not comparable with {max_daily.unit}")
    min_interval = phase.get("min_interval_days")
    if min_interval and dose.interval_days is not None and dose.interval_days < min_interval - 1e-9:
        problems.append(f"dosing every {dose.interval_days:g} days is more often than every {min_interval} days")
    max_days = phase.get("max_days")
    if max_days:
        if dose.days is None:
            unknown.append("number of dosing days not stated")
        elif dose.days > max_days + 1e-9:
            problems.append(f"{dose.days:g} days of dosing exceeds {max_days}")
    return problems, unknown


def dose(c: Criterion, ctx: Context) -> Result:
    dosages = [d for d in ctx.order.get("dosageInstruction") or [] if isinstance(d, dict)]
    if not dosages:
        return missing("the order has no structured dosage")
    phase, label = _phase(c, ctx)
    if phase is None:
        return Result(Status.NOT_MET, (Evidence(ctx.order_ref, f"order is for {label}"),),
                      f"this limit is for another phase of therapy than {label}")
    problems, unknown, shown = [], [], []
    for dosage in dosages:
        d = _dose_of(dosage)
        p, u = _check(d, phase)
        problems += p
        unknown += u
        parts = [str(d.amount) if d.amount else None, f"{d.rate}" if d.rate else None,
                 f"every {d.interval_days:g} d" if d.interval_days else None,
                 f"for {d.days:g} d" if d.days else None]
        shown.append(", ".join(p for p in parts if p) or (dosage.get("text") or "unstructured"))
    ev = (Evidence(ctx.order_ref, f"{label}: " + "; ".join(shown)),)
    if problems:
        return Result(Status.NOT_MET, ev, "; ".join(problems))
    if unknown:
        return missing("; ".join(dict.fromkeys(unknown)), ev)
    return Result(Status.MET, ev, f"within the limit for {label}")
