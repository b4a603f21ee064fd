"""Part 5: slow peers. How ``cds-b12 serve`` (as documented: 2 workers, its default threads)
holds up when a FHIR server drips and when clients trickle their requests.

- *Stuck fallback calls.* A FHIR server answers every request with its headers and
  then one byte a second, forever (a read timeout never fires). 16 clients keep one
  call each in flight whose data must come from it (no prefetch), re-sending as soon
  as they are answered; meanwhile the healthy load (full prefetch) runs as in part 2.
  Healthy throughput with the stuck calls is printed beside healthy throughput alone,
  with the workers' CPU per answered request, and how the stuck calls were answered.
- *Trickling clients.* 32 (then 256) clients each send a request head one byte every
  2 s, reconnecting when cut off; ``/healthz`` is probed four times a second meanwhile.
"""

from __future__ import annotations

import http.client
import json
import math
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path

from tests.net.support import Scripted, drip
from tests.serving import ServeProcess

from .load import LoadResult, python_load, wrk_for
from .patients import hook_request
from .servers import cpu_seconds, start_service, wait_workers
from .stats import percentile

SERVICE_PATH = "/cds-services/b12-patient-view"
STUCK_CALLS = 16
TRICKLE_EVERY_S = 2.0
PROBE_EVERY_S = 0.25
PROBE_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class Stuck:
    """How the stuck fallback calls were answered."""

    answered: int
    at_once: int  # 412 within a second: no slot for the dripping server
    slowest_s: float
    statuses: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Probes:
    clients: int
    latencies_ms: tuple[float, ...]
    failed: int  # no answer within PROBE_TIMEOUT_S, or not 200

    @property
    def p50_ms(self) -> float:
        return percentile(list(self.latencies_ms), 50)

    @property
    def max_ms(self) -> float:
        return max(self.latencies_ms, default=float("nan"))


@dataclass(frozen=True, slots=True)
class FaultResult:
    threads: int
    deadline_s: float
    alone: LoadResult
    alone_cpu_ms: float
    with_stuck: LoadResult
    with_stuck_cpu_ms: float
    stuck: Stuck
    probes: tuple[Probes, ...]  # no trickling clients first

    @property
    def ratio(self) -> float:
        return self.with_stuck.rps / self.alone.rps if self.alone.rps else 0.0


def _stuck_callers(root: str, body: bytes, stop: threading.Event) -> tuple[list, list]:
    """STUCK_CALLS threads, each keeping one call in flight until ``stop``."""
    host, port = root.removeprefix("http://").split(":")
    answers: list[tuple[float, int]] = []

    def call_again_and_again() -> None:
        while not stop.is_set():
            conn = http.client.HTTPConnection(host, int(port), timeout=120)
            start = time.monotonic()
            try:
                conn.request("POST", SERVICE_PATH, body, {"Content-Type": "application/json"})
                status = conn.getresponse().status
            except (OSError, http.client.HTTPException):
                status = 0
            finally:
                conn.close()
            answers.append((time.monotonic() - start, status))

    threads = [
        threading.Thread(target=call_again_and_again, daemon=True) for _ in range(STUCK_CALLS)
    ]
    for thread in threads:
        thread.start()
    return threads, answers


def _healthy(
    plan_tool: str, root: str, body: bytes, work: Path, *, connections: int, seconds: float
) -> LoadResult:
    url = root + SERVICE_PATH
    if plan_tool == "wrk":
        body_file = work / "faults-body.json"
        body_file.write_bytes(body)
        return wrk_for(url, body_file, connections=connections, duration_s=seconds)
    return python_load(url, body, connections=connections, duration_s=seconds)


def _cpu_ms_per_request(
    pids: list[int], run: Callable[[], LoadResult], answered: Callable[[], int]
) -> tuple[LoadResult, float]:
    """The run's result, and the workers' CPU per request answered meanwhile (healthy ones
    and the ``answered()`` others)."""
    before = sum(cpu_seconds(p) for p in pids)
    result = run()
    spent = sum(cpu_seconds(p) for p in pids) - before
    return result, spent * 1000 / max(1, result.requests + answered())


def _probe(root: str, clients: int, seconds: float) -> Probes:
    """Probe /healthz while ``clients`` connections trickle a request head."""
    host, port = root.removeprefix("http://").split(":")
    stop = threading.Event()
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Trickle: " + b"x" * 4000

    def trickle() -> None:
        while not stop.is_set():
            try:
                with socket.create_connection((host, int(port)), timeout=10) as sock:
                    for byte in head:
                        sock.send(bytes([byte]))
                        if stop.wait(TRICKLE_EVERY_S):
                            return
            except OSError:
                stop.wait(0.5)

    tricklers = [threading.Thread(target=trickle, daemon=True) for _ in range(clients)]
    for thread in tricklers:
        thread.start()
    time.sleep(min(3.0, seconds / 3) if clients else 0)  # let them connect and start
    latencies, failed = [], 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        conn = http.client.HTTPConnection(host, int(port), timeout=PROBE_TIMEOUT_S)
        start = time.perf_counter()
        try:
            conn.request("GET", "/healthz")
            ok = conn.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            ok = False
        finally:
            conn.close()
        if ok:
            latencies.append((time.perf_counter() - start) * 1000)
        else:
            failed += 1
        time.sleep(PROBE_EVERY_S)
    stop.set()
    for thread in tricklers:
        thread.join(timeout=TRICKLE_EVERY_S + 5)
    return Probes(clients, tuple(latencies), failed)


def run(
    work: Path, as_of: date, *, tool: str, connections: int, seconds: float, threads: int
) -> FaultResult:
    healthy_body = hook_request("typical", as_of)
    # headers, then a byte a second until stopped: a read timeout never fires
    fhir = Scripted(partial(drip, every=1.0, for_s=math.inf))
    stuck_request = dict(healthy_body)
    stuck_request.pop("prefetch")
    stuck_request["fhirServer"] = fhir.url("/fhir")
    healthy, stuck = json.dumps(healthy_body).encode(), json.dumps(stuck_request).encode()
    server: ServeProcess = start_service(
        workers=2, threads=threads, data_dir=work / "faults-data", log_path=work / "faults.log"
    )
    try:
        pids = wait_workers(server.pid, 2)
        _healthy(tool, server.base, healthy, work, connections=connections, seconds=1.0)  # warm-up
        alone, alone_cpu = _cpu_ms_per_request(
            pids,
            lambda: _healthy(
                tool, server.base, healthy, work, connections=connections, seconds=seconds
            ),
            lambda: 0,
        )
        stop = threading.Event()
        callers, answers = _stuck_callers(server.base, stuck, stop)
        time.sleep(2.0)  # every stuck call is in flight (or has been refused) by now
        answers.clear()
        with_stuck, with_stuck_cpu = _cpu_ms_per_request(
            pids,
            lambda: _healthy(
                tool, server.base, healthy, work, connections=connections, seconds=seconds
            ),
            lambda: len(answers),
        )
        stop.set()
        fhir.close()  # the calls still stuck end now
        for caller in callers:
            caller.join(timeout=30)
        probes = tuple(_probe(server.base, n, seconds) for n in (0, 32, 256))
    finally:
        fhir.close()
        server.close()
    done = list(answers)
    return FaultResult(
        threads=threads,
        deadline_s=8.0,  # CDS_B12_FHIR_DEADLINE's default, which serve runs with here
        alone=alone,
        alone_cpu_ms=alone_cpu,
        with_stuck=with_stuck,
        with_stuck_cpu_ms=with_stuck_cpu,
        stuck=Stuck(
            answered=len(done),
            at_once=sum(1 for latency, status in done if status == 412 and latency < 1.0),
            slowest_s=max((latency for latency, _ in done), default=float("nan")),
            statuses=tuple(sorted({status for _, status in done})),
        ),
        probes=probes,
    )
