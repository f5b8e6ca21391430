"""FHIR date, dateTime and instant strings to Python dates (partial dates take their first day).

Strict: a value must match FHIR's own pattern for these types, or it is no date at all (`missing` for the
criteria that need it) — "20081201" is not 2008-01-01 and "2024-13-01" is not a guess at anything. One
leniency: a time without a time zone is accepted, since the date it is on is written out in full.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

_TIME = (r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]{1,9})?"
         r"(?:Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))?")
_DATE = re.compile(rf"([0-9]{{4}})(?:-(0[1-9]|1[0-2])(?:-(0[1-9]|[12][0-9]|3[01])(?:{_TIME})?)?)?")


def parse_date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    m = _DATE.fullmatch(value)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))
    except ValueError:
        return None


def parse_instant(value: Any) -> datetime | None:
    """A FHIR date or dateTime as an aware instant (a date alone is its midnight UTC; a time without a zone is
    taken as UTC), so that "newest" compares real instants; None when it is not one."""
    day = parse_date(value)  # FHIR's own pattern, or None
    if day is None:
        return None
    if "T" not in value:
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    try:
        when = datetime.fromisoformat(_trim_fraction(value.replace("Z", "+00:00")))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _trim_fraction(value: str) -> str:
    """Python reads at most 6 fraction digits; FHIR allows 9."""
    head, dot, rest = value.partition(".")
    if not dot:
        return value
    digits = re.match(r"[0-9]*", rest).group(0)  # type: ignore[union-attr]
    return f"{head}.{digits[:6].ljust(6, '0')}{rest[len(digits):]}"


def latest_date(value: Any) -> date | None:
    """The last day a (possibly partial) date can mean: "2008" → 2008-12-31, "2008-02" → 2008-02-29."""
    first = parse_date(value)
    if first is None or len(value) >= 10:
        return first
    if len(value) == 4:
        return date(first.year, 12, 31)
    return add_months(first, 1) - timedelta(days=1)


def period_bounds(value: Any) -> tuple[date | None, date | None]:
    """(start, end) of a dateTime string or a Period dict."""
    if isinstance(value, str):
        d = parse_date(value)
        return d, d
    if isinstance(value, dict):
        return parse_date(value.get("start")), parse_date(value.get("end"))
    return None, None


def effective(resource: dict[str, Any], *prefixes: str) -> tuple[date | None, date | None]:
    """The first present `<prefix>DateTime` / `<prefix>Period` / `<prefix>Instant` of a resource."""
    for prefix in prefixes:
        for suffix in ("DateTime", "Period", "Instant", "Date", ""):
            value = resource.get(prefix + suffix)
            if value is not None and not isinstance(value, bool):
                start, end = period_bounds(value)
                if start or end:
                    return start, end
    return None, None


def years_between(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError("unreachable")
