"""Parts 2 and 4: cds-b12 under gunicorn against the echo app, and worker memory.

Part 2 starts ``cds-b12 serve`` and the echo app (``benchmarks/echo.py``) with the same
gunicorn settings and drives them in turn, A, B, A, B, with the same request.
Part 4 starts a fresh ``cds-b12 serve``, warms it up, then reads each worker's resident
set before and after a fixed number of requests.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.serving import ServeProcess

from .inprocess import BrokenPath
from .load import LoadResult, python_load, wrk_count, wrk_for
from .patients import fresh_calls
from .servers import (
    cpu_seconds,
    machine_busy_seconds,
    memory_kb,
    settle,
    start_echo,
    start_service,
    wait_workers,
    worker_pids,
)

SERVICE_PATH = "/cds-services/b12-patient-view"
MIN_WORKER_SHARE = 0.2  # a round where a worker did less of the work is run again
ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class HttpPlan:
    tool: str  # "wrk" or "python"
    connections: int
    duration_s: float
    rounds: int
    warmup_s: float
    workers: int = 2
    threads: int = 4
    wrk_threads: int = 1
    metrics_cost: bool = False  # also run cds-b12 with CDS_B12_METRICS=false


@dataclass(frozen=True, slots=True)
class Round:
    """One timed run against one server, with where the machine's CPU went meanwhile."""

    name: str
    load: LoadResult
    worker_cpu_s: tuple[float, ...]  # per gunicorn worker
    driver_cpu_s: float  # the load generator (wrk, or this process's Python client)
    machine_busy_s: float  # all CPUs, every process
    attempts: int = 1

    @property
    def balanced(self) -> bool:
        """Every worker did a fair part of the work.

        wrk opens all its keep-alive connections at once and the workers race to accept
        them; now and then one worker wins them all and the other idles for the whole
        round, which halves a CPU-bound server's throughput whatever its code does.
        """
        total = sum(self.worker_cpu_s)
        return (
            len(self.worker_cpu_s) < 2
            or total == 0
            or min(self.worker_cpu_s) / total >= MIN_WORKER_SHARE
        )

    @property
    def worker_split(self) -> str:
        total = sum(self.worker_cpu_s) or 1.0
        return "/".join(f"{cpu / total * 100:.0f}" for cpu in self.worker_cpu_s)

    @property
    def other_load_pct(self) -> float:
        """CPU used by processes outside this benchmark, as a share of the machine."""
        other = self.machine_busy_s - sum(self.worker_cpu_s) - self.driver_cpu_s
        capacity = self.load.duration_s * (os.cpu_count() or 1)
        return max(0.0, other / capacity * 100) if capacity else 0.0


@dataclass(frozen=True, slots=True)
class Side:
    """One server's figures over all its rounds."""

    rounds: tuple[LoadResult, ...]

    @property
    def rps(self) -> float:
        return sum(r.requests for r in self.rounds) / sum(r.duration_s for r in self.rounds)

    @property
    def p50_ms(self) -> float:
        return statistics.median(r.p50_ms for r in self.rounds)

    @property
    def p99_ms(self) -> float:
        return max(r.p99_ms for r in self.rounds)  # the worse round

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rounds)

    @property
    def failures(self) -> int:
        return sum(r.non_2xx + r.socket_errors for r in self.rounds)


NO_METRICS = "cds-b12, metrics off"


@dataclass(frozen=True, slots=True)
class HttpResult:
    plan: HttpPlan
    service: Side
    echo: Side
    order: tuple[Round, ...]  # every round in the order it ran
    no_metrics: Side | None = None  # with plan.metrics_cost

    @property
    def ratio(self) -> float:
        return self.service.rps / self.echo.rps

    @property
    def metrics_cost_pct(self) -> float:
        """Throughput lost to the metrics: 1 - (metrics on / metrics off), in percent."""
        assert self.no_metrics is not None
        return (1 - self.service.rps / self.no_metrics.rps) * 100

    def cpu_ms_per_request(self, name: str) -> float:
        """Worker CPU per answered request: what one call costs, whatever the machine's load."""
        rounds = [r for r in self.order if r.name == name]
        return (
            sum(sum(r.worker_cpu_s) for r in rounds)
            * 1000
            / max(1, sum(r.load.requests for r in rounds))
        )

    def round_cpu_ms(self, name: str) -> list[float]:
        """Worker CPU per request of each of ``name``'s rounds, in the order they ran."""
        return [
            sum(r.worker_cpu_s) * 1000 / max(1, r.load.requests)
            for r in self.order
            if r.name == name
        ]

    @property
    def metrics_cpu_pct(self) -> float:
        """The share of a request's worker CPU that the metrics take, from each server's
        best round: other work on the machine only ever adds CPU per request (cache and
        core contention), so the least is the closest to the cost of the code."""
        on, off = min(self.round_cpu_ms("cds-b12")), min(self.round_cpu_ms(NO_METRICS))
        return (1 - off / on) * 100

    def worker_busy_pct(self, name: str) -> float:
        """How much of the machine's CPU the workers used while under load."""
        rounds = [r for r in self.order if r.name == name]
        capacity = sum(r.load.duration_s for r in rounds) * (os.cpu_count() or 1)
        return sum(sum(r.worker_cpu_s) for r in rounds) / capacity * 100 if capacity else 0.0


@dataclass(frozen=True, slots=True)
class MemoryResult:
    tool: str
    requests: int  # measured requests (after the warm-up)
    warmup: int  # warm-up requests sent, every worker warmed
    start_kb: dict[int, int]  # per worker pid, right after start
    base_kb: dict[int, int]  # after the warm-up
    after_kb: dict[int, int]  # after the measured requests
    peak_kb: dict[int, int]  # VmHWM after the measured requests
    load: LoadResult

    @property
    def growth_pct(self) -> float:
        """The largest growth of any worker from the warm-up to the end, in percent."""
        return max(
            (self.after_kb[p] - self.base_kb[p]) / self.base_kb[p] * 100 for p in self.base_kb
        )

    @property
    def peak_mb(self) -> float:
        return max(self.peak_kb.values()) / 1024


def check_answers(server: ServeProcess, body: bytes, *, want_cards: bool) -> None:
    req = urllib.request.Request(
        server.base + SERVICE_PATH,
        data=fresh_calls(body)(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        status, payload = resp.status, json.loads(resp.read())
    if status != 200 or (want_cards and not payload.get("cards")):
        raise BrokenPath(f"{server.name}: {status} with {len(payload.get('cards', []))} cards")


def _drive(
    plan: HttpPlan, server: ServeProcess, body: bytes, body_file: Path, seconds: float
) -> LoadResult:
    url = server.base + SERVICE_PATH
    if plan.tool == "wrk":
        return wrk_for(
            url,
            body_file,
            connections=plan.connections,
            duration_s=seconds,
            threads=plan.wrk_threads,
        )
    return python_load(url, body, connections=plan.connections, duration_s=seconds)


def _driver_cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk, once it has exited
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _round(
    plan: HttpPlan,
    name: str,
    server: ServeProcess,
    workers: list[int],
    body: bytes,
    body_file: Path,
    attempt: int,
) -> Round:
    before = ([cpu_seconds(p) for p in workers], _driver_cpu(), machine_busy_seconds())
    load = _drive(plan, server, body, body_file, plan.duration_s)
    after = ([cpu_seconds(p) for p in workers], _driver_cpu(), machine_busy_seconds())
    return Round(
        name,
        load,
        tuple(b - a for a, b in zip(before[0], after[0], strict=True)),
        after[1] - before[1],
        after[2] - before[2],
        attempt,
    )


def run_http(plan: HttpPlan, work_dir: Path, body: bytes) -> HttpResult:
    body_file = work_dir / "typical-request.json"
    body_file.write_bytes(body)
    service = echo = quiet = None
    try:
        service = start_service(
            workers=plan.workers,
            threads=plan.threads,
            data_dir=work_dir / "service-data",
            log_path=work_dir / "service.log",
        )
        if plan.metrics_cost:
            quiet = start_service(
                workers=plan.workers,
                threads=plan.threads,
                data_dir=work_dir / "no-metrics-data",
                log_path=work_dir / "no-metrics.log",
                settings={"CDS_B12_METRICS": "false"},
            )
            check_answers(quiet, body, want_cards=True)
        echo = start_echo(
            workers=plan.workers,
            threads=plan.threads,
            data_dir=work_dir / "echo-data",
            log_path=work_dir / "echo.log",
        )
        check_answers(service, body, want_cards=True)
        check_answers(echo, body, want_cards=False)
        servers = (("cds-b12", service), ("echo", echo))
        if quiet is not None:
            servers += ((NO_METRICS, quiet),)
        if plan.warmup_s > 0:
            for _, server in servers:
                settle()
                _drive(plan, server, body, body_file, plan.warmup_s)
        workers = {name: wait_workers(server.pid, plan.workers) for name, server in servers}
        order = []
        for _ in range(plan.rounds):
            for name, server in servers:
                for attempt in range(1, ATTEMPTS + 1):
                    settle()
                    rnd = _round(plan, name, server, workers[name], body, body_file, attempt)
                    if rnd.balanced:
                        break
                order.append(rnd)
        return HttpResult(
            plan,
            Side(tuple(r.load for r in order if r.name == "cds-b12")),
            Side(tuple(r.load for r in order if r.name == "echo")),
            tuple(order),
            Side(tuple(r.load for r in order if r.name == NO_METRICS)) if quiet else None,
        )
    finally:
        for server in (service, echo, quiet):
            if server is not None:
                server.close()


def _warm_every_worker(pids: list[int], warm: Callable[[], int]) -> int:
    """Warm up until every worker has done its share (up to ``ATTEMPTS`` rounds); the
    requests sent. A worker that wrk left idle would otherwise start the measured requests
    cold, and its first imports, caches and store connections would count as growth."""
    before = [cpu_seconds(p) for p in pids]
    sent = 0
    for _ in range(ATTEMPTS):
        sent += warm()
        used = [cpu_seconds(p) - b for p, b in zip(pids, before, strict=True)]
        if min(used) >= MIN_WORKER_SHARE * sum(used) > 0:
            break
    return sent


def run_memory(
    plan: HttpPlan, work_dir: Path, body: bytes, *, requests: int, warmup: int
) -> MemoryResult:
    body_file = work_dir / "typical-request.json"
    body_file.write_bytes(body)
    service = start_service(
        workers=plan.workers,
        threads=plan.threads,
        data_dir=work_dir / "memory-data",
        log_path=work_dir / "memory.log",
    )
    try:
        check_answers(service, body, want_cards=True)
        pids = wait_workers(service.pid, plan.workers)
        if len(pids) != plan.workers:
            raise RuntimeError(f"expected {plan.workers} gunicorn workers, found {pids}")
        url = service.base + SERVICE_PATH

        def load(count: int) -> LoadResult:
            if plan.tool == "wrk":
                return wrk_count(
                    url,
                    body_file,
                    requests=count,
                    connections=plan.connections,
                    threads=plan.wrk_threads,
                )
            return python_load(url, body, connections=min(plan.connections, 8), requests=count)

        start = {p: memory_kb(p)[0] for p in pids}
        warmed = _warm_every_worker(pids, lambda: load(warmup).requests)
        base = {p: memory_kb(p)[0] for p in pids}
        measured = load(requests)
        after = {p: memory_kb(p)[0] for p in pids}
        peak = {p: memory_kb(p)[1] for p in pids}
        if worker_pids(service.pid) != pids:
            raise RuntimeError("a gunicorn worker was replaced during the memory run")
        return MemoryResult(
            plan.tool, measured.requests, warmed, start, base, after, peak, measured
        )
    finally:
        service.close()
