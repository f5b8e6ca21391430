"""`pa-advisor kinds`: each criterion kind's parameters (kinds.PARAMS), its meaning (the function's docstring) and
one real example from the mappings — generated, so it cannot drift from what the loader accepts."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import yaml

from .policy.kinds import KINDS, PARAMS, PHASE_KEYS

MEANING = {"same_as": "Mirrors another criterion's status (params.ref), e.g. the same diagnosis in two pathways.",
           "all": "Every child criterion is met.", "any": "At least one child criterion is met.",
           "not": "The single child criterion is not met.", "at_least": "At least params.n child criteria are met."}


def reference(mappings: Path, name: str | None = None) -> str | None:
    names = sorted(PARAMS) if name is None else [name]
    if any(n not in PARAMS for n in names):
        return None
    examples = _examples(mappings)
    return "\n\n".join(_entry(n, examples.get(n)) for n in names)


def _entry(kind: str, example: dict[str, Any] | None) -> str:
    required, optional = PARAMS[kind]
    meaning = MEANING.get(kind) or inspect.getdoc(KINDS[kind]) or ""
    lines = [f"{kind}", "  " + meaning.replace("\n", "\n  ")]
    lines.append(f"  required: {', '.join(sorted(required)) or '—'}")
    lines.append(f"  optional: {', '.join(sorted(optional)) or '—'}")
    if kind == "dose":
        lines.append(f"  phase keys: {', '.join(sorted(PHASE_KEYS))}")
    if example:
        shown = yaml.safe_dump([example], sort_keys=False, allow_unicode=True, width=100).rstrip()
        lines.append("  example:\n" + "\n".join("    " + line for line in shown.splitlines()))
    return "\n".join(lines)


def _examples(mappings: Path) -> dict[str, dict[str, Any]]:
    """The first criterion of each kind in the policy files, without its children."""
    found: dict[str, dict[str, Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("kind"), str) and "id" in node and node["kind"] not in found:
                found[node["kind"]] = {k: v for k, v in node.items() if k != "criteria"}
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in sorted((Path(mappings) / "policies").glob("*.yaml")):
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return found
