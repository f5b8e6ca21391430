"""Build the PatientRecord from prefetch, fetching from the EHR's FHIR server only what prefetch lacks.

Each prefetch value is taken case by case (absent, null, OperationOutcome, searchset — possibly paged —,
single resource). What cannot be read is named in `record.unavailable`, so criteria that need it are
`missing`, never guessed. Patient and Coverage are required: without them the call answers 412.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cdshooks import logs
from cdshooks.errors import DataUnavailable
from cdshooks.fhir.client import FetchResult, FhirClient, bundle_entries
from cdshooks.fhir.codes import as_list
from cdshooks.fhir.record import MEDICATION_TYPES, PatientRecord, ref_of
from cdshooks.service.hooks import PrefetchSpec, fill_template
from cdshooks.service.protocol import HookRequest
from cdshooks.settings import Settings

ABSENT = object()


@dataclass
class _Collected:
    resources: list[dict[str, Any]]
    retrieved: set[str]
    unavailable: dict[str, str]


def _from_prefetch(value: Any) -> tuple[list[dict[str, Any]] | None, Mapping[str, Any] | None, str | None]:
    """(resources, bundle-to-follow, problem) for one prefetch value; resources None means 'fetch it'."""
    if value is ABSENT:
        return None, None, "not in prefetch"
    if value is None:
        return [], None, None  # the client has no data for this template
    if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
        return None, None, "unusable prefetch value"
    if value["resourceType"] == "OperationOutcome":
        return None, None, "the EHR reported a prefetch error"
    if value["resourceType"] == "Bundle":
        if not isinstance(value.get("entry", []), list) or not isinstance(value.get("link", []), list):
            return None, None, "unreadable prefetch Bundle (entry or link is not a list)"
        return bundle_entries(value), value, None
    return [value], None, None


class RecordBuilder:
    def __init__(self, settings: Settings, client: FhirClient | None, specs: tuple[PrefetchSpec, ...]) -> None:
        self.settings, self.client, self.specs = settings, client, specs

    def build(self, req: HookRequest, specs: tuple[PrefetchSpec, ...], orders: list[dict[str, Any]],
              deadline: float) -> PatientRecord:
        """`deadline` (time.monotonic) is the hook call's, shared with any reads made before this one."""
        got = _Collected([], set(), {})
        calls: dict[str, Callable[[], FetchResult]] = {}
        types: dict[str, str | None] = {}
        for spec in specs:
            resources, bundle, problem = _from_prefetch(req.prefetch.get(spec.key, ABSENT))
            rtype = spec.resource_type
            if resources is not None:
                got.resources += resources[: self.settings.max_bundle_entries]
                if rtype:
                    got.retrieved.add(rtype)
                    if len(resources) > self.settings.max_bundle_entries:
                        got.unavailable[rtype] = "too many entries in prefetch"
                if bundle is not None and _has_next(bundle):
                    if req.fhir_server and self.client:
                        calls[spec.key] = self._follow(req, bundle, deadline, rtype or spec.key)
                        types[spec.key] = rtype
                    elif rtype:
                        got.unavailable[rtype] = "prefetch was paged and there is no FHIR server to read the rest"
                continue
            query = fill_template(spec.template, req.context.get("patientId"), req.context.get("userId"))
            if query is None:
                continue  # e.g. no userId on order-dispatch: nothing to fetch
            if req.fhir_server and self.client:
                calls[spec.key] = self._fetch(req, query, deadline)
                types[spec.key] = rtype
            elif rtype:
                got.unavailable[rtype] = f"{problem} and no FHIR server was given"
        if req.fhir_server and self.client:
            calls.update(self._requester_calls(req, orders, got, deadline))
        self._collect(self.client.many(calls, deadline) if calls and self.client else {}, types, got)
        self._check_required(specs, got)
        self._resolve_references(req, orders, got, deadline)
        patient_id = str(req.context.get("patientId"))
        kept: list[dict[str, Any]] = []
        dropped: list[dict[str, Any]] = []
        own = f"Patient/{patient_id}"
        for r in got.resources:
            (kept if belongs_to(r, patient_id, req.fhir_server, own) else dropped).append(r)
        if dropped:  # counted by type only: no identifiers in the log
            logs.event("resources not about the context patient dropped", logging.WARNING, count=len(dropped),
                       reason=", ".join(sorted({str(r.get("resourceType")) for r in dropped})))
        return PatientRecord.from_resources(patient_id, kept, retrieved=got.retrieved, unavailable=got.unavailable,
                                            draft_orders=orders)

    def _fetch(self, req: HookRequest, query: str, deadline: float) -> Callable[[], FetchResult]:
        client, base, token = self.client, req.fhir_server, req.access_token
        assert client and base
        if "?" in query:
            return lambda: client.search(base, query, token, deadline)
        return lambda: client.read(base, query, token, deadline)

    def _follow(self, req: HookRequest, bundle: Mapping[str, Any], deadline: float,
                what: str) -> Callable[[], FetchResult]:
        client, base, token = self.client, req.fhir_server, req.access_token
        assert client and base
        return lambda: client.follow(base, bundle, token, deadline, what)

    @staticmethod
    def _collect(results: Mapping[str, FetchResult], types: Mapping[str, str | None], got: _Collected) -> None:
        for key, result in results.items():
            rtype = types.get(key, "PractitionerRole" if key.startswith("PractitionerRole?") else None)
            got.resources += result.resources
            if rtype and (result.resources or result.error is None):
                got.retrieved.add(rtype)
            if rtype and result.error:
                got.unavailable[rtype] = result.error

    @staticmethod
    def _check_required(specs: tuple[PrefetchSpec, ...], got: _Collected) -> None:
        """Patient and Coverage must have been read; a partial read that returned some of them will do."""
        have = {r.get("resourceType") for r in got.resources}
        missing = [t for s in specs if s.required and (t := s.resource_type)
                   and (t not in got.retrieved or (t in got.unavailable and t not in have))]
        if missing:
            # The reasons (401, 404, unreachable, timed out…) go to the log only: told to the caller they would
            # map the ports and paths of whatever fhirServer it names.
            logs.event("required data unavailable", logging.WARNING,
                       reason="; ".join(f"{t}: {got.unavailable.get(t, 'not available')}" for t in missing))
            raise DataUnavailable(f"Required data could not be obtained: {', '.join(missing)}", missing)

    def _requester_calls(self, req: HookRequest, orders: list[dict[str, Any]], got: _Collected,
                         deadline: float) -> dict[str, Callable[[], FetchResult]]:
        """The orders' prescribers and their roles, read in the first round: the orders are known up front."""
        have = {ref_of(r) for r in got.resources}
        user = str(req.context.get("userId") or "")
        calls: dict[str, Callable[[], FetchResult]] = {}
        for target in filter(None, (_relative(o.get("requester")) for o in orders)):
            if target == user and any(s.user for s in self.specs):
                continue  # the user and userRoles templates read the signing prescriber already
            if target not in have:
                calls[target] = self._fetch(req, target, deadline)
            if target.startswith("Practitioner/") and not _has_role(got.resources, target):
                query = f"PractitionerRole?practitioner={target.split('/', 1)[1]}"
                calls[query] = self._fetch(req, query, deadline)
        return calls

    def _resolve_references(self, req: HookRequest, orders: list[dict[str, Any]], got: _Collected,
                            deadline: float) -> None:
        """Second round, only when needed: referenced Medications, and payer Organizations without a name."""
        if not (req.fhir_server and self.client):
            return
        have = {ref_of(r) for r in got.resources}
        refs: list[Any] = []
        for res in got.resources + orders:
            if res.get("resourceType") in MEDICATION_TYPES:
                refs.append(res.get("medicationReference"))
            if res.get("resourceType") == "Coverage":
                refs += [p for p in res.get("payor") or [] if isinstance(p, dict) and not p.get("display")]
        wanted = {t for t in map(_relative, refs) if t and t not in have}
        calls: dict[str, Callable[[], FetchResult]] = {t: self._fetch(req, t, deadline) for t in sorted(wanted)}
        for result in (self.client.many(calls, deadline) if calls else {}).values():
            got.resources += result.resources


# Where each patient-scoped type names its patient; a resource of these types that names nobody, or names the
# patient some other way (an identifier, a display, urn:uuid, a Group), is not evidence about this patient.
PATIENT_FIELD = {"Coverage": "beneficiary", "AllergyIntolerance": "patient"}
PATIENT_SCOPED = {"Condition", "Observation", "Procedure", "QuestionnaireResponse", "DiagnosticReport", "Encounter",
                  "Coverage", "AllergyIntolerance", *MEDICATION_TYPES}
_HISTORY = re.compile(r"/_history/[A-Za-z0-9\-.]{1,64}$")


def names_patient(ref: Any, patient_id: str, fhir_server: str | None) -> bool:
    """`Patient/<id>` (a version suffix allowed), or the same as an absolute URL on the call's FHIR server."""
    target = ref.get("reference") if isinstance(ref, dict) else None
    if not isinstance(target, str):
        return False
    target = _HISTORY.sub("", target)
    if fhir_server and target.startswith(fhir_server + "/"):
        target = target[len(fhir_server) + 1:]
    return target == f"Patient/{patient_id}"


def belongs_to(resource: Mapping[str, Any], patient_id: str, fhir_server: str | None,
               own: str | None = None) -> bool:
    """False for a resource about anyone but the context patient: a server that ignores a search parameter it
    does not know (some do, silently), or a prefetch with someone else's data, must not change the verdict.
    `own` ("Patient/<id>") short-cuts the common case: called once per resource of the record."""
    rtype = resource.get("resourceType")
    if rtype == "Patient":
        return resource.get("id") == patient_id
    if rtype in PATIENT_SCOPED:
        ref = resource.get(PATIENT_FIELD.get(rtype, "subject"))
        if own and isinstance(ref, dict) and ref.get("reference") == own:
            return True
        return names_patient(ref, patient_id, fhir_server)
    return True  # Medication, Practitioner, PractitionerRole, Organization: not about a patient


# What a reference in the record may make us read from the EHR's FHIR server, and nothing else.
READABLE = frozenset({"Practitioner", "PractitionerRole", "Organization", "Medication"})
_TYPE_ID = re.compile(r"([A-Z][A-Za-z]{1,39})/([A-Za-z0-9\-.]{1,64})")


def _relative(ref: Any) -> str | None:
    """A `Type/id` reference of a type we read (not contained, not absolute, no `..`): FHIR's own id syntax."""
    target = ref.get("reference") if isinstance(ref, dict) else None
    m = _TYPE_ID.fullmatch(target) if isinstance(target, str) else None
    if m and m.group(1) in READABLE and m.group(2).strip(".") != "":
        return target
    return None


def _has_role(resources: list[dict[str, Any]], practitioner: str) -> bool:
    return any(
        r.get("resourceType") == "PractitionerRole"
        and str((r.get("practitioner") or {}).get("reference", "")).endswith(practitioner)
        for r in resources
    )


def _has_next(bundle: Mapping[str, Any]) -> bool:
    return any(isinstance(link, dict) and link.get("relation") == "next" for link in as_list(bundle.get("link")))
