"""FHIR fallback: fetch what the prefetch did not carry, from the client's FHIR server.

Every key is fetched in parallel, under one overall deadline, with connect and
read timeouts and a small retry on transient failures. A failure becomes a
``FetchError`` with a one-line reason that names neither the token nor more of
the server's answer than its status, so the same text can go to a client, a
log line and the CLI.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import unquote, urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

if TYPE_CHECKING:
    from ..config import Settings

FHIR_JSON = "application/fhir+json"


class FetchError(Exception):
    """The server could not give us this data; ``reason`` is safe to show and log."""

    def __init__(self, reason: str, *, not_found: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.not_found = not_found


class FetchTimeout(FetchError):
    """No answer in time: a read timeout or the overall deadline."""


@dataclass(frozen=True, slots=True)
class FhirServer:
    """Where to fetch from, and the client's bearer token (never logged or stored)."""

    base: str
    token: str | None = None

    def __repr__(self) -> str:  # keeps the token out of logs and tracebacks
        return f"FhirServer({self.base!r})"

    def url(self, relative: str) -> str:
        return self.base.rstrip("/") + "/" + relative.lstrip("/")

    def same_origin(self, url: str) -> bool:
        """Whether a server-supplied link stays under this base (so the token may go there)."""
        return within(url, self.base)


@dataclass(frozen=True, slots=True)
class ServerPolicy:
    """Which ``fhirServer`` values we may contact (and send the client's token to).

    ``bases``: the allowed bases; a server must be one of them or under one.
    With no bases, ``open`` allows any server (local development) and a closed
    policy allows none (prefetch only).
    """

    bases: tuple[str, ...] = ()
    open: bool = True
    https_only: bool = False

    def refusal(self, server: FhirServer) -> str | None:
        """Why this server may not be contacted, or None when it may."""
        if self.https_only and urlsplit(server.base).scheme.lower() != "https":
            return "fhirServer must use https"
        if self.bases:
            if any(within(server.base, base) for base in self.bases):
                return None
            return "fhirServer is not on the allowlist"
        return None if self.open else "no FHIR server is allowed for this caller"


ANY_SERVER = ServerPolicy()  # local development and the CLI: the user names the server


def within(url: str, base: str) -> bool:
    """``url`` is ``base`` or below it: same scheme, host and port, and whole path segments.

    A dot segment fails, since HTTP clients resolve ``/fhir/../admin`` to ``/admin``.
    """
    u, b = _parts(url), _parts(base)
    return u is not None and b is not None and u[:2] == b[:2] and u[2][: len(b[2])] == b[2]


def _parts(url: str) -> tuple[str, str, tuple[str, ...]] | None:
    try:
        split = urlsplit(url)
    except ValueError:  # e.g. "http://[" : not a URL at all
        return None
    scheme = split.scheme.lower()
    segments = tuple(seg for seg in split.path.split("/") if seg)
    if scheme not in ("http", "https") or not split.hostname:
        return None
    if any(unquote(seg) in (".", "..") for seg in segments):
        return None
    try:
        port = split.port or (443 if scheme == "https" else 80)
    except ValueError:
        return None
    return scheme, f"{split.hostname.lower()}:{port}", segments


@dataclass(frozen=True, slots=True)
class Limits:
    connect_timeout: float = 2.0
    read_timeout: float = 5.0
    deadline: float = 8.0  # seconds for all keys together
    max_pages: int = 10
    max_bytes: int = 32 * 1024 * 1024  # per answer: about 20,000 typical Observations

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            settings.fhir_connect_timeout,
            settings.fhir_read_timeout,
            settings.fhir_deadline,
            settings.fhir_max_pages,
        )


class FhirClient:
    """One connection pool per process; safe to share between the fetch threads."""

    def __init__(self, limits: Limits = Limits()) -> None:
        self.limits = limits
        retry = Retry(
            total=2,
            connect=2,
            read=0,  # a read timeout is not retried: it would double the wait
            status=2,
            backoff_factor=0.05,
            status_forcelist=(429, 502, 503, 504),
            allowed_methods=frozenset({"GET"}),
            respect_retry_after_header=False,  # a CDS answer cannot wait on Retry-After
            raise_on_status=False,
        )
        self.session = requests.Session()
        self.session.trust_env = False  # no proxies or .netrc credentials from the environment
        adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=16)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def fetch_all(self, server: FhirServer, queries: Mapping[str, str]) -> dict[str, object]:
        """Fetch every relative query; each value is a resource, a list of pages or a FetchError."""
        if not queries:
            return {}
        started = time.monotonic()
        pool = ThreadPoolExecutor(max_workers=len(queries), thread_name_prefix="fhir-fetch")
        try:
            futures = {
                key: pool.submit(self._fetch, server, query, started)
                for key, query in queries.items()
            }
            wait(futures.values(), timeout=self.limits.deadline)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        results: dict[str, object] = {}
        for key, future in futures.items():
            if not future.done():
                results[key] = FetchTimeout(
                    f"no answer within the {self.limits.deadline:g} s deadline"
                )
            elif isinstance(future.exception(), FetchError):
                results[key] = future.exception()
            elif future.exception() is not None:  # a bug in this module: do not hide it
                raise future.exception()  # type: ignore[misc]
            else:
                results[key] = future.result()
        return results

    def _fetch(self, server: FhirServer, query: str, started: float) -> object:
        """A read gives the resource; a search gives its pages, following ``next`` links."""
        what = _what(query)
        first = self._get(server, server.url(query), what)
        if first.get("resourceType") != "Bundle":
            return first
        pages = [first]
        seen = {server.url(query)}
        link = _next_link(server, first)
        while link and len(pages) < self.limits.max_pages:
            if not server.same_origin(link):
                break  # never send the token to another host
            if link in seen:
                break  # a server whose next link loops back
            seen.add(link)
            if time.monotonic() - started > self.limits.deadline:
                break
            page = self._get(server, link, f"{what} (page {len(pages) + 1})")
            if page.get("resourceType") != "Bundle":
                break
            pages.append(page)
            link = _next_link(server, page)
        return pages

    def _get(self, server: FhirServer, url: str, what: str) -> dict:
        headers = {"Accept": FHIR_JSON}
        if server.token:
            headers["Authorization"] = f"Bearer {server.token}"
        limit = self.limits.max_bytes
        try:
            with self.session.get(
                url,
                headers=headers,
                timeout=(self.limits.connect_timeout, self.limits.read_timeout),
                allow_redirects=False,  # a redirect could carry the token elsewhere
                stream=True,
            ) as resp:
                if resp.status_code != 200:
                    raise FetchError(
                        f"{what}: the server answered {_status(resp.status_code)}",
                        not_found=resp.status_code in (404, 410),
                    )
                body = resp.raw.read(limit + 1, decode_content=True)
        except requests.Timeout:
            raise FetchTimeout(f"{what}: timed out") from None
        except requests.ConnectionError as exc:
            problem = _connection_problem(exc)
            error = FetchTimeout if problem == "timed out" else FetchError
            raise error(f"{what}: {problem}") from None
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            if "timed out" in str(exc).lower():
                raise FetchTimeout(f"{what}: timed out") from None
            raise FetchError(f"{what}: the answer was cut short") from None
        if len(body) > limit:
            raise FetchError(f"{what}: the answer is larger than {limit // (1024 * 1024)} MB")
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            raise FetchError(f"{what}: the answer is not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
            raise FetchError(f"{what}: the answer is not a FHIR resource")
        if data["resourceType"] == "OperationOutcome":
            raise FetchError(f"{what}: the server answered with an OperationOutcome")
        return data


def _next_link(server: FhirServer, bundle: dict) -> str | None:
    links = bundle.get("link")
    if not isinstance(links, list):
        return None
    for link in links:
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            return urljoin(server.base.rstrip("/") + "/", url) if isinstance(url, str) else None
    return None


def _what(query: str) -> str:
    """``Patient/123`` for a read, ``Observation search`` for a search: no query values."""
    path = query.split("?", 1)[0].strip("/")
    return path if "/" in path else f"{path} search"


def _status(code: int) -> str:
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return str(code)


def _connection_problem(exc: requests.ConnectionError) -> str:
    text = str(exc).lower()
    if "timed out" in text or "timeout" in text:
        return "timed out"
    if (
        "name or service not known" in text
        or "nodename nor servname" in text
        or "failed to resolve" in text
        or "name resolution" in text
    ):
        return "host name not found"
    if "refused" in text:
        return "connection refused"
    return "cannot connect"
