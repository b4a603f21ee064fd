"""Real sockets for the network tests: a listener that counts who reaches it, and clients
that send a request a byte at a time."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Listener:
    """A TCP server on 127.0.0.1 (or ``host``) that counts the connections it accepts and the
    requests it reads, and answers each with ``{}``; the forbidden host in SSRF tests."""

    host: str = "127.0.0.1"
    sock: socket.socket = field(default_factory=socket.socket)
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.sock.bind((self.host, 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        threading.Thread(target=self._serve, daemon=True, name="test-listener").start()

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(2)
                try:
                    self.requests.append(conn.recv(65536))
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Content-Length: 2\r\nConnection: close\r\n\r\n{}"
                    )
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self.sock.close()


class Tricklers:
    """``count`` clients, each sending ``payload`` one byte every ``every`` seconds, on
    ``port``, reconnecting whenever the server closes; they hold connections, not data."""

    def __init__(self, port: int, count: int, every: float, payload: bytes) -> None:
        self.port, self.every, self.payload = port, every, payload
        self.stopping = threading.Event()
        self.connected = 0
        self._lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._run, daemon=True, name=f"trickler-{i}")
            for i in range(count)
        ]
        for thread in self.threads:
            thread.start()

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            except OSError:
                self.stopping.wait(0.2)
                continue
            with self._lock:
                self.connected += 1
            try:
                for byte in self.payload:
                    if self.stopping.is_set():
                        break
                    sock.send(bytes([byte]))
                    self.stopping.wait(self.every)
            except OSError:
                pass
            finally:
                sock.close()

    def wait_connected(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.connected < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.connected >= count, f"only {self.connected} of {count} clients connected"

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=5)


class Scripted:
    """A TCP server on 127.0.0.1 that plays ``script(conn)`` on each connection, in a thread
    of its own: truncated answers, answers that drip, answers that never come."""

    def __init__(self, script: Callable[[socket.socket, threading.Event], None]) -> None:
        self.script = script
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.stopping = threading.Event()
        self.connections = 0
        self.open = 0  # connections whose script is still playing
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True, name="test-scripted").start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}{path}"

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self.open += 1
            threading.Thread(target=self._play, args=(conn,), daemon=True).start()

    def _play(self, conn: socket.socket) -> None:
        try:
            with conn:
                conn.settimeout(5)
                conn.recv(65536)  # the request
                self.script(conn, self.stopping)
        except OSError:
            pass
        finally:
            with self._lock:
                self.open -= 1

    def wait_open(self, count: int = 1, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.open < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.open >= count, f"{self.open} of {count} connections open"

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Until every connection's script has ended (the client hung up, say)."""
        deadline = time.monotonic() + timeout
        while self.open and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.open == 0, f"{self.open} connections still open"

    def close(self) -> None:
        self.stopping.set()
        self.sock.close()


def truncated(conn: socket.socket, _stopping: threading.Event) -> None:
    """Promises 1,000 bytes of JSON, sends 20, and hangs up."""
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        b'{"keys": [{"kty": "E'
    )


def drip(
    conn: socket.socket, stopping: threading.Event, *, every: float = 0.2, for_s: float = 60
) -> None:
    """A 200 whose body comes one byte at a time until the server is stopped (or ``for_s``)."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n")
    end = time.monotonic() + for_s
    while not stopping.is_set() and time.monotonic() < end:
        conn.sendall(b" ")
        stopping.wait(every)


def hang(conn: socket.socket, stopping: threading.Event) -> None:
    """Never answers (until the server is stopped, or 60 s)."""
    stopping.wait(60)


class DroppingServer:
    """A raw HTTP/1.1 server that answers the first request on each connection and keeps the
    connection open, then resets it (no status line) when a second request arrives on it: a
    server or load balancer closing an idle kept-alive connection just as the client reuses it.
    With ``answer=False`` it resets every request unanswered."""

    def __init__(self, body: bytes, *, answer: bool = True) -> None:
        self.body = body  # what each answer carries; a test may change it between requests
        self.answer = answer
        self.connections = 0
        self.requests = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._open: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}{path}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            self._open.append(conn)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        answered = not self.answer
        data = b""
        while True:
            try:
                chunk = conn.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            data += chunk
            while b"\r\n\r\n" in data:
                _, data = data.split(b"\r\n\r\n", 1)
                self.requests += 1
                if answered:  # reset: SO_LINGER with a zero timeout sends RST on close
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                    conn.close()
                    return
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(self.body)}\r\n\r\n".encode()
                    + self.body
                )
                answered = True

    def close(self) -> None:
        self._sock.close()
        for conn in self._open:
            conn.close()
