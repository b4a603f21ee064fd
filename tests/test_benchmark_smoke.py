"""The benchmark's smoke mode: a few seconds, no wrk, no Node.

``python -m benchmarks --smoke`` answers each benchmark patient in-process (each must
get 200 and at least one card), compares ``cds-b12 serve`` with the bare echo app
under the same gunicorn settings, and times the command line's start-up. It fails
only on a broken path or when the throughput ratio cds-b12 / echo collapses below
0.2: a pathology, not noise, so this is not a timed test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_benchmark_smoke() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_B12_")}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    output = f"{done.stdout}\n{done.stderr}"
    assert done.returncode == 0, output[-6000:]
    assert "smoke: ok" in done.stdout, output[-6000:]
    assert "throughput ratio cds-b12 / echo" in done.stdout
    assert "cds-b12 evaluate --bundle (one fixture): wall / CPU" in done.stdout


def test_memory_warm_up_reaches_every_worker(monkeypatch) -> None:
    """Part 4 warms up again while a worker has done almost none of the warm-up (wrk can
    hand every connection to one worker): that worker's first calls are warm-up, not growth."""
    from benchmarks import http_bench

    used = {1: 0.0, 2: 0.0}
    rounds = iter([(1.0, 0.0), (1.0, 0.9), (9.0, 9.0)])  # CPU each round gives each worker

    def warm() -> int:
        first, second = next(rounds)
        used[1] += first
        used[2] += second
        return 500

    monkeypatch.setattr(http_bench, "cpu_seconds", lambda pid: used[pid])
    assert http_bench._warm_every_worker([1, 2], warm) == 1_000  # the second round sufficed

    stuck = {1: 0.0, 2: 0.0}

    def lopsided() -> int:
        stuck[1] += 1.0
        return 100

    monkeypatch.setattr(http_bench, "cpu_seconds", lambda pid: stuck[pid])
    assert http_bench._warm_every_worker([1, 2], lopsided) == 100 * http_bench.ATTEMPTS


def test_in_process_part_runs_on_the_heap_serve_gives_its_workers(tmp_path) -> None:
    """Part 1 stands for a ``serve`` worker: warmed up, its heap frozen and ``serve``'s
    young-generation threshold set (the collector's walks were a tenth of a heavy call
    without them); and it leaves the process as it found it, since this runs in pytest."""
    import gc
    from datetime import date

    from benchmarks.inprocess import as_serve_runs_it, without_service_env
    from cds_b12.api import create_app
    from cds_b12.config import Settings
    from cds_b12.serve import GC_YOUNG_THRESHOLD

    with without_service_env():
        app = create_app(Settings(data_dir=tmp_path), today=lambda: date(2026, 12, 1))
    before = gc.get_threshold()
    with as_serve_runs_it(app):
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, *before[1:])
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    app.extensions["cds_b12"].db.dispose()
