"""`pa-advisor hook`: act as an EHR against a running service and a FHIR server, and print the cards."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import jwt
import requests
from rich.console import Console
from rich.markdown import Markdown

from cdshooks.ehr.profiles import public_jwk, thumbprint
from cdshooks.ehr.request import hook_request
from cdshooks.fhir.codes import SYSTEMS
from cdshooks.service.hooks import fill_template

console = Console()


@dataclass(frozen=True)
class Signer:
    """Signs each call as a trusted EHR does: a fresh JWT with `aud` = the URL called, a 5-minute life, a new jti."""

    key: Any
    alg: str
    kid: str
    iss: str
    public_url: str

    @classmethod
    def from_file(cls, path: str, iss: str, kid: str | None, public_url: str) -> Signer:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec, rsa

        text = Path(path).read_text(encoding="utf-8").strip()
        if text.startswith("{"):
            jwk = json.loads(text)
            key = jwt.PyJWK(jwk).key
            kid = kid or jwk.get("kid")
        else:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        if isinstance(key, rsa.RSAPrivateKey):
            alg = "RS384"
        elif isinstance(key, ec.EllipticCurvePrivateKey):
            alg = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}[key.curve.name]
        else:
            raise ValueError("not an EC or RSA private key")
        return cls(key, alg, kid or thumbprint(public_jwk(key.public_key())), iss, public_url)

    def headers(self, path: str) -> dict[str, str]:
        now = int(time.time())
        claims = {"iss": self.iss, "aud": f"{self.public_url}{path}", "iat": now, "exp": now + 300,
                  "jti": str(uuid.uuid4())}
        token = jwt.encode(claims, self.key, algorithm=self.alg, headers={"kid": self.kid, "typ": "JWT"})
        return {"Authorization": f"Bearer {token}"}


KEY_FILE, JWKS_FILE = "ehr-key.jwk", "jwks.json"


def write_key_pair(folder: Path) -> bool:
    """A test EHR's signing key: FOLDER/ehr-key.jwk (private, for `hook --sign-key`) and FOLDER/jwks.json (public,
    for a trust file's `jwks_file`). An existing pair is kept (a restarted stack keeps trusting it); False then."""
    from cryptography.hazmat.primitives.asymmetric import ec

    private, public = folder / KEY_FILE, folder / JWKS_FILE
    if private.exists() and public.exists():
        return False
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP384R1())
    jwk = public_jwk(key.public_key(), alg="ES384")
    jwk["kid"] = thumbprint(jwk)
    private_jwk = {**json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key)), "kid": jwk["kid"], "alg": "ES384"}
    private.touch(mode=0o600)
    private.write_text(json.dumps(private_jwk), encoding="utf-8")
    public.write_text(json.dumps({"keys": [jwk]}, indent=2), encoding="utf-8")
    return True


def _get(session: requests.Session, url: str, token: str | None) -> Any:
    headers = {"Accept": "application/fhir+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    resp = session.get(url, headers=headers, timeout=30)
    resp.raise_for_status()
    return resp.json()


def _draft_order(session: requests.Session, fhir: str, token: str | None, patient: str, drug: str,
                 requester: str | None, today: date) -> dict:
    """The patient's saved draft order for this drug if the server has one, else a CRD-conformant new one."""
    bundle = _get(session, f"{fhir}/MedicationRequest?patient={patient}&status=draft", token)
    for entry in bundle.get("entry") or []:
        res = entry.get("resource") or {}
        codes = [c.get("code") for c in (res.get("medicationCodeableConcept") or {}).get("coding") or []]
        if drug in codes:
            return res
    return {
        "resourceType": "MedicationRequest", "id": f"draft-{uuid.uuid4().hex[:12]}", "status": "draft",
        "intent": "order", "subject": {"reference": f"Patient/{patient}"}, "authoredOn": today.isoformat(),
        "requester": {"reference": requester or "Practitioner/unknown"},
        "medicationCodeableConcept": {"coding": [{"system": SYSTEMS[s], "code": drug} for s in ("hcpcs", "rxnorm")],
                                      "text": drug},
    }


def _resolve_prefetch(session: requests.Session, fhir: str, token: str | None, templates: dict[str, str],
                      patient: str, user: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, template in templates.items():
        query = fill_template(template, patient, user)
        if query is None:
            continue  # a token this request has no value for: leave the key out, as an EHR would
        try:
            out[key] = _get(session, f"{fhir}/{query}", token)
        except requests.HTTPError as exc:
            out[key] = None if exc.response is not None and exc.response.status_code == 404 else \
                {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "exception"}]}
    return out


def _refused(session: requests.Session, service: str, signer: Signer | None) -> str:
    """Why a 401, as far as a caller can tell (the service says nothing on purpose)."""
    if signer is None:
        return "it checks EHR JWTs; sign with --sign-key (and --iss, --kid, --public-url)"
    try:
        ready = session.get(f"{service}/readyz", timeout=10).json()
    except (requests.RequestException, ValueError):
        ready = {}
    if ready.get("replay_store") == "unreachable":
        return "its JWT replay store (PA_REPLAY_STORE, e.g. Redis) is unreachable, so every token is refused"
    return ("the signed token was not accepted: --public-url must equal the service's PA_PUBLIC_URL (the token's "
            "aud), and --iss / --kid must match an issuer and key of its trust file")


def run_hook(hook: str, patient: str, drug: str, fhir: str, token: str | None, service: str, prefetch: bool,
             requester: str | None, as_json: bool, today: date, signer: Signer | None = None) -> int:
    def auth(path: str) -> dict[str, str]:
        return signer.headers(path) if signer else {}

    with requests.Session() as session:
        found = session.get(f"{service}/cds-services", headers=auth("/cds-services"), timeout=30)
        if found.status_code == 401:
            console.print(f"[red]the service refused the call (401): {_refused(session, service, signer)}[/red]")
            return 1
        found.raise_for_status()
        services = found.json()["services"]
        entry = next((s for s in services if s["hook"] == hook), None)
        if entry is None:
            console.print(f"[red]the service offers no {hook} hook[/red]")
            return 2
        order = _draft_order(session, fhir, token, patient, drug, requester, today)
        user = requester or (order.get("requester") or {}).get("reference")
        pre = _resolve_prefetch(session, fhir, token, entry.get("prefetch") or {}, patient, user) if prefetch else None
        body = hook_request(hook, patient, [order], user_id=user, prefetch=pre, fhir_server=fhir,
                            token=token or "")
        path = f"/cds-services/{entry['id']}"
        resp = session.post(f"{service}{path}", json=body, headers=auth(path), timeout=60)
    if as_json or resp.status_code != 200:
        console.print_json(json.dumps(resp.json()) if resp.content else "{}")
        return 0 if resp.status_code == 200 else 1
    cards = resp.json().get("cards", [])
    if not cards:
        console.print(f"No cards: no policy governs drug {drug!r} for this patient's coverage (a payer, line of "
                      "business or drug code the policies do not name).")
        return 1
    for card in cards:
        console.rule(f"[bold]{card['indicator'].upper()}[/bold] {card['summary']}")
        console.print(Markdown(card.get("detail", "")))
        for link in card.get("links", []):
            console.print(f"link: {link['label']} <{link['url']}>" + (" (SMART launch)" if link["type"] == "smart"
                                                                      else ""), markup=False)
        for suggestion in card.get("suggestions", []):
            console.print(f"suggestion: {suggestion['label']}", markup=False)
    actions = resp.json().get("systemActions", [])
    console.print(f"{len(actions)} coverage-information system action(s) returned.")
    return 0
