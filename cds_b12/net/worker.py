"""The gunicorn worker ``cds-b12 serve`` runs: gthread, but a request's head is read on the
event loop, so slow clients hold no thread.

gunicorn's threaded worker hands a connection to a pool thread as soon as its
first byte arrives, and the thread then blocks while the rest of the request
trickles in: eight clients sending a byte every two seconds took a third of a
worker's threads, and a few hundred stopped the service. Here the worker's own
event loop (the selector gthread already runs for kept-alive connections) reads
the request head, and a body of up to ``BODY_BUFFER`` bytes, without blocking;
only a complete request goes to a thread. A head not complete within
``HEAD_SECONDS`` (or a buffered body within ``BODY_SECONDS``) gets 408 and the
connection is closed. Over TLS (which gunicorn terminates in the thread) the
worker behaves as gthread does.

Errors gunicorn answers itself (400 for a malformed request line or header,
414, 431, 500) are sent as a FHIR OperationOutcome, like the service's own, and
logged by ``ErrorLog`` without the request line or header they quote.
"""

from __future__ import annotations

import contextlib
import json
import re
import selectors
import time
from collections import deque
from functools import partial
from typing import Any

from gunicorn import util
from gunicorn.glogging import Logger
from gunicorn.workers.gthread import ThreadWorker

HEAD_SECONDS = 15.0  # from the first byte (or the connection) to the end of the head
BODY_SECONDS = 30.0  # then to the end of a buffered body
HEAD_LIMIT = 64 * 1024  # past this the parser answers 431 (or 414): hand it over
BODY_BUFFER = 1024 * 1024  # larger bodies are read by the thread, as gthread does
_CONTENT_LENGTH = re.compile(rb"^content-length[ \t]*:[ \t]*(\d+)[ \t]*\r?$", re.I | re.M)
_STREAMED = re.compile(rb"^(transfer-encoding|expect)[ \t]*:", re.I | re.M)
_ISSUE = {400: "invalid", 403: "forbidden", 408: "timeout", 414: "too-long", 431: "too-long"}
_REFUSED = re.compile(r"^(Invalid request from ip=\S*: [^:'\"]*)")  # up to what it quotes


def operation_outcome(status: int, reason: str, diagnostics: str) -> bytes:
    """A complete HTTP/1.1 response carrying one OperationOutcome issue; closes the connection."""
    issue = {
        "severity": "error",
        "code": _ISSUE.get(status, "exception"),
        "diagnostics": diagnostics,
    }
    body = json.dumps({"resourceType": "OperationOutcome", "issue": [issue]}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/fhir+json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def wanted(data: bytes) -> int | None:
    """How many bytes make the whole request, once its head is in ``data`` (None: not yet).
    A body that is chunked, awaits ``100 Continue`` or is large is left to the thread."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        bare = data.find(b"\n\n")  # not HTTP/1.1 as written: the parser will say so
        return None if bare < 0 else bare + 2
    head, end = data[:end], end + 4
    lengths = _CONTENT_LENGTH.findall(head)
    if _STREAMED.search(head) or len(lengths) != 1 or int(lengths[0]) > BODY_BUFFER:
        return end
    return end + int(lengths[0])


class _Captured:
    """Takes the HTML error gunicorn writes, so that only its status line is kept."""

    def __init__(self) -> None:
        self.data = b""

    def gettimeout(self) -> float:
        return 0.0

    def sendall(self, data: bytes) -> None:
        self.data += data


class ErrorLog(Logger):
    """gunicorn's error log, without what a refused or failed request carried.

    Its warning for a malformed request quotes the offending request line or header line,
    and its error for a failed one names the URI: either may hold a JWT (``Authorization``
    without its colon, say) or a SMART callback's ``code`` and ``state``. Only the kind of
    refusal and the path are kept.
    """

    def warning(self, msg: object, *args: Any, **kwargs: Any) -> None:
        if isinstance(msg, str) and (kept := _REFUSED.match(msg)):
            msg = kept.group(1).rstrip()
        super().warning(msg, *args, **kwargs)

    def exception(self, msg: object, *args: Any, **kwargs: Any) -> None:
        if isinstance(msg, str) and msg.startswith("Error handling request"):
            args = tuple(a.split("?", 1)[0] if isinstance(a, str) else a for a in args)
        super().exception(msg, *args, **kwargs)


class HeadFirstWorker(ThreadWorker):
    def init_process(self) -> None:
        self.reading: deque[Any] = deque()  # connections whose request is still arriving
        super().init_process()

    def enqueue_req(self, conn: Any) -> None:
        """Every connection with a request to read (new, kept alive, or pipelined) comes here;
        it reaches a thread only once the request is in."""
        if self._threads_read(conn):
            conn.request_read = False
            super().enqueue_req(conn)
            return
        seed = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        conn.sock.setblocking(False)
        conn.buffered = bytearray(seed)
        conn.read_by = time.monotonic() + HEAD_SECONDS
        conn.body_timed = False
        conn.polled = False  # whether this worker registered it with the poller
        self.reading.append(conn)
        if self._complete(conn):
            return
        # A kept-alive connection comes here once the poller has seen it readable, and a new
        # one mostly with its request already sent: read now rather than register, wait for
        # the poller to report it readable again and unregister it (two epoll_ctl calls and a
        # turn of the event loop, which must take the GIL back from the request threads).
        if not self._received(conn) or self._complete(conn):
            return
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._readable, conn))
        conn.polled = True

    def _readable(self, conn: Any, _sock: Any) -> None:
        if self._received(conn):
            self._complete(conn)

    def _received(self, conn: Any) -> bool:
        """Add what has arrived to the buffer; False if the client went away (then closed)."""
        try:
            chunk = conn.sock.recv(256 * 1024)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            chunk = b""
        if not chunk:
            self._unregister(conn)
            self._close(conn)
            return False
        conn.buffered += chunk
        return True

    def _complete(self, conn: Any) -> bool:
        """Hand the request to a thread if it is all here; True if it was handed over."""
        need = wanted(conn.buffered)
        if need is None and len(conn.buffered) <= HEAD_LIMIT:
            return False
        if need is not None and len(conn.buffered) < need:
            if not conn.body_timed:
                conn.body_timed = True
                conn.read_by = time.monotonic() + BODY_SECONDS  # the head is in: body time
            return False
        self._unregister(conn)
        self.reading.remove(conn)
        data, conn.buffered = bytes(conn.buffered), None
        conn.sock.setblocking(True)
        conn.init()
        conn.parser.unreader.unread(data)
        conn.data_ready = conn.request_read = True
        self.enqueue_req(conn)
        return True

    def murder_pending(self) -> None:
        """Besides gthread's pending connections: a request too slow to arrive gets 408;
        on shutdown every request still arriving is dropped."""
        super().murder_pending()
        now = time.monotonic()
        for conn in [c for c in self.reading if c.read_by <= now or not self.alive]:
            self.reading.remove(conn)
            self._unregister(conn)
            with contextlib.suppress(OSError):  # a small answer: the buffer takes it
                conn.sock.send(
                    operation_outcome(408, "Request Timeout", "the request came too slowly")
                )
            self._close(conn)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        captured = _Captured()
        super().handle_error(req, captured, addr, exc)
        status_line = captured.data.split(b"\r\n", 1)[0].decode("latin-1")
        _, status, reason = [*status_line.split(" ", 2), "500", "Internal Server Error"][:3]
        code = int(status) if status.isdigit() else 500
        message = (
            "internal error; the service log has the details"
            if code >= 500
            else f"the request was refused before it reached the service: {reason}"
        )
        try:
            util.write_nonblock(client, operation_outcome(code, reason, message))
        except Exception:
            self.log.debug("Failed to send error message.")

    def _threads_read(self, conn: Any) -> bool:
        """Whether gthread's own reading applies: TLS (the handshake happens in the thread),
        HTTP/2 prior knowledge (the preface is sniffed there), or a request already read."""
        if getattr(conn, "request_read", False):
            return True
        return self.cfg.is_ssl or self.cfg.http2_cleartext in ("prior-knowledge", "both")

    def _unregister(self, conn: Any) -> None:
        """Only what this worker registered: asking the poller about any other connection
        raises, and formats the socket into the KeyError's message."""
        if conn.polled:
            conn.polled = False
            with contextlib.suppress(KeyError, ValueError, OSError):  # closed meanwhile
                self.poller.unregister(conn.sock)

    def _close(self, conn: Any) -> None:
        if conn in self.reading:
            self.reading.remove(conn)
        self.nr_conns -= 1
        conn.close()
