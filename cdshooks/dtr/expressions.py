"""SDC pre-fill expressions for a policy's Questionnaire, so a DTR app fills answers from the EHR's own data even
without the coverage-assertion-id (which pre-fills `item.initial` from the kept evaluation instead).

The launch context names the patient; one x-fhir-query variable reads the patient's Conditions; FHIRPath
initialExpressions answer what plain data can show: a coded diagnosis and a minimum age. An expression only ever
answers "yes" (or nothing): absence in the EHR's data is never a "no".
"""

from __future__ import annotations

from typing import Any

from cdshooks.policy.codes import CodeSet
from cdshooks.policy.model import Criterion

SDC = "http://hl7.org/fhir/uv/sdc/StructureDefinition"
LAUNCH_CONTEXT = f"{SDC}/sdc-questionnaire-launchContext"
INITIAL_EXPRESSION = f"{SDC}/sdc-questionnaire-initialExpression"
VARIABLE = "http://hl7.org/fhir/StructureDefinition/variable"
LAUNCH_CODES = "http://hl7.org/fhir/uv/sdc/CodeSystem/launchContext"
EXCLUDED = "('refuted' | 'entered-in-error')"


def questionnaire_extensions() -> list[dict[str, Any]]:
    """The launch contexts a DTR app supplies (patient, user) and the Conditions variable."""
    return [
        {"url": LAUNCH_CONTEXT, "extension": [
            {"url": "name", "valueCoding": {"system": LAUNCH_CODES, "code": "patient"}},
            {"url": "type", "valueCode": "Patient"}]},
        {"url": LAUNCH_CONTEXT, "extension": [
            {"url": "name", "valueCoding": {"system": LAUNCH_CODES, "code": "user"}},
            {"url": "type", "valueCode": "Practitioner"}]},
        {"url": VARIABLE, "valueExpression": {"name": "conditions", "language": "application/x-fhir-query",
                                              "expression": "Condition?patient={{%patient.id}}"}},
    ]


def initial_expression(c: Criterion) -> dict[str, Any] | None:
    """The item's initialExpression extension, for the kinds plain data can show; None for the others."""
    text = _expression(c)
    if text is None:
        return None
    return {"url": INITIAL_EXPRESSION, "valueExpression": {"language": "text/fhirpath", "expression": text}}


def _expression(c: Criterion) -> str | None:
    if c.kind == "diagnosis":
        return _diagnosis(c)
    if c.kind == "age" and c.params.get("min") is not None and not c.params.get("below") \
            and not c.params.get("at_diagnosis"):
        return f"iif(%patient.birthDate <= today() - {int(c.params['min'])} years, true, {{}})"
    return None


def _diagnosis(c: Criterion) -> str | None:
    """Yes when a Condition of the patient (not refuted) carries a code of the set (in the clinical statuses the
    criterion names)."""
    match = _codes(c.params["codes"])
    if match is None:
        return None
    conditions = f"%conditions.entry.resource.where(verificationStatus.coding.code.intersect({EXCLUDED}).empty())"
    statuses = c.params.get("clinical_status") or []
    if statuses:
        conditions += f".where(clinicalStatus.coding.code.intersect({_list(statuses)}).exists())"
    return f"{conditions}.code.coding.where({match}).exists().where($this)"


def _codes(codes: CodeSet) -> str | None:
    by_system: dict[str, list[str]] = {}
    for system, code in sorted(codes.codes):
        by_system.setdefault(system, []).append(code)
    parts = [f"(system = {_quote(system)} and code in {_list(values)})" for system, values in by_system.items()]
    parts += [f"(system = {_quote(system)} and code.startsWith({_quote(prefix)}))"
              for system, prefix in codes.prefixes]
    return " or ".join(parts) or None


def _list(values: list[str]) -> str:
    return "(" + " | ".join(_quote(v) for v in values) + ")"


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
