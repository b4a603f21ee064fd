"""Small timing helpers: nearest-rank percentiles over a list of durations."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (``pct`` in 0..100) of ``values``; NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class Timing:
    """Durations of one repeated operation, in milliseconds: wall time, and the CPU time of
    the calling thread (what a busy machine's other work does not add to)."""

    samples: tuple[float, ...]
    cpu_samples: tuple[float, ...] = ()

    @property
    def median(self) -> float:
        return percentile(self.samples, 50)

    @property
    def cpu_median(self) -> float:
        return percentile(self.cpu_samples, 50)

    @property
    def p99(self) -> float:
        return percentile(self.samples, 99)

    @property
    def count(self) -> int:
        return len(self.samples)


def time_calls(
    fn: Callable[[], object],
    *,
    iterations: int,
    warmup: int = 0,
    budget_s: float | None = None,
    min_iterations: int = 20,
) -> Timing:
    """Call ``fn`` ``warmup`` times untimed, then ``iterations`` times timed.

    With ``budget_s``, stops early once the budget is spent (after at least
    ``min_iterations`` calls), so a slow machine cannot make a run take forever.
    """
    for _ in range(warmup):
        fn()
    samples: list[float] = []
    cpu_samples: list[float] = []
    clock, cpu = time.perf_counter, time.thread_time
    stop_at = clock() + budget_s if budget_s is not None else math.inf
    for _ in range(iterations):
        start, cpu_start = clock(), cpu()
        fn()
        end, cpu_end = clock(), cpu()
        samples.append((end - start) * 1000)
        cpu_samples.append((cpu_end - cpu_start) * 1000)
        if end > stop_at and len(samples) >= min_iterations:
            break
    return Timing(tuple(samples), tuple(cpu_samples))
