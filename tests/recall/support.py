"""Bulk exports for the recall tests: the fixture patients, written as ``$export`` writes."""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
from datetime import date
from pathlib import Path

from cds_b12.cli import main
from cds_b12.hooks.fixtures import fixture_patients

AS_OF = date(2026, 11, 21)


def write_export(
    folder: Path, resources: list[dict], *, files_per_type: int = 2, seed: int = 7
) -> Path:
    """One type per file, each type split over several files (the last gzipped), every
    patient's lines shuffled among the others'."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    by_type: dict[str, list[str]] = {}
    for resource in resources:
        by_type.setdefault(resource["resourceType"], []).append(
            json.dumps(resource, separators=(",", ":")) + "\n"
        )
    for rtype, lines in by_type.items():
        rng.shuffle(lines)
        for part in range(files_per_type):
            chunk = lines[part::files_per_type]
            if not chunk:
                continue
            if part == files_per_type - 1 and part > 0:
                with gzip.open(folder / f"{rtype}.{part}.ndjson.gz", "wt", encoding="utf-8") as f:
                    f.writelines(chunk)
            else:
                (folder / f"{rtype}.{part}.ndjson").write_text("".join(chunk), encoding="utf-8")
    return folder


def fixture_resources(as_of: date = AS_OF) -> list[dict]:
    """Every bundled patient's record at ``as_of``, draft orders included as an export has
    them (a patient-view call sees them as record entries too)."""
    out: list[dict] = []
    for fixture in fixture_patients():
        resources, drafts = fixture.data(as_of)
        out.extend(resources)
        out.extend(drafts)
    return out


def recall(
    folder: Path | str, out: Path, *args: str, as_of: date = AS_OF, capsys=None
) -> tuple[int, str]:
    """``cds-b12 recall`` in this process; (exit code, stderr)."""
    code = main(
        ["recall", "--ndjson", str(folder), "--out", str(out), "--as-of", as_of.isoformat(), *args]
    )
    return code, capsys.readouterr().err if capsys else ""


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
