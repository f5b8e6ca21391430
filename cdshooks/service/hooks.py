"""The hooks we serve, as a table: discovery and routing both read it, so service ids cannot drift.

Also the prefetch templates, in plain CDS Hooks 2.0 tokens (2.0 EHRs do not expand 3.0's FHIRPath tokens).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cdshooks.fhir.codes import SYSTEMS
from cdshooks.fhir.record import ref_of
from cdshooks.policy.kinds import DATA, KINDS
from cdshooks.policy.loader import Library
from cdshooks.policy.model import Criterion
from cdshooks.policy.routing import ORDER_TYPES
from cdshooks.service.protocol import DISPATCH_CONTEXT_SCHEMA, ORDER_CONTEXT_SCHEMA, SELECT_CONTEXT_SCHEMA

CRD_VERSIONS = ["2.2"]


@dataclass(frozen=True)
class HookSpec:
    """One hook we serve, with all of its behaviour: adding a hook (appointment-book, encounter-start) is one entry
    here and its context schema (protocol.py)."""

    id: str
    hook: str
    title: str
    description: str
    context_schema: Mapping[str, Any]
    # CRD primary hooks must return a coverage-information systemAction (hook-16); secondary ones must not ask
    # for clinical documentation (hook-19), so order-select gets cards only.
    primary: bool
    has_user: bool
    # Where its orders are: draft orders in context.draftOrders (a Bundle), or references to signed orders in
    # context.dispatchedOrders (1.0: context.order), read from prefetch or the FHIR server.
    dispatched: bool = False
    # Only the draft orders context.selections names are read and judged.
    selected_only: bool = False

    def order_count(self, context: Mapping[str, Any]) -> int:
        if self.dispatched:
            return len(context.get("dispatchedOrders") or [])
        return len((context.get("draftOrders") or {}).get("entry") or [])

    def dispatched_refs(self, context: Mapping[str, Any]) -> list[str]:
        refs = list(context.get("dispatchedOrders") or []) or [context.get("order")]
        return [r for r in refs if isinstance(r, str)]

    def draft_orders(self, context: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The draft orders of the context (order resources only)."""
        bundle = context.get("draftOrders")
        entries = bundle.get("entry") if isinstance(bundle, dict) else None
        resources = [e.get("resource") for e in entries or [] if isinstance(e, dict)]
        return [r for r in resources if isinstance(r, dict) and r.get("resourceType") in ORDER_TYPES]

    def to_judge(self, context: Mapping[str, Any], orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not self.selected_only:
            return orders
        selected = set(context.get("selections") or [])
        return [o for o in orders if ref_of(o) in selected]

    def context(self, patient_id: str, orders: list[dict[str, Any]], user_id: str | None) -> dict[str, Any]:
        """The hook context an EHR sends with these orders (the EHR emulation of the CLI, console and tests)."""
        out: dict[str, Any] = {"patientId": patient_id}
        if self.dispatched:
            out["dispatchedOrders"] = [ref_of(o) for o in orders]
            out["performer"] = user_id or "Organization/pharmacy"
            return out
        out["draftOrders"] = {"resourceType": "Bundle", "type": "collection",
                              "entry": [{"resource": o} for o in orders]}
        if user_id:
            out["userId"] = user_id
        if self.selected_only:
            out["selections"] = [ref_of(o) for o in orders[:1]]
        return out


HOOKS: tuple[HookSpec, ...] = (
    HookSpec("pa-order-sign", "order-sign", "PA Advisor: prior authorization at signing",
             "Predicts the payer's prior-authorization outcome for specialty drugs being signed and lists the "
             "documentation still missing, criterion by criterion.", ORDER_CONTEXT_SCHEMA, True, True),
    HookSpec("pa-order-select", "order-select", "PA Advisor: prior authorization at selection",
             "Early prior-authorization guidance for the specialty drugs just selected.",
             SELECT_CONTEXT_SCHEMA, False, True, selected_only=True),
    HookSpec("pa-order-dispatch", "order-dispatch", "PA Advisor: prior authorization at dispatch",
             "Prior-authorization outcome and coverage information for dispatched specialty drug orders.",
             DISPATCH_CONTEXT_SCHEMA, True, False, dispatched=True),
)
BY_HOOK: Mapping[str, HookSpec] = {h.hook: h for h in HOOKS}
BY_ID: Mapping[str, HookSpec] = {h.id: h for h in HOOKS}


@dataclass(frozen=True)
class PrefetchSpec:
    key: str
    template: str
    resource_type: str | None  # None for a single read whose type depends on the context
    required: bool = False
    user: bool = False
    # The kinds' data group (policy/kinds.py DATA) it serves: asked only when a mapped criterion reads it.
    data: str | None = None


def fill_template(template: str, patient_id: Any, user_id: Any) -> str | None:
    """Fill the CDS Hooks 2.0 tokens our templates use; None when a token has no value for this call."""
    user = str(user_id or "")
    values = {
        "{{context.patientId}}": str(patient_id or ""),
        "{{context.userId}}": user,
        "{{userPractitionerId}}": user.split("/", 1)[1] if user.startswith("Practitioner/") else "",
    }
    for token, value in values.items():
        if token in template:
            if not value:
                return None
            template = template.replace(token, value)
    return template


def lab_codes(library: Library) -> list[str]:
    """system|code of every observation code the mappings read, for a narrow Observation template."""
    codes: set[tuple[str, str]] = set()
    for c in _criteria(library):
        read = KINDS[c.kind].observation_codes if c.kind in KINDS else None
        if read:
            codes.update(read(c))
    return sorted(f"{s}|{c}" for s, c in codes if s == SYSTEMS["loinc"])


def _criteria(library: Library) -> Iterable[Criterion]:
    """Every criterion of every policy, nested ones included."""
    return (c for policy in library.policies for c in policy.criteria_by_id.values())


def data_read(library: Library) -> frozenset[str]:
    """The record data the mapped criteria read (their kinds' `reads`)."""
    return frozenset(d for c in _criteria(library) if c.kind in KINDS for d in KINDS[c.kind].reads)


def prefetch_specs(library: Library) -> tuple[PrefetchSpec, ...]:
    """The discovery's prefetch templates: the patient, the coverage and the DTR answers always; the rest only
    when a mapped criterion's kind reads that data."""
    p = "{{context.patientId}}"
    meds = "medications"
    specs = (
        PrefetchSpec("patient", f"Patient/{p}", "Patient", required=True),
        PrefetchSpec("coverage", f"Coverage?patient={p}&status=active", "Coverage", required=True),
        PrefetchSpec("conditions", f"Condition?patient={p}", "Condition", data="conditions"),
        # Medications named by reference come along (`_include`): a Medication coded only by ingredient is the
        # only place the drug is named.
        PrefetchSpec("medicationRequests", f"MedicationRequest?patient={p}&_include=MedicationRequest:medication",
                     "MedicationRequest", data=meds),
        PrefetchSpec("medicationAdministrations",
                     f"MedicationAdministration?patient={p}&_include=MedicationAdministration:medication",
                     "MedicationAdministration", data=meds),
        PrefetchSpec("medicationStatements",
                     f"MedicationStatement?patient={p}&_include=MedicationStatement:medication", "MedicationStatement",
                     data=meds),
        PrefetchSpec("medicationDispenses",
                     f"MedicationDispense?patient={p}&_include=MedicationDispense:medication", "MedicationDispense",
                     data=meds),
        PrefetchSpec("procedures", f"Procedure?patient={p}", "Procedure", data="procedures"),
        PrefetchSpec("allergies", f"AllergyIntolerance?patient={p}", "AllergyIntolerance", data="allergies"),
        # combo-code: a result filed as a panel's component is found by the component's code too.
        PrefetchSpec("observations", f"Observation?patient={p}&combo-code={','.join(lab_codes(library))}",
                     "Observation", data="observations"),
        PrefetchSpec("attestations", f"QuestionnaireResponse?patient={p}&status=completed,amended",
                     "QuestionnaireResponse"),
        PrefetchSpec("user", "{{context.userId}}", None, user=True, data="practitioner"),
        PrefetchSpec("userRoles", "PractitionerRole?practitioner={{userPractitionerId}}", "PractitionerRole",
                     user=True, data="practitioner"),
    )
    assert {s.data for s in specs if s.data} == DATA, "every data group a kind may read has its templates"
    read = data_read(library)
    return tuple(s for s in specs if s.data is None or s.data in read)


def specs_for(hook: HookSpec, specs: Iterable[PrefetchSpec]) -> tuple[PrefetchSpec, ...]:
    return tuple(s for s in specs if hook.has_user or not s.user)


def configuration_options() -> list[dict[str, Any]]:
    """One boolean per card type we return (dev-4/dev-5)."""
    return [
        {"code": "coverage-info", "type": "boolean", "name": "Coverage information",
         "description": "Prior-authorization outcome cards and the coverage-information systemAction.",
         "default": True},
    ]


def discovery(library: Library) -> dict[str, Any]:
    specs = prefetch_specs(library)
    return {
        "services": [
            {
                "hook": h.hook,
                "id": h.id,
                "title": h.title,
                "description": h.description,
                "prefetch": {s.key: s.template for s in specs_for(h, specs)},
                "usageRequirements": "Send draft orders with RxNorm, HCPCS or NDC codings; PA Advisor reads the "
                                     "rest from prefetch or the FHIR server with the bearer token.",
                "extension": {
                    "davinci-crd.version": CRD_VERSIONS,
                    "davinci-crd.configuration-options": configuration_options(),
                },
            }
            for h in HOOKS
        ]
    }
