"""Criterion kinds that read laboratory Observations, compared in UCUM after unit conversion."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from cdshooks.fhir.codes import as_list, codings_of
from cdshooks.fhir.dates import effective
from cdshooks.fhir.quantity import quantity_of
from cdshooks.fhir.record import ref_of
from cdshooks.policy.codes import CodeSet
from cdshooks.policy.context import Context, missing, unavailable_note
from cdshooks.policy.model import Criterion, Evidence, Quantity, Result, Status
from cdshooks.policy.units import UnitError, compare, compare_reported, convert

FINAL = {"final", "amended", "corrected"}
# One result: the Observation, its date, its value (None when it has no numeric value).
Row = tuple[dict[str, Any], date, Quantity | None]


def _series(ctx: Context, codes: CodeSet) -> list[Row]:
    """Final results for the codes, newest first, dated on or before the anchor."""
    rows: list[Row] = []
    for obs in ctx.record.observations(codes.codes):
        if str(obs.get("status")) not in FINAL:
            continue
        when, end = effective(obs, "effective")
        when = end or when
        if when is None or when > ctx.anchor:
            continue
        rows.append((obs, when, quantity_of(obs.get("valueQuantity"))))
    return sorted(rows, key=lambda r: r[1], reverse=True)


def _in_window(ctx: Context, rows: list[Row], days: int | None) -> tuple[list[Row], list[Row]]:
    if days is None:
        return rows, []
    start = ctx.anchor - timedelta(days=days)
    return [r for r in rows if r[1] >= start], [r for r in rows if r[1] < start]


def _ev(obs: dict[str, Any], label: str, qty: Quantity | None, when: date, extra: str = "") -> Evidence:
    shown = str(qty) if qty else "no numeric value"
    return Evidence(ref_of(obs), f"{label} {shown}{extra}", when.isoformat())


def lab(c: Criterion, ctx: Context) -> Result:
    """The most recent in-window result meets `comparator threshold` after conversion to the threshold's unit."""
    if note := unavailable_note(ctx.record, "Observation"):
        return missing(note)
    label = c.params.get("label", "result")
    threshold: Quantity = c.params["threshold"]
    rows, stale = _in_window(ctx, _series(ctx, c.params["codes"]), c.params.get("lookback_days"))
    # A reported value counts only when answered inside this lab's own look-back window.
    attested = ctx.attested_value(c.id, c.params.get("lookback_days"), alias=True)
    if not rows and attested and (reported := _reported(attested[0], threshold.unit)) is not None:
        # A lab with no standard code (e.g. B-ALL MRD) reported by the prescriber (a DTR answer).
        said = attested[1]
        met = compare(reported, c.params.get("comparator", ">="), threshold.value)
        amount = str(Quantity(reported, threshold.unit))
        return Result(Status.MET if met else Status.NOT_MET,
                      (Evidence(said.reference, f"{label} reported as {amount}", said.date),), value=reported)
    if not rows:
        old = [_ev(o, label, q, w, " (outside the look-back window)") for o, w, q in stale[:1]]
        days = c.params.get("lookback_days")
        return missing(f"no {label} within the last {days} days" if days else f"no {label} in the record", old)
    obs, when, qty = rows[0]
    if qty is None:
        return missing(f"the latest {label} has no numeric value", [_ev(obs, label, qty, when)])
    try:
        value = convert(qty.value, qty.unit, threshold.unit)
    except UnitError:
        return missing(f"the {label} unit '{qty.unit}' cannot be compared with {threshold.unit}",
                       [_ev(obs, label, qty, when)])
    shown = "" if qty.unit == threshold.unit else f" (= {qty.comparator or ''}{value:g} {threshold.unit})"
    ok = compare_reported(value, qty.comparator, c.params.get("comparator", ">="), threshold.value)
    ev = (_ev(obs, label, qty, when, shown),)
    if ok is None:
        return missing(f"the {label} is reported only as {qty}: it cannot show {c.text}", ev)
    return Result(Status.MET if ok else Status.NOT_MET, ev, value=None if qty.comparator else value)


def _reported(answer: Any, unit: str) -> float | None:
    """A reported number in the threshold's unit: a bare number is taken in that unit, a Quantity converted."""
    if isinstance(answer, int | float) and not isinstance(answer, bool):
        return float(answer)
    if isinstance(answer, Quantity):
        try:
            return convert(answer.value, answer.unit, unit)
        except UnitError:
            return None
    return None


def _abnormal_ratio(obs: dict[str, Any], ratio: float, low: float, high: float) -> bool | None:
    """The lab's own interpretation or reference range wins over the default normal range."""
    if flag := _flag(obs):
        return flag != "normal"
    for rng in as_list(obs.get("referenceRange")):
        if not isinstance(rng, dict):
            continue
        lo, hi = quantity_of(rng.get("low")), quantity_of(rng.get("high"))
        if lo and hi:
            low, high = lo.value, hi.value
            break
    return ratio < low or ratio > high


FLAGS = {"H": "high", "HH": "high", "HU": "high", ">": "high", "L": "low", "LL": "low", "LU": "low", "<": "low",
         "N": "normal", "A": "abnormal", "AA": "abnormal"}


def _flag(obs: dict[str, Any]) -> str | None:
    """The lab's interpretation flag (v3 ObservationInterpretation) as high / low / normal / abnormal."""
    for interp in as_list(obs.get("interpretation")):
        for coding in codings_of(interp):
            if isinstance(coding.get("code"), str) and coding["code"] in FLAGS:
                return FLAGS[coding["code"]]
    return None


def _nearest(rows: list[Row], when: date, days: int = 3) -> Row | None:
    for row in rows:
        if abs((row[1] - when).days) <= days:
            return row
    return None


def flc(c: Criterion, ctx: Context) -> Result:
    """Involved serum free light chain ≥ threshold, provided the κ/λ ratio is abnormal.

    Involved = κ when the ratio is high, λ when it is low. The three results must come from one draw
    (within 3 days of each other) inside the look-back window.
    """
    if note := unavailable_note(ctx.record, "Observation"):
        return missing(note)
    days = c.params.get("lookback_days")
    threshold: Quantity = c.params["threshold"]
    ratios, stale = _in_window(ctx, _series(ctx, c.params["ratio"]), days)
    if not ratios:
        old = [_ev(o, "FLC ratio", q, w, " (outside the look-back window)") for o, w, q in stale[:1]]
        return missing(f"no serum free light chain ratio within the last {days} days", old)
    obs, when, qty = ratios[0]
    if qty is None:
        # The lab's flag alone (interpretation H / L / N) still says whether the ratio is abnormal and which
        # chain is involved.
        flag = _flag(obs)
        ratio_ev = Evidence(ref_of(obs), f"κ/λ FLC ratio flagged {flag or 'with no value'}", when.isoformat())
        if flag not in ("high", "low", "normal"):
            return missing("the latest FLC ratio has no numeric value", [ratio_ev])
        if flag == "normal":
            return Result(Status.NOT_MET, (ratio_ev,), "the FLC ratio is normal")
        high = flag == "high"
    else:
        ratio_ev = _ev(obs, "κ/λ FLC ratio", qty, when)
        abnormal = _abnormal_ratio(obs, qty.value, c.params.get("ratio_low", 0.26),
                                   c.params.get("ratio_high", 1.65))
        if not abnormal:
            return Result(Status.NOT_MET, (ratio_ev,), "the FLC ratio is normal")
        high = qty.value > 1
    involved_codes = c.params["kappa"] if high else c.params["lambda"]
    label = "involved κ FLC" if high else "involved λ FLC"
    row = _nearest(_series(ctx, involved_codes), when)
    if row is None or row[2] is None:
        return missing(f"no {label} result from the same draw as the ratio", [ratio_ev])
    fobs, fwhen, fqty = row[0], row[1], row[2]
    try:
        value = convert(fqty.value, fqty.unit, threshold.unit)
    except UnitError:
        return missing(f"the FLC unit '{fqty.unit}' cannot be compared with {threshold.unit}", [ratio_ev])
    shown = "" if fqty.unit == threshold.unit else f" (= {fqty.comparator or ''}{value:g} {threshold.unit})"
    ev = (ratio_ev, _ev(fobs, label, fqty, fwhen, shown))
    ok = compare_reported(value, fqty.comparator, c.params.get("comparator", ">="), threshold.value)
    if ok is None:
        return missing(f"the {label} is reported only as {fqty}", ev)
    return Result(Status.MET if ok else Status.NOT_MET, ev)
