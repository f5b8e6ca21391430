"""Code sets compiled from the value-set files, and matching of FHIR codings and text against them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

SYSTEMS: Mapping[str, str] = {
    "icd10cm": "http://hl7.org/fhir/sid/icd-10-cm",
    "snomed": "http://snomed.info/sct",
    "loinc": "http://loinc.org",
    "rxnorm": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "ucum": "http://unitsofmeasure.org",
    "hcpcs": "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "nucc": "http://nucc.org/provider-taxonomy",
    "ndc": "http://hl7.org/fhir/sid/ndc",
    "sopt": "https://nahdo.org/sopt",
    "condition-clinical": "http://terminology.hl7.org/CodeSystem/condition-clinical",
    "cpt": "http://www.ama-assn.org/go/cpt",
    "icd10pcs": "http://www.cms.gov/Medicare/Coding/ICD10",
}
NDC = SYSTEMS["ndc"]
# EHRs send HCPCS under a few spellings of the system; all mean HCPCS Level II.
SYSTEM_ALIASES: Mapping[str, str] = {
    "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets": SYSTEMS["hcpcs"],
    "http://www.ama-assn.org/go/cpt/hcpcs": SYSTEMS["hcpcs"],
    "urn:oid:2.16.840.1.113883.6.285": SYSTEMS["hcpcs"],
    "urn:oid:2.16.840.1.113883.6.88": SYSTEMS["rxnorm"],
    "urn:oid:2.16.840.1.113883.6.90": SYSTEMS["icd10cm"],
    "urn:oid:2.16.840.1.113883.6.96": SYSTEMS["snomed"],
    "urn:oid:2.16.840.1.113883.6.1": SYSTEMS["loinc"],
}


def normalize_system(system: str | None) -> str:
    return SYSTEM_ALIASES.get(system or "", system or "")


def normalize_ndc(code: str) -> str:
    """Turn a 10-digit hyphenated NDC (4-4-2, 5-3-2, 5-4-1) or 11-digit one into 11-digit 5-4-2 without hyphens."""
    parts = code.strip().split("-")
    if len(parts) == 3:
        widths = (5, 4, 2)
        return "".join(p.zfill(w) for p, w in zip(parts, widths, strict=True))
    digits = re.sub(r"\D", "", code)
    return digits


def normalize_code(system: str, code: str) -> str:
    code = code.strip()
    if system == NDC:
        return normalize_ndc(code)
    if system in (SYSTEMS["icd10cm"], SYSTEMS["hcpcs"], SYSTEMS["nucc"]):
        return code.upper()
    return code


def as_list(value: Any) -> list[Any]:
    """A repeating element as a list, also when a client sent one object where FHIR wants a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def codings_of(concept: Any) -> list[dict]:
    """Codings of a CodeableConcept-like dict (tolerates a bare Coding or garbage)."""
    if not isinstance(concept, dict):
        return []
    codings = concept.get("coding")
    if isinstance(codings, list):
        return [c for c in codings if isinstance(c, dict)]
    if "code" in concept:
        return [concept]
    return []


def first_code(concept: Any) -> str:
    """The code of a concept's first coding that has one (e.g. a clinical or verification status)."""
    return next((c["code"] for c in codings_of(concept) if isinstance(c.get("code"), str)), "")


def text_of(concept: Any) -> str:
    if not isinstance(concept, dict):
        return ""
    parts = [concept.get("text")] + [c.get("display") for c in codings_of(concept)]
    return " ".join(p for p in parts if isinstance(p, str))


@dataclass(frozen=True)
class Match:
    system: str
    code: str
    display: str
    by_text: bool = False


@dataclass(frozen=True)
class CodeSet:
    """A compiled value set: exact (system, code) pairs, code prefixes per system, and drug names for text."""

    id: str
    codes: frozenset[tuple[str, str]]
    prefixes: tuple[tuple[str, str], ...] = ()
    names: tuple[str, ...] = ()
    displays: Mapping[tuple[str, str], str] | None = None
    title: str = ""

    def match_coding(self, coding: Mapping[str, Any]) -> Match | None:
        system = normalize_system(coding.get("system"))
        code = coding.get("code")
        if not isinstance(code, str) or not system:
            return None
        code = normalize_code(system, code)
        display = coding.get("display") if isinstance(coding.get("display"), str) else code
        return Match(system, code, display) if self._contains(system, code) else None

    def name_of(self, match: Match) -> str:
        """The value set's own name for a matched code (an ingredient), else what the record called it."""
        return (self.displays or {}).get((match.system, match.code), match.display)

    def _contains(self, system: str, code: str) -> bool:
        """A normalised (system, code) is in the set, exactly or under one of its prefixes."""
        return (system, code) in self.codes or any(system == s and code.startswith(p) for s, p in self.prefixes)

    @cached_property
    def _names_re(self) -> re.Pattern[str] | None:
        """All names as one compiled alternation (longest first), matched on word boundaries."""
        if not self.names:
            return None
        names = sorted(set(self.names), key=len, reverse=True)
        return re.compile(r"\b(?:" + "|".join(re.escape(n) for n in names) + r")\b")

    def match_text(self, text: str) -> str | None:
        pattern = self._names_re
        found = pattern.search(text.lower()) if pattern and text else None
        return found.group(0) if found else None

    def match_keys(self, keys: Iterable[tuple[str, str, str]], text: str) -> Match | None:
        """Fast path over pre-normalised (system, code, display) triples and lower-cased text (see Exposure)."""
        for system, code, display in keys:
            if self._contains(system, code):
                return Match(system, code, display)
        name = self.match_text(text)
        return Match("text", name, name, by_text=True) if name else None

    def match(self, concepts: Iterable[Any], *, use_text: bool = True) -> Match | None:
        """First match over the codings of several concepts; text names only when no coding matched."""
        concepts = list(concepts)
        for concept in concepts:
            for coding in codings_of(concept):
                found = self.match_coding(coding)
                if found:
                    return found
        if use_text and self.names:
            for concept in concepts:
                name = self.match_text(text_of(concept))
                if name:
                    return Match("text", name, name, by_text=True)
        return None

    def union(self, other: CodeSet, new_id: str) -> CodeSet:
        return CodeSet(
            new_id,
            self.codes | other.codes,
            self.prefixes + other.prefixes,
            self.names + other.names,
            {**(self.displays or {}), **(other.displays or {})},
            " + ".join(t for t in (self.title, other.title) if t),
        )

    def minus(self, other: CodeSet, new_id: str) -> CodeSet:
        return CodeSet(
            new_id,
            self.codes - other.codes,
            tuple(p for p in self.prefixes if p not in other.prefixes),
            tuple(n for n in self.names if n not in other.names),
            self.displays,
            self.title,
        )


EMPTY = CodeSet("empty", frozenset())
