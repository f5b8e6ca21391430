"""FHIR date and dateTime strings to Python dates (partial dates take their first day)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def parse_date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    m = _DATE.match(value.strip())
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))
    except ValueError:
        return None


def period_bounds(value: Any) -> tuple[date | None, date | None]:
    """(start, end) of a dateTime string or a Period dict."""
    if isinstance(value, str):
        d = parse_date(value)
        return d, d
    if isinstance(value, dict):
        return parse_date(value.get("start")), parse_date(value.get("end"))
    return None, None


def effective(resource: dict, *prefixes: str) -> tuple[date | None, date | None]:
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
