"""Plays two real EHR clients exactly as they are observed to behave (neither is on a registry we reach):

- the CDS Hooks Sandbox: an ES384 JWT with `typ`, a uuid `kid` and its public `jku`, `aud` = the URL called,
  5-minute tokens; draft MedicationRequests with `category` and `reasonCode` as single objects (R4 wants lists)
  and no `requester`; the signing user `Practitioner/COREPRACTITIONER1` with `user` (and roles) in prefetch;
- the Da Vinci CRD request generator: an RS256 JWT whose `kid` is the key's JWK thumbprint and whose `jku`
  serves `[{"pem": JWK, "id": kid, "timestamp": …}]` (not a JWK Set), a new key pair per page load, 24-hour
  tokens, `iss` = its FHIR base; `fhirAuthorization.access_token` empty, a constant `hookInstance` and its own
  prefetch keys; order-sign only.

Used by the tests and by `pa-advisor hook --sign-key` (which signs like either client).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

SANDBOX_ISS = "https://sandbox.cds-hooks.org"
SANDBOX_JKU = "https://sandbox.cds-hooks.org/.well-known/jwks.json"
SANDBOX_USER = "Practitioner/COREPRACTITIONER1"
GENERATOR_HOOK_INSTANCE = "d1577c69-dfbe-44ad-ba6d-3e05e953b2va"  # the generator's constant (and non-hex) value
CATEGORY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                        "code": "outpatient", "display": "Outpatient"}]}


def public_jwk(public_key: Any, kid: str | None = None, alg: str | None = None) -> dict:
    """A public key as a JWK (EC or RSA), with `kid` and `alg` when given."""
    algo = jwt.algorithms.RSAAlgorithm if isinstance(public_key, rsa.RSAPublicKey) else jwt.algorithms.ECAlgorithm
    data = json.loads(algo.to_jwk(public_key))
    return {**data, **({"kid": kid} if kid else {}), **({"alg": alg} if alg else {})}


def thumbprint(jwk: dict) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url): the CRD request generator's `kid`."""
    members = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y")}[jwk["kty"]]
    canonical = json.dumps({k: jwk[k] for k in members}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def sandbox_token(private_key: Any, kid: str, url: str, now: int | None = None) -> str:
    now = int(time.time()) if now is None else now
    claims = {"iss": SANDBOX_ISS, "aud": url, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4())}
    return jwt.encode(claims, private_key, algorithm="ES384",
                      headers={"typ": "JWT", "kid": kid, "jku": SANDBOX_JKU})


def sandbox_body(body: dict, *, user_resources: tuple[dict, ...] = ()) -> dict:
    """A hook request as the Sandbox sends it: single-object category/reasonCode, no requester, its user."""
    out = copy.deepcopy(body)
    for entry in out["context"].get("draftOrders", {}).get("entry", []):
        order = entry["resource"]
        order.pop("requester", None)
        order["category"] = (order.get("category") or [CATEGORY])[0]
        if isinstance(order.get("reasonCode"), list) and order["reasonCode"]:
            order["reasonCode"] = order["reasonCode"][0]
    out["context"]["userId"] = SANDBOX_USER
    prefetch = out.setdefault("prefetch", {})
    users = [r for r in user_resources if r.get("resourceType") == "Practitioner"]
    roles = [r for r in user_resources if r.get("resourceType") == "PractitionerRole"]
    prefetch["user"] = users[0] if users else None
    if roles:
        prefetch["userRoles"] = {"resourceType": "Bundle", "type": "searchset",
                                 "entry": [{"resource": r} for r in roles]}
    return out


def generator_token(private_key: Any, jku: str, iss: str, url: str, now: int | None = None) -> str:
    now = int(time.time()) if now is None else now
    kid = thumbprint(public_jwk(private_key.public_key()))
    claims = {"iss": iss, "aud": url, "iat": now, "exp": now + 24 * 3600, "jti": uuid.uuid4().hex}
    return jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": kid, "jku": jku})


def generator_key_list(*public_keys: Any) -> list[dict]:
    """The generator's `jku` document: one entry per key pair it made (one per page load)."""
    out = []
    for key in public_keys:
        data = public_jwk(key)
        out.append({"pem": data, "id": thumbprint(data), "timestamp": int(time.time() * 1000)})
    return out


def generator_body(body: dict) -> dict:
    """A hook request as the generator sends it: empty access token, constant hookInstance, its prefetch keys."""
    out = copy.deepcopy(body)
    out["hookInstance"] = GENERATOR_HOOK_INSTANCE
    if "fhirServer" in out:
        out["fhirAuthorization"] = {"access_token": "", "token_type": "Bearer", "expires_in": 300,
                                    "scope": "patient/*.read", "subject": "cds-service4"}
    prefetch = out.get("prefetch") or {}
    renamed = {"medicationRequests": "medicationRequestBundle", "coverage": "coverageBundle"}
    out["prefetch"] = {renamed[k]: v for k, v in prefetch.items() if k in renamed}
    if "patient" in prefetch:
        out["prefetch"]["patient"] = prefetch["patient"]
    return out
