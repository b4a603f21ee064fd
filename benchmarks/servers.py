"""Processes the benchmark starts: cds-b12 under gunicorn, the echo app, the test FHIR server.

They are started the way the tests start them (``tests/serving.py``); this module sizes
them as the benchmark needs and reads their CPU time and memory from ``/proc``.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

from tests.serving import ServeProcess, service_env

REPO = Path(__file__).resolve().parents[1]


def clean_env(data_dir: Path) -> dict[str, str]:
    """This environment without any ``CDS_B12_*`` setting, plus a private data dir, so a
    developer's own settings (issuers, a PostgreSQL URL) cannot change what is measured."""
    # INFO is the default: one log line per request, as deployed
    return service_env(data_dir, log_level="INFO")


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
) -> ServeProcess:
    """``cds-b12 serve`` on a free loopback port, exactly as documented (``settings``:
    ``CDS_B12_*`` variables on top of the defaults)."""
    executable, *args = cds_b12_command()
    env = {**clean_env(data_dir), **(settings or {})}
    return ServeProcess(
        env,
        log_path,
        workers=workers,
        threads=threads,
        executable=executable,
        args=(*args, "serve"),
        cwd=REPO,
    ).start()


def start_echo(*, workers: int, threads: int, data_dir: Path, log_path: Path) -> ServeProcess:
    """The bare echo app under the same gunicorn settings (``benchmarks/echo.py``)."""
    return ServeProcess(
        clean_env(data_dir),
        log_path,
        workers=workers,
        threads=threads,
        executable=sys.executable,
        args=("-m", "benchmarks.echo"),
        cwd=REPO,
    ).start()


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
