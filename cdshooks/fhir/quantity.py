"""A FHIR Quantity as the criteria compare it: a number and its UCUM unit, and the unit as a clinician reads it.
Pure data: policy/ may import it."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Quantity:
    value: float
    unit: str  # UCUM
    # A result reported as a bound ("<0.5", ">100": valueQuantity.comparator), else None.
    comparator: str | None = None

    def __str__(self) -> str:
        value = f"{self.comparator or ''}{self.value:.4g}"
        unit = humane_unit(self.unit)
        return f"{value} {unit}" if unit else value


# UCUM spellings a clinician should not have to read, in the order they are replaced.
_HUMANE = ((r"10\*6", "× 10⁶ cells"), (r"\(24\.h\)", "24 h"), (r"\(m2\.d\)", "m²/day"), (r"\bug\b", "µg"),
           (r"\bm2\b", "m²"), (r"/d$", "/day"), (r"/wk$", "/week"), (r"/h$", "/hour"))


def humane_unit(ucum: str) -> str:
    """'ug/d' → 'µg/day', '10*6' → '× 10⁶ cells', 'mg/(24.h)' → 'mg/24 h'; annotations such as {ratio} vanish."""
    if ucum in ("1", "") or (ucum.startswith("{") and ucum.endswith("}")):
        return ""
    out = ucum
    for pattern, new in _HUMANE:
        out = re.sub(pattern, new, out)
    return out


def quantity_of(fhir_quantity: Any) -> Quantity | None:
    """A FHIR Quantity dict as a Quantity; prefers the UCUM code, falls back to the unit text."""
    if not isinstance(fhir_quantity, dict):
        return None
    value = fhir_quantity.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    unit = fhir_quantity.get("code") or fhir_quantity.get("unit") or "1"
    comparator = fhir_quantity.get("comparator")
    return Quantity(float(value), str(unit), comparator if comparator in ("<", "<=", ">", ">=") else None)
