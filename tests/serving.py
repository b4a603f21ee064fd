"""A real ``cds-b12 serve`` process for tests: started, polled until ``/healthz`` answers,
stopped with SIGTERM (or killed with its workers), its output kept in a log file.

The one way the tests start the service; ``started`` also guarantees it is gone afterwards.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

CDS_B12 = str(Path(sys.executable).parent / "cds-b12")
START_TIMEOUT = 60  # seconds; generous, the machine may be busy


def free_port() -> int:
    """A port with nothing listening on it (bound, read, released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service_env(data_dir: Path | str | None = None, **settings: str) -> dict[str, str]:
    """This process's environment without any CDS_B12_* variable, plus the data dir if given
    and ``settings`` (``profile="uk"`` becomes ``CDS_B12_PROFILE=uk``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_B12_")}
    if data_dir is not None:
        env["CDS_B12_DATA_DIR"] = str(data_dir)
    env.update({f"CDS_B12_{k.upper()}": v for k, v in settings.items()})
    return env


class ServeProcess:
    """gunicorn's master and its workers, in a process group of their own so that all of
    them can be killed at once. The port is kept across restarts."""

    def __init__(
        self,
        env: dict[str, str],
        log: Path,
        *,
        workers: int = 2,
        port: int | None = None,
        executable: str = CDS_B12,
        cwd: Path | None = None,
    ) -> None:
        self.env = env
        self.log = log
        self.workers = workers
        self.port = port or free_port()
        self.executable = executable
        self.cwd = cwd
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = START_TIMEOUT) -> ServeProcess:
        return self.launch().wait_ready(timeout)

    def launch(self) -> ServeProcess:
        """Start without waiting, so that several servers can start at once."""
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    self.executable,
                    "serve",
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                ],
                env=self.env,
                cwd=self.cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT) -> ServeProcess:
        """Poll ``/healthz`` until it answers 200; if the process exits or the time runs out,
        kill it and fail with its output."""
        assert self.proc is not None, "launch() first"
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return self
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise AssertionError(
                    f"cds-b12 serve did not become ready:\n{self.output()[-4000:]}"
                )
            time.sleep(0.05)

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM, as a process manager stops it, then wait; SIGKILL to every process left
        after ``timeout`` (and re-raise). Returns the exit code; None if never started."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        """SIGKILL to the master and every worker; returns once nothing listens on the port."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.base}/healthz", timeout=0.5)
            except requests.ConnectionError:
                return
            except requests.Timeout:
                pass
            time.sleep(0.05)
        raise AssertionError("a killed server still answers: a worker survived")

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def post(
        self, path: str, body: object, session: requests.Session | None = None
    ) -> requests.Response:
        return (session or requests).post(f"{self.base}{path}", json=body, timeout=30)

    def report(self) -> dict:
        """``cds-b12 report --json`` against the same store the service writes to."""
        done = subprocess.run(
            [self.executable, "report", "--json"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


@contextlib.contextmanager
def started(env: dict[str, str], log: Path, **options: Any) -> Iterator[ServeProcess]:
    """A ready ``ServeProcess`` (``options`` as for it) for the ``with`` block; stopped
    however the block ends, its whole process group killed if SIGTERM was not enough."""
    server = ServeProcess(env, log, **options).start()
    try:
        yield server
    finally:
        try:
            server.stop()
        finally:
            server.kill()
