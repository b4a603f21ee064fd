"""Recall: ``cds-b12 recall``, from arguments to a finished output file.

May import everything in ``cds_b12.recall``; the heavy parts are imported when
the command runs, so ``cds-b12 --help`` stays fast. Fatal problems (no folder,
no NDJSON, a file that is not NDJSON, no Patient resources, an output that
cannot be written) print one line and exit 2; problems with single lines or
patients are listed, a few of each, and counted in the summary. The output and
the calendars folder appear only when the run has completed (temporary name,
then rename).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..clinical import Profile
    from .local import Run
    from .patient import Calendars, Settings

EXIT_USAGE = 2
PROGRESS_EVERY_S = 5.0  # a progress line at most this often, and only for runs this long


def add_recall_parser(sub: argparse._SubParsersAction, as_of: Callable[[str], date]) -> None:
    rc = sub.add_parser(
        "recall",
        help="Write a worklist of the patients due an action, from a Bulk FHIR export.",
        description="Runs every patient of a Bulk FHIR export (NDJSON) through the "
        "patient-view checks and writes one row per card: the patients whose charts nobody "
        "opens.",
    )
    rc.add_argument("--ndjson", required=True, metavar="DIR", help="The folder of the export.")
    rc.add_argument("--out", required=True, metavar="FILE", help="The worklist to write.")
    rc.add_argument(
        "--as-of",
        metavar="YYYY-MM-DD",
        type=as_of,
        default=date.today(),
        help="The evaluation date, YYYY-MM-DD (default: today).",
    )
    rc.add_argument(
        "--profile",
        metavar="PROFILE",
        choices=("us", "uk"),
        type=str.lower,
        help="The guideline profile, us or uk (default: CDS_B12_PROFILE, else us).",
    )
    rc.add_argument(
        "--format",
        metavar="FORMAT",
        choices=("csv", "tasks", "html"),
        default="csv",
        help="The worklist as csv (the default), FHIR tasks (NDJSON) or an html page.",
    )
    rc.add_argument(
        "--engine",
        metavar="ENGINE",
        choices=("local", "spark"),
        default="local",
        help="Run on this machine (local, the default) or on Spark (spark).",
    )
    rc.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="The number of processes (default: all cores).",
    )
    rc.add_argument(
        "--calendars",
        metavar="DIR",
        help="Also write each listed patient's reminder calendar (.ics) here; rows link to it.",
    )
    rc.add_argument(
        "--spark-master",
        metavar="URL",
        help="The Spark master for --engine spark (default: spark-submit's, else local[*]).",
    )
    rc.set_defaults(func=recall_command)


class Fatal(Exception):
    """The run cannot go on; one line for the user."""


def recall_command(args: argparse.Namespace) -> int:
    try:
        return _recall(args)
    except Fatal as exc:
        print(f"cds-b12: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _recall(args: argparse.Namespace) -> int:
    from .export import ExportError, find_files, uncompressed_size
    from .formats import write
    from .local import NoPatients, UnreadableFile, default_workers
    from .patient import Settings

    if args.workers is not None and args.workers < 1:
        raise Fatal("--workers must be at least 1")
    out = Path(args.out)
    if not out.parent.is_dir():
        raise Fatal(f"cannot write {out}: no folder {out.parent}")
    started = time.monotonic()
    folder: Path | str = args.ndjson
    files: list[Path] = []
    if args.engine == "local" or not _is_uri(args.ndjson):
        folder = Path(args.ndjson)
        try:
            files, ignored = find_files(folder)
        except ExportError as exc:
            raise Fatal(str(exc)) from None
        for note in ignored:
            _say(note)
    workers = args.workers or default_workers(uncompressed_size(files))
    settings = Settings(_profile(args.profile), args.as_of, calendars=args.calendars is not None)
    progress = _Progress(started)
    with _calendars_folder(args.calendars, out) as calendars:
        try:
            with (
                _engine(args, files or str(folder), settings, workers, calendars, progress) as run,
                _replacing(out) as handle,
            ):
                write(
                    args.format,
                    run.rows,
                    handle,
                    as_of=args.as_of,
                    profile=settings.profile.name.lower(),
                    schedule=calendars is not None,
                )
        except NoPatients:
            raise Fatal(
                f"{folder}: no Patient resources (a Bulk export has a Patient file; "
                "was it exported at the Patient or Group level?)"
            ) from None
        except UnreadableFile as exc:
            raise Fatal(str(exc)) from None
        except OSError as exc:  # the output, the calendars or the temporary files
            raise Fatal(f"{exc.filename or out}: {exc.strerror or exc}") from None
    for line in run.tally.problem_lines():
        _say(line)
    _say(f"{run.tally.summary(time.monotonic() - started)}; wrote {out}")
    return 0


def _profile(name: str | None) -> Profile:
    """The profile as ``evaluate`` and the service use it: ``CDS_B12_PROFILE`` unless named,
    with CDS_B12_PROFILE_OVERRIDES; a bad setting is the one-line error every command gives."""
    from ..commands import settings

    config = settings()
    return config.profiles[name or config.profile]


def _is_uri(folder: str) -> bool:
    """A folder Spark reads but this machine may not (``dbfs:/``, ``s3a://``, ``hdfs://``)."""
    return "://" in folder or folder.startswith("dbfs:")


def _engine(
    args: argparse.Namespace,
    sources: list[Path] | str,
    settings: Settings,
    workers: int,
    calendars: Calendars | None,
    progress: Callable[[str, float, float], None],
) -> AbstractContextManager[Run]:
    if args.engine == "spark":
        try:
            from .spark import spark_run
        except ImportError:
            raise Fatal(
                "--engine spark needs PySpark: pip install 'cds-b12[spark]' (and Java 17+)"
            ) from None
        return spark_run(
            sources, settings, master=args.spark_master, calendars=calendars, progress=progress
        )
    from .local import local_run

    return local_run(sources, settings, workers=workers, calendars=calendars, progress=progress)


def _say(line: str) -> None:
    print(f"cds-b12: recall: {line}", file=sys.stderr)


class _Progress:
    """Prints where a long run is: bytes read, then patients evaluated, rate and time left."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.phase_started: dict[str, float] = {}
        self.last = started

    def __call__(self, phase: str, done: float, total: float) -> None:
        now = time.monotonic()
        if phase not in self.phase_started:
            self.phase_started[phase] = now
            return  # a rate needs two readings
        begun = self.phase_started[phase]
        if now - self.last < PROGRESS_EVERY_S or total <= 0:
            return
        self.last = now
        rate = done / (now - begun) if now > begun else 0.0
        left = f", about {(total - done) / rate:,.0f} s left" if rate > 0 and done < total else ""
        if phase == "read":
            _say(f"read {done / 1e6:,.0f} of {total / 1e6:,.0f} MB ({rate / 1e6:,.0f} MB/s{left})")
        else:
            _say(f"evaluated {done:,.0f} of {total:,.0f} patients ({rate:,.0f}/s{left})")


@contextmanager
def _replacing(out: Path) -> Iterator:
    """A temporary file beside ``out`` that becomes ``out`` only if the block succeeds."""
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
        os.replace(name, out)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


@contextmanager
def _calendars_folder(folder: str | None, out: Path) -> Iterator:
    """The calendars go to a temporary folder that replaces ``folder`` at the end."""
    if folder is None:
        yield None
        return
    from .patient import Calendars

    final = Path(folder)
    if not final.parent.is_dir():
        raise Fatal(f"cannot write calendars to {final}: no folder {final.parent}")
    if final.exists() and not final.is_dir():
        raise Fatal(f"cannot write calendars to {final}: it is a file")
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    prefix = Path(os.path.relpath(final.resolve(), out.parent.resolve())).as_posix() + "/"
    try:
        yield Calendars(work, prefix)
        old = None
        if final.exists():
            old = final.with_name(f".{final.name}.old-{os.getpid()}")
            final.rename(old)
        work.rename(final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
