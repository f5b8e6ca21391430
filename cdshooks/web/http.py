"""What every blueprint reads from a request (the strict JSON body, the service's public base URL) and how it
answers JSON."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request

from cdshooks import strict_json
from cdshooks.errors import PAAdvisorError
from cdshooks.web.services import services

JSON_TYPES = ("application/json", "application/fhir+json")


class HttpError(PAAdvisorError):
    """An answer with this status and message (turned into an OperationOutcome by api.register)."""

    def __init__(self, status: int, message: str) -> None:
        self.status, self.message = status, message
        super().__init__(message)


def json_body() -> Any:
    mimetype = (request.mimetype or "").lower()
    if mimetype not in JSON_TYPES:
        raise HttpError(415, f"Content-Type must be application/json, not {mimetype[:60] or 'missing'}")
    raw = request.get_data(cache=False)  # raises 413 past MAX_CONTENT_LENGTH
    try:
        return strict_json.loads(raw)
    except strict_json.JsonRejected as exc:
        raise HttpError(400, f"body refused: {exc}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise HttpError(400, f"body is not valid JSON: {str(exc)[:120]}") from exc


def base_url() -> str:
    """Where EHRs reach this service: PA_PUBLIC_URL, else this request's own root."""
    return services().settings.public_url.rstrip("/") or request.url_root.rstrip("/")


def json_response(data: Any, status: int = 200, mimetype: str = "application/json") -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status=status, mimetype=mimetype)
