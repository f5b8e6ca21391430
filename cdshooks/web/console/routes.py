"""The tester's console: a page that plays the EHR in the browser against this service's own endpoints.

On in dev mode only: it has no sign-in of its own, so in trust mode it stays off (never an open door to the
patient data it can send). Everything it shows from a request or a record is escaped by the page; card
markdown is rendered here (CommonMark, raw HTML off) and sanitised (nh3) before the page inserts it.
"""

from __future__ import annotations

import nh3
from flask import Blueprint, Response, render_template, request
from markdown_it import MarkdownIt

from cdshooks.service.hooks import HOOKS
from cdshooks.web.console import fixtures
from cdshooks.web.http import HttpError, json_body, json_response
from cdshooks.web.services import services

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates", static_folder="static")
MARKDOWN = MarkdownIt("commonmark", {"html": False})
MARKDOWN_MAX = 20_000
SERVICES = {h.hook: h.id for h in HOOKS}  # hook name → our service id


# The console loads nothing from anywhere else: a remote image or script in a card's text cannot load (a FHIR
# server the tester names is reached with fetch, hence connect-src http(s)).
CSP = ("default-src 'self'; img-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'; form-action 'self'; connect-src 'self' http: https:")


@bp.after_request
def _csp(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    return response


@bp.get("")
def page() -> str:
    library = services().library
    drugs = [{"policy": p.id, "name": p.drug_name, "coding": dict(p.drug_coding)} for p in library.policies]
    return render_template("console.html", drugs=drugs, services=SERVICES)


@bp.get("/patients.json")
def patients() -> Response:
    return json_response(fixtures.patients())


@bp.get("/request.json")
def hook_request() -> Response:
    """The CDS Hooks request an EHR would send for a fixture patient; the page sends it itself."""
    key, hook = request.args.get("patient", ""), request.args.get("hook", "order-sign")
    if hook not in SERVICES:
        raise HttpError(400, f"hook must be one of {', '.join(SERVICES)}")
    try:
        index = int(request.args.get("order", "0"))
    except ValueError as exc:
        raise HttpError(400, "order must be a number") from exc
    specs = services().hooks.specs
    body = fixtures.request_for(key, hook, specs, index)
    if body is None:
        raise HttpError(404, "no such fixture patient or draft order")
    return json_response({"service": SERVICES[hook], "request": body})


@bp.post("/markdown")
def markdown() -> Response:
    """A card's detail as safe HTML: no raw HTML from the text, only http(s) links."""
    body = json_body()
    text = body.get("markdown") if isinstance(body, dict) else None
    if not isinstance(text, str) or len(text) > MARKDOWN_MAX:
        raise HttpError(400, f"expected {{\"markdown\": text}} of at most {MARKDOWN_MAX} characters")
    html = nh3.clean(MARKDOWN.render(text), url_schemes={"http", "https"},
                     link_rel="noopener noreferrer nofollow")
    return json_response({"html": html})
