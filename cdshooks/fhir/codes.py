"""FHIR coding helpers: the code systems by short name, their spellings as EHRs send them, codes normalised for
comparison (NDC 10 → 11 digits), and the codings and text of a CodeableConcept. Pure data: policy/ may import it."""

from __future__ import annotations

import re
from collections.abc import Mapping
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


def normalize_system(system: Any) -> str:
    """The canonical URL of a code system ("" for anything that is not a string)."""
    if not isinstance(system, str):
        return ""
    return SYSTEM_ALIASES.get(system, system)


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


def codings_of(concept: Any) -> list[dict[str, Any]]:
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


def order_label(order: Mapping[str, Any]) -> str:
    """What an order asks for, in words: its concept's text, else the first coding's display or code ("")."""
    concept = order.get("medicationCodeableConcept") or order.get("code") or {}
    if not isinstance(concept, dict):
        return ""
    if isinstance(concept.get("text"), str) and concept["text"]:
        return str(concept["text"])
    return next((str(c.get("display") or c.get("code", "")) for c in codings_of(concept)), "")


def text_of(concept: Any) -> str:
    if not isinstance(concept, dict):
        return ""
    parts = [concept.get("text")] + [c.get("display") for c in codings_of(concept)]
    return " ".join(p for p in parts if isinstance(p, str))
