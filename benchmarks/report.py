"""The printed table: one row per figure, with its target and whether it was met."""

from __future__ import annotations

import math
import os
import platform
from dataclasses import dataclass

from .fallback import FallbackResult
from .faults import STUCK_CALLS, FaultResult
from .http_bench import NO_METRICS, HttpResult, MemoryResult
from .inprocess import SizeResult
from .startup import Startup

# Targets from the performance issue. They are reported, never turned into failures:
# only a collapse (COLLAPSE_RATIO) fails a run.
TARGET_HTTP_RATIO = 0.5
TARGET_METRICS_COST_PCT = 5.0  # issue 15: metrics cost under 5% of throughput
TARGET_TYPICAL_FLOOR_MULTIPLE = 5.0
TARGET_HEAVY_MS = 20.0
TARGET_P99_MS = 50.0
TARGET_FALLBACK_RATIO = 1.3
TARGET_STARTUP_MS = 1000.0  # "well under a second" for evaluate and --help
TARGET_MEMORY_GROWTH_PCT = 10.0
TARGET_STUCK_RATIO = 0.5  # healthy throughput kept with the stuck fallback calls
TARGET_PROBE_MS = 2000.0  # a health probe with 32 trickling clients
COLLAPSE_RATIO = 0.2


@dataclass(frozen=True, slots=True)
class Row:
    part: str
    figure: str
    value: str
    target: str = ""
    met: bool | None = None  # None: no target

    @property
    def verdict(self) -> str:
        return "" if self.met is None else ("yes" if self.met else "NO")


def ms(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"


def inprocess_rows(results: list[SizeResult]) -> list[Row]:
    rows = []
    for r in results:
        label = f"{r.size} ({r.resources} resources, {r.request_kb:.0f} KB)"
        rows.append(
            Row(
                "1 in-process",
                f"{label}: service call, median / p99",
                f"{ms(r.service.median)} / {ms(r.service.p99)}",
                f"median < {TARGET_HEAVY_MS:g} ms" if r.size == "heavy" else "",
                r.service.median < TARGET_HEAVY_MS if r.size == "heavy" else None,
            )
        )
        rows.append(
            Row(
                "1 in-process",
                f"{r.size}: evaluate only (no Flask, no audit), median",
                ms(r.evaluate.median),
            )
        )
        rows.append(
            Row(
                "1 in-process",
                f"{r.size}: audit row write alone, median / p99",
                f"{ms(r.audit.median)} / {ms(r.audit.p99)}",
            )
        )
        rows.append(
            Row(
                "1 in-process",
                f"{r.size}: alert-fatigue check (facts hash, history query, holds), median / p99",
                f"{ms(r.fatigue.median)} / {ms(r.fatigue.p99)}",
            )
        )
        rows.append(
            Row(
                "1 in-process",
                f"{r.size}: JSON floor (loads + dumps), median / p99",
                f"{ms(r.floor.median)} / {ms(r.floor.p99)}",
            )
        )
        typical = r.size == "typical"
        rows.append(
            Row(
                "1 in-process",
                f"{r.size}: service call / floor (wall; CPU of the thread)",
                f"{r.ratio:.1f}x; {r.cpu_ratio:.1f}x",
                f"<= {TARGET_TYPICAL_FLOOR_MULTIPLE:g}x" if typical else "",
                r.ratio <= TARGET_TYPICAL_FLOOR_MULTIPLE if typical else None,
            )
        )
        rows.append(
            Row(
                "1 in-process",
                f"{r.size}: evaluate only / floor (wall; CPU of the thread)",
                f"{r.evaluate_ratio:.1f}x; {r.evaluate_cpu_ratio:.1f}x",
            )
        )
    return rows


def metrics_rows(cost: dict, typical: SizeResult) -> list[Row]:
    """The Prometheus work of one hook call, beside the whole call it is part of."""
    share = cost["median_ms"] / typical.service.median * 100
    return [
        Row(
            "1 in-process",
            "metrics work of one hook call (multiprocess), median / p99",
            f"{cost['median_ms'] * 1000:.1f} µs / {cost['p99_ms'] * 1000:.1f} µs",
        ),
        Row(
            "1 in-process",
            "metrics share of the typical service call (median)",
            f"{share:.1f}%",
            f"< {TARGET_METRICS_COST_PCT:g}%",
            share < TARGET_METRICS_COST_PCT,
        ),
    ]


def http_rows(h: HttpResult) -> list[Row]:
    p = h.plan
    how = (
        f"{p.tool}, {p.connections} connections, {p.rounds} x {p.duration_s:g} s each, "
        f"{p.workers} workers x {p.threads} threads"
    )
    rows = [Row("2 HTTP", "load", how)]
    for name, side in (("cds-b12", h.service), ("echo", h.echo)):
        rows.append(Row("2 HTTP", f"{name}: requests/s", f"{side.rps:,.0f}"))
        rows.append(
            Row(
                "2 HTTP",
                f"{name}: p50 / p99",
                f"{ms(side.p50_ms)} / {ms(side.p99_ms)}",
                f"p99 <= {TARGET_P99_MS:g} ms" if name == "cds-b12" else "",
                side.p99_ms <= TARGET_P99_MS if name == "cds-b12" else None,
            )
        )
        if side.failures:
            rows.append(Row("2 HTTP", f"{name}: failed requests", str(side.failures), "0", False))
    for name in ("cds-b12", "echo"):
        rows.append(
            Row(
                "2 HTTP",
                f"{name}: worker CPU per request; workers' share of the CPUs",
                f"{h.cpu_ms_per_request(name):.2f} ms; {h.worker_busy_pct(name):.0f}%",
            )
        )
    rows.append(
        Row(
            "2 HTTP",
            "throughput ratio cds-b12 / echo",
            f"{h.ratio:.2f}",
            f">= {TARGET_HTTP_RATIO:g}",
            h.ratio >= TARGET_HTTP_RATIO,
        )
    )
    if h.no_metrics is not None:
        rows.append(Row("2 HTTP", f"{NO_METRICS}: requests/s", f"{h.no_metrics.rps:,.0f}"))
        rows.append(
            Row(
                "2 HTTP",
                "metrics: worker CPU per request, on / off: best round (each round)",
                f"{min(h.round_cpu_ms('cds-b12')):.3f} ms / "
                f"{min(h.round_cpu_ms(NO_METRICS)):.3f} ms "
                f"({_each(h.round_cpu_ms('cds-b12'))} / {_each(h.round_cpu_ms(NO_METRICS))})",
            )
        )
        rows.append(
            Row(
                "2 HTTP",
                "metrics: share of the worker CPU (1 - off / on, best rounds)",
                f"{h.metrics_cpu_pct:.1f}%",
                f"< {TARGET_METRICS_COST_PCT:g}%",
                h.metrics_cpu_pct < TARGET_METRICS_COST_PCT,
            )
        )
        rows.append(
            Row("2 HTTP", "metrics: throughput lost (1 - on / off)", f"{h.metrics_cost_pct:.1f}%")
        )
    return rows


def _each(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def fallback_rows(f: FallbackResult) -> list[Row]:
    key, slowest = f.slowest
    return [
        Row(
            "3 FHIR fallback",
            "keys fetched (no prefetch)",
            f"{len(f.fetched)}, {f.delay_ms} ms delay on each FHIR request",
        ),
        Row("3 FHIR fallback", "hook call, median", ms(f.total.median)),
        Row("3 FHIR fallback", f"slowest single fetch ({key}), median", ms(slowest)),
        Row(
            "3 FHIR fallback",
            "hook call / slowest fetch",
            f"{f.ratio:.2f}",
            f"<= {TARGET_FALLBACK_RATIO:g}",
            f.ratio <= TARGET_FALLBACK_RATIO,
        ),
        Row("3 FHIR fallback", "sum of single fetches (a serial design)", ms(f.serial_ms)),
        Row("3 FHIR fallback", "hook call without the delay, median", ms(f.undelayed.median)),
    ]


def memory_rows(m: MemoryResult) -> list[Row]:
    per = ", ".join(
        f"{m.base_kb[p] / 1024:.1f} -> {m.after_kb[p] / 1024:.1f}" for p in sorted(m.base_kb)
    )
    return [
        Row(
            "4 memory",
            "RSS per worker at start (MB)",
            ", ".join(f"{m.start_kb[p] / 1024:.1f}" for p in sorted(m.start_kb)),
        ),
        Row(
            "4 memory",
            f"RSS per worker, after {m.warmup:,} warm-up -> after {m.requests:,} more (MB)",
            per,
        ),
        Row("4 memory", "peak RSS (VmHWM) of any worker", f"{m.peak_mb:.1f} MB"),
        Row(
            "4 memory",
            f"RSS growth over {m.requests:,} requests (worst worker)",
            f"{m.growth_pct:+.1f}%",
            f"<= {TARGET_MEMORY_GROWTH_PCT:g}%",
            m.growth_pct <= TARGET_MEMORY_GROWTH_PCT,
        ),
    ]


def fault_rows(f: FaultResult) -> list[Row]:
    part = "5 slow peers"
    s = f.stuck
    rows = [
        Row(part, "serve", f"2 workers x {f.threads} threads, FHIR deadline {f.deadline_s:g} s"),
        Row(
            part,
            "healthy (full prefetch) alone: requests/s; worker CPU per request",
            f"{f.alone.rps:,.0f}; {f.alone_cpu_ms:.2f} ms",
        ),
        Row(
            part,
            f"healthy with {STUCK_CALLS} stuck fallback calls: requests/s; CPU per answer",
            f"{f.with_stuck.rps:,.0f}; {f.with_stuck_cpu_ms:.2f} ms",
        ),
        Row(
            part,
            "healthy throughput with / without the stuck calls",
            f"{f.ratio:.2f}",
            f">= {TARGET_STUCK_RATIO:g}",
            f.ratio >= TARGET_STUCK_RATIO,
        ),
        Row(
            part,
            "healthy p50 / p99 with the stuck calls",
            f"{ms(f.with_stuck.p50_ms)} / {ms(f.with_stuck.p99_ms)}",
        ),
        Row(
            part,
            "stuck calls answered (statuses); 412 at once, no slot; slowest",
            f"{s.answered:,} ({', '.join(map(str, s.statuses))}); {s.at_once:,}; "
            f"{s.slowest_s:.1f} s",
            f"slowest <= {f.deadline_s + 1:g} s",
            s.slowest_s <= f.deadline_s + 1,
        ),
    ]
    for p in f.probes:
        target = p.clients == 32
        rows.append(
            Row(
                part,
                f"/healthz with {p.clients} trickling clients: p50 / max; failed",
                f"{ms(p.p50_ms)} / {ms(p.max_ms)}; {p.failed}",
                f"max < {TARGET_PROBE_MS / 1000:g} s, 0 failed" if target else "",
                (p.max_ms < TARGET_PROBE_MS and p.failed == 0) if target else None,
            )
        )
    return rows


def startup_rows(results: list[Startup]) -> list[Row]:
    rows = []
    for r in results:
        timed = r.name.startswith("cds-b12")
        rows.append(
            Row(
                "6 start-up",
                f"{r.name}: wall / CPU, median of {len(r.wall_ms)}",
                f"{ms(r.wall_median)} / {ms(r.cpu_median)}",
                f"wall < {TARGET_STARTUP_MS:g} ms" if timed else "",
                r.wall_median < TARGET_STARTUP_MS if timed else None,
            )
        )
    return rows


def render(rows: list[Row]) -> str:
    headers = ("part", "figure", "value", "target", "met?")
    table = [headers, *((r.part, r.figure, r.value, r.target, r.verdict) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(headers))]
    out = []
    for n, line in enumerate(table):
        out.append("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )
