"""Recall, Spark engine: the same per-patient function on a Spark cluster (``cds-b12[spark]``).

May import the rest of ``cds_b12.recall`` and ``pyspark``. Spark reads the
NDJSON lines (gzip too), ``lines.route`` keys each by patient exactly as the
local engine does, ``groupByKey`` brings a patient's lines together, and
``patient.recall_patient`` evaluates each patient on the executors. The rows
are sorted in Spark and streamed to the driver one partition at a time, so the
driver holds neither the export nor the worklist. Line numbers are not known on
Spark; problems name the file only.

On a cluster (Databricks, EMR, YARN, Kubernetes), cds-b12 must be installed on
the executors too, and ``--ndjson`` may be any URI Spark reads (``dbfs:/``,
``s3a://``, ``hdfs://``). Run it with ``spark-submit`` (the master then comes
from spark-submit) or give ``--spark-master``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from importlib.resources import as_file, files
from pathlib import Path, PurePosixPath

from py4j.protocol import Py4JError
from pyspark import SparkConf, StorageLevel
from pyspark.errors import PySparkException
from pyspark.sql import SparkSession
from pyspark.sql.functions import input_file_name

from .lines import route
from .local import NoPatients, Progress, Run, UnreadableFile
from .patient import Calendars, Settings, calendar_file, recall_patient
from .rows import Row
from .tally import Tally

LOG_CONFIG = "log4j2.properties"  # errors only, so the run's own lines stay readable


@contextmanager
def spark_run(
    sources: list[Path] | str,
    settings: Settings,
    *,
    master: str | None = None,
    calendars: Calendars | None = None,
    progress: Progress = lambda *_: None,
) -> Iterator[Run]:
    """Recall on Spark; ``sources`` are the checked local files, or a folder URI."""
    with _session(master) as spark, _one_line_errors():
        if isinstance(sources, str):
            reader = spark.read.option("pathGlobFilter", "*.{ndjson,ndjson.gz}").text(sources)
        else:
            reader = spark.read.text([str(p.resolve()) for p in sources])
        text = reader.select("value", input_file_name())
        routed = text.rdd.mapPartitions(_route).persist(StorageLevel.MEMORY_AND_DISK)
        try:
            tally = routed.treeAggregate(Tally(), _count, _combine)
            if not tally.patients:
                raise NoPatients()
            medications = dict(
                routed.filter(lambda t: t[0] == "m")
                .map(lambda t: (t[1], t[2]))
                .reduceByKey(min)  # one resource per id, the same whatever the order
                .collect()
            )
            shared = spark.sparkContext.broadcast(medications)
            prefix = calendars.prefix if calendars else None
            results = (
                routed.filter(lambda t: t[0] == "p")
                .map(lambda t: (t[1], t[2]))
                .groupByKey()
                .mapPartitions(lambda groups: _evaluate(groups, shared.value, settings, prefix))
                .persist(StorageLevel.MEMORY_AND_DISK)
            )
            progress("evaluate", 0, tally.patients)
            evaluated = results.filter(lambda t: t[0] == "t").map(lambda t: t[1])
            tally.add(evaluated.treeReduce(_combine))
            progress("evaluate", tally.evaluated, tally.patients)
            if calendars is not None:
                for _, name, body in results.filter(lambda t: t[0] == "c").toLocalIterator():
                    (calendars.folder / name).write_bytes(body)
            rows = (
                results.filter(lambda t: t[0] == "r")
                .map(lambda t: (t[1], t[2]))
                .sortByKey()
                .map(lambda t: t[1])
            )
            yield Run(tally, (Row.from_json(r) for r in rows.toLocalIterator()))
        finally:
            routed.unpersist()


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """Spark's errors (an unreadable file, a lost executor) as one line, not a JVM trace."""
    try:
        yield
    except (Py4JError, PySparkException) as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        first = next((line for line in lines if "Exception" in line), lines[0] if lines else "")
        raise UnreadableFile(f"Spark failed: {first[:300]}") from None


@contextmanager
def _session(master: str | None):
    """The active session (a notebook's, a test module's, spark-submit's) or a new one;
    a session started here is stopped here."""
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        yield active
        return
    builder = (
        SparkSession.builder.appName("cds-b12 recall")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )
    if master or not SparkConf().contains("spark.master"):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # executors run this Python
        builder = builder.master(master or "local[*]")
    with as_file(files("cds_b12.recall").joinpath(LOG_CONFIG)) as log_config:
        builder = builder.config(
            "spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{log_config}"
        )
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    try:
        yield spark
    finally:
        spark.stop()


def _name(uri: str) -> str:
    return PurePosixPath(uri).name


def _route(rows: Iterable) -> Iterator[tuple]:
    """Executors: ("p", patient, (line, file, own)) | ("m", ref, text) | ("x", problem, file,
    detail) for each non-blank line; a patient's line as UTF-8 bytes, as the local engine
    reads it, so both parse the same input."""
    for value, uri in rows:
        text = value.rstrip("\r")
        if not text.strip():
            continue
        line = text.encode()
        routed = route(line)
        if routed.patient is not None:
            yield ("p", routed.patient, (line, _name(uri), routed.own))
        elif routed.medication is not None:
            yield ("m", routed.medication, text)
        else:
            yield ("x", routed.problem, _name(uri), routed.detail)


def _count(tally: Tally, item: tuple) -> Tally:
    tally.lines += 1
    if item[0] == "p":
        tally.patients += item[2][2]
    elif item[0] == "x":
        tally.problem(item[1], item[2], 0, item[3])
    return tally


def _combine(a: Tally, b: Tally) -> Tally:
    a.add(b)
    return a


def _evaluate(
    groups: Iterable[tuple[str, Iterable[tuple[bytes, str, bool]]]],
    medications: dict[str, str],
    settings: Settings,
    prefix: str | None,
) -> Iterator[tuple]:
    """Executors: ("r", sort key, row) per row, ("c", file name, .ics) per calendar, and
    one ("t", tally) for the partition."""
    tally = Tally()
    for patient, items in groups:
        items = list(items)
        lines = [line for line, _, _ in items]
        result = recall_patient(patient, lines, (items[0][1], 0), medications, settings)
        if result.calendar is not None and prefix is not None:
            name = calendar_file(patient)
            yield ("c", name, result.calendar)
            result.rows = [replace(r, schedule=prefix + name) for r in result.rows]
        tally.patient(result)
        for row in result.rows:
            yield ("r", row.sort_key(), row.as_json())
    yield ("t", tally)
