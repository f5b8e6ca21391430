"""The minimal ELM Library a DTR app needs before it renders a Questionnaire (it refuses one without).

Our forms are pre-filled by the server (item.initial), so the logic is only `context Patient` and a Patient
statement: what `library X using FHIR version '4.0.1' context Patient` compiles to.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cdshooks.dtr.questionnaire import computable_name, library_url, slug
from cdshooks.policy.model import Policy


def elm(policy: Policy) -> dict[str, Any]:
    return {"library": {
        "identifier": {"id": computable_name(policy), "version": policy.revision},
        "schemaIdentifier": {"id": "urn:hl7-org:elm", "version": "r1"},
        "usings": {"def": [
            {"localIdentifier": "System", "uri": "urn:hl7-org:elm-types:r1"},
            {"localIdentifier": "FHIR", "uri": "http://hl7.org/fhir", "version": "4.0.1"},
        ]},
        "contexts": {"def": [{"name": "Patient"}]},
        "statements": {"def": [{
            "name": "Patient", "context": "Patient",
            "expression": {"type": "SingletonFrom",
                           "operand": {"type": "Retrieve", "dataType": "{http://hl7.org/fhir}Patient"}},
        }]},
    }}


def library(policy: Policy, base: str) -> dict[str, Any]:
    data = base64.b64encode(json.dumps(elm(policy), separators=(",", ":")).encode()).decode()
    return {
        "resourceType": "Library",
        "id": slug(policy),
        "url": library_url(base, policy),
        "version": policy.revision,
        "name": computable_name(policy),
        "title": f"{policy.id} documentation logic",
        "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/library-type",
                             "code": "logic-library"}]},
        # What the logic reads: the HL7 DTR app refuses to save a completed response without this list.
        "dataRequirement": [{"type": t} for t in DATA_REQUIREMENTS],
        "content": [{"contentType": "application/elm+json", "data": data}],
    }


DATA_REQUIREMENTS = ("Patient", "Practitioner", "PractitionerRole", "Coverage", "MedicationRequest", "Condition",
                     "Observation", "MedicationAdministration", "MedicationStatement", "Procedure")
