"""Real sockets for the network tests: a listener that counts who reaches it, and clients
that send a request a byte at a time."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Listener:
    """A TCP server on 127.0.0.1 that counts the connections it accepts and the requests it
    reads, and answers each with ``{}``; the forbidden host in SSRF tests."""

    sock: socket.socket = field(default_factory=socket.socket)
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.sock.bind(("127.0.0.1", 0))
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
