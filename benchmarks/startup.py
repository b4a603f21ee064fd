"""Part 5: how long the command line takes to start, as a user runs it (a new process each time).

``cds-b12 --help`` and ``cds-b12 evaluate --bundle`` on a fixture, beside a bare
``python -c pass`` (the interpreter's own start-up, the floor). Wall time and the
CPU time of the child process are both reported: on a busy machine the wall time
swells with other load, the CPU time much less.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .servers import REPO, cds_b12_command, clean_env
from .stats import percentile

FIXTURE = REPO / "fhir_fixtures" / "R1-start-neuro-loading" / "pa-neuro-low-b12-fires.json"


@dataclass(frozen=True, slots=True)
class Startup:
    name: str
    wall_ms: tuple[float, ...]
    cpu_ms: tuple[float, ...]

    @property
    def wall_median(self) -> float:
        return percentile(self.wall_ms, 50)

    @property
    def cpu_median(self) -> float:
        return percentile(self.cpu_ms, 50)


def _time(argv: list[str], env: dict[str, str], runs: int) -> tuple[list[float], list[float]]:
    walls, cpus = [], []
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        walls.append((time.perf_counter() - started) * 1000)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}")
        cpus.append((usage.ru_utime + usage.ru_stime) * 1000)
    return walls, cpus


def run(data_dir: Path, runs: int) -> list[Startup]:
    env = clean_env(data_dir)
    cli = cds_b12_command()
    commands = {
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
        "cds-b12 --help": [*cli, "--help"],
        "cds-b12 evaluate --bundle (one fixture)": [*cli, "evaluate", "--bundle", str(FIXTURE)],
    }
    results = []
    for name, argv in commands.items():
        _time(argv, env, 1)  # the first run pays for a cold file cache and .pyc writing
        walls, cpus = _time(argv, env, runs)
        results.append(Startup(name, tuple(walls), tuple(cpus)))
    return results
