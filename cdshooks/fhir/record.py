"""PatientRecord: the patient's FHIR resources as plain dicts, parsed once and indexed by type, id and code.

Pure data: building it from prefetch or a FHIR server is record_builder.py's job. `retrieved` says which
resource types were actually read, so negative criteria ("no prior CAR-T") are only met on real data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any, TypeVar

from cdshooks.fhir.codes import as_list, codings_of, normalize_code, normalize_system, text_of
from cdshooks.fhir.dates import effective, parse_date, parse_instant
from cdshooks.fhir.quantity import quantity_of

MEDICATION_TYPES = (
    "MedicationAdministration",
    "MedicationRequest",
    "MedicationStatement",
    "MedicationDispense",
)
# Status values that mean a drug was actually given or taken. A MedicationRequest is an intention, never
# proof of a dose: only an administration, a dispense, a statement or a procedure shows what was received.
RECEIVED_STATUS = {
    "MedicationAdministration": {"completed"},
    "MedicationStatement": {"active", "completed"},
    "MedicationDispense": {"completed"},
    "Procedure": {"completed"},
}
# Routes that make a drug local prophylaxis rather than systemic therapy (e.g. intrathecal methotrexate).
LOCAL_ROUTES = {"72607000", "intrathecal"}
# Status values that mean a drug is current or planned (for concurrency checks).
CURRENT_STATUS = {
    "MedicationRequest": {"active", "on-hold", "draft"},
    "MedicationStatement": {"active", "intended"},
    "MedicationAdministration": {"in-progress"},
}

T = TypeVar("T")


@dataclass(frozen=True)
class Exposure:
    """One piece of medication or procedure history, flattened for the criterion kinds."""

    ref: str
    resource_type: str
    concepts: tuple[Any, ...]
    status: str
    start: date | None
    end: date | None
    status_reasons: tuple[Any, ...]
    group: str | None
    received: bool
    current: bool
    # Given or ordered by a route that is not systemic therapy (intrathecal CNS prophylaxis).
    local_route: bool = False
    resource: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)
    # Normalised (system, code, display) of every coding, and the lower-cased text: matched many times.
    keys: tuple[tuple[str, str, str], ...] = ()
    text: str = ""


def ref_of(resource: Mapping[str, Any]) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id')}"


@dataclass(frozen=True)
class PatientRecord:
    patient_id: str
    resources: Mapping[str, tuple[dict[str, Any], ...]]
    retrieved: frozenset[str]
    unavailable: Mapping[str, str] = field(default_factory=dict)
    draft_orders: tuple[dict[str, Any], ...] = ()
    # Values computed once per hook call and shared by the evaluations of all its orders (see memo).
    _memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def memo(self, key: Any, compute: Callable[[], T]) -> T:
        """Computed once per record, i.e. per hook call: what does not depend on the order under review (which
        exposures match a value set, which draft orders do) is not recomputed for each of its orders."""
        if key not in self._memo:
            self._memo[key] = compute()
        found: T = self._memo[key]
        return found

    @classmethod
    def from_resources(
        cls,
        patient_id: str,
        resources: Iterable[dict[str, Any]],
        *,
        retrieved: Iterable[str] | None = None,
        unavailable: Mapping[str, str] | None = None,
        draft_orders: Iterable[dict[str, Any]] = (),
    ) -> PatientRecord:
        by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
        seen: set[str] = set()
        for res in resources:
            if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
                continue
            key = ref_of(res)
            if res.get("id") is not None and key in seen:
                continue
            seen.add(key)
            by_type[res["resourceType"]].append(res)
        types = set(by_type) if retrieved is None else set(retrieved)
        return cls(
            patient_id,
            {k: tuple(v) for k, v in by_type.items()},
            frozenset(types),
            dict(unavailable or {}),
            tuple(d for d in draft_orders if isinstance(d, dict)),
        )

    def with_resources(self, extra: Iterable[dict[str, Any]]) -> PatientRecord:
        """This record with more resources of this patient (e.g. DTR answers kept by the service)."""
        extra = [r for r in extra if isinstance(r, dict) and isinstance(r.get("resourceType"), str)]
        everything = [r for items in self.resources.values() for r in items] + extra
        return PatientRecord.from_resources(self.patient_id, everything,
                                            retrieved=self.retrieved | {r["resourceType"] for r in extra},
                                            unavailable=self.unavailable, draft_orders=self.draft_orders)

    def of(self, resource_type: str) -> tuple[dict[str, Any], ...]:
        return self.resources.get(resource_type, ())

    def has(self, resource_type: str) -> bool:
        """True when this type was read successfully (possibly with zero results)."""
        return resource_type in self.retrieved and resource_type not in self.unavailable

    @cached_property
    def _by_ref(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for items in self.resources.values():
            for res in items:
                out[ref_of(res)] = res
        for res in self.draft_orders:
            out.setdefault(ref_of(res), res)
        return out

    def resolve(self, reference: Any, container: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """A Reference dict or string → the resource, searching contained resources and absolute URLs."""
        ref = reference.get("reference") if isinstance(reference, dict) else reference
        if not isinstance(ref, str) or not ref:
            return None
        if ref.startswith("#") and container:
            for res in as_list(container.get("contained")):
                if isinstance(res, dict) and res.get("id") == ref[1:]:
                    return res
            return None
        found = type_and_id(ref)
        return self._by_ref.get(f"{found[0]}/{found[1]}") if found else None

    @property
    def patient(self) -> dict[str, Any] | None:
        for res in self.of("Patient"):
            if res.get("id") == self.patient_id:
                return res
        items = self.of("Patient")
        return items[0] if items else None

    @cached_property
    def _by_code(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        index: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for rtype in ("Observation", "Condition"):
            for res in self.of(rtype):
                views = [res] + (component_views(res) if rtype == "Observation" else [])
                for view in views:
                    for coding in codings_of(view.get("code")):
                        system = normalize_system(coding.get("system"))
                        code = coding.get("code")
                        if isinstance(code, str):
                            index[(system, normalize_code(system, code))].append(view)
        return index

    def observations(self, codes: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
        """Observations with one of the codes, a result inside a panel's `component` included (as a view of the
        panel: its id, status and date, the component's code and value)."""
        found: dict[int, dict[str, Any]] = {}
        for key in codes:
            for res in self._by_code.get(key, ()):
                if res.get("resourceType") == "Observation":
                    found[id(res)] = res
        return list(found.values())

    def medication_concepts(self, res: Mapping[str, Any]) -> tuple[Any, ...]:
        """medicationCodeableConcept, or the code of the referenced Medication (contained or in the record)."""
        concepts: list[Any] = []
        if isinstance(res.get("medicationCodeableConcept"), dict):
            concepts.append(res["medicationCodeableConcept"])
        ref = res.get("medicationReference")
        if isinstance(ref, dict):
            med = self.resolve(ref, res)
            if med and isinstance(med.get("code"), dict):
                concepts.append(med["code"])
            if med:
                concepts.extend(self._ingredients(med))
            if isinstance(ref.get("display"), str):
                concepts.append({"text": ref["display"]})
        return tuple(concepts)

    def _ingredients(self, med: Mapping[str, Any]) -> list[Any]:
        """A Medication coded only by its ingredients (`ingredient.itemCodeableConcept`, or a referenced
        Medication or Substance): the ingredients name the drug."""
        out: list[Any] = []
        for ing in as_list(med.get("ingredient")):
            if not isinstance(ing, dict):
                continue
            if isinstance(ing.get("itemCodeableConcept"), dict):
                out.append(ing["itemCodeableConcept"])
            item = self.resolve(ing.get("itemReference"), med) if isinstance(ing.get("itemReference"), dict) else None
            if item and isinstance(item.get("code"), dict):
                out.append(item["code"])
        return out

    @cached_property
    def exposures(self) -> tuple[Exposure, ...]:
        draft_ids = {ref_of(d) for d in self.draft_orders}
        out: list[Exposure] = []
        for rtype in MEDICATION_TYPES + ("Procedure",):
            for res in self.of(rtype):
                ref = ref_of(res)
                status = str(res.get("status") or "")
                read_as = _as_type(res)
                if ref in draft_ids or status == "entered-in-error":
                    continue
                if rtype == "Procedure":
                    concepts: tuple[Any, ...] = (res.get("code"),)
                    start, end = effective(res, "performed")
                else:
                    concepts = self.medication_concepts(res)
                    start, end = _medication_dates(res)
                    if read_as == "MedicationStatement" and status == "active" and \
                            not isinstance(res.get("effectivePeriod"), dict):
                        end = None  # "taking it" as of a date: still ongoing, not a one-day exposure
                # statusReason is one CodeableConcept on MedicationRequest/Procedure, a list elsewhere.
                raw = res.get("statusReason")
                reasons = tuple(r for r in (raw if isinstance(raw, list) else [raw]) if isinstance(r, dict))
                group = None
                if isinstance(res.get("groupIdentifier"), dict):
                    group = res["groupIdentifier"].get("value")
                for based in as_list(res.get("basedOn")):
                    if group is None and isinstance(based, dict) and isinstance(based.get("reference"), str):
                        group = based["reference"]
                out.append(
                    Exposure(
                        ref,
                        read_as,
                        concepts,
                        status,
                        start,
                        end,
                        reasons,
                        group,
                        status in RECEIVED_STATUS.get(read_as, set()),
                        status in CURRENT_STATUS.get(read_as, set()),
                        is_local_route(res),
                        res,
                        _keys(concepts),
                        " ".join(text_of(c) for c in concepts).lower(),
                    )
                )
        return tuple(out)

    @cached_property
    def attestations(self) -> dict[str, dict[str, list[Answer]]]:
        """Every readable answer of completed or amended QuestionnaireResponses, by questionnaire key
        (questionnaire_key) then linkId. Which of them may decide a criterion (who answered, when) is the
        criterion context's choice (Context.answer)."""
        out: dict[str, dict[str, list[Answer]]] = defaultdict(lambda: defaultdict(list))
        for qr in self.of("QuestionnaireResponse"):
            if qr.get("status") not in ("completed", "amended") or not isinstance(qr.get("item"), list):
                continue
            key = questionnaire_key(qr.get("questionnaire"))
            author = type_and_id((qr.get("author") or {}).get("reference") if isinstance(qr.get("author"), dict)
                                 else None)
            when = parse_instant(qr.get("authored"))
            for item in _flatten_items(list(qr["item"])):
                answers = item.get("answer")
                for answer in answers if isinstance(answers, list) else []:
                    value = answer_value(answer) if isinstance(answer, dict) else None
                    if value is not None:
                        out[key][str(item.get("linkId"))].append(Answer(
                            value, ref_of(qr), qr.get("authored"), when, "/".join(author) if author else None,
                            _auto(item) or _auto(answer)))
        return out

    @cached_property
    def unreadable_responses(self) -> int:
        """QuestionnaireResponses whose items are not a list (e.g. `item: 5`): ignored, counted for the log."""
        return sum(1 for qr in self.of("QuestionnaireResponse") if "item" in qr and not isinstance(qr["item"], list))


@dataclass(frozen=True)
class Answer:
    value: Any  # bool, int, float, Quantity, or an Attachment dict
    reference: str  # the QuestionnaireResponse
    authored: str | None  # as written
    when: datetime | None = None  # authored, parsed (None: not a FHIR dateTime)
    author: str | None = None  # "Practitioner/1", or None when the response names no author
    auto: bool = False  # filled in automatically (DTR information-origin "auto"), not answered by a person

    @property
    def author_type(self) -> str:
        return self.author.split("/", 1)[0] if self.author else ""


INFORMATION_ORIGIN = "http://hl7.org/fhir/us/davinci-dtr/StructureDefinition/information-origin"


def _auto(element: Mapping[str, Any]) -> bool:
    """The DTR information-origin extension says this answer was auto-populated (not entered or overridden)."""
    return any(isinstance(ext, dict) and ext.get("url") == INFORMATION_ORIGIN and
               any(isinstance(sub, dict) and sub.get("url") == "source" and sub.get("valueCode") == "auto"
                   for sub in as_list(ext.get("extension")))
               for ext in as_list(element.get("extension")))


def type_and_id(ref: Any) -> tuple[str, str] | None:
    """(type, id) of a reference string, relative, absolute or versioned ("…/Patient/1/_history/2"), or None."""
    if not isinstance(ref, str):
        return None
    parts = ref.rstrip("/").split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    return (parts[-2], parts[-1]) if len(parts) >= 2 and parts[-2] and parts[-1] else None



def questionnaire_key(canonical: Any) -> str:
    """Which questionnaire a response answers, whatever server base and version its canonical carries:
    '…/Questionnaire/<id>|<version>' → 'Questionnaire/<id>'; anything else as written, without the version."""
    text = str(canonical or "").split("|")[0]
    head, sep, tail = text.rstrip("/").rpartition("/Questionnaire/")
    return f"Questionnaire/{tail}" if sep and head and tail and "/" not in tail else text


def _as_type(res: Mapping[str, Any]) -> str:
    """The type whose statuses apply: a MedicationRequest that is a report (`reportedBoolean`,
    `reportedReference`: US Core's way to record a medication the patient takes, told by the patient or another
    provider) is read as a MedicationStatement, not as an order."""
    rtype = str(res.get("resourceType"))
    if rtype == "MedicationRequest" and (res.get("reportedBoolean") is True or
                                         isinstance(res.get("reportedReference"), dict)):
        return "MedicationStatement"
    return rtype


def component_views(obs: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each coded `component` of an Observation panel as an Observation of its own: the panel's id, status,
    subject and dates, the component's code, value, interpretation and reference range."""
    out = []
    for comp in as_list(obs.get("component")):
        if not isinstance(comp, dict) or not isinstance(comp.get("code"), dict):
            continue
        view = {k: v for k, v in obs.items() if not k.startswith("value") and k not in (
            "component", "interpretation", "referenceRange", "code", "dataAbsentReason")}
        view.update({k: v for k, v in comp.items() if k.startswith("value") or k in (
            "code", "interpretation", "referenceRange", "dataAbsentReason")})
        out.append(view)
    return out


def answer_value(answer: Mapping[str, Any]) -> Any:
    """The value of one answer the criteria can read: a boolean, a count, a number, a Quantity or an attachment."""
    for key, types in (("valueBoolean", bool), ("valueInteger", int), ("valueDecimal", int | float),
                       ("valueString", str)):
        value = answer.get(key)
        if isinstance(value, types) and (key == "valueBoolean") == isinstance(value, bool):
            return value
    if qty := quantity_of(answer.get("valueQuantity")):
        return qty
    attachment = answer.get("valueAttachment")
    if isinstance(attachment, dict) and (attachment.get("data") or isinstance(attachment.get("url"), str)):
        return attachment
    return None


def is_local_route(res: Mapping[str, Any]) -> bool:
    """True when the dosage route says intrathecal (CNS prophylaxis), which is not combination therapy."""
    routes = [res.get("dosage", {}).get("route")] if isinstance(res.get("dosage"), dict) else []
    routes += [d.get("route") for d in as_list(res.get("dosageInstruction")) if isinstance(d, dict)]
    for route in routes:
        for coding in codings_of(route):
            if str(coding.get("code", "")).lower() in LOCAL_ROUTES:
                return True
        if "intrathecal" in text_of(route).lower():
            return True
    return False


def _keys(concepts: Iterable[Any]) -> tuple[tuple[str, str, str], ...]:
    out = []
    for concept in concepts:
        for coding in codings_of(concept):
            system, code = normalize_system(coding.get("system")), coding.get("code")
            if isinstance(code, str) and system:
                shown = coding.get("display")
                out.append((system, normalize_code(system, code), shown if isinstance(shown, str) else code))
    return tuple(out)


def _flatten_items(items: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, dict):
            out.append(item)
            out.extend(_flatten_items(item.get("item") or []))
    return out


def _medication_dates(res: Mapping[str, Any]) -> tuple[date | None, date | None]:
    rtype = res.get("resourceType")
    if rtype in ("MedicationAdministration", "MedicationStatement"):
        return effective(dict(res), "effective")
    if rtype == "MedicationDispense":
        d = parse_date(res.get("whenHandedOver")) or parse_date(res.get("whenPrepared"))
        return d, d
    # MedicationRequest: a dosage bounds period or validity period when given, else authoredOn.
    for dosage in as_list(res.get("dosageInstruction")):
        timing = dosage.get("timing") if isinstance(dosage, dict) else None
        repeat = timing.get("repeat") if isinstance(timing, dict) else None
        bounds = repeat.get("boundsPeriod") if isinstance(repeat, dict) else None
        if isinstance(bounds, dict):
            start, end = parse_date(bounds.get("start")), parse_date(bounds.get("end"))
            if start:
                return start, end
    validity = (res.get("dispenseRequest") or {}).get("validityPeriod")
    if isinstance(validity, dict) and parse_date(validity.get("start")):
        return parse_date(validity.get("start")), parse_date(validity.get("end"))
    d = parse_date(res.get("authoredOn"))
    return d, None
