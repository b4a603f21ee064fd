"""Recall, local engine: a Bulk export of any size on one machine, on all its cores.

May import the rest of ``cds_b12.recall``. Two passes over temporary files, so
memory stays bounded whatever the export's size:

1. *split*: each chunk of each file is read line by line; a line goes, as the
   bytes it was written in, to one of N partition files by a stable hash of its
   patient id (``lines.route`` parses it to find the id), after the id and the
   line number. Shared Medication resources go to a side file.
2. *evaluate*: each partition holds whole patients, so a worker groups its lines
   by patient in memory (a partition is sized to about ``PARTITION_BYTES``) and
   runs each patient through ``patient.recall_patient``, the patient-view path.
   Only the location of a patient's first line is kept, for the one problem
   reported about a patient's lines as a whole (no Patient resource).
   Each partition's rows are written sorted; the output is a k-way merge of
   those files, so the final sort needs no more memory than one row per file.

Plain files are split into byte ranges, so even one huge file uses every core;
a gzip file is read by one worker. We chose temporary files over an embedded
engine (DuckDB, SQLite): the per-patient work is Python anyway, the partitioning
is a few dozen lines of standard library, and no dependency is added.
"""

from __future__ import annotations

import gc
import heapq
import json
import math
import os
import shutil
import tempfile
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Executor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, replace
from multiprocessing import get_context
from pathlib import Path
from typing import BinaryIO

from .export import Chunk, chunks, read_chunk, uncompressed_size
from .lines import route
from .patient import Calendars, Settings, calendar_file, recall_patient, warm
from .rows import Row
from .tally import Tally

PARTITION_BYTES = 32 * 1024 * 1024  # raw NDJSON per partition: a few times this in memory
SMALL_EXPORT_BYTES = 32 * 1024 * 1024  # about 2,000 typical patients: one process is quicker
CHUNK_BYTES = (8 * 1024 * 1024, 128 * 1024 * 1024)  # smallest and largest chunk of a file

Progress = Callable[[str, float, float], None]  # (phase, done, total)


@dataclass
class Run:
    tally: Tally
    rows: Iterator[Row]  # in worklist order


def default_workers(export_bytes: int) -> int:
    """Every core, except for an export so small that starting processes costs more."""
    if export_bytes < SMALL_EXPORT_BYTES:
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@contextmanager
def local_run(
    files: list[Path],
    settings: Settings,
    *,
    workers: int,
    calendars: Calendars | None = None,
    progress: Progress = lambda *_: None,
) -> Iterator[Run]:
    """Partition, evaluate and merge; the temporary files live until the block ends."""
    total = uncompressed_size(files)
    buckets = max(4 * workers, math.ceil(total / PARTITION_BYTES))
    size = min(max(total // (4 * workers), CHUNK_BYTES[0]), CHUNK_BYTES[1])
    parts = chunks(files, size)
    tmp = Path(tempfile.mkdtemp(prefix="cds-b12-recall-"))
    pool: Executor | None = None
    try:
        if workers > 1:
            pool = ProcessPoolExecutor(
                max_workers=workers, mp_context=get_context("spawn"), initializer=_worker_start
            )
        tally = Tally()
        read: dict[int, int] = {}
        done, todo = 0, sum(_length(c) for c in parts)
        progress("read", 0, todo)
        for chunk, lines, part in _each(pool, _split, [(c, tmp, buckets) for c in parts]):
            read[chunk.index] = lines
            tally.add(part)
            done += _length(chunk)
            progress("read", done, todo)
        where = _line_offsets(parts, read)
        tally.relocate(where)
        if not tally.patients:
            raise NoPatients()
        evaluated = Tally()
        progress("evaluate", 0, tally.patients)
        jobs = [(b, tmp, where, settings, calendars) for b in range(buckets)]
        for part in _each(pool, _evaluate, jobs):
            evaluated.add(part)
            progress("evaluate", evaluated.evaluated, tally.patients)
        tally.add(evaluated)
        yield Run(tally, _merged(tmp, buckets))
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        shutil.rmtree(tmp, ignore_errors=True)


def _worker_start() -> None:
    """A worker loads what every patient needs, then freezes everything alive
    (``gc.freeze``), so the collector's full passes no longer walk the modules and the
    wording."""
    warm()
    gc.freeze()


class NoPatients(Exception):
    """The export has no Patient resources: nothing can be evaluated."""


def _each(pool: Executor | None, fn: Callable, jobs: list[tuple]) -> Iterator:
    """``fn(*job)`` for every job, results as they finish; the first failure stops the rest."""
    if pool is None:
        for job in jobs:
            yield fn(*job)
        return
    pending: set[Future] = {pool.submit(fn, *job) for job in jobs}
    while pending:
        finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
        for future in finished:
            yield future.result()


def _length(chunk: Chunk) -> int:
    """Bytes in the chunk (on disk, so compressed for a gzip file)."""
    return (chunk.end if chunk.end >= 0 else os.path.getsize(chunk.path)) - chunk.start


def _line_offsets(parts: list[Chunk], read: dict[int, int]) -> dict[int, tuple[str, int]]:
    """Each chunk's file name and the number of lines before it in that file."""
    where: dict[int, tuple[str, int]] = {}
    before: dict[str, int] = {}
    for chunk in parts:
        where[chunk.index] = (Path(chunk.path).name, before.get(chunk.path, 0))
        before[chunk.path] = before.get(chunk.path, 0) + read[chunk.index]
    return where


def _split(chunk: Chunk, tmp: Path, buckets: int) -> tuple[Chunk, int, Tally]:
    """Pass 1: route each line of ``chunk`` to its patient's partition file."""
    tally = Tally()
    outs: dict[int, BinaryIO] = {}
    medications: BinaryIO | None = None
    number = 0
    where = str(chunk.index)  # relocated to "file:line" once every chunk's length is known
    try:
        for block in read_chunk(chunk):
            for line in block:
                number += 1
                line = line.rstrip(b"\r")
                if not line.strip():
                    continue
                tally.lines += 1
                routed = route(line)
                if routed.patient is not None:
                    tally.patients += routed.own
                    patient = routed.patient.encode()
                    bucket = zlib.crc32(patient) % buckets  # stable across processes
                    out = outs.get(bucket)
                    if out is None:
                        out = outs[bucket] = open(tmp / f"b{bucket}-c{chunk.index}", "wb")  # noqa: SIM115
                    out.write(b"%b\t%d\t%b\n" % (patient, number, line))
                elif routed.medication is not None:
                    if medications is None:
                        medications = open(tmp / f"m-c{chunk.index}", "wb")  # noqa: SIM115
                    medications.write(b"%b\t%b\n" % (routed.medication.encode(), line))
                else:
                    assert routed.problem is not None
                    tally.problem(routed.problem, where, number, routed.detail)
    except (OSError, EOFError, zlib.error) as exc:
        raise UnreadableFile(f"{Path(chunk.path).name}: cannot be read: {exc}") from None
    finally:
        for out in (*outs.values(), medications):
            if out is not None:
                out.close()
    return chunk, number, tally


class UnreadableFile(Exception):
    """A file broke off mid-way (a truncated gzip, a read error)."""


_MEDICATIONS: dict[str, dict[str, str]] = {}


def _medications(tmp: Path) -> dict[str, str]:
    """The export's Medication resources by reference, read once per process."""
    key = str(tmp)
    if key not in _MEDICATIONS:
        table: dict[str, str] = {}
        for path in sorted(tmp.glob("m-c*")):
            with open(path, encoding="utf-8") as f:
                for record in f:
                    ref, text = record.rstrip("\n").split("\t", 1)
                    if ref not in table or text < table[ref]:
                        table[ref] = text  # one per id whatever the order, as on Spark
        _MEDICATIONS.clear()
        _MEDICATIONS[key] = table
    return _MEDICATIONS[key]


def _evaluate(
    bucket: int,
    tmp: Path,
    where: dict[int, tuple[str, int]],
    settings: Settings,
    calendars: Calendars | None,
) -> Tally:
    """Pass 2: every patient of one partition through patient-view; rows written sorted."""
    groups: dict[bytes, list[bytes]] = {}
    first: dict[bytes, tuple[str, int]] = {}
    for path in sorted(tmp.glob(f"b{bucket}-c*")):
        name, before = where[int(path.name.rpartition("-c")[2])]
        with open(path, "rb") as f:
            records = f.read().split(b"\n")
        records.pop()  # after the last line's end
        for record in records:
            patient, number, line = record.split(b"\t", 2)
            lines = groups.get(patient)
            if lines is None:
                groups[patient] = [line]
                first[patient] = (name, before + int(number))
            else:
                lines.append(line)
    medications = _medications(tmp)
    tally = Tally()
    rows: list[Row] = []
    for key, lines in groups.items():
        patient = key.decode()
        result = recall_patient(patient, lines, first[key], medications, settings)
        if result.calendar is not None and calendars is not None:
            name = calendar_file(patient)
            (calendars.folder / name).write_bytes(result.calendar)
            result.rows = [replace(r, schedule=calendars.prefix + name) for r in result.rows]
        tally.patient(result)
        rows.extend(result.rows)
    rows.sort(key=Row.sort_key)
    with open(tmp / f"rows-{bucket}", "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row.as_json()) + "\n")
    return tally


def _merged(tmp: Path, buckets: int) -> Iterator[Row]:
    def rows(bucket: int) -> Iterator[Row]:
        with open(tmp / f"rows-{bucket}", encoding="utf-8") as f:
            for record in f:
                yield Row.from_json(json.loads(record))

    yield from heapq.merge(*(rows(b) for b in range(buckets)), key=Row.sort_key)
