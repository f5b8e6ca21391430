"""`pa-advisor lint`: every mapping file against its schema, the value sets and the policy outlines, plus
code-level checks: ICD-10-CM codes exist in the CMS FY2026 tabular (simple-icd-10-cm), LOINC check digits,
and the shape of HCPCS, NUCC, NDC, RxNorm and SNOMED codes.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from cdshooks.dtr.questionnaire import items_of, questionnaire
from cdshooks.errors import MappingError
from cdshooks.fhir.codes import SYSTEMS
from cdshooks.policy.loader import load_payers, load_policy, load_valuesets, mapping_schema
from cdshooks.policy.model import Policy

SHAPES = {
    "hcpcs": re.compile(r"^[A-V][0-9]{4}$"),
    "nucc": re.compile(r"^[0-9]{3}[0-9A-Z]{6}X$"),
    "ndc": re.compile(r"^([0-9]{4}-[0-9]{4}-[0-9]{2}|[0-9]{5}-[0-9]{3}-[0-9]{2}"
                      r"|[0-9]{5}-[0-9]{4}-[0-9]{1,2}|[0-9]{11})$"),
    "rxnorm": re.compile(r"^[0-9]{1,8}$"),
    "snomed": re.compile(r"^[0-9]{6,18}$"),
    "loinc": re.compile(r"^[0-9]{1,7}-[0-9]$"),
    "cpt": re.compile(r"^[0-9]{4}[0-9A-Z]$"),
    "icd10pcs": re.compile(r"^[0-9A-HJ-NP-Z]{7}$"),
}


def loinc_check_digit_ok(code: str) -> bool:
    """LOINC's Mod 10 check digit (the Luhn algorithm over the part before the hyphen)."""
    number, _, check = code.partition("-")
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return (10 - total % 10) % 10 == int(check)


def _check_codes(path: Path, data: dict, problems: list[str], notes: list[str]) -> None:
    import simple_icd_10_cm as icd

    for vs_id, body in (data.get("valuesets") or {}).items():
        for i, (alias, code, display, tag, *_why) in enumerate(body.get("codes", [])):
            where = f"{path}: $.valuesets.{vs_id}.codes[{i}]"
            code = str(code)
            if alias == "icd10cm":
                if not icd.is_valid_item(code):
                    problems.append(f"{where}: {code} is not in ICD-10-CM FY2026")
            elif alias in SHAPES and not SHAPES[alias].match(code):
                problems.append(f"{where}: {code!r} is not a well-formed {alias} code")
            elif alias == "loinc" and not loinc_check_digit_ok(code):
                problems.append(f"{where}: {code} fails the LOINC check digit")
            if tag == "U":
                notes.append(f"{where}: {code} ({display}) is unverified [U]; review before production")
        for i, (alias, prefix, *_why) in enumerate(body.get("prefixes", [])):
            if alias == "icd10cm" and not icd.is_valid_item(str(prefix)):
                problems.append(f"{path}: $.valuesets.{vs_id}.prefixes[{i}]: {prefix} is not an ICD-10-CM category")


def lint_mappings(root: Path) -> tuple[list[str], list[str]]:
    """(problems, notes). Each file is checked on its own so one broken file does not hide the others."""
    problems: list[str] = []
    notes: list[str] = []
    if not (Path(root) / "schema").is_dir():
        return [f"{root}: not a mappings folder (it has no schema/ folder)"], notes
    try:
        valuesets = load_valuesets(root)
        payers = load_payers(root)
        schema = mapping_schema(root, "policy.schema.json")
    except MappingError as exc:
        return [located(exc)], notes
    except (OSError, ValueError) as exc:
        return [str(exc)], notes
    sets: dict[Path, dict] = {}
    for path in sorted((root / "valuesets").glob("*.yaml")):
        sets[path] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        _check_codes(path, sets[path], problems, notes)
    paths = sorted((root / "policies").glob("*.yaml"))
    if not paths:
        problems.append(f"{root / 'policies'}: no policy files")
    problems += unused_valuesets(sets, paths)
    for path in paths:
        try:
            policy = load_policy(path, schema, valuesets, payers)
        except MappingError as exc:
            problems.append(located(exc))
            continue
        leaves = [c for c in policy.criteria_by_id.values() if not c.is_combinator and c.kind != "same_as"]
        for c in leaves:
            if c.request is None:
                problems.append(f"{c.where}: criterion {c.id!r} has no `request` (what to document when missing)")
        problems += drug_problems(policy) + dtr_problems(policy)
        notes.append(f"{path.name}: {policy.id}, {len(policy.criteria_by_id)} criteria")
    return problems, notes


def dtr_problems(policy: Policy) -> list[str]:
    """The policy's DTR Questionnaire is valid FHIR R4 and every question has words a clinician can answer."""
    from fhir.resources.R4B.questionnaire import Questionnaire
    from pydantic import ValidationError

    q = questionnaire(policy, "https://lint.invalid")
    out = [f"{policy.criteria_by_id[i['linkId']].where}: criterion {i['linkId']!r} has no question text (`text`)"
           for i in items_of(q) if not i["text"].strip() and i["linkId"] in policy.criteria_by_id]
    try:
        Questionnaire.model_validate(q)
    except ValidationError as exc:
        out.append(f"{policy.file}: its DTR Questionnaire is not valid FHIR R4: {str(exc).splitlines()[0]}")
    return out


def drug_problems(policy: Policy) -> list[str]:
    """`drug.coding` (the code every coverage-information and card names) is well-formed and in the drug's own
    value set — otherwise an order coded exactly as the policy says would not route to it."""
    system, code = policy.drug_coding["system"], policy.drug_coding["code"]
    short = next((k for k, url in SYSTEMS.items() if url == system), None)
    where = f"{policy.file}: $.drug.coding"
    out = []
    if short in SHAPES and not SHAPES[short].match(code):
        out.append(f"{where}: {code!r} is not a well-formed {short.upper()} code")
    if not policy.drug_codes.match_coding(policy.drug_coding):
        out.append(f"{where}: {code!r} is not in the drug's own value set ({policy.drug_codes.id})")
    return out


def located(exc: MappingError) -> str:
    """A mapping error as a pharmacist reads it: file:line, the criterion it is in, then the JSON path."""
    line, criterion = _where(Path(exc.file), exc.path)
    head = f"{exc.file}:{line}" if line else exc.file
    inside = f" (criterion {criterion!r})" if criterion else ""
    return f"{head}:{inside} {exc.path}: {exc.message}"


def _where(file: Path, path: str) -> tuple[int | None, str | None]:
    """The YAML line of a JSON path ($.a.b[2].c) and the id of the innermost criterion on the way."""
    try:
        node = yaml.compose(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None, None
    criterion = None
    for part in re.findall(r"[^.\[\]$]+|\[\d+\]", path):
        if isinstance(node, yaml.SequenceNode) and part.startswith("["):
            index = int(part[1:-1])
            if index >= len(node.value):
                break
            node = node.value[index]
        elif isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if k.value == part), None)
            if found is None:
                break
            node = found
        else:
            break
        if isinstance(node, yaml.MappingNode):
            ids = [v.value for k, v in node.value if k.value == "id" and isinstance(v, yaml.ScalarNode)]
            if ids and any(k.value == "kind" for k, _ in node.value):
                criterion = ids[0]
    return (node.start_mark.line + 1 if node is not None else None), criterion


def unused_valuesets(sets: dict[Path, dict], policies: list[Path]) -> list[str]:
    """Every value set (of the value-set files as read above) is used by some policy, directly or through
    another's `include`: a set nothing reads is either dead data or a criterion that was meant to read it."""
    defined = {vs_id: (path, body or {}) for path, data in sets.items()
               for vs_id, body in (data.get("valuesets") or {}).items()}
    used: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, str) and node in defined and node not in used:
            used.add(node)
            for inc in defined[node][1].get("include") or []:
                walk(inc)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in policies:
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return [f"{path}: $.valuesets.{vs_id}: value set {vs_id!r} is used by no policy"
            for vs_id, (path, _) in sorted(defined.items()) if vs_id not in used]
