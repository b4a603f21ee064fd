"""FHIR fallback: fetch what the prefetch did not carry, from the client's FHIR server.

Every key is fetched in parallel, under one overall deadline that shuts the
sockets still in use when it passes, with connect and read timeouts and a small
retry on transient failures. A call first takes a slot in the bulkhead for its
server (``net.bulkhead``), so a slow server holds only a few threads. Every URL
fetched, ``next`` links included, is parsed by ``net.urls`` and must stay under
the server's base, so the token goes nowhere else. A failure becomes a
``FetchError`` with a one-line reason that names neither the token nor more of
the server's answer than its status, so the same text can go to a client, a
log line and the CLI.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import requests

from .. import jsonio
from ..net.bulkhead import Bulkhead, NoSlot
from ..net.http import DeadlinePassed, GetRetry, HttpClient, HttpError, run_until
from ..net.urls import Target, UrlPolicy, UrlRefused, parse

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


class FetchBusy(FetchError):
    """Not tried: the bulkhead had no slot for this FHIR server within the deadline."""


@dataclass(frozen=True, slots=True)
class FhirServer:
    """Where to fetch from, and the client's bearer token (never logged or stored)."""

    base: str
    token: str | None = None

    def __repr__(self) -> str:  # keeps the token out of logs and tracebacks
        return f"FhirServer({self.base!r})"


@dataclass(frozen=True, slots=True)
class ServerPolicy:
    """Which ``fhirServer`` values we may contact (and send the client's token to).

    ``bases``: the allowed bases; a server must be one of them or under one.
    With no bases, ``open`` allows any server (local development) and a closed
    policy allows none (prefetch only). ``https_only`` refuses plain http, but
    to this machine when ``http_loopback`` is set.
    """

    bases: tuple[str, ...] = ()
    open: bool = True
    https_only: bool = False
    http_loopback: bool = False

    def check(self, server: FhirServer) -> Target:
        """The server's base as it will be contacted; ``UrlRefused`` says why it may not be."""
        if not self.bases and not self.open:
            raise UrlRefused("no FHIR server is allowed for this caller")
        policy = UrlPolicy.of(
            self.bases,
            open=self.open,
            https_only=self.https_only,
            http_loopback=self.http_loopback,
        )
        try:
            return policy.check(server.base)
        except UrlRefused as exc:
            raise UrlRefused(f"fhirServer {exc}") from None

    def refusal(self, server: FhirServer) -> str | None:
        """Why this server may not be contacted, or None when it may."""
        try:
            self.check(server)
        except UrlRefused as exc:
            return str(exc)
        return None


ANY_SERVER = ServerPolicy()  # local development and the CLI: the user names the server


@dataclass(frozen=True, slots=True)
class Limits:
    connect_timeout: float = 2.0
    read_timeout: float = 5.0
    deadline: float = 8.0  # seconds for all keys together, waiting for a slot included
    max_pages: int = 10
    calls_per_server: int = 3  # hook calls fetching from one FHIR server at once, per process
    calls: int = 8  # hook calls fetching or waiting to, per process
    max_bytes: int = 32 * 1024 * 1024  # per answer: about 20,000 typical Observations

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            settings.fhir_connect_timeout,
            settings.fhir_read_timeout,
            settings.fhir_deadline,
            settings.fhir_max_pages,
            settings.fhir_calls_per_server,
            settings.fhir_calls,
        )


class FhirClient:
    """One connection pool and one bulkhead per process; safe to share between threads."""

    def __init__(self, limits: Limits = Limits()) -> None:
        self.limits = limits
        retry = GetRetry(
            total=2,
            connect=2,  # refused, or a kept-alive connection dropped unanswered
            read=0,  # a read timeout is not retried: it would double the wait
            status=2,
            backoff_factor=0.05,
            status_forcelist=(429, 502, 503, 504),
            allowed_methods=frozenset({"GET"}),
            respect_retry_after_header=False,  # a CDS answer cannot wait on Retry-After
            raise_on_status=False,
        )
        self.http = HttpClient(
            connect_timeout=limits.connect_timeout,
            read_timeout=limits.read_timeout,
            retry=retry,
            pool_maxsize=16,
        )
        self.bulkhead = Bulkhead(per_server=limits.calls_per_server, total=limits.calls)

    @property
    def session(self) -> requests.Session:
        """The connection pool, for tests that trust a test CA."""
        return self.http.session

    def fetch_all(
        self, server: FhirServer, queries: Mapping[str, str], *, base: Target | None = None
    ) -> dict[str, object]:
        """Fetch every relative query; each value is a resource, a list of pages or a FetchError.

        ``base`` is ``server.base`` as the caller's policy parsed it; without one, any
        well-formed base is accepted (the CLI, where the user names the server).
        """
        if not queries:
            return {}
        deadline = time.monotonic() + self.limits.deadline
        try:
            base = base or parse(server.base)
        except UrlRefused as exc:
            return dict.fromkeys(queries, FetchError(f"fhirServer {exc}"))
        try:
            with self.bulkhead.slot(base.origin, deadline):
                outcomes = run_until(
                    deadline,
                    {
                        key: partial(self._fetch, server, base, query, deadline)
                        for key, query in queries.items()
                    },
                    name="fhir-fetch",
                )
        except NoSlot as exc:
            return dict.fromkeys(queries, FetchBusy(str(exc)))
        results: dict[str, object] = {}
        for key, outcome in outcomes.items():
            if isinstance(outcome, DeadlinePassed):
                results[key] = FetchTimeout(
                    f"no answer within the {self.limits.deadline:g} s deadline"
                )
            elif isinstance(outcome, FetchError):
                results[key] = outcome
            elif isinstance(outcome, BaseException):  # a bug in this module: do not hide it
                raise outcome
            else:
                results[key] = outcome
        return results

    def _fetch(self, server: FhirServer, base: Target, query: str, deadline: float) -> object:
        """A read gives the resource; a search gives its pages, following ``next`` links."""
        what = _what(query)
        try:
            target = parse(base.join(query))
        except UrlRefused as exc:
            raise FetchError(f"{what}: the query URL {exc}") from None
        first = self._get(server, target, what, deadline)
        if first.get("resourceType") != "Bundle":
            return first
        pages = [first]
        seen = {target.url}
        link = _next_link(base, first)
        while link and len(pages) < self.limits.max_pages:
            if link.url in seen:
                break  # a server whose next link loops back
            seen.add(link.url)
            page = self._get(server, link, f"{what} (page {len(pages) + 1})", deadline)
            if page.get("resourceType") != "Bundle":
                break
            pages.append(page)
            link = _next_link(base, page)
        return pages

    def _get(self, server: FhirServer, target: Target, what: str, deadline: float) -> dict:
        headers = {"Accept": FHIR_JSON}
        if server.token:
            headers["Authorization"] = f"Bearer {server.token}"
        limit = self.limits.max_bytes
        try:
            answer = self.http.request(
                "GET", target, deadline=deadline, max_bytes=limit, headers=headers
            )
        except DeadlinePassed:
            raise
        except HttpError as exc:
            error = FetchTimeout if exc.reason == "timed out" else FetchError
            raise error(f"{what}: {exc.reason}") from None
        if answer.status != 200:
            raise FetchError(
                f"{what}: the server answered {_status(answer.status)}",
                not_found=answer.status in (404, 410),
            )
        if len(answer.body) > limit:
            raise FetchError(f"{what}: the answer is larger than {limit // (1024 * 1024)} MB")
        try:
            data = jsonio.loads(answer.body)
        except (ValueError, RecursionError):
            raise FetchError(f"{what}: the answer is not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
            raise FetchError(f"{what}: the answer is not a FHIR resource")
        if data["resourceType"] == "OperationOutcome":
            raise FetchError(f"{what}: the server answered with an OperationOutcome")
        return data


def _next_link(base: Target, bundle: dict) -> Target | None:
    """The Bundle's ``next`` link, if it stays under the base: the token goes nowhere else."""
    links = bundle.get("link")
    if not isinstance(links, list):
        return None
    for link in links:
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            if not isinstance(url, str):
                return None
            try:
                target = parse(urljoin(base.url.rstrip("/") + "/", url))
            except (UrlRefused, ValueError):
                return None
            return target if target.under(base) else None
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
