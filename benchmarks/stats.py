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
    """Durations of one repeated operation, in milliseconds."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return percentile(self.samples, 50)

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
    clock = time.perf_counter
    stop_at = clock() + budget_s if budget_s is not None else math.inf
    for _ in range(iterations):
        start = clock()
        fn()
        end = clock()
        samples.append((end - start) * 1000)
        if end > stop_at and len(samples) >= min_iterations:
            break
    return Timing(tuple(samples))
