"""The one FHIR client: pooled connections, retries for GETs only, one wall-clock deadline per hook call that
no read outlives, capped paging and response size, no redirects. The bearer token is never logged.

Isolation between callers: each hook call reads in parallel on threads of its own (nothing shared to exhaust),
and every FHIR server gets at most `fhir_per_server` reads at once across the process, so one slow or
trickling server delays only the calls that name it, and never beyond their deadline.
"""

from __future__ import annotations

import contextvars
import socket
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from cdshooks import strict_json
from cdshooks.errors import FhirError
from cdshooks.metrics import Metrics
from cdshooks.settings import Settings

MAX_RESPONSE_BYTES = 32 * 1024 * 1024


@dataclass
class FetchResult:
    resources: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None  # set when the data could not be read (or only partly)


class FhirClient:
    def __init__(self, settings: Settings, metrics: Metrics | None = None) -> None:
        self.settings, self.metrics = settings, metrics
        self.session = requests.Session()
        # No retry on a read timeout: a slow server will not be faster the second time, and the deadline is short.
        retry = Retry(total=2, connect=2, read=False, status=2, backoff_factor=0.1,
                      status_forcelist=(502, 503, 504), allowed_methods=frozenset({"GET"}),
                      raise_on_status=False, respect_retry_after_header=False)
        adapter = HTTPAdapter(pool_connections=8, pool_maxsize=max(8, settings.fhir_workers), max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._slots_lock = threading.Lock()

    def close(self) -> None:
        self.session.close()

    def _slot(self, url: str) -> threading.BoundedSemaphore:
        """The concurrency cap of the FHIR server (scheme, host and port) that `url` is on."""
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        with self._slots_lock:
            if key not in self._slots:
                self._slots[key] = threading.BoundedSemaphore(self.settings.fhir_per_server)
            return self._slots[key]

    # -- one GET --------------------------------------------------------------------------------------------
    def _get(self, url: str, token: str | None, deadline: float, what: str) -> dict[str, Any]:
        started = time.perf_counter()
        error = None
        slot = self._slot(url)
        if not slot.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise FhirError(what, "deadline exceeded (the FHIR server is busy with other calls)")
        try:
            return self._get_once(url, token, deadline, what)
        except FhirError as exc:
            error = exc.reason
            raise
        finally:
            slot.release()
            if self.metrics:
                self.metrics.fhir(what, time.perf_counter() - started, error)

    def _get_once(self, url: str, token: str | None, deadline: float, what: str) -> dict[str, Any]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FhirError(what, "deadline exceeded")
        headers = {"Accept": "application/fhir+json, application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        timeout = (min(self.settings.fhir_connect_timeout, remaining), min(self.settings.fhir_read_timeout, remaining))
        try:
            # Never follow a redirect: it would carry the bearer token to a URL the EHR did not name.
            with self.session.get(url, headers=headers, timeout=timeout, stream=True, allow_redirects=False) as resp:
                if 300 <= resp.status_code < 400:
                    raise FhirError(what, f"redirected ({resp.status_code}); redirects are not followed",
                                    resp.status_code)
                if resp.status_code in (401, 403):
                    raise FhirError(what, f"not authorized ({resp.status_code})", resp.status_code)
                if resp.status_code == 404:
                    raise FhirError(what, "not found (404)", 404)
                if resp.status_code >= 400:
                    raise FhirError(what, f"FHIR server answered {resp.status_code}", resp.status_code)
                body = _read_capped(resp, deadline, self.settings.fhir_read_timeout, what)
        except requests.Timeout as exc:
            raise FhirError(what, "timed out") from exc
        except requests.ConnectionError as exc:
            # urllib3 wraps a read timeout it gave up retrying in MaxRetryError, which requests calls a
            # ConnectionError: tell the two apart for the card.
            reason = getattr(exc.args[0] if exc.args else None, "reason", None)
            if isinstance(reason, ReadTimeoutError):
                raise FhirError(what, "timed out") from exc
            raise FhirError(what, "FHIR server unreachable") from exc
        except requests.RequestException as exc:
            raise FhirError(what, f"request failed ({type(exc).__name__})") from exc
        try:
            data = strict_json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise FhirError(what, "malformed JSON") from exc
        if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
            raise FhirError(what, "response is not a FHIR resource")
        return data

    # -- read and search ------------------------------------------------------------------------------------
    def read(self, base: str, path: str, token: str | None, deadline: float) -> FetchResult:
        what = path.split("?")[0].split("/")[0]
        if not under(f"{base}/{path}", base):  # the token never leaves the FHIR server's base path
            return FetchResult(error="refused: the reference leaves the FHIR server's base path")
        try:
            data = self._get(f"{base}/{path}", token, deadline, what)
        except FhirError as exc:
            return FetchResult(error=exc.reason)
        if data["resourceType"] == "Bundle":
            return FetchResult(bundle_entries(data))
        if data["resourceType"] == "OperationOutcome":
            return FetchResult(error="FHIR server returned an OperationOutcome")
        return FetchResult([data])

    def search(self, base: str, query: str, token: str | None, deadline: float) -> FetchResult:
        """A search, following `next` links on the same server up to the page and entry caps. Asks for
        `fhir_page_size` entries a page: servers default to 20 or so, and each page is a round trip."""
        if "_count=" not in query:
            query += f"{'&' if '?' in query else '?'}_count={self.settings.fhir_page_size}"
        if not under(f"{base}/{query}", base):
            return FetchResult(error="refused: the search leaves the FHIR server's base path")
        return self._pages(base, f"{base}/{query}", token, deadline, query.split("?")[0])

    def follow(self, base: str, bundle: Mapping[str, Any], token: str | None, deadline: float,
               what: str) -> FetchResult:
        """The rest of a paged prefetch Bundle, from its `next` link."""
        nxt = _next_link(bundle, base)
        return self._pages(base, nxt, token, deadline, what) if nxt else FetchResult()

    def _pages(self, base: str, url: str | None, token: str | None, deadline: float, what: str) -> FetchResult:
        out = FetchResult()
        pages = 0
        while url:
            try:
                data = self._get(url, token, deadline, what)
            except FhirError as exc:
                out.error = exc.reason
                return out
            if data["resourceType"] != "Bundle":
                out.error = f"expected a Bundle, got {data['resourceType']}"
                return out
            out.resources += bundle_entries(data)
            pages += 1
            url = _next_link(data, base)
            if url and pages >= self.settings.fhir_max_pages:
                out.error = f"stopped after {pages} pages"
                return out
            if len(out.resources) > self.settings.max_bundle_entries:
                out.resources = out.resources[: self.settings.max_bundle_entries]
                out.error = "too many entries"
                return out
        return out

    def many(self, calls: Mapping[str, Any], deadline: float) -> dict[str, FetchResult]:
        """Run several zero-argument calls in parallel on this call's own threads; each is cut at the deadline."""
        pool = ThreadPoolExecutor(max_workers=max(1, min(len(calls), self.settings.fhir_workers)),
                                  thread_name_prefix="fhir")
        try:
            # Each read runs in a copy of the caller's context: a trace (when tracing is on) spans the whole call.
            futures = {key: pool.submit(contextvars.copy_context().run, fn) for key, fn in calls.items()}
            wait(futures.values(), timeout=max(0.0, deadline - time.monotonic()) + 0.5)
            out = {}
            for key, fut in futures.items():
                if fut.done() and fut.exception() is None:
                    out[key] = fut.result()
                else:
                    fut.cancel()
                    out[key] = FetchResult(error="deadline exceeded")
            return out
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


def _read_capped(resp: requests.Response, deadline: float, read_timeout: float, what: str) -> bytes:
    """The body, read one network read at a time with the socket timeout set to what is left of the deadline:
    a server trickling a byte at a time cannot keep a read going past the deadline."""
    raw = resp.raw
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    chunks: list[bytes] = []
    size = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FhirError(what, "deadline exceeded")
        if isinstance(sock, socket.socket):
            sock.settimeout(min(read_timeout, remaining))
        try:
            chunk = raw.read1(65536, decode_content=True)
        except (ReadTimeoutError, TimeoutError) as exc:
            raise FhirError(what, "timed out") from exc
        except (Urllib3Error, OSError) as exc:
            raise FhirError(what, f"response broken off ({type(exc).__name__})") from exc
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise FhirError(what, "response too large")
        chunks.append(chunk)


def bundle_entries(bundle: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Resources of a Bundle, without search.mode=outcome OperationOutcomes (servers add them for ignored params)."""
    out = []
    entries = bundle.get("entry")
    for entry in entries if isinstance(entries, list) else []:
        res = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(res, dict) or res.get("resourceType") == "OperationOutcome":
            continue
        if isinstance(res.get("resourceType"), str):
            out.append(res)
    return out


def _next_link(bundle: Mapping[str, Any], base: str) -> str | None:
    """The `next` link, only when it points back at the same FHIR server (the token goes nowhere else)."""
    links = bundle.get("link")
    for link in links if isinstance(links, list) else []:
        target = link.get("url") if isinstance(link, dict) and link.get("relation") == "next" else None
        if isinstance(target, str):
            url = urljoin(base + "/", target)
            if under(url, base):
                return url
    return None


def under(url: str, base: str) -> bool:
    """The URL is on the FHIR server and under its base path, segment by segment, with no `..` or `.` segment
    (raw or percent-encoded) anywhere: "{base}/../admin" and "{base}x/…" are not under "{base}"."""
    a, b = urlsplit(url), urlsplit(base)
    if (a.scheme, a.netloc) != (b.scheme, b.netloc):
        return False
    segments = [unquote(s) for s in a.path.split("/")]
    if any(s in (".", "..") for s in segments):
        return False
    root = b.path.rstrip("/")
    return a.path == root or a.path.startswith(root + "/")
