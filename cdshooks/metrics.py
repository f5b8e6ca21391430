"""Prometheus metrics (prometheus-client), one registry per app. Labels never carry PHI: service ids,
status codes, resource types, policy ids, outcomes and a small fixed set of failure classes.

Under gunicorn with several workers, `multiproc.shared_metrics_dir` (called before prometheus_client is imported)
makes every worker write its values to one folder and /metrics sum them: any worker scraped gives the whole
service's counts.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from cdshooks.multiproc import MULTIPROC_ENV

FAILURE_CLASSES = (("timed out", "timeout"), ("deadline", "timeout"), ("not authorized", "unauthorized"),
                   ("answered 5", "server-error"), ("unreachable", "unreachable"), ("malformed", "malformed"),
                   ("expected a Bundle", "wrong-type"), ("not a FHIR", "wrong-type"), ("pages", "too-many-pages"),
                   ("too large", "too-large"), ("too many", "too-large"), ("not found", "not-found"))


def failure_class(reason: str) -> str:
    for needle, label in FAILURE_CLASSES:
        if needle in reason:
            return label
    return "other"


# The resource types the service reads: the only values of the `resource` label.
FHIR_RESOURCES = frozenset({
    "Patient", "Coverage", "Condition", "Observation", "Procedure", "AllergyIntolerance", "QuestionnaireResponse",
    "MedicationRequest", "MedicationAdministration", "MedicationStatement", "MedicationDispense", "Medication",
    "Practitioner", "PractitionerRole", "Organization",
})


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("pa_requests", "HTTP requests by endpoint and status", ["endpoint", "status"],
                                registry=self.registry)
        self.latency = Histogram("pa_request_seconds", "Request latency by endpoint", ["endpoint"],
                                 registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10))
        self.fhir_latency = Histogram("pa_fhir_fetch_seconds", "FHIR read latency by resource type", ["resource"],
                                      registry=self.registry, buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10))
        self.fhir_failures = Counter("pa_fhir_failures", "FHIR reads that failed, by resource type and class",
                                     ["resource", "reason"], registry=self.registry)
        self.outcomes = Counter("pa_outcomes", "PA outcomes by policy", ["policy", "outcome"], registry=self.registry)

    def fhir(self, resource: str, seconds: float, error: str | None) -> None:
        # A fixed set of labels: a reference type a caller chose never creates a new series.
        resource = resource if resource in FHIR_RESOURCES else "other"
        self.fhir_latency.labels(resource).observe(seconds)
        if error:
            self.fhir_failures.labels(resource, failure_class(error)).inc()

    def render(self) -> bytes:
        if os.environ.get(MULTIPROC_ENV):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # every worker's values, summed
            return generate_latest(registry)
        return generate_latest(self.registry)
