"""Bad exports: one clear line each, exit 2 when nothing sensible can be written, never a
traceback, and the output file appears only when the run completes."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cds_b12.recall import patient as patient_module

from .support import AS_OF, fixture_resources, read_csv, recall, write_export

CDS_B12 = str(Path(sys.executable).parent / "cds-b12")


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return write_export(tmp_path / "export", fixture_resources())


@pytest.fixture
def out(tmp_path: Path) -> Path:
    path = tmp_path / "recall.csv"
    path.write_text("the previous worklist\n")
    return path


def assert_fatal(code: int, err: str, out: Path, *words: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("cds-b12: error: ")
    for word in words:
        assert word in lines[0]
    assert out.read_text() == "the previous worklist\n", "a failed run leaves the output alone"
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".partial")]


def test_missing_folder(tmp_path, out, capsys):
    code, err = recall(tmp_path / "nowhere", out, capsys=capsys)
    assert_fatal(code, err, out, "nowhere", "no such folder")


def test_a_file_instead_of_a_folder(tmp_path, out, capsys):
    (tmp_path / "one.ndjson").write_text("{}\n")
    code, err = recall(tmp_path / "one.ndjson", out, capsys=capsys)
    assert_fatal(code, err, out, "not a folder")


def test_a_folder_without_ndjson(tmp_path, out, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("hello")
    code, err = recall(tmp_path / "empty", out, capsys=capsys)
    assert code == 2
    assert "no .ndjson or .ndjson.gz files" in err.strip().splitlines()[-1]


def test_no_patient_file(tmp_path, out, capsys):
    folder = write_export(
        tmp_path / "export", [r for r in fixture_resources() if r["resourceType"] != "Patient"]
    )
    code, err = recall(folder, out, capsys=capsys)
    assert_fatal(code, err, out, "no Patient resources")


@pytest.mark.parametrize(
    "content",
    [
        json.dumps([{"resourceType": "Observation"}]),  # a JSON array
        json.dumps({"resourceType": "Bundle", "entry": []}, indent=2),  # pretty-printed JSON
        "patient,rule\np1,R11\n",  # CSV
    ],
    ids=["json-array", "pretty-json", "csv"],
)
def test_a_file_that_is_not_ndjson(export, out, capsys, content):
    (export / "Observation.9.ndjson").write_text(content)
    code, err = recall(export, out, capsys=capsys)
    assert_fatal(code, err, out, "Observation.9.ndjson", "not NDJSON")


def test_a_binary_file_that_is_not_ndjson(export, out, capsys):
    (export / "Observation.9.ndjson").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    code, err = recall(export, out, capsys=capsys)
    assert_fatal(code, err, out, "Observation.9.ndjson", "not NDJSON")


def test_a_truncated_gzip_file(export, out, capsys):
    whole = gzip.compress(("\n".join(['{"resourceType":"Basic","id":"b"}'] * 5000)).encode())
    (export / "Basic.0.ndjson.gz").write_bytes(whole[: len(whole) // 2])
    code, err = recall(export, out, capsys=capsys)
    assert_fatal(code, err, out, "Basic.0.ndjson.gz", "cannot be read")


def test_bad_lines_are_counted_and_the_rest_evaluated(export, out, capsys):
    with open(export / "Observation.0.ndjson", "a") as f:
        f.write("{this is not json\n\n")
        f.write('{"resourceType":"Observation","id":"orphan","status":"final"}\n')
        f.write("[1,2,3]\n")
    (export / "Practitioner.0.ndjson").write_text('{"resourceType":"Practitioner","id":"dr1"}\n')
    (export / "manifest.json").write_text("{}")
    code, err = recall(export, out, capsys=capsys)
    assert code == 0, err
    lines = err.strip().splitlines()
    assert any("manifest.json: ignored" in line for line in lines)
    length = len((export / "Observation.0.ndjson").read_text().splitlines())
    assert f"Observation.0.ndjson:{length - 3}: not JSON" in err
    assert f"Observation.0.ndjson:{length - 1}: no patient reference (Observation/orphan)" in err
    assert f"Observation.0.ndjson:{length}: not a FHIR resource" in err
    assert "Practitioner.0.ndjson:1: no patient reference (Practitioner/dr1)" in err
    summary = lines[-1]
    assert (
        "1 not JSON" in summary and "3 no patient reference" in summary
    )  # with FooBar (messy fixture)
    assert "1 not a FHIR resource" in summary
    assert read_csv(out), "the good patients still get their rows"


def test_a_patient_without_a_patient_resource_is_reported(export, out, capsys):
    (export / "Observation.7.ndjson").write_text(
        json.dumps({"resourceType": "Observation", "subject": {"reference": "Patient/ghost"}})
        + "\n"
    )
    code, err = recall(export, out, capsys=capsys)
    assert code == 0
    assert "Observation.7.ndjson:1: no Patient resource (Patient/ghost: 1 resources)" in err
    assert "ghost" not in out.read_text()


def test_a_patient_that_cannot_be_evaluated_does_not_stop_the_others(
    export, out, capsys, monkeypatch
):
    real = patient_module.respond

    def failing(data, **kwargs):
        if any(r.get("id") == "r11-monthly-overdue" for r in data):
            raise ValueError("unreadable record")
        return real(data, **kwargs)

    monkeypatch.setattr(patient_module, "respond", failing)
    code, err = recall(export, out, "--workers", "1", capsys=capsys)
    assert code == 0
    assert (
        "patient not evaluated (Patient/r11-monthly-overdue: ValueError: unreadable record)" in err
    )
    rows = read_csv(out)
    assert rows and all(r["patient"] != "r11-monthly-overdue" for r in rows)
    assert "1 patient not evaluated" in err.strip().splitlines()[-1]


def test_an_unwritable_output(export, tmp_path, capsys):
    code, err = recall(export, tmp_path / "no" / "such" / "out.csv", capsys=capsys)
    assert code == 2
    assert err.strip().splitlines() == [
        f"cds-b12: error: cannot write {tmp_path}/no/such/out.csv: no folder {tmp_path}/no/such"
    ]


def test_no_traceback_from_the_installed_command(tmp_path):
    done = subprocess.run(
        [CDS_B12, "recall", "--ndjson", str(tmp_path / "x"), "--out", str(tmp_path / "o.csv")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1
    assert not (tmp_path / "o.csv").exists()


def test_workers_must_be_positive(export, out, capsys):
    code, err = recall(export, out, "--workers", "0", capsys=capsys)
    assert_fatal(code, err, out, "--workers")


def test_as_of_is_used(export, tmp_path, capsys):
    """Sanity: the same export a year later has more overdue rows."""
    now, later = tmp_path / "now.csv", tmp_path / "later.csv"
    assert recall(export, now, capsys=capsys)[0] == 0
    assert recall(export, later, as_of=AS_OF.replace(year=AS_OF.year + 1), capsys=capsys)[0] == 0
    overdue = [sum(r["overdue"] == "yes" for r in read_csv(p)) for p in (now, later)]
    assert overdue[0] < overdue[1]
