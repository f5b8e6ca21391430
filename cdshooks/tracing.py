"""OpenTelemetry traces for the Flask endpoints and the FHIR client: off unless configured.

On when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT names a collector (OTLP over HTTP), or
OTEL_TRACES_EXPORTER=console (spans on stderr, for a look on one machine). Off, nothing of OpenTelemetry is even
imported. On, every JSON log line written inside a traced request carries its trace_id and span_id. Spans carry
the HTTP method, route and status, never a body or a query string with patient data.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from cdshooks.settings import SettingsError

OTLP_VARS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def configured() -> str | None:
    """'otlp', 'console' or None (off)."""
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    if os.environ.get("OTEL_TRACES_EXPORTER", "").lower() == "console":
        return "console"
    if os.environ.get("OTEL_TRACES_EXPORTER", "").lower() == "none":
        return None
    return "otlp" if any(os.environ.get(v) for v in OTLP_VARS) else None


def setup(app: Any) -> bool:
    """Trace the app's requests and every outgoing `requests` call (the FHIR client); True when on."""
    exporter_kind = configured()
    if exporter_kind is None:
        return False
    try:
        from opentelemetry import trace
    except ImportError as exc:
        raise SettingsError("OTEL_* asks for traces but OpenTelemetry is not installed: pip install "
                            "'pa-advisor[otel]' (or unset OTEL_EXPORTER_OTLP_ENDPOINT)") from exc
    from opentelemetry.instrumentation.flask import FlaskInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    from cdshooks import __version__, logs

    if not isinstance(trace.get_tracer_provider(), TracerProvider):  # once per process
        provider = TracerProvider(resource=Resource.create({"service.name": os.environ.get(
            "OTEL_SERVICE_NAME", "pa-advisor"), "service.version": __version__}))
        if exporter_kind == "console":
            exporter: Any = ConsoleSpanExporter()
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()  # endpoint, headers and timeout from the OTEL_EXPORTER_OTLP_* variables
        # Batched, off the request thread; the SDK restarts its export thread in each forked gunicorn worker.
        provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        RequestsInstrumentor().instrument(request_hook=_redact_fhir_url)
    # The console's URLs name fixture patients; the probes and metrics are noise.
    FlaskInstrumentor().instrument_app(app, excluded_urls="healthz,readyz,metrics,console")
    logs.trace_ids = _current_ids
    return True


def safe_url(url: str) -> str:
    """A FHIR URL without what identifies a patient: ids after a resource type become {id}, the query goes.
    http://ehr/fhir/Patient/123?x=y → http://ehr/fhir/Patient/{id}"""
    parts = urlsplit(url)
    segments = parts.path.split("/")
    out = [("{id}" if i and segments[i - 1][:1].isupper() and not seg[:1].isupper() and seg else seg)
           for i, seg in enumerate(segments)]
    return urlunsplit((parts.scheme, parts.netloc, "/".join(out), "", ""))


def _redact_fhir_url(span: Any, request: Any) -> None:
    """Outgoing calls are FHIR reads: the recorded URL must not carry the patient's id or query."""
    if not span.is_recording():
        return
    for key, value in dict(getattr(span, "attributes", None) or {}).items():
        if isinstance(value, str) and "://" in value:
            span.set_attribute(key, safe_url(value))


def _current_ids() -> tuple[str, str] | None:
    from opentelemetry import trace

    ctx = trace.get_current_span().get_span_context()
    return (format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")) if ctx.is_valid else None
