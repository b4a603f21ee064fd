"""Load generators: wrk with a Lua script (the real measurement), and a small threaded Python
client for the smoke run and for machines without wrk."""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .patients import fresh_calls
from .stats import percentile

WRK_DIR = Path(__file__).resolve().parent / "wrk"
RESULT_PREFIX = "benchmark-result "


@dataclass(frozen=True, slots=True)
class LoadResult:
    tool: str  # "wrk" or "python"
    requests: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int
    socket_errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def ok(self) -> bool:
        return self.requests > 0 and self.non_2xx == 0 and self.socket_errors == 0


def wrk_path() -> str | None:
    return shutil.which("wrk")


def _run_env() -> dict[str, str]:
    """The environment of one wrk run: its own hookInstance prefix (``benchmarks/wrk``)."""
    return {**os.environ, "BENCHMARK_RUN": f"{random.getrandbits(32):08x}"}


def _wrk(args: list[str], timeout: float) -> LoadResult:
    wrk = wrk_path()
    if wrk is None:
        raise RuntimeError("wrk is not installed (Debian/Ubuntu: apt-get install wrk)")
    done = subprocess.run(
        [wrk, *args], capture_output=True, text=True, timeout=timeout, check=False, env=_run_env()
    )
    return _parse(done.stdout.splitlines(), done.returncode, done.stderr)


def _parse(lines: list[str], returncode: int, stderr: str) -> LoadResult:
    results = [ln for ln in lines if ln.startswith(RESULT_PREFIX)]
    if returncode != 0 or not results:
        raise RuntimeError(
            f"wrk failed ({returncode}): {stderr.strip()[-500:]} {''.join(lines).strip()[-500:]}"
        )
    data = json.loads(results[-1][len(RESULT_PREFIX) :])
    return LoadResult(
        "wrk",
        data["requests"],
        data["duration_us"] / 1e6,
        data["p50_us"] / 1000,
        data["p99_us"] / 1000,
        data["max_us"] / 1000,
        data["non_2xx"],
        data["socket_errors"],
    )


def wrk_for(
    url: str, body_file: Path, *, connections: int, duration_s: float, threads: int = 1
) -> LoadResult:
    """POST the body for ``duration_s`` over ``connections`` keep-alive connections."""
    args = [
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration_s))}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(WRK_DIR / "post.lua"),
        url,
        "--",
        str(body_file),
    ]
    return _wrk(args, timeout=duration_s + 60)


def wrk_count(
    url: str,
    body_file: Path,
    *,
    requests: int,
    connections: int,
    threads: int = 1,
    max_duration_s: float = 600,
) -> LoadResult:
    """POST the body until about ``requests`` answers have come back (each wrk thread stops
    after its share; connections still in flight add a few more).

    wrk always waits out its ``-d`` duration, so once every thread reports its share the
    run is ended early with SIGINT, which wrk handles by printing its summary.
    """
    wrk = wrk_path()
    if wrk is None:
        raise RuntimeError("wrk is not installed (Debian/Ubuntu: apt-get install wrk)")
    per_thread = max(1, -(-requests // threads))
    args = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{int(max_duration_s)}s",
        "--timeout",
        "10s",
        "-s",
        str(WRK_DIR / "post_count.lua"),
        url,
        "--",
        str(body_file),
        str(per_thread),
    ]
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_run_env()
    )
    assert proc.stdout is not None
    finished, lines = 0, []
    try:
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("benchmark-thread-done"):
                finished += 1
                if finished == threads:
                    proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = proc.stderr.read() if proc.stderr else ""
    return _parse(lines, proc.returncode, stderr)


def python_load(
    url: str,
    body: bytes,
    *,
    connections: int,
    duration_s: float | None = None,
    requests: int | None = None,
) -> LoadResult:
    """A threaded keep-alive client: for ``duration_s`` seconds or ``requests`` answers.

    Slower than wrk (it shares the GIL and the machine's cores with nothing to spare), so
    its figures are lower and its ratios compressed; good enough to catch a collapse.
    """
    if (duration_s is None) == (requests is None):
        raise ValueError("give exactly one of duration_s and requests")
    parts = urlsplit(url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"
    headers = {"Content-Type": "application/json", "Connection": "keep-alive"}
    lock = threading.Lock()
    next_body = fresh_calls(body)
    issued = 0
    latencies: list[list[float]] = [[] for _ in range(connections)]
    failures = [0, 0]  # non-2xx, socket errors
    stop_at = time.perf_counter() + duration_s if duration_s is not None else None

    def take() -> bool:
        nonlocal issued
        if stop_at is not None:
            return time.perf_counter() < stop_at
        with lock:
            if issued >= requests:  # type: ignore[operator]
                return False
            issued += 1
            return True

    def worker(slot: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        mine = latencies[slot]
        try:
            while take():
                start = time.perf_counter()
                try:
                    conn.request("POST", path, body=next_body(), headers=headers)
                    resp = conn.getresponse()
                    resp.read()
                except (OSError, http.client.HTTPException):
                    with lock:
                        failures[1] += 1
                    conn.close()
                    conn = http.client.HTTPConnection(host, port, timeout=30)
                    continue
                mine.append((time.perf_counter() - start) * 1000)
                if not 200 <= resp.status < 300:
                    with lock:
                        failures[0] += 1
        finally:
            conn.close()

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(connections)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - started
    merged = [x for per in latencies for x in per]
    return LoadResult(
        "python",
        len(merged),
        elapsed,
        percentile(merged, 50),
        percentile(merged, 99),
        max(merged, default=float("nan")),
        failures[0],
        failures[1],
    )
