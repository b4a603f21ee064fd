"""Processes the benchmark starts: cds-b12 under gunicorn, the echo app, the test FHIR server.

Each runs in its own process group, so stopping it also stops its children
(gunicorn workers; the real Node binary behind the venv's ``node`` wrapper).
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[1]
FHIR_SERVER_DIR = REPO / "tests" / "fhir_server"
START_TIMEOUT = 60.0


class StartError(RuntimeError):
    """A process the benchmark needs did not start; the message says why."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(data_dir: Path) -> dict[str, str]:
    """This environment without any ``CDS_B12_*`` setting, plus a private data dir, so a
    developer's own settings (issuers, a PostgreSQL URL) cannot change what is measured."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_B12_")}
    env["CDS_B12_DATA_DIR"] = str(data_dir)
    env["CDS_B12_LOG_LEVEL"] = "INFO"  # the default: one log line per request, as deployed
    return env


@dataclass
class Managed:
    """One started process group; ``root`` is its base URL once it listens."""

    name: str
    process: subprocess.Popen
    log: IO[bytes]
    root: str = ""
    _stopped: bool = field(default=False, repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        group = self.process.pid
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, sig)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and _group_alive(group):
                self.process.poll()
                time.sleep(0.05)
            if not _group_alive(group):
                break
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self.log.close()

    def wait_ready(self, path: str) -> None:
        """Poll ``root + path`` until it answers 200."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if not self.alive():
                raise StartError(f"{self.name} exited with code {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.root + path, timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        raise StartError(f"{self.name} did not answer {path} within {START_TIMEOUT:g} s")


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _spawn(
    name: str,
    argv: list[str],
    log_path: Path,
    env: dict[str, str],
    cwd: Path = REPO,
    stdout: int | None = None,
) -> Managed:
    log = log_path.open("wb")
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=stdout if stdout is not None else log,
        stderr=log,
        start_new_session=True,
    )
    return Managed(name, process, log)


def cds_b12_command() -> list[str]:
    script = Path(sys.executable).parent / "cds-b12"
    if script.exists():
        return [str(script)]
    found = shutil.which("cds-b12")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from cds_b12.cli import main; sys.exit(main())"]


def start_service(
    *,
    workers: int,
    threads: int,
    data_dir: Path,
    log_path: Path,
    settings: dict[str, str] | None = None,
) -> Managed:
    """``cds-b12 serve`` on a free loopback port, exactly as documented (``settings``:
    ``CDS_B12_*`` variables on top of the defaults)."""
    port = free_port()
    argv = [
        *cds_b12_command(),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
    ]
    proc = _spawn("cds-b12 serve", argv, log_path, {**clean_env(data_dir), **(settings or {})})
    proc.root = f"http://127.0.0.1:{port}"
    try:
        proc.wait_ready("/healthz")
    except StartError:
        proc.stop()
        raise StartError(f"cds-b12 serve did not start; its log:\n{_tail(log_path)}") from None
    return proc


def start_echo(*, workers: int, threads: int, data_dir: Path, log_path: Path) -> Managed:
    """The bare echo app under the same gunicorn settings (``benchmarks/echo.py``)."""
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "benchmarks.echo",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
    ]
    proc = _spawn("echo app", argv, log_path, clean_env(data_dir))
    proc.root = f"http://127.0.0.1:{port}"
    try:
        proc.wait_ready("/healthz")
    except StartError:
        proc.stop()
        raise StartError(f"the echo app did not start; its log:\n{_tail(log_path)}") from None
    return proc


def node_binary() -> Path | None:
    beside = Path(sys.executable).parent / "node"
    if beside.exists():
        return beside
    found = shutil.which("node")
    return Path(found) if found else None


def start_fhir_server(log_path: Path) -> Managed:
    """``tests/fhir_server/server.js`` on a free port; waits for its ``listening`` line."""
    node = node_binary()
    if node is None:
        raise StartError(
            "Node is not installed (the test extras bring it: pip install -e '.[test]')"
        )
    if not (FHIR_SERVER_DIR / "node_modules").is_dir():
        raise StartError(
            "tests/fhir_server/node_modules is missing (npm ci --prefix tests/fhir_server)"
        )
    proc = _spawn(
        "test FHIR server",
        [str(node), "server.js", "0"],
        log_path,
        dict(os.environ),
        cwd=FHIR_SERVER_DIR,
        stdout=subprocess.PIPE,
    )
    stdout = proc.process.stdout
    assert stdout is not None
    lines: queue.Queue[bytes] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        line = lines.get(timeout=START_TIMEOUT).decode(errors="replace")
    except queue.Empty:
        line = ""
    match = re.fullmatch(r"listening (\d+)\s*", line)
    if match is None:
        proc.stop()
        raise StartError(
            f"the test FHIR server did not start (first line {line!r}); "
            f"its stderr:\n{_tail(log_path)}"
        )
    proc.root = f"http://127.0.0.1:{match[1]}"
    return proc


def worker_pids(master: int) -> list[int]:
    """The gunicorn workers: the master's child processes."""
    children = Path(f"/proc/{master}/task/{master}/children")
    try:
        return sorted(int(p) for p in children.read_text().split())
    except OSError:
        pass
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == master:
            found.append(int(stat.parent.name))
    return sorted(found)


def wait_workers(master: int, count: int, timeout: float = 20.0) -> list[int]:
    """The master's workers, once all ``count`` have booted (the first may answer sooner)."""
    deadline = time.monotonic() + timeout
    while True:
        pids = worker_pids(master)
        if len(pids) >= count or time.monotonic() > deadline:
            return pids
        time.sleep(0.05)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time the whole machine has spent not idle, over all CPUs (from /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def settle(max_wait_s: float = 5.0, busy_below: float = 0.15) -> None:
    """Wait until the machine is quiet (a server still finishing the last round's requests
    would otherwise take a CPU from the next server's workers as its connections arrive)."""
    deadline = time.monotonic() + max_wait_s
    cpus = os.cpu_count() or 1
    while time.monotonic() < deadline:
        before = machine_busy_seconds()
        time.sleep(0.25)
        if (machine_busy_seconds() - before) / (0.25 * cpus) < busy_below:
            return


def memory_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in kB: its resident set now, and its peak."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]


def _tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no log)"
