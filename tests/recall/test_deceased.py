"""Recall leaves out a patient who has died: no row, whatever their record says is due."""

from __future__ import annotations

from cds_b12.hooks.fixtures import fixture_patients

from .support import AS_OF, read_csv, recall, write_export

PATIENTS = {p.path.name: p for p in fixture_patients()}


def test_a_patient_who_has_died_is_left_out(tmp_path, capsys):
    resources = []
    for name in ("monthly-overdue-fires.json", "deceased-overdue-silent.json"):
        records, drafts = PATIENTS[name].data(AS_OF)
        resources += [*records, *drafts]
    out = tmp_path / "recall.csv"
    code, err = recall(
        write_export(tmp_path / "export", resources), out, "--profile", "us", capsys=capsys
    )
    assert code == 0, err
    patients = {row["patient"] for row in read_csv(out)}
    assert patients == {PATIENTS["monthly-overdue-fires.json"].patient_id}
