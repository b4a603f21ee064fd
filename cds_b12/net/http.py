"""Outbound HTTP: the one seam for FHIR fetches, JWKS fetches and SMART OAuth calls.

Every request runs under a deadline. A read timeout alone never fires while a
server keeps sending a byte a second, so when the deadline passes the sockets
the request is using are shut down, and the thread blocked on them returns at
once: no fetch thread outlives its deadline. Nothing else is trusted either:
no redirects are followed, answers are capped in size, proxies and ``.netrc``
from the environment are ignored, and the URL given is the one ``urls.parse``
produced.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import ConnectionPool, HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from .urls import Target, loopback_address

GRACE_SECONDS = 1.0  # how long a cancelled fetch thread may take to notice
LOCALHOST_ELSEWHERE = "localhost is not this machine"
K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class HttpError(Exception):
    """No usable answer; ``reason`` is one line, safe to show and log (no token, no body)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DeadlinePassed(HttpError):
    def __init__(self, seconds: float | None = None) -> None:
        super().__init__(
            f"no answer within the {seconds:g} s deadline" if seconds else "no answer in time"
        )


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes  # at most max_bytes + 1 bytes: longer means too large
    headers: Mapping[str, str]


class _Scope:
    """The connections one task is using, so that its deadline can shut them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conns: set[HTTPConnection] = set()
        self.cancelled = False

    def add(self, conn: HTTPConnection) -> None:
        with self._lock:
            if self.cancelled:
                raise DeadlinePassed()
            self._conns.add(conn)
            conn._cds_b12_scope = self  # type: ignore[attr-defined]

    def discard(self, conn: HTTPConnection) -> None:
        with self._lock:
            self._conns.discard(conn)

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            conns, self._conns = self._conns, set()
        for conn in conns:
            # the socket as connected: http.client drops conn.sock once a response that
            # ends at close is under way, but that response still reads from it
            sock = getattr(conn, "_cds_b12_sock", None) or conn.sock
            if sock is not None:  # the plain socket's shutdown: works under TLS too
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)  # wakes a blocked recv


_current = threading.local()


def _enter(conn: HTTPConnection) -> None:
    scope = getattr(_current, "scope", None)
    if scope is not None:
        scope.add(conn)


class _OffLoopback(NewConnectionError):
    """``localhost`` resolved to an address off this machine."""


class _Cancellable:
    """Mixed into urllib3's connections: each joins the running task's scope while in use."""

    def connect(self) -> None:
        _enter(self)  # type: ignore[arg-type]
        super().connect()  # type: ignore[misc]
        self._cds_b12_sock = self.sock  # type: ignore[attr-defined]

    def _new_conn(self) -> socket.socket:
        """The URL policy takes ``localhost`` for this machine (plain http may go there): the
        address connected must be, whatever the resolver said. Checked on the plain socket,
        before TLS, whose ClientHello would already name the host."""
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        peer = sock.getpeername()[0]
        if self.host == "localhost" and not loopback_address(peer):  # type: ignore[attr-defined]
            sock.close()
            reason = f"{LOCALHOST_ELSEWHERE}: it resolved off loopback"
            raise _OffLoopback(self, reason)  # type: ignore[arg-type]
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _enter(self)  # type: ignore[arg-type]
        super().request(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_Cancellable, HTTPConnection):
    pass


class _HTTPSConnection(_Cancellable, HTTPSConnection):
    pass


class _Released:
    """Mixed into the pools: a connection back in the pool leaves its task's scope, so that
    cancelling a late task never cuts a connection another task has since taken."""

    def _put_conn(self, conn: Any) -> None:
        scope = getattr(conn, "_cds_b12_scope", None)
        if scope is not None:
            scope.discard(conn)
        super()._put_conn(conn)  # type: ignore[misc]


class _HTTPPool(_Released, HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(_Released, HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _Adapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


def deadline_in(seconds: float) -> float:
    """The deadline ``seconds`` from now, on the clock ``run_until`` reads."""
    return time.monotonic() + seconds


def run_until(
    deadline: float, tasks: Mapping[K, Callable[[], T]], *, name: str
) -> dict[K, T | BaseException]:
    """Run each task in its own thread until ``deadline`` (``time.monotonic``); a task still
    running then has its sockets shut and gets ``DeadlinePassed``. Returns when every task
    has ended (or, for one stuck outside a socket read, after a short grace)."""
    scopes = {key: _Scope() for key in tasks}
    results: dict[K, T | BaseException] = {}

    def run(key: K, task: Callable[[], T]) -> None:
        _current.scope = scopes[key]
        try:
            results[key] = task()
        except BaseException as exc:
            results[key] = exc
        finally:
            _current.scope = None

    threads = {
        key: threading.Thread(target=run, args=(key, task), name=f"{name}-{i}", daemon=True)
        for i, (key, task) in enumerate(tasks.items())
    }
    for thread in threads.values():
        thread.start()
    for thread in threads.values():
        thread.join(max(0.0, deadline - time.monotonic()))
    late = [key for key, thread in threads.items() if thread.is_alive()]
    for key in late:
        scopes[key].cancel()
    grace = time.monotonic() + GRACE_SECONDS
    for key in late:
        threads[key].join(max(0.0, grace - time.monotonic()))
    # a copy: a thread stuck outside a socket (in DNS, say) may still write to ``results``
    return {key: DeadlinePassed() if key in late else results[key] for key in tasks}


class GetRetry(Retry):
    """``Retry``, but a GET whose connection dropped before any answer is tried again.

    A server or load balancer closes a kept-alive connection after some idle seconds; when it
    does so just as the pool reuses it, the GET meets a reset or a close with no status line
    (``ProtocolError``), and nothing was answered. ``Retry`` counts that as a read error, which
    ``read=0`` never retries; here, for the methods in ``allowed_methods``, it counts as a
    connection error (``connect``). Any other method (a token POST) is never sent twice. A
    read timeout stays a read error: retrying it would double the wait. A body cut short is
    not retried either (it is read after ``urlopen``, outside the retries).
    """

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        if isinstance(error, ProtocolError) and not (method and self._is_method_retryable(method)):
            raise error.with_traceback(_stacktrace)
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def _is_connection_error(self, err: Exception) -> bool:
        return super()._is_connection_error(err) or isinstance(err, ProtocolError)

    def _is_read_error(self, err: Exception) -> bool:
        return isinstance(err, ReadTimeoutError)


class HttpClient:
    """One connection pool per process, shared by every thread; nothing follows redirects."""

    def __init__(
        self,
        *,
        connect_timeout: float,
        read_timeout: float,
        retry: Retry | int = 0,
        pool_maxsize: int = 16,
        session: requests.Session | None = None,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        if session is None:  # tests may pass a session with an offline adapter mounted
            session = requests.Session()
            adapter = _Adapter(max_retries=retry, pool_connections=4, pool_maxsize=pool_maxsize)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        session.trust_env = False  # no proxies or .netrc credentials from the environment
        self.session = session

    def request(
        self,
        method: str,
        target: Target,
        *,
        deadline: float,
        max_bytes: int,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> Answer:
        """One request, cut off at ``deadline``. Raises ``HttpError`` with a safe reason."""

        def send() -> Answer:
            return self._send(method, target, deadline, max_bytes, headers, data)

        if getattr(_current, "scope", None) is not None:  # already a task under a deadline
            return send()
        result = run_until(deadline, {0: send}, name="http")[0]
        if isinstance(result, BaseException):
            raise result
        return result

    def _send(
        self,
        method: str,
        target: Target,
        deadline: float,
        max_bytes: int,
        headers: Mapping[str, str] | None,
        data: Mapping[str, str] | None,
    ) -> Answer:
        left = deadline - time.monotonic()
        if left <= 0:
            raise DeadlinePassed()
        try:
            with self.session.request(
                method,
                target.url,
                headers=dict(headers or {}),
                data=data,
                timeout=(min(self.connect_timeout, left), min(self.read_timeout, left)),
                allow_redirects=False,  # a redirect could carry a token elsewhere
                stream=True,
            ) as resp:
                body = resp.raw.read(max_bytes + 1, decode_content=True)
                return Answer(resp.status_code, body, resp.headers)
        except Exception as exc:
            if _current.scope.cancelled:  # whatever the shut socket made the client raise
                raise DeadlinePassed() from None
            if not isinstance(exc, requests.RequestException | urllib3.exceptions.HTTPError):
                raise  # a bug, not the network: do not hide it
            raise HttpError(_problem(exc)) from None

    def close(self) -> None:
        self.session.close()


def _problem(exc: Exception) -> str:
    """What went wrong, in a few words that name no URL, header or body: chosen by the
    exceptions' types, never their messages, which quote the URL."""
    chain = _wrapped(exc)

    def has(*types: type[BaseException]) -> bool:
        return any(isinstance(link, types) for link in chain)

    if has(_OffLoopback):
        return LOCALHOST_ELSEWHERE
    timeouts = (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)
    # urllib3's NewConnectionError is a ConnectTimeoutError, for old callers' sake
    if any(isinstance(e, timeouts) and not isinstance(e, NewConnectionError) for e in chain):
        return "timed out"
    if not isinstance(exc, requests.ConnectionError):
        return "the answer was cut short"
    if has(NameResolutionError):
        return "host name not found"
    if has(ConnectionRefusedError):
        return "connection refused"
    # OpenSSL's reason code: the server's certificate refused here (CERTIFICATE_VERIFY_FAILED,
    # a wrong host name too), or a server's alert that it wants one of ours
    if any(isinstance(e, ssl.SSLError) and "CERTIFICATE" in (e.reason or "") for e in chain):
        return "the TLS certificate was not accepted"
    return "cannot connect"


def _wrapped(exc: BaseException) -> list[BaseException]:
    """``exc`` and every error it wraps: requests keeps urllib3's in ``args``, a
    ``MaxRetryError`` its ``reason``, and urllib3 raises each ``from`` the OSError beneath."""
    chain: list[BaseException] = []
    todo = [exc]
    while todo:
        link = todo.pop()
        if any(link is seen for seen in chain):  # an error may be wrapped twice
            continue
        chain.append(link)
        todo += [
            inner
            for inner in (*link.args, getattr(link, "reason", None), link.__cause__)
            if isinstance(inner, BaseException)
        ]
    return chain
