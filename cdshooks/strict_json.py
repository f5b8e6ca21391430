"""JSON from callers and FHIR servers, parsed strictly: what Python's json module lets through but no valid
JSON (or FHIR JSON) contains is refused with a reason, before anything else reads it.

Refused: NaN/Infinity, numbers longer than MAX_NUMBER_CHARS or overflowing a float, lone UTF-16 surrogates
(`"\\ud800"`: they cannot be stored or logged), nesting deeper than MAX_DEPTH outside `prefetch`, and
duplicates of the keys that decide whose data this is and where the token goes. Each check costs little on
an ordinary body: the duplicate and surrogate checks run only when a byte scan finds a candidate, and the depth
walk skips prefetch (read at fixed paths only; json's own recursion guard still refuses the absurd).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from cdshooks.errors import PAAdvisorError

MAX_DEPTH = 64  # FHIR resources nest about 10 deep; extensions of extensions a few more
MAX_NUMBER_CHARS = 40
# Keys whose duplicates change whose record is read or where the bearer token goes (json.loads would silently
# keep the last one, another parser on the way the first). A byte count per key.
WATCHED_KEYS = (b'"patientId"', b'"fhirServer"')
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class JsonRejected(PAAdvisorError, ValueError):
    """A body that is JSON to a lenient parser but not to the spec (duplicate keys, NaN, too deep)."""


def _constant(name: str) -> Any:
    raise JsonRejected(f"{name} is not a JSON number")


def _int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise JsonRejected(f"a number of {len(text)} digits is too long")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise JsonRejected(f"a number of {len(text)} characters is too long")
    value = float(text)
    if not math.isfinite(value):
        raise JsonRejected(f"{text[:20]} overflows a number")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise JsonRejected(f"duplicate key {dup[:40]!r}")
    return out


def loads(raw: bytes | str) -> Any:
    """Parse JSON text; JsonRejected (a ValueError) says what is wrong with it."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    hooks: dict[str, Any] = {"parse_constant": _constant, "parse_int": _int, "parse_float": _float}
    if any(data.count(key) > 1 for key in WATCHED_KEYS):
        hooks["object_pairs_hook"] = _no_duplicates
    try:
        value = json.loads(data, **hooks)
    except RecursionError as exc:
        raise JsonRejected(f"nested deeper than {MAX_DEPTH} levels") from exc
    outside_prefetch = [v for k, v in value.items() if k != "prefetch"] if type(value) is dict else value
    if _too_deep(outside_prefetch, MAX_DEPTH):
        raise JsonRejected(f"nested deeper than {MAX_DEPTH} levels")
    maybe_surrogate = b"\\ud" in data or b"\\uD" in data  # a substring test first: the regex is slower
    if maybe_surrogate and _SURROGATE_ESCAPE.search(data) and _has_lone_surrogate(value):
        raise JsonRejected("a string holds a lone UTF-16 surrogate (not valid Unicode)")
    return value


def _too_deep(value: Any, left: int) -> bool:
    """Recursion bounded by `left` itself, so it cannot overflow."""
    if left == 0:
        return True
    items = value.values() if type(value) is dict else value if type(value) is list else ()
    for item in items:
        kind = type(item)
        if (kind is dict or kind is list) and _too_deep(item, left - 1):
            return True
    return False


def _has_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
