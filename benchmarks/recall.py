"""Recall benchmark: ``cds-b12 recall`` on a synthetic population, against a ``json.loads`` floor.

    python -m benchmarks.recall [--patients 100000] [--workers N] [--keep DIR] [--gzip]

1. Writes the population (``benchmarks/population.py``; about 40 resources per
   patient), unless ``--keep DIR`` already holds one of that size.
2. *Floor*: one process reads every line of every file and ``json.loads`` it:
   the least any reader of the export must do.
3. Runs ``cds-b12 recall --format csv`` as its own process, sampling the RSS of
   it and its workers together every 0.5 s for the peak.

Prints patients/s, the ratio of the recall time to the floor (target: at most
4), peak RSS of the whole process tree (target: under 2 GB), and CPU seconds
beside wall time, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

from .population import write_population

TARGET_RATIO = 4.0
TARGET_RSS_MB = 2048
PAGE = os.sysconf("SC_PAGE_SIZE")


def floor_seconds(folder: Path) -> tuple[float, int]:
    """Wall time of one process that ``json.loads`` every line; and the line count."""
    started, lines = time.perf_counter(), 0
    loads = json.loads
    for path in sorted(folder.glob("*.ndjson*")):
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rb") as f:
            for line in f:
                loads(line)
                lines += 1
    return time.perf_counter() - started, lines


def _tree_rss(root: int) -> int:
    """RSS in bytes of ``root`` and all its descendants (``/proc/PID/task/TID/children``,
    so sampling costs little CPU beside the run it measures)."""
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    stack.extend(int(child) for child in f.read().split())
        except (OSError, ValueError):
            continue
    return total


def run_recall(folder: Path, out: Path, as_of: date, workers: int | None) -> dict:
    cmd = [
        str(Path(sys.executable).parent / "cds-b12"),
        "recall",
        "--ndjson",
        str(folder),
        "--out",
        str(out),
        "--as-of",
        as_of.isoformat(),
    ]
    if workers:
        cmd += ["--workers", str(workers)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def sample() -> None:
        while process.poll() is None:
            peak[0] = max(peak[0], _tree_rss(process.pid))
            time.sleep(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = process.communicate()
    seconds = time.perf_counter() - started
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        raise SystemExit(f"cds-b12 recall failed ({process.returncode}):\n{err}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_rss_mb": peak[0] / 2**20,
        "summary": err.strip().splitlines()[-1],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.recall", description=__doc__)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--workers", type=int, help="cds-b12 recall --workers (default: all)")
    parser.add_argument("--keep", type=Path, help="write (or reuse) the population here")
    parser.add_argument("--gzip", action="store_true", help="a gzipped export")
    parser.add_argument("--as-of", type=date.fromisoformat, default=date.today())
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="cds-b12-recall-bench-") as work:
        folder = args.keep or Path(work) / "export"
        marker = folder / ".population"
        wanted = f"{args.patients} {args.as_of} {args.gzip}"
        if not (marker.exists() and marker.read_text() == wanted):
            print(f"writing {args.patients:,} patients to {folder} ...", file=sys.stderr)
            for old in folder.glob("*.ndjson*"):
                old.unlink()
            write_population(folder, args.patients, args.as_of, compress=args.gzip)
            marker.write_text(wanted)
        size = sum(p.stat().st_size for p in folder.glob("*.ndjson*"))
        floor, lines = floor_seconds(folder)
        got = run_recall(folder, Path(work) / "recall.csv", args.as_of, args.workers)

    ratio = got["seconds"] / floor
    figures = {
        "patients": args.patients,
        "lines": lines,
        "export_mb": round(size / 1e6),
        "floor_seconds": round(floor, 2),
        "recall_seconds": round(got["seconds"], 2),
        "recall_cpu_seconds": round(got["cpu_seconds"], 2),
        "patients_per_second": round(args.patients / got["seconds"]),
        "ratio_to_floor": round(ratio, 2),
        "peak_rss_mb": round(got["peak_rss_mb"]),
        "cores": os.cpu_count(),
    }
    rows = [
        ("population", f"{args.patients:,} patients, {lines:,} resources, {size / 1e6:,.0f} MB"),
        ("floor: json.loads of every line, 1 process", f"{floor:.1f} s"),
        ("cds-b12 recall, wall (CPU)", f"{got['seconds']:.1f} s ({got['cpu_seconds']:.1f} s CPU)"),
        ("patients/s", f"{figures['patients_per_second']:,}"),
        (
            "recall / floor",
            f"{ratio:.2f}x  (target <= {TARGET_RATIO:g}x: "
            f"{'yes' if ratio <= TARGET_RATIO else 'NO'})",
        ),
        (
            "peak RSS, all processes",
            f"{got['peak_rss_mb']:,.0f} MB  (target < {TARGET_RSS_MB:,} MB: "
            f"{'yes' if got['peak_rss_mb'] < TARGET_RSS_MB else 'NO'})",
        ),
        ("recall's own summary", got["summary"].removeprefix("cds-b12: recall: ")),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
