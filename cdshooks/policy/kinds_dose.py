"""Dose kinds: the order's structured dosage against the policy's limits for the current phase of therapy.

A phase is chosen by week of therapy (weeks since the first dose given) or by course/cycle (first when the drug
was never given). Limits per phase: `max_dose` per administration, `max_daily` amount per day (an amount given
over a duration is a rate: a 112 µg bag over 96 h is 28 µg/day), `min_interval_days`, `max_days` of dosing,
`max_count` administrations per order, `step_up` limits for the first doses of a first course, and for
patients under `weight_below_kg` a body-surface limit `max_daily_per_m2` (never above the fixed `max_daily`), and
`max_dose_per_kg` a per-dose limit by the latest body weight.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from cdshooks.fhir.codes import SYSTEMS, as_list, codings_of, normalize_system
from cdshooks.fhir.dates import effective, parse_date
from cdshooks.fhir.quantity import quantity_of
from cdshooks.fhir.record import ref_of
from cdshooks.policy.context import Context, missing
from cdshooks.policy.model import Criterion, Evidence, Quantity, Result, Status
from cdshooks.policy.units import UnitError, convert

DAYS = {"s": 1 / 86400, "min": 1 / 1440, "h": 1 / 24, "d": 1, "wk": 7, "mo": 30, "a": 365}
LOINC = SYSTEMS["loinc"]
WEIGHT, HEIGHT = (LOINC, "29463-7"), (LOINC, "8302-2")
BODY_LOOKBACK_DAYS = 30  # default of params.body_within_days
# Body surface area (m²) from weight (kg) and height (cm), by the formula a policy names (params.bsa_formula).
BSA_FORMULAS: dict[str, Callable[[float, float], float]] = {
    "mosteller": lambda kg, cm: math.sqrt(kg * cm / 3600),
    "dubois": lambda kg, cm: 0.007184 * kg ** 0.425 * cm ** 0.725,
}


@dataclass(frozen=True)
class Body:
    """The latest weight and the body surface area it gives, what they came from, and the window searched."""

    weight: float | None
    bsa: float | None
    evidence: list[Evidence]
    days: int


@dataclass(frozen=True)
class Dose:
    amount: Quantity | None
    rate: Quantity | None  # amount per time, e.g. ug/d
    interval_days: float | None  # between administrations; None for a single administration
    days: float | None  # course length in days, when stated
    count: int | None  # administrations, when stated
    start: date | None  # first day of this dosage step (boundsPeriod.start), for ordering steps
    sequence: int
    index: int = 0  # its position in the order's dosageInstruction


def _days(value: Any, unit: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and unit in DAYS and value > 0:
        return value * DAYS[unit]
    return None


def _dose_of(dosage: dict[str, Any], index: int) -> Dose:
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
    period = _days(repeat.get("period"), repeat.get("periodUnit"))
    duration = _days(repeat.get("duration"), repeat.get("durationUnit"))
    # Between doses: the period over the frequency; an infusion with only a duration runs back to back.
    interval = period / freq if period else duration
    count = repeat.get("count") if isinstance(repeat.get("count"), int) else None
    days = None
    bounds, period_bounds = repeat.get("boundsDuration"), repeat.get("boundsPeriod")
    start = None
    if isinstance(bounds, dict):
        days = _days(bounds.get("value"), bounds.get("code") or bounds.get("unit") or "d")
    if isinstance(period_bounds, dict):
        start, end = parse_date(period_bounds.get("start")), parse_date(period_bounds.get("end"))
        if start and end and days is None:
            days = (end - start).days + 1  # consecutive calendar days, both ends included
    if days is None and count and interval:
        days = count * interval
    if count == 1:
        interval = None
    sequence = dosage.get("sequence")
    return Dose(amount, rate, interval, days, count, start, sequence if isinstance(sequence, int) else index, index)


def body_codes(c: Criterion) -> set[tuple[str, str]]:
    """The body weight and height Observation codes a dose criterion reads (for body-surface limits)."""
    phases = list(c.params.get("phases", ()))
    limits = phases + [s for ph in phases for s in ph.get("step_up", ())]
    return {WEIGHT, HEIGHT} if any("max_daily_per_m2" in lim or "max_dose_per_kg" in lim for lim in limits) \
        else set()


def _daily(d: Dose) -> Quantity | None:
    if d.rate:
        return d.rate
    if d.amount and d.interval_days:
        return Quantity(d.amount.value / d.interval_days, f"{d.amount.unit}/d")
    if d.amount and d.count == 1:
        return Quantity(d.amount.value, f"{d.amount.unit}/d")
    return None


def _latest_body(ctx: Context, key: tuple[str, str], unit: str,
                 days: int = BODY_LOOKBACK_DAYS) -> tuple[float, Evidence] | None:
    since = ctx.anchor - timedelta(days=days)
    best = None
    for obs in ctx.record.observations([key]):
        when, _ = effective(obs, "effective")
        qty = quantity_of(obs.get("valueQuantity"))
        if obs.get("status") in ("final", "amended", "corrected") and when and since <= when <= ctx.anchor and qty:
            if best is None or when > best[0]:
                best = (when, obs, qty)
    if best is None:
        return None
    when, obs, qty = best
    try:
        value = convert(qty.value, qty.unit, unit)
    except UnitError:
        return None
    return value, Evidence(ref_of(obs), f"{value:g} {unit}", when.isoformat())


def _body(ctx: Context, params: Mapping[str, Any]) -> Body:
    """The latest weight and height of the last `body_within_days` (30) days, and the body surface area by
    `bsa_formula` (Mosteller unless the policy names another)."""
    days = int(params.get("body_within_days", BODY_LOOKBACK_DAYS))
    weight, height = _latest_body(ctx, WEIGHT, "kg", days), _latest_body(ctx, HEIGHT, "cm", days)
    ev = [e for _, e in (x for x in (weight, height) if x)]
    if weight is None:
        return Body(None, None, ev, days)
    formula = BSA_FORMULAS[params.get("bsa_formula", "mosteller")]
    return Body(weight[0], formula(weight[0], height[0]) if height else None, ev, days)


def _over(value: Quantity, limit: Quantity) -> bool | None:
    """True above the limit, False within it, None when the units cannot be compared."""
    try:
        return convert(value.value, value.unit, limit.unit) > limit.value + 1e-9
    except UnitError:
        return None


def _check(d: Dose, limits: dict[str, Any], body: Body | None) -> tuple[list[str], list[str]]:
    """(problems, undecidable) for one dosage step against one set of limits."""
    problems, unknown = [], []
    max_dose: Quantity | None = limits.get("max_dose")
    if max_dose:
        if d.amount is None:
            unknown.append("dose per administration not stated")
        elif (over := _over(d.amount, max_dose)) is None:
            unknown.append(f"dose unit '{d.amount.unit}' is not comparable with {max_dose.unit}")
        elif over:
            problems.append(f"{d.amount} per dose exceeds {max_dose}")
    if per_kg := limits.get("max_dose_per_kg"):
        _check_per_kg(d, per_kg, body, problems, unknown, float(limits.get("per_kg_rounding_pct", 0)))
    max_daily: Quantity | None = limits.get("max_daily")
    per_m2: Quantity | None = limits.get("max_daily_per_m2")
    if max_daily or per_m2:
        daily = _daily(d)
        ceiling = max_daily
        below = limits.get("weight_below_kg")
        if per_m2 and below is not None:
            weight, bsa = (body.weight, body.bsa) if body else (None, None)
            if weight is None:
                days = body.days if body else BODY_LOOKBACK_DAYS
                unknown.append(f"no body weight in the last {days} days (the limit depends on it)")
                ceiling = None
            elif weight < float(below):
                if daily is not None and _over(daily, per_m2) is not None:
                    ceiling = per_m2  # the order is written per m²: compare directly
                elif bsa is None:
                    unknown.append(f"weight {weight:g} kg is under {below} kg: a height is needed for the "
                                   "body-surface dose")
                    ceiling = None
                else:
                    unit = per_m2.unit.replace("/(m2.", "/(").replace("(d)", "d")
                    by_bsa = Quantity(per_m2.value * bsa, unit)
                    ceiling = by_bsa if not max_daily or _over(by_bsa, max_daily) is False else max_daily
        if ceiling is not None:
            if daily is None:
                unknown.append("daily amount not stated (dose, infusion duration or rate)")
            elif (over := _over(daily, ceiling)) is None:
                unknown.append(f"rate unit '{daily.unit}' is not comparable with {ceiling.unit}")
            elif over:
                problems.append(f"{daily} exceeds {ceiling}")
    min_interval = limits.get("min_interval_days")
    if min_interval and d.interval_days is not None and d.interval_days < min_interval - 1e-9:
        problems.append(f"dosing every {d.interval_days:g} days is more often than every {min_interval} days")
    max_days = limits.get("max_days")
    if max_days:
        if d.days is None:
            unknown.append("number of dosing days not stated")
        elif d.days > max_days + 1e-9:
            problems.append(f"{d.days:g} days of dosing exceeds {max_days}")
    return problems, unknown


def _check_per_kg(d: Dose, per_kg: Quantity, body: Body | None, problems: list[str], unknown: list[str],
                  rounding_pct: float = 0) -> None:
    """A weight-based dose limit (e.g. 1.5 mg/kg): an order written per kg is compared as written; one in mg
    against the limit × the latest body weight (of the last `body_within_days`; none → the criterion stays
    open). With `per_kg_rounding_pct`, an mg dose over that product by at most that share is a question
    (dose rounding to a vial), not a denial."""
    if d.amount is None:
        unknown.append("dose per administration not stated")
        return
    over = _over(d.amount, per_kg)
    if over is None:
        weight = body.weight if body else None
        if weight is None:
            unknown.append(f"no body weight in the last {body.days if body else BODY_LOOKBACK_DAYS} days (the "
                           "limit is per kg)")
            return
        ceiling = Quantity(per_kg.value * weight, per_kg.unit.removesuffix("/kg"))
        over = _over(d.amount, ceiling)
        if over is None:
            unknown.append(f"dose unit '{d.amount.unit}' is not comparable with {per_kg.unit}")
        elif over and rounding_pct and _over(d.amount, Quantity(ceiling.value * (1 + rounding_pct / 100),
                                                                ceiling.unit)) is False:
            unknown.append(f"confirm dose rounding: {d.amount} is over {per_kg} × {weight:g} kg = {ceiling} by "
                           f"at most {rounding_pct:g} %")
        elif over:
            problems.append(f"{d.amount} per dose exceeds {per_kg} × {weight:g} kg = {ceiling}")
    elif over:
        problems.append(f"{d.amount} per dose exceeds {per_kg}")


def _given(ctx: Context) -> list[date]:
    return sorted(e.start for e, _ in ctx.received(ctx.drug) if e.start)


def _phase(c: Criterion, ctx: Context) -> tuple[dict[str, Any] | None, str, bool]:
    """(phase, label, first course) for this order; phase None when `strict_phase` and no phase fits."""
    phases = c.params["phases"]
    given = _given(ctx)
    strict = c.params.get("strict_phase", False)
    if c.params.get("phase_by") == "course":
        key = "subsequent" if given else "first"
        label = f"{key} {c.params.get('course_label', 'course')}"
        for ph in phases:
            if ph.get("course", key) == key:
                return ph, label, not given
    else:
        week = ((ctx.anchor - given[0]).days // 7 + 1) if given else 1
        label = f"week {week} of therapy"
        for ph in phases:
            if ph.get("from_week", 1) <= week <= ph.get("to_week", 10**6):
                return ph, label, not given
    return (None, label, not given) if strict else (phases[-1], label, not given)


def _count_problems(ctx: Context, doses: list[Dose], limit: int) -> list[str]:
    """More administrations (or bags, or refills) than the policy allows for one request."""
    out = []
    total = sum(d.count or 1 for d in doses)
    if total > limit:
        out.append(f"{total} administrations requested; the limit is {limit}")
    dispense = ctx.order.get("dispenseRequest") or {}
    qty = (dispense.get("quantity") or {}).get("value")
    if isinstance(qty, int | float) and not isinstance(qty, bool) and qty > limit:
        out.append(f"quantity {qty:g} requested; the limit is {limit}")
    repeats = dispense.get("numberOfRepeatsAllowed")
    if isinstance(repeats, int) and repeats > 0:
        out.append(f"{repeats} repeat(s) allowed; the limit is {limit} in all")
    return out


def _show(d: Dose) -> str:
    parts = [str(d.amount) if d.amount else None, str(d.rate) if d.rate else None,
             f"every {d.interval_days:g} d" if d.interval_days else None, f"for {d.days:g} d" if d.days else None]
    return ", ".join(p for p in parts if p) or "unstructured"


# Units an order in HCPCS billing units is written in ("Q2055 × 1"): counts, not amounts of drug.
COUNT_UNITS = {"1", "", "each", "ea", "unit", "units", "U", "[iU]"}


def _is_count(unit: str) -> bool:
    return unit in COUNT_UNITS or (unit.startswith("{") and unit.endswith("}"))


def _billing_units(c: Criterion, ctx: Context) -> Quantity | None:
    """One HCPCS billing unit of the drug (`hcpcs_unit`, e.g. Q2055: up to 510 × 10⁶ CAR-T cells) when the order
    is coded with that HCPCS code (`hcpcs_unit_code`); None otherwise."""
    unit: Quantity | None = c.params.get("hcpcs_unit")
    code = c.params.get("hcpcs_unit_code")
    if unit is None or not code:
        return None
    coded = any(normalize_system(coding.get("system")) == SYSTEMS["hcpcs"]
                and str(coding.get("code", "")).upper() == code
                for concept in ctx.record.medication_concepts(ctx.order) for coding in codings_of(concept))
    if not coded:
        return None
    qty = quantity_of((ctx.order.get("dispenseRequest") or {}).get("quantity"))
    count = qty.value if qty and _is_count(qty.unit) else 1
    return Quantity(unit.value * count, unit.unit)


def _as_billed(d: Dose, billing: Quantity) -> Dose:
    """A dose written as a count of billing units ("1 each") is that many units of drug."""
    if d.amount is None:
        return replace(d, amount=billing)
    if _is_count(d.amount.unit):
        return replace(d, amount=Quantity(d.amount.value * billing.value, billing.unit))
    return d


def _call_doses(ctx: Context, steps: list[Dose]) -> list[tuple[Dose, bool]]:
    """Every dose of the drug in this call: this order's steps and those of its other draft orders (a step-up or
    a course signed as separate orders), each as (dose, is it this order's), with an order's start date where a
    step has none of its own."""
    doses = [(d, True) for d in steps]
    for order in (o for o, _, _ in ctx.draft_orders_matching(ctx.drug) if ref_of(o) != ctx.order_ref):
        dosages = [d for d in as_list(order.get("dosageInstruction")) if isinstance(d, dict)]
        others = [_dose_of(x, i) for i, x in enumerate(dosages)] or [Dose(None, None, None, None, 1, None, 0)]
        doses += [(d if d.start else replace(d, start=_order_start(order)), False) for d in others]
    own_start = _order_start(ctx.order)
    return [(d if d.start or not own else replace(d, start=own_start), own) for d, own in doses]


def _schedule(doses: list[tuple[Dose, bool]]) -> tuple[list[tuple[Dose, bool]], str | None]:
    """The first course's doses by start date, and a note when orders of the call cannot be placed in time."""
    if all(own for _, own in doses):
        return doses, None
    if any(d.start is None for d, _ in doses):
        return [x for x in doses if x[1]], ("the orders of this call give no start dates: their step-up order "
                                            "cannot be checked")
    return sorted(doses, key=lambda x: (x[0].start or date.min, x[0].sequence)), None


def _order_start(order: Mapping[str, Any]) -> date | None:
    """When an order starts: its dispense validity period, else (a step with no dates of its own) nothing."""
    validity = (order.get("dispenseRequest") or {}).get("validityPeriod")
    return parse_date(validity.get("start")) if isinstance(validity, dict) else None


def dose(c: Criterion, ctx: Context) -> Result:
    """The order's structured dosage within the limits of the current phase (by week of therapy or by course):
    per dose (fixed, per kg of the latest weight, per m² of body surface), per day, interval, days, count, and
    step-up limits for the first doses of a first course. No structured dose, or no weight/height a limit
    needs, is `missing`."""
    dosages = [d for d in as_list(ctx.order.get("dosageInstruction")) if isinstance(d, dict)]
    billing = _billing_units(c, ctx)
    if not dosages and billing is None:
        return missing("the order has no structured dosage")
    phase, label, first = _phase(c, ctx)
    if phase is None:
        return Result(Status.NOT_MET, (Evidence(ctx.order_ref, f"order is for {label}"),),
                      f"this limit is for another phase of therapy than {label}")
    steps = sorted((_dose_of(x, i) for i, x in enumerate(dosages)),
                   key=lambda d: (d.start or date.min, d.sequence))
    if billing is not None:
        steps = [_as_billed(d, billing) for d in steps] or [Dose(billing, None, None, None, 1, None, 0)]
    body = _body(ctx, c.params) if body_codes(c) else None
    step_up = list(phase.get("step_up", ())) if first else []
    problems, unknown = [], []
    proposal: list[tuple[int, Quantity]] = []
    in_call = _call_doses(ctx, steps)
    schedule, note = _schedule(in_call) if step_up else ([(d, True) for d in steps], None)
    if note:
        # Where this order falls in the step-up is unknown: only the phase's own limits can be checked.
        unknown.append(note)
        step_up = []
    for i, (d, own) in enumerate(schedule):
        limits = {**phase, **step_up[i]} if i < len(step_up) else phase
        p, u = _check(d, limits, body) if own else ([], [])
        limit = limits.get("max_dose")
        if own and billing is None and limit and d.amount and _over(d.amount, limit):
            proposal.append((d.index, limit))  # the label dose of this step, which the policy allows
        before = schedule[i - 1][0].start if i else None
        if own and (gap := limits.get("after_days")) and d.start and before:
            days = (d.start - before).days
            if days < gap:
                p.append(f"on {d.start.isoformat()}, {days} day(s) after the previous dose (the label: at least {gap})")
        problems += [f"step {i + 1}: {x}" if i < len(step_up) else x for x in p]
        unknown += u
    # Limits of a whole course or cycle hold over every order of the drug signed together.
    together = [d for d, _ in in_call]
    split = " in this call's orders" if len(together) > len(steps) else " in one order"
    if "max_count" in phase:
        problems += _count_problems(ctx, together, int(phase["max_count"]))
    total_days = sum(d.days or 0 for d in together) if all(d.days for d in together) else None
    # One cycle is this many days of dosing (Blincyto: a 28-day continuous infusion), whatever the steps.
    if total_days is not None and "max_cycle_days" in phase and total_days > phase["max_cycle_days"] + 1e-9:
        problems.append(f"{total_days:g} days of dosing{split} exceeds one {phase['max_cycle_days']}-day cycle")
    # A course split over orders (each order's own days are checked step by step above).
    if total_days is not None and phase.get("max_days") and len(together) > len(steps) \
            and total_days > phase["max_days"] + 1e-9:
        problems.append(f"{total_days:g} days of dosing{split} exceeds {phase['max_days']}")
    ev = [Evidence(ctx.order_ref, f"{label}: " + "; ".join(_show(d) for d in steps))]
    if body:
        ev += body.evidence
    if problems:
        return Result(Status.NOT_MET, tuple(ev), "; ".join(problems), proposal=tuple(proposal))
    if unknown:
        return missing("; ".join(dict.fromkeys(unknown)), ev)
    return Result(Status.MET, tuple(ev), f"within the limit for {label}")


def dose_increase(c: Criterion, ctx: Context) -> Result:
    """Is the order a dose increase over the last dose given (a larger dose, or a shorter interval)?"""
    dosages = [d for d in as_list(ctx.order.get("dosageInstruction")) if isinstance(d, dict)]
    given = sorted(((e.start, e) for e, _ in ctx.received(ctx.drug) if e.start), key=lambda x: x[0])
    if not dosages or not given:
        return missing("the order's dose or the doses given cannot be compared")
    new = _dose_of(dosages[-1], 0)
    last = given[-1][1]
    dosage = last.resource.get("dosage")
    last_amount = quantity_of(dosage.get("dose")) if isinstance(dosage, dict) else None
    gaps = sorted((b[0] - a[0]).days for a, b in zip(given[-5:], given[-4:], strict=False))
    # The usual interval of the last doses (a median, so one late or early dose does not decide).
    last_gap = gaps[len(gaps) // 2] if gaps else None
    if new.amount is None or last_amount is None:
        return missing("the dose per administration of the order or of the last dose given is not stated")
    more = _over(new.amount, last_amount)
    if more is None:
        return missing(f"dose units '{new.amount.unit}' and '{last_amount.unit}' cannot be compared")
    sooner = bool(new.interval_days and last_gap and new.interval_days < last_gap)
    ev = (Evidence(last.ref, f"last dose {last_amount} on {given[-1][0].isoformat()}"
                   + (f", usually every {last_gap} days" if last_gap else ""), given[-1][0].isoformat()),
          Evidence(ctx.order_ref, f"requested {_show(new)}"))
    return Result(Status.MET if more or sooner else Status.NOT_MET, ev)
