"""Load mappings/ (value sets, payers, policies), check them against their JSON Schemas, compile them once.

Any problem raises MappingError naming the file and the JSON path inside it, so a broken mapping stops
start-up with a message a deployer can act on.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from cdshooks.errors import MappingError
from cdshooks.fhir.codes import SYSTEMS, normalize_code
from cdshooks.policy.codes import EMPTY, CodeSet
from cdshooks.policy.kinds import CODESET_LIST_PARAMS, CODESET_PARAMS, KINDS, PARAMS, PHASE_KEYS, QUANTITY_PARAMS
from cdshooks.policy.kinds_dose import BSA_FORMULAS
from cdshooks.policy.model import (
    COMBINATORS,
    Applicability,
    Criterion,
    Link,
    PathwaySpec,
    Payer,
    Policy,
    Quantity,
)
from cdshooks.policy.units import UnitError, check_unit

EXTRA_KINDS = frozenset({"same_as"})


@dataclass(frozen=True)
class Library:
    valuesets: Mapping[str, CodeSet]
    payers: Mapping[str, Payer]
    policies: tuple[Policy, ...]
    # (system, code) of every drug code → the policies that govern it; built once for routing.
    drug_index: Mapping[tuple[str, str], tuple[Policy, ...]]


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "$"
        raise MappingError(str(path), where, f"not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    except OSError as exc:
        raise MappingError(str(path), "$", f"cannot read: {exc.strerror}") from exc


def _validate(data: Any, schema: dict[str, Any], path: Path) -> None:
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        raise MappingError(str(path), best.json_path, best.message)


def mapping_schema(root: Path, name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((root / "schema" / name).read_text(encoding="utf-8"))
    return schema


def load_valuesets(root: Path) -> dict[str, CodeSet]:
    schema = mapping_schema(root, "valueset.schema.json")
    raw: dict[str, tuple[Path, dict[str, Any]]] = {}
    for path in sorted((root / "valuesets").glob("*.yaml")):
        data = _read_yaml(path)
        _validate(data, schema, path)
        for vs_id, body in data["valuesets"].items():
            if vs_id in raw:
                raise MappingError(str(path), f"$.valuesets.{vs_id}", "value set defined twice")
            raw[vs_id] = (path, body)
    compiled: dict[str, CodeSet] = {}

    def build(vs_id: str, stack: tuple[str, ...]) -> CodeSet:
        if vs_id in compiled:
            return compiled[vs_id]
        path, body = raw[vs_id]
        codes, displays = set(), {}
        for i, (alias, code, display, *_tag_and_why) in enumerate(body.get("codes", [])):
            if alias not in SYSTEMS:
                raise MappingError(str(path), f"$.valuesets.{vs_id}.codes[{i}]", f"unknown code system {alias!r}")
            key = (SYSTEMS[alias], normalize_code(SYSTEMS[alias], str(code)))
            codes.add(key)
            displays[key] = display
        prefixes = []
        for i, (alias, prefix, *_why) in enumerate(body.get("prefixes", [])):
            if alias not in SYSTEMS:
                raise MappingError(str(path), f"$.valuesets.{vs_id}.prefixes[{i}]", f"unknown code system {alias!r}")
            prefixes.append((SYSTEMS[alias], str(prefix).upper()))
        cs = CodeSet(vs_id, frozenset(codes), tuple(prefixes),
                     tuple(n.lower() for n in body.get("names", [])), displays, body.get("title", ""))
        for i, inc in enumerate(body.get("include", [])):
            if inc not in raw:
                raise MappingError(str(path), f"$.valuesets.{vs_id}.include[{i}]", f"unknown value set {inc!r}")
            if inc in stack:
                raise MappingError(str(path), f"$.valuesets.{vs_id}.include[{i}]", "value sets include each other")
            cs = cs.union(build(inc, stack + (vs_id,)), vs_id)
        for i, exc_id in enumerate(body.get("exclude", [])):
            if exc_id not in raw:
                raise MappingError(str(path), f"$.valuesets.{vs_id}.exclude[{i}]", f"unknown value set {exc_id!r}")
            cs = cs.minus(build(exc_id, stack + (vs_id,)), vs_id)
        compiled[vs_id] = cs = replace(cs, title=body.get("title", vs_id))
        return cs

    for vs_id in raw:
        build(vs_id, ())
    return compiled


def load_payers(root: Path) -> dict[str, Payer]:
    path = root / "payers.yaml"
    data = _read_yaml(path)
    _validate(data, mapping_schema(root, "payers.schema.json"), path)
    return {
        pid: Payer(pid, body["name"], tuple(n.lower() for n in body.get("names", [body["name"]])),
                   tuple(body.get("identifiers", [])),
                   tuple((p["plan"], p["label"], p["url"]) for p in body.get("policy_pages", [])))
        for pid, body in data["payers"].items()
    }


class _Compiler:
    """Compiles one policy file's criteria, resolving value sets and quantities, checking kinds and ids."""

    def __init__(self, path: Path, valuesets: Mapping[str, CodeSet], outline: set[str]) -> None:
        self.path, self.valuesets, self.outline = path, valuesets, outline
        self.by_id: dict[str, Criterion] = {}
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str]] = []  # (criterion id, where it is named) for same_as and applies_if

    def fail(self, where: str, message: str) -> MappingError:
        return MappingError(str(self.path), where, message)

    def codeset(self, value: Any, where: str) -> CodeSet:
        ids = [value] if isinstance(value, str) else list(value)
        out: CodeSet | None = None
        for i, vs_id in enumerate(ids):
            if vs_id not in self.valuesets:
                raise self.fail(f"{where}[{i}]" if len(ids) > 1 else where, f"unknown value set {vs_id!r}")
            out = self.valuesets[vs_id] if out is None else out.union(self.valuesets[vs_id], "+".join(ids))
        assert out is not None  # the schema requires at least one id
        return out

    def quantity(self, value: Any, where: str) -> Quantity:
        try:
            number, unit = str(value).split(maxsplit=1)
            check_unit(unit)
            return Quantity(float(number), unit)
        except (ValueError, UnitError) as exc:
            raise self.fail(where, f"not '<number> <UCUM unit>': {value!r} ({exc})") from exc

    def check_params(self, kind: str, raw: Mapping[str, Any], where: str) -> None:
        """Required parameters present, no unknown ones (a misspelling names the likely intended one)."""
        required, optional = PARAMS.get(kind, (frozenset(), frozenset()))
        self._known(raw, required | optional, where, f"kind {kind!r}")  # first: a misspelling explains a gap
        for key in sorted(required - set(raw)):
            raise self.fail(where, f"kind {kind!r} needs params.{key}")
        if kind == "dose" and raw.get("bsa_formula", "mosteller") not in BSA_FORMULAS:
            raise self.fail(f"{where}.bsa_formula", f"{raw['bsa_formula']!r}: expected one of "
                            f"{', '.join(sorted(BSA_FORMULAS))}")
        for i, phase in enumerate((raw.get("phases") or ()) if kind == "dose" else ()):
            at = f"{where}.phases[{i}]"
            self._known(phase, PHASE_KEYS, at, "a dose phase")
            if "max_dose_per_kg" in phase and not str(phase["max_dose_per_kg"]).endswith("/kg"):
                raise self.fail(f"{at}.max_dose_per_kg", f"{phase['max_dose_per_kg']!r}: expected a dose per kg "
                                "(e.g. 1.5 mg/kg)")
            for j, step in enumerate(phase.get("step_up") or ()):
                self._known(step, PHASE_KEYS - {"step_up"}, f"{at}.step_up[{j}]", "a step-up dose")

    def _known(self, raw: Any, allowed: frozenset[str], where: str, what: str) -> None:
        if not isinstance(raw, Mapping):
            raise self.fail(where, f"expected a mapping of parameters, not {type(raw).__name__}")
        for key in raw:
            if key not in allowed:
                near = difflib.get_close_matches(str(key), sorted(allowed), n=1)
                hint = f"; did you mean {near[0]!r}?" if near else f" (allowed: {', '.join(sorted(allowed)) or 'none'})"
                raise self.fail(f"{where}.{key}", f"{what} has no parameter {key!r}{hint}")

    def params(self, raw: Mapping[str, Any], where: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in raw.items():
            at = f"{where}.{key}"
            if key in CODESET_PARAMS:
                out[key] = self.codeset(value, at)
            elif key in CODESET_LIST_PARAMS:
                out[key] = tuple(self.codeset(v, f"{at}[{i}]") for i, v in enumerate(value))
            elif key in QUANTITY_PARAMS:
                out[key] = self.quantity(value, at)
            elif key in ("phases", "step_up"):
                out[key] = tuple(self.params(ph, f"{at}[{i}]") for i, ph in enumerate(value))
            else:
                out[key] = value
        return out

    def criterion(self, raw: Mapping[str, Any], where: str) -> Criterion:
        cid, kind = raw["id"], raw["kind"]
        if cid in self.ids:
            raise self.fail(f"{where}.id", f"criterion id {cid!r} used twice")
        self.ids.add(cid)
        if kind not in KINDS and kind not in COMBINATORS and kind not in EXTRA_KINDS:
            raise self.fail(f"{where}.kind", f"unknown criterion kind {kind!r}")
        source = raw.get("source")
        if source is not None and source not in self.outline:
            raise self.fail(f"{where}.source", f"{source!r} is not an item of the policy outline")
        children = tuple(self.criterion(ch, f"{where}.criteria[{i}]") for i, ch in enumerate(raw.get("criteria", [])))
        if kind in COMBINATORS and not children:
            raise self.fail(where, f"combinator {kind!r} needs criteria")
        self.check_params(kind, raw.get("params", {}), f"{where}.params")
        params = self.params(raw.get("params", {}), f"{where}.params")
        if kind == "same_as":
            self.refs.append((params.get("ref", ""), f"{where}.params.ref"))
        if raw.get("applies_if"):
            self.refs.append((raw["applies_if"], f"{where}.applies_if"))
        crit = Criterion(
            id=cid, kind=kind, text=raw["text"], source=source, params=params, children=children,
            request=raw.get("request"), ambiguity=raw.get("ambiguity"), where=f"{self.path}: {where}",
            ambiguity_when=raw.get("ambiguity_when"),
            applies_if=raw.get("applies_if"), not_covered=bool(raw.get("not_covered")), referral=raw.get("referral"),
            gate=bool(raw.get("gate")),
        )
        self.by_id[cid] = crit
        return crit

    def check_refs(self) -> None:
        for ref, where in self.refs:
            if ref not in self.ids:
                raise self.fail(where, f"refers to unknown criterion {ref!r}")


def _sources(c: Criterion) -> set[str]:
    out = {c.source} if c.source else set()
    for child in c.children:
        out |= _sources(child)
    return out


def load_policy(path: Path, schema: dict[str, Any], valuesets: Mapping[str, CodeSet],
                payers: Mapping[str, Payer]) -> Policy:
    data = _read_yaml(path)
    _validate(data, schema, path)
    outline = set(data["outline"])
    comp = _Compiler(path, valuesets, outline)
    initial = PathwaySpec(comp.criterion(data["initial"]["criteria"], "$.initial.criteria"),
                          _durations(data["initial"]["approval_duration"]))
    continued = continued_when = None
    if "continued" in data:
        continued = PathwaySpec(comp.criterion(data["continued"]["criteria"], "$.continued.criteria"),
                                _durations(data["continued"]["approval_duration"]))
        continued_when = comp.criterion(data["continued"]["when"], "$.continued.when")
    not_auth = tuple(comp.criterion(c, f"$.not_authorized[{i}]") for i, c in enumerate(data.get("not_authorized", [])))
    conditions = [comp.criterion(c, f"$.conditions[{i}]") for i, c in enumerate(data.get("conditions", []))]
    comp.check_refs()
    trees = [initial.criteria, *not_auth, *conditions] + ([continued.criteria, continued_when] if continued else [])
    covered = set().union(*(_sources(c) for c in trees if c)) | _text_sources(data, outline, path)
    uncovered = sorted(outline - covered)
    if uncovered:
        raise MappingError(str(path), "$.outline", f"policy items with no criterion: {', '.join(uncovered)}")
    applies = []
    for i, entry in enumerate(data["applies_to"]):
        if entry["payer"] not in payers:
            raise MappingError(str(path), f"$.applies_to[{i}].payer", f"unknown payer {entry['payer']!r}")
        applies.append(Applicability(payers[entry["payer"]], frozenset(entry.get("lines_of_business", []))))
    drug = data["drug"]
    return Policy(
        id=data["id"],
        title=data["title"],
        payer_label=data["payer_label"],
        applies_to=tuple(applies),
        drug_name=drug["name"],
        drug_codes=comp.codeset(drug["valueset"], "$.drug.valueset"),
        drug_coding={"system": SYSTEMS[drug["coding"][0]], "code": drug["coding"][1], "display": drug["coding"][2]},
        ambiguous_codes=_optional_codeset(comp, drug, "ambiguous_valueset"),
        indication=_optional_codeset(comp, drug, "indication"),
        excluded_codes=_optional_codeset(comp, drug, "exclude_valueset"),
        initial=initial,
        continued=continued,
        continued_when=continued_when,
        not_authorized=not_auth,
        links=tuple(Link(link["label"], link["url"]) for link in data.get("links", [])),
        outline=tuple(data["outline"]),
        text_numbering=dict(data.get("text_numbering", {})),
        source_document=data["source_document"],
        revision=data["revision"],
        file=str(path),
        notices=tuple(data.get("notices", [])),
        review=data.get("review"),
        criteria_by_id=dict(comp.by_id),
    )


def _text_sources(data: Mapping[str, Any], outline: set[str], path: Path) -> set[str]:
    """Outline items covered by the approval duration or the dose limits text (no criterion decides them)."""
    found: set[str] = set()
    for where, items in [("$.dose_limits_source", data.get("dose_limits_source", []))] + [
            (f"$.{p}.approval_duration_source", data[p].get("approval_duration_source", []))
            for p in ("initial", "continued") if p in data]:
        for i, item in enumerate(items):
            if item not in outline:
                raise MappingError(str(path), f"{where}[{i}]", f"{item!r} is not an item of the policy outline")
        found |= set(items)
    return found


def _durations(value: Any) -> dict[str, str]:
    return dict(value) if isinstance(value, dict) else {"default": value}


def _optional_codeset(comp: _Compiler, drug: Mapping[str, Any], key: str) -> CodeSet:
    return comp.codeset(drug[key], f"$.drug.{key}") if key in drug else EMPTY


def load_library(root: Path) -> Library:
    root = Path(root)
    if not (root / "schema").is_dir():
        raise MappingError(str(root), "$", "not a mappings directory (no schema/ folder)")
    valuesets = load_valuesets(root)
    payers = load_payers(root)
    schema = mapping_schema(root, "policy.schema.json")
    policies = []
    seen: set[str] = set()
    for path in sorted((root / "policies").glob("*.yaml")):
        policy = load_policy(path, schema, valuesets, payers)
        if policy.id in seen:
            raise MappingError(str(path), "$.id", f"policy id {policy.id!r} defined twice")
        seen.add(policy.id)
        policies.append(policy)
    if not policies:
        raise MappingError(str(root / "policies"), "$", "no policy files found")
    index: dict[tuple[str, str], list[Policy]] = {}
    for policy in policies:
        for key in policy.drug_codes.codes | policy.ambiguous_codes.codes:
            index.setdefault(key, []).append(policy)
    return Library(valuesets, payers, tuple(policies), {k: tuple(v) for k, v in index.items()})
