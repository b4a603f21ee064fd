"""The Spark engine on a real local Spark (``local[2]``, Java 17): the same rows as the local
engine, row for row. One Spark session for the module; starting the JVM is most of the cost."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from benchmarks.population import write_population

from .support import AS_OF, fixture_resources, recall, write_export


@pytest.fixture(scope="module")
def spark():
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("cds-b12 tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        # C1 only: the driver's work here is small, and full JIT compiling of Spark's start-up
        # code took half the JVM's CPU (about 12 s -> 6 s to the first session on 2 cores)
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def population(tmp_path_factory) -> Path:
    """Synthetic patients (gzipped, several files per type) and every fixture patient."""
    folder = tmp_path_factory.mktemp("population")
    write_population(folder, 150, AS_OF, compress=True)
    write_export(folder / "fixtures", fixture_resources())
    for path in (folder / "fixtures").iterdir():
        path.rename(folder / f"fixture-{path.name}")
    (folder / "fixtures").rmdir()
    return folder


@pytest.mark.parametrize("fmt", ["csv", "tasks"])
def test_spark_gives_the_local_engines_rows(spark, population, tmp_path, capsys, fmt):
    local, on_spark = tmp_path / "local.out", tmp_path / "spark.out"
    code, local_err = recall(population, local, "--format", fmt, "--workers", "2", capsys=capsys)
    assert code == 0, local_err
    code, spark_err = recall(
        population, on_spark, "--format", fmt, "--engine", "spark", capsys=capsys
    )
    assert code == 0, spark_err
    rows = local.read_text().splitlines()
    assert len(rows) > 100
    assert on_spark.read_text().splitlines() == rows
    # the same counts, problems included (Spark knows files but not line numbers)
    assert (
        spark_err.splitlines()[-1].split(" in ")[0] == local_err.splitlines()[-1].split(" in ")[0]
    )
    assert (
        spark_err.splitlines()[-1].split("problems: ")[1].split(";")[0]
        == (local_err.splitlines()[-1].split("problems: ")[1].split(";")[0])
    )


def test_spark_writes_the_same_calendars(spark, population, tmp_path, capsys):
    for engine in ("local", "spark"):
        code, err = recall(
            population,
            tmp_path / f"{engine}.csv",
            "--engine",
            engine,
            "--calendars",
            str(tmp_path / f"{engine}-calendars"),
            capsys=capsys,
        )
        assert code == 0, err
    local = sorted(p.name for p in (tmp_path / "local-calendars").iterdir())
    assert local and local == sorted(p.name for p in (tmp_path / "spark-calendars").iterdir())
    for name in local:
        assert (tmp_path / "spark-calendars" / name).read_bytes() == (
            tmp_path / "local-calendars" / name
        ).read_bytes()
    spark_rows = (tmp_path / "spark.csv").read_text().replace("spark-calendars/", "")
    assert spark_rows == (tmp_path / "local.csv").read_text().replace("local-calendars/", "")


def test_spark_problems_are_one_line(spark, tmp_path, capsys):
    folder = write_export(tmp_path / "export", fixture_resources())
    with (folder / "Observation.0.ndjson").open("a") as f:
        f.write("{broken\n")
    code, err = recall(folder, tmp_path / "out.csv", "--engine", "spark", capsys=capsys)
    assert code == 0
    assert "Observation.0.ndjson: not JSON" in err
    assert "Traceback" not in err


def test_spark_reads_a_folder_uri(spark, population, tmp_path, capsys):
    """On a cluster ``--ndjson`` is a URI this machine cannot list (dbfs:/, s3a://): Spark
    finds the NDJSON files itself."""
    local, on_spark = tmp_path / "local.csv", tmp_path / "spark.csv"
    assert recall(population, local, capsys=capsys)[0] == 0
    uri = population.resolve().as_uri()
    code, err = recall(uri, on_spark, "--engine", "spark", capsys=capsys)
    assert code == 0, err
    assert on_spark.read_text() == local.read_text()
