"""`pa-advisor new-policy --from POLICY.txt --id ID --drug CODE`: a first policy YAML and its drug value set
from the text's items. Every item becomes a stub criterion (`kind: documentation`, the item's own words) in the
text's nesting; the author then gives each its kind and parameters until `lint --source` is clean."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from cdshooks.authoring.lint import SHAPES
from cdshooks.authoring.policy_text import TextItem
from cdshooks.fhir.codes import SYSTEMS

CONTINUED = re.compile(r"continu|reauthori|renewal|re-authori", re.I)
DURATION = re.compile(r"duration|length of authori|authorization period", re.I)
DOSING = re.compile(r"\bdos(e|ing|age)\b|quantity limit", re.I)
NOT_COVERED = re.compile(r"not (covered|authori[sz]ed)|conditions not covered|experimental", re.I)
ANY = re.compile(r"one of the following|\b(a|i) or (b|ii)\b|must meet (1|one)", re.I)
_STOPWORDS = {"the", "of", "a", "an", "and", "or", "is", "has", "by", "in", "to", "for", "with", "on", "at",
              "patient", "member", "individual", "following", "one", "all", "be", "which", "that", "e", "g"}


def drug_coding(code: str, name: str) -> list[str]:
    """[system alias, code, display] from `hcpcs:J9380`, or a bare code by its shape."""
    alias, _, bare = code.partition(":") if ":" in code else ("", "", code)
    if not alias:
        alias = next((a for a in ("hcpcs", "ndc", "rxnorm") if SHAPES[a].match(bare)), "")
    if alias not in SYSTEMS:
        raise ValueError(f"--drug {code!r}: give it as SYSTEM:CODE with SYSTEM one of {', '.join(sorted(SYSTEMS))}")
    return [alias, bare, name]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def scaffold(items: Sequence[TextItem], policy_id: str, drug: list[str], name: str, source: str) -> tuple[str, str]:
    """(policy YAML, value-set YAML)."""
    valueset = f"DRUG-{slug(name).upper()}"
    used: set[str] = set()
    groups: dict[str, list[TextItem]] = {"initial": [], "continued": [], "not_authorized": []}
    duration: dict[str, list[str]] = {"initial": [], "continued": []}
    dosing: list[str] = []
    for item in _tops(items):
        # What the item is about: its section (the id's first part), and its words when it is the section itself.
        where = item.id.split(".")[0] + ("" if "." in item.id else f" {item.words}")
        family = [i for i in items if i.id == item.id or i.id.startswith(item.id + ".")]
        if DURATION.search(where):
            for i in family:  # "Initial and Reauthorization: 1 year" covers both pathways
                initial, continued = bool(re.search("initial", i.words, re.I)), bool(CONTINUED.search(i.words))
                if initial or not continued:
                    duration["initial"].append(i.id)
                if continued:
                    duration["continued"].append(i.id)
        elif DOSING.search(where):
            dosing += [i.id for i in family]
        else:
            groups["continued" if CONTINUED.search(where) else
                   "not_authorized" if NOT_COVERED.search(where) else "initial"].append(item)
    policy: dict[str, Any] = {
        "id": policy_id, "title": name, "payer_label": "TODO: the payer's name as cards show it",
        "applies_to": [{"payer": "TODO-a-key-of-payers.yaml", "lines_of_business": ["commercial"]}],
        "drug": {"name": name, "valueset": valueset, "coding": drug},
        "source_document": f"TODO: title of {Path(source).name}", "revision": "TODO: the text's revision date",
        "outline": [i.id for i in items],
    }
    if dosing:
        policy["dose_limits"] = "TODO: the dose limit in words"
        policy["dose_limits_source"] = dosing
    for pathway in ("initial", "continued"):
        if pathway == "continued" and not groups["continued"]:
            continue
        spec: dict[str, Any] = {"approval_duration": "TODO: e.g. 12 months"}
        if duration[pathway]:
            spec["approval_duration_source"] = duration[pathway]
        if pathway == "continued":
            spec["when"] = {"id": "continued-selector", "source": groups["continued"][0].id, "kind": "receiving",
                            "text": f"Record shows {name} doses given",
                            "request": "Administration records of prior doses", "params": {"min_days": 0}}
        spec["criteria"] = {"id": pathway, "kind": "all", "text": f"{name}, {pathway} therapy (must meet all)",
                            "criteria": [_stub(i, items, used) for i in groups[pathway]]}
        policy[pathway] = spec
    if groups["not_authorized"]:
        policy["not_authorized"] = [_stub(i, items, used) for i in groups["not_authorized"]]
    head = (f"# {policy_id}: scaffolded by `pa-advisor new-policy` from {Path(source).name} on {date.today()}.\n"
            "# Each criterion is a stub (kind: documentation, the item's words). Give each its kind and params\n"
            "# (`pa-advisor kinds`), fill the TODOs, then run `pa-advisor lint --source` on the text until clean.\n")
    sets = {"valuesets": {valueset: {"title": name, "codes": [[*drug, "U"]], "names": [name.lower()]}}}
    return head + _dump(policy), _dump(sets)


def _tops(items: Sequence[TextItem]) -> list[TextItem]:
    """The items no other item contains."""
    ids = {i.id for i in items}
    return [i for i in items if not any(i.id.startswith(other + ".") for other in ids)]


def _stub(item: TextItem, items: Sequence[TextItem], used: set[str]) -> dict[str, Any]:
    children = [i for i in items if i.id.startswith(item.id + ".") and i.id.count(".") == item.id.count(".") + 1]
    words = item.words.rstrip(":").strip()
    base = "-".join([w for w in slug(words).split("-") if w and w not in _STOPWORDS][:4]) or slug(item.id)
    cid, n = base, 2
    while cid in used:
        cid, n = f"{base}-{n}", n + 1
    used.add(cid)
    if children:
        return {"id": cid, "source": item.id, "kind": "any" if ANY.search(words) else "all", "text": words,
                "criteria": [_stub(c, items, used) for c in children]}
    return {"id": cid, "source": item.id, "kind": "documentation", "text": words, "request": f"Document: {words}"}


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)
