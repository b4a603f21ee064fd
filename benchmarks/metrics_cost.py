"""Part 1's metrics figure: what the Prometheus calls of one hook call cost, as ``serve`` makes
them (multiprocess mode, every value in a memory-mapped file).

Run in a fresh interpreter (``python -m benchmarks.metrics_cost DIR``) because
prometheus-client chooses multiprocess mode when it is first imported. Prints one JSON
object: the median and p99 of one call's metrics work, in milliseconds.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from datetime import date
from pathlib import Path


def main(argv: list[str]) -> None:
    directory = Path(argv[0]) if argv else Path(tempfile.mkdtemp(prefix="cds-b12-metrics-"))
    directory.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)  # before the first import

    from cds_b12.api.metrics import Metrics
    from cds_b12.clinical import get_profile
    from cds_b12.hooks.response import respond
    from cds_b12.render import load_card_library

    from .patients import hook_request
    from .stats import time_calls

    as_of = date.today()
    library = load_card_library()
    body = hook_request("typical", as_of)
    data = [v for v in body["prefetch"].values() if v is not None]
    result = respond(data, profile=get_profile("us"), as_of=as_of, library=library)
    metrics = Metrics(library, None)
    service = "b12-patient-view"

    def one_call() -> None:
        # what api/metrics.py and api/services.py do for one answered hook call
        metrics.hook_call(service, "200", 0.004)
        metrics.hook_result(result)
        metrics.audit_queue.set(1)
        metrics.audit_queue.set(0)

    timing = time_calls(one_call, iterations=5_000, warmup=500, budget_s=2.0)
    print(json.dumps({"median_ms": timing.median, "p99_ms": timing.p99, "calls": timing.count}))


if __name__ == "__main__":
    main(sys.argv[1:])
