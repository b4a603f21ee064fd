"""Recall: the files of a Bulk FHIR export folder, checked before any work starts.

Standard library only. A Bulk ``$export`` writes one resource type per file,
possibly several files per type, as ``.ndjson`` or gzipped ``.ndjson.gz``.
Problems that make the whole run meaningless (no folder, no NDJSON in it, a file
that is not NDJSON) raise :class:`ExportError`, which the CLI prints as one line
with exit code 2; problems with single lines are counted instead (``lines.py``).
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = (".ndjson", ".ndjson.gz")
GZIP_RATIO = 8  # typical FHIR NDJSON compresses about 8:1; sizes the partitions
FIRST_LINE_MAX_BYTES = 64 * 1024 * 1024  # a "line" longer than this is not NDJSON
READ_BYTES = 4 * 1024 * 1024  # a chunk is read and split into lines this much at a time


class ExportError(Exception):
    """The export cannot be read at all; one line for the user."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """A byte range of one file, starting at a line; a gzip file is one chunk."""

    index: int
    path: str
    start: int
    end: int  # -1: to the end of the file


def find_files(folder: Path) -> tuple[list[Path], list[str]]:
    """The export's NDJSON files, sorted, and a note for each other file ignored."""
    if not folder.exists():
        raise ExportError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise ExportError(f"{folder}: not a folder (give the folder the export wrote)")
    files, ignored = [], []
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.name.endswith(SUFFIXES):
            files.append(path)
        elif path.is_file() and not path.name.startswith("."):
            ignored.append(f"{path.name}: ignored, not an .ndjson or .ndjson.gz file")
    if not files:
        raise ExportError(f"{folder}: no .ndjson or .ndjson.gz files (is it a Bulk FHIR export?)")
    for path in files:
        check_ndjson(path)
    return files, ignored


def open_binary(path: Path | str):
    return gzip.open(path, "rb") if str(path).endswith(".gz") else open(path, "rb")


def check_ndjson(path: Path) -> None:
    """Fail unless the file's first non-blank line is one FHIR resource in JSON."""
    try:
        with open_binary(path) as f:
            for raw in f:
                if len(raw) > FIRST_LINE_MAX_BYTES:
                    break
                if raw.strip():
                    resource = json.loads(raw)
                    if isinstance(resource, dict) and isinstance(resource.get("resourceType"), str):
                        return
                    break
            else:
                return  # an empty file: an export may write one for a type with no data
    except (OSError, EOFError, zlib.error) as exc:
        raise ExportError(f"{path.name}: cannot be read: {_reason(exc)}") from None
    except (ValueError, UnicodeDecodeError):
        pass
    raise ExportError(
        f"{path.name}: not NDJSON (the first line is not a FHIR resource as one line of JSON)"
    )


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def uncompressed_size(files: list[Path]) -> int:
    """About how many bytes of NDJSON the files hold."""
    return sum(p.stat().st_size * (GZIP_RATIO if p.name.endswith(".gz") else 1) for p in files)


def chunks(files: list[Path], size: int) -> list[Chunk]:
    """Split plain files into ranges of about ``size`` bytes at line starts."""
    out: list[Chunk] = []
    for path in files:
        total = path.stat().st_size
        if path.name.endswith(".gz") or total <= size:
            out.append(Chunk(len(out), str(path), 0, -1))
            continue
        with open(path, "rb") as f:
            start = 0
            while start < total:
                f.seek(min(start + size, total))
                f.readline()  # to the start of the next line
                end = f.tell() if start + size < total else total
                out.append(Chunk(len(out), str(path), start, -1 if end >= total else end))
                start = end
    return out


def read_chunk(chunk: Chunk) -> Iterator[list[bytes]]:
    """The lines of a chunk, without their ``\\n``, a block of ``READ_BYTES`` at a time:
    splitting a block costs less than a trip through the file object for each line."""
    with open_binary(chunk.path) as f:
        if chunk.start:
            f.seek(chunk.start)
        remaining = chunk.end - chunk.start if chunk.end >= 0 else -1
        rest = b""
        while remaining:
            block = f.read(READ_BYTES if remaining < 0 else min(READ_BYTES, remaining))
            if not block:
                break
            if remaining > 0:
                remaining -= len(block)
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            yield lines
        if rest:
            yield [rest]
