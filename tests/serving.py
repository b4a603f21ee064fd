"""A real ``cds-b12 serve`` process for tests: started, polled until ``/healthz`` answers,
stopped with SIGTERM (or killed with its workers), its output kept in a log file."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import requests

CDS_B12 = str(Path(sys.executable).parent / "cds-b12")
START_TIMEOUT = 60  # seconds; generous, the machine may be busy


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """This process's environment without any CDS_B12_* variable, plus the data dir and
    ``settings`` (``profile="uk"`` becomes ``CDS_B12_PROFILE=uk``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_B12_")}
    env["CDS_B12_DATA_DIR"] = str(data_dir)
    env.update({f"CDS_B12_{k.upper()}": v for k, v in settings.items()})
    return env


class ServeProcess:
    """gunicorn's master and its workers, in a process group of their own."""

    def __init__(
        self,
        env: dict[str, str],
        log: Path,
        *,
        executable: str = CDS_B12,
        args: Sequence[str] = ("--workers", "2"),
        cwd: Path | None = None,
    ) -> None:
        self.env = env
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [executable, "serve", "--port", str(self.port), *args],
                env=env,
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"cds-b12 serve did not become ready:\n{self.output()}")
            time.sleep(0.1)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, as a process manager stops it; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        """SIGKILL to the master and every worker."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
