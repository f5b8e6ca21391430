"""EHR JWT verification (CDS Hooks 2.0 "Trusting CDS Clients"), with PyJWT.

Per call: alg asymmetric and allowed (ES384/RS384 by default; never `none` or HMAC), `kid` required; `iss`
on the trust list; a `jku` header only if it is that issuer's configured `jku`; signature with the issuer's
key for `kid` — from its local JWKS file when it has one (nothing is fetched, even with a `jku`: the CDS Hooks
Sandbox offline), else fetched from `jku` and cached, refreshed on an unknown kid (a JWK Set, or with
`jku_format: key-list` the CRD request generator's `[{"id": kid, "pem": JWK}]` array); a key without `alg`
is bound to the header's `alg`; `aud` = the URL of the endpoint called; `exp`/`iat` with small skew; `jti` never
seen before within the token's lifetime (in-process by default, Redis when workers or instances share it).
Failures raise AuthError naming the first failing check (for the log); the caller answers 401 with no detail.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import jwt
import yaml

from cdshooks.errors import PAAdvisorError
from cdshooks.logs import event as logs_event
from cdshooks.logs import shape as logs_shape
from cdshooks.store import Store, StoreError

DEFAULT_ALGORITHMS = ("ES384", "RS384")
ASYMMETRIC = {"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
LEEWAY_SECONDS = 60
MAX_TOKEN_LIFETIME = 24 * 3600  # exp − iat: the CRD request generator's tokens live exactly this long
MAX_REPLAY_WINDOW = 48 * 3600  # a jti is remembered this long at most (a 24-hour token plus skew)


class AuthError(PAAdvisorError):
    """The caller is not trusted; `reason` goes to the log, never to the caller."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class TrustConfigError(PAAdvisorError):
    pass


JKU_FORMATS = ("jwks", "key-list")


@dataclass(frozen=True)
class Issuer:
    iss: str
    jku: str | None = None
    jwks_file: str | None = None
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    tenants: tuple[str, ...] = ()
    jku_format: str = "jwks"
    # FHIR base URLs this EHR's calls may name as fhirServer (its bearer token goes there and nowhere else).
    fhir_servers: tuple[str, ...] = ()
    # kid → JWK (a dict) from the local file; bound to an algorithm per token.
    _file_keys: dict[str, dict] = field(default_factory=dict, compare=False, repr=False)


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
        if not item.get("jku") and not item.get("jwks_file"):
            raise TrustConfigError(f"{where}: give `jku`, `jwks_file`, or both (the file's keys are then used)")
        if item.get("jku_format", "jwks") not in JKU_FORMATS:
            raise TrustConfigError(f"{where}: `jku_format` must be one of {', '.join(JKU_FORMATS)}")
        algs = tuple(item.get("algorithms") or DEFAULT_ALGORITHMS)
        if not set(algs) <= ASYMMETRIC:
            bad = sorted(set(algs) - ASYMMETRIC)
            raise TrustConfigError(f"{where}: only asymmetric algorithms are allowed, not {bad}")
        keys: dict[str, dict] = {}
        if item.get("jwks_file"):
            file = path.parent / item["jwks_file"]  # relative to the trust file; an absolute path stays as is
            try:
                data_keys = json.loads(file.read_text(encoding="utf-8"))["keys"]
                jwt.PyJWKSet(data_keys)  # every key must parse
            except (OSError, ValueError, KeyError, TypeError, jwt.PyJWKSetError) as exc:
                raise TrustConfigError(f"{where}: cannot read JWK Set {file}: {exc}") from exc
            keys = {k["kid"]: k for k in data_keys if isinstance(k, dict) and k.get("kid")}
        servers = item.get("fhir_servers") or []
        if not isinstance(servers, list) or not all(isinstance(u, str) and urlsplit(u).scheme in ("http", "https")
                                                    and urlsplit(u).netloc for u in servers):
            raise TrustConfigError(f"{where}: `fhir_servers` must be a list of http(s) base URLs")
        out[item["iss"]] = Issuer(item["iss"], item.get("jku"), item.get("jwks_file"), algs,
                                  tuple(item.get("tenants") or ()), item.get("jku_format", "jwks"),
                                  tuple(u.rstrip("/") for u in servers), keys)
    return out


def fhir_server_allowed(issuer: Issuer, url: str) -> bool:
    """The issuer's listed FHIR bases (exactly, or followed by `/`); with no list, https on the issuer's host."""
    if issuer.fhir_servers:
        return url in issuer.fhir_servers or (url.endswith("/") and url[:-1] in issuer.fhir_servers)
    try:
        target, own = urlsplit(url), urlsplit(issuer.iss)
        same_host = bool(own.hostname) and (target.hostname, target.port) == (own.hostname, own.port)
    except ValueError:  # an unparseable port
        return False
    return target.scheme == "https" and same_host and "@" not in target.netloc


def bind(jwk: dict, alg: str) -> jwt.PyJWK:
    """A JWK as a verification key for `alg`: a key that names its own `alg` must name this one."""
    if jwk.get("alg") not in (None, alg):
        raise AuthError(f"kid: the key is for {jwk.get('alg')}, the token says {alg}")
    try:
        return jwt.PyJWK({**jwk, "alg": alg})
    except jwt.PyJWKError as exc:
        raise AuthError(f"kid: unusable key ({type(exc).__name__})") from exc


def _jwks(data: Any) -> dict[str, dict]:
    """A JWK Set: {"keys": [JWK, ...]}, by kid."""
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise AuthError("jku: not a JWK Set")
    return {str(k["kid"]): k for k in data["keys"] if isinstance(k, dict) and k.get("kid")}


def _key_list(data: Any) -> dict[str, dict]:
    """Keys as the CRD request generator publishes them: a JSON array of {"id": kid, "pem": JWK, ...}."""
    if not isinstance(data, list):
        raise AuthError("jku: the key list is not a JSON array")
    return {str(i["id"]): i["pem"] for i in data
            if isinstance(i, dict) and i.get("id") and isinstance(i.get("pem"), dict)}


class KeySetClient:
    """One issuer's keys fetched from its `jku` (a JWK Set, or the generator's key list), built so that forged
    tokens cannot stall real calls:

    - a kid already known is answered from the cache at once, even when the set is due for a refresh (one
      background fetch renews it);
    - an unknown kid may trigger a fetch, at most one per issuer at a time, made outside the lock (other callers
      never wait on it), and at most every `cooldown` seconds — after a failed fetch too, with the wait doubled
      up to `max_backoff`, so a jku that is down is not hammered by every forged token.
    """

    def __init__(self, url: str, fmt: str = "jwks", ttl: float = 3600, cooldown: float = 5, timeout: float = 5,
                 max_backoff: float = 300) -> None:
        self.url, self.ttl, self.cooldown, self.timeout, self.max_backoff = url, ttl, cooldown, timeout, max_backoff
        self._parse = _key_list if fmt == "key-list" else _jwks
        self._keys: dict[str, dict] = {}
        self._fetched = float("-inf")  # when the keys were last read successfully
        self._next_attempt = float("-inf")  # no fetch before this (cooldown, or back-off after a failure)
        self._backoff = max(cooldown, 1.0)  # after a failure: at least a second, doubled each time
        self._fetching = False
        self._lock = threading.Lock()
        self.fetches = 0  # attempts, for the tests and the curious

    def get(self, kid: str) -> dict:
        with self._lock:
            key = self._keys.get(kid)
            now = time.monotonic()
            due = key is None or now - self._fetched > self.ttl
            start = due and not self._fetching and now >= self._next_attempt
            if start:
                self._fetching = True
        if start and key is not None:  # a known kid: answered now, the set renewed behind it
            threading.Thread(target=self._refresh, daemon=True).start()
        elif start:
            self._refresh()
            with self._lock:
                key = self._keys.get(kid)
        if key is None:
            raise AuthError(f"kid: {logs_shape(kid)} is not in the issuer's key set")
        return key

    def _refresh(self) -> None:
        import requests

        self.fetches += 1
        try:
            resp = requests.get(self.url, timeout=self.timeout, allow_redirects=False)
            resp.raise_for_status()
            keys = self._parse(resp.json())
        except (requests.RequestException, ValueError, AuthError) as exc:
            with self._lock:
                self._next_attempt = time.monotonic() + self._backoff
                self._backoff = min(self._backoff * 2, self.max_backoff)
                self._fetching = False
            logs_event("key set fetch failed", reason=f"jku: {type(exc).__name__}; next try in "
                                                      f"{self._next_attempt - time.monotonic():.0f} s")
            return
        with self._lock:
            self._keys, self._fetched = keys, time.monotonic()
            self._next_attempt = self._fetched + self.cooldown
            self._backoff = max(self.cooldown, 1.0)
            self._fetching = False


class ReplayCache(Protocol):
    def first_use(self, key: str, ttl: int) -> bool: ...

    def ping(self) -> bool:
        """Reachable now (readiness: every trust-mode call needs it)."""
        ...


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

    def ping(self) -> bool:
        return True


class StoreReplayCache:
    """jti values in the service's database (the default): shared by every worker, and by every instance when
    the database is PostgreSQL."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def first_use(self, key: str, ttl: int) -> bool:
        try:
            return self._store.first_use(key, ttl)
        except StoreError as exc:
            raise AuthError(f"replay store unavailable ({exc})") from exc  # fail closed

    def ping(self) -> bool:
        return self._store.ping()


class RedisReplayCache:
    """jti values shared by every worker and instance: SET NX with the token's lifetime as expiry.

    Short timeouts and a circuit breaker: after a failure, calls are refused at once for `open_seconds`
    instead of each waiting on a hung Redis (fail closed, fast)."""

    def __init__(self, url: str, timeout: float = 0.25, open_seconds: float = 5.0) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._errors = (redis.RedisError, OSError)
        self._open_seconds = open_seconds
        self._open_until = 0.0

    def first_use(self, key: str, ttl: int) -> bool:
        if time.monotonic() < self._open_until:
            raise AuthError("replay store unavailable (circuit open after a recent failure)")
        try:
            return bool(self._redis.set(f"pa-advisor:jti:{key}", b"1", nx=True, ex=max(1, ttl)))
        except self._errors as exc:
            self._open_until = time.monotonic() + self._open_seconds
            # Fail closed: without the shared store a replay cannot be ruled out.
            raise AuthError(f"replay store unavailable ({type(exc).__name__})") from exc

    def ping(self) -> bool:
        try:
            return bool(self._redis.ping())
        except self._errors:
            return False


class Verifier:
    def __init__(self, issuers: dict[str, Issuer], replay: ReplayCache, jwks_ttl: float = 3600,
                 refresh_cooldown: float = 5) -> None:
        self.issuers, self.replay = issuers, replay
        self.key_sets: dict[str, KeySetClient] = {
            i.jku: KeySetClient(i.jku, i.jku_format, jwks_ttl, refresh_cooldown)
            for i in issuers.values() if i.jku and not i.jwks_file
        }

    def _key(self, issuer: Issuer, kid: str, alg: str) -> jwt.PyJWK:
        if issuer.jwks_file:  # local keys win: nothing is fetched
            if kid not in issuer._file_keys:
                raise AuthError(f"kid: {logs_shape(kid)} is not in the issuer's JWKS file")
            return bind(issuer._file_keys[kid], alg)
        assert issuer.jku
        return bind(self.key_sets[issuer.jku].get(kid), alg)

    def verify(self, token: str, audience: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise AuthError(f"malformed JWT ({type(exc).__name__})") from exc
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ASYMMETRIC:
            raise AuthError(f"alg: {str(alg)[:20]!r} refused")
        if not isinstance(kid, str) or not kid:
            raise AuthError("kid: none in the header")
        if header.get("typ") not in (None, "JWT"):
            raise AuthError("typ: not JWT")
        issuer = self.issuers.get(str(unverified.get("iss")))
        if issuer is None:
            raise AuthError(f"iss: {str(unverified.get('iss'))[:100]!r} is not in the trust file")
        if alg not in issuer.algorithms:
            raise AuthError(f"alg: {alg} is not allowed for this issuer (allowed: {', '.join(issuer.algorithms)})")
        if header.get("jku") is not None and header.get("jku") != issuer.jku:
            raise AuthError(f"jku: {str(header.get('jku'))[:200]!r} is not the issuer's configured jku")
        key = self._key(issuer, kid, alg)
        try:
            claims = jwt.decode(
                token, key=key, algorithms=[alg], audience=_audiences(audience), issuer=issuer.iss,
                leeway=LEEWAY_SECONDS, options={"require": ["iss", "aud", "exp", "iat", "jti"]},
            )
        except jwt.InvalidAudienceError as exc:
            raise AuthError(f"aud: expected {audience!r}, received {str(unverified.get('aud'))[:200]!r}") from exc
        except jwt.PyJWTError as exc:
            raise AuthError(_check_name(exc)) from exc
        if claims["iat"] > time.time() + LEEWAY_SECONDS:
            raise AuthError("iat: in the future")
        if claims["exp"] - claims["iat"] > MAX_TOKEN_LIFETIME + LEEWAY_SECONDS:
            # A longer-lived token would outlive the memory of its jti: refused rather than replayable later.
            raise AuthError("exp: the token lives longer than 24 hours")
        if issuer.tenants and claims.get("tenant") not in issuer.tenants:
            raise AuthError("tenant: not allowed")
        ttl = int(min(MAX_REPLAY_WINDOW, max(0, claims["exp"] - time.time()) + LEEWAY_SECONDS))
        if not self.replay.first_use(f"{issuer.iss}|{claims['jti']}", ttl):
            raise AuthError("jti: replayed")
        return claims


def _check_name(exc: jwt.PyJWTError) -> str:
    """The failing check by name, for the log."""
    if isinstance(exc, jwt.InvalidSignatureError):
        return "signature: does not verify with the issuer's key"
    if isinstance(exc, jwt.ExpiredSignatureError):
        return "exp: the token has expired"
    if isinstance(exc, jwt.ImmatureSignatureError):
        return "iat/nbf: the token is not valid yet"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"{exc.claim}: missing"
    if isinstance(exc, jwt.InvalidIssuerError):
        return "iss: does not match"
    return f"token: rejected ({type(exc).__name__})"


def _audiences(endpoint: str) -> list[str]:
    """The endpoint URL, with and without a trailing slash (clients differ)."""
    base = endpoint.rstrip("/")
    return [base, base + "/"]
