"""EHR JWT verification (CDS Hooks 2.0 "Trusting CDS Clients"), with PyJWT.

Per call: alg asymmetric and allowed (ES384/RS384 by default; never `none` or HMAC), `kid` required; `iss`
on the trust list; a `jku` header only if it is that issuer's configured JWK Set URL; signature with the
issuer's key for `kid` (JWK Set fetched from `jku` and cached, refreshed on an unknown kid — or a local JWKS
file); `aud` = the URL of the endpoint called; `exp`/`iat` with small skew; `jti` never seen before within
the token's lifetime (in-process by default, Redis when several workers or instances must share it).
Failures raise AuthError with a reason for the log; the caller answers 401 with no detail.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import jwt
import yaml

from .errors import PAAdvisorError

DEFAULT_ALGORITHMS = ("ES384", "RS384")
ASYMMETRIC = {"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
LEEWAY_SECONDS = 60
MAX_REPLAY_WINDOW = 48 * 3600  # a 24-hour token (CRD request generator) plus skew


class AuthError(PAAdvisorError):
    """The caller is not trusted; `reason` goes to the log, never to the caller."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class TrustConfigError(PAAdvisorError):
    pass


@dataclass(frozen=True)
class Issuer:
    iss: str
    jku: str | None = None
    jwks_file: str | None = None
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    tenants: tuple[str, ...] = ()
    _file_keys: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def load_trust(path: str | Path) -> dict[str, Issuer]:
    """The trust file: a YAML list of issuers, each with `iss` and `jku` or `jwks_file`."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TrustConfigError(f"{path}: cannot read the trust file: {exc}") from exc
    items = data.get("issuers") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise TrustConfigError(f"{path}: expected a list of issuers")
    out: dict[str, Issuer] = {}
    for i, item in enumerate(items):
        where = f"{path}: [{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("iss"), str):
            raise TrustConfigError(f"{where}: each issuer needs `iss`")
        if bool(item.get("jku")) == bool(item.get("jwks_file")):
            raise TrustConfigError(f"{where}: give exactly one of `jku` or `jwks_file`")
        algs = tuple(item.get("algorithms") or DEFAULT_ALGORITHMS)
        if not set(algs) <= ASYMMETRIC:
            bad = sorted(set(algs) - ASYMMETRIC)
            raise TrustConfigError(f"{where}: only asymmetric algorithms are allowed, not {bad}")
        keys: dict[str, Any] = {}
        if item.get("jwks_file"):
            file = path.parent / item["jwks_file"]  # relative to the trust file; an absolute path stays as is
            try:
                jwks = jwt.PyJWKSet.from_dict(json.loads(file.read_text(encoding="utf-8")))
            except (OSError, ValueError, jwt.PyJWKSetError) as exc:
                raise TrustConfigError(f"{where}: cannot read JWK Set {file}: {exc}") from exc
            keys = {k.key_id: k for k in jwks.keys if k.key_id}
        out[item["iss"]] = Issuer(item["iss"], item.get("jku"), item.get("jwks_file"), algs,
                                  tuple(item.get("tenants") or ()), keys)
    return out


class ReplayCache(Protocol):
    def first_use(self, key: str, ttl: int) -> bool: ...


class MemoryReplayCache:
    """jti values seen by this process, each kept for its token's lifetime."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_use(self, key: str, ttl: int) -> bool:
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen = {k: t for k, t in self._seen.items() if t > now}
            if self._seen.get(key, 0) > now:
                return False
            self._seen[key] = now + ttl
            return True


class RedisReplayCache:
    """jti values shared by every worker and instance: SET NX with the token's lifetime as expiry."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._errors = (redis.RedisError,)

    def first_use(self, key: str, ttl: int) -> bool:
        try:
            return bool(self._redis.set(f"pa-advisor:jti:{key}", b"1", nx=True, ex=max(1, ttl)))
        except self._errors as exc:
            # Fail closed: without the shared store a replay cannot be ruled out.
            raise AuthError(f"replay store unavailable ({type(exc).__name__})") from exc


class Verifier:
    def __init__(self, issuers: dict[str, Issuer], replay: ReplayCache, jwks_ttl: float = 3600,
                 refresh_cooldown: float = 5) -> None:
        self.issuers, self.replay = issuers, replay
        self._clients: dict[str, jwt.PyJWKClient] = {
            i.jku: jwt.PyJWKClient(i.jku, cache_jwk_set=True, lifespan=jwks_ttl, timeout=5,
                                   cooldown_duration=refresh_cooldown)
            for i in issuers.values() if i.jku
        }

    def _key(self, issuer: Issuer, kid: str) -> Any:
        if issuer.jku:
            try:
                return self._clients[issuer.jku].get_signing_key(kid)  # refetches the set once on an unknown kid
            except jwt.PyJWKClientError as exc:
                raise AuthError(f"no key {kid!r} for issuer ({type(exc).__name__})") from exc
        if kid not in issuer._file_keys:
            raise AuthError(f"unknown kid {kid!r}")
        return issuer._file_keys[kid]

    def verify(self, token: str, audience: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise AuthError(f"malformed JWT ({type(exc).__name__})") from exc
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ASYMMETRIC:
            raise AuthError(f"alg {alg!r} refused")
        if not isinstance(kid, str) or not kid:
            raise AuthError("no kid")
        if header.get("typ") not in (None, "JWT"):
            raise AuthError("typ is not JWT")
        issuer = self.issuers.get(str(unverified.get("iss")))
        if issuer is None:
            raise AuthError("iss not trusted")
        if alg not in issuer.algorithms:
            raise AuthError(f"alg {alg} not allowed for this issuer")
        if header.get("jku") is not None and header.get("jku") != issuer.jku:
            raise AuthError("jku not on the allowlist")
        key = self._key(issuer, kid)
        try:
            claims = jwt.decode(
                token, key=key, algorithms=[alg], audience=_audiences(audience), issuer=issuer.iss,
                leeway=LEEWAY_SECONDS, options={"require": ["iss", "aud", "exp", "iat", "jti"]},
            )
        except jwt.PyJWTError as exc:
            raise AuthError(f"JWT rejected ({type(exc).__name__})") from exc
        if claims["iat"] > time.time() + LEEWAY_SECONDS:
            raise AuthError("iat in the future")
        if issuer.tenants and claims.get("tenant") not in issuer.tenants:
            raise AuthError("tenant not allowed")
        ttl = int(min(MAX_REPLAY_WINDOW, max(0, claims["exp"] - time.time()) + LEEWAY_SECONDS))
        if not self.replay.first_use(f"{issuer.iss}|{claims['jti']}", ttl):
            raise AuthError("jti replayed")
        return claims


def _audiences(endpoint: str) -> list[str]:
    """The endpoint URL, with and without a trailing slash (clients differ)."""
    base = endpoint.rstrip("/")
    return [base, base + "/"]
