"""A deployment can point CDS_B12_CARDS_DIR at its own reviewed wording."""

from __future__ import annotations

import shutil

from cds_b12.clinical import evaluate
from cds_b12.clinical.profiles import US
from cds_b12.clinical.record import Finding
from cds_b12.render import load_card_library, render_cards
from cds_b12.render.wording import DEFAULT_CARDS_DIR

from ..clinical.records import AS_OF, doses, finding, order, record


def test_env_var_selects_another_wording_folder(tmp_path, monkeypatch):
    local = tmp_path / "cards"
    shutil.copytree(DEFAULT_CARDS_DIR, local)
    card = local / "R11-maintenance-overdue.toml"
    text = card.read_text()
    summary = next(line for line in text.splitlines() if line.startswith("summary = "))
    card.write_text(text.replace(summary, 'summary = "Local wording: give the overdue dose"'))
    monkeypatch.setenv("CDS_B12_CARDS_DIR", str(local))

    ev = evaluate(record(finding(Finding.PERNICIOUS_ANAEMIA), order(), *doses(45, 75)), US, AS_OF)
    (card_json,) = render_cards(
        ev.recommendations, profile=US, as_of=AS_OF, patient_id="p1", library=load_card_library()
    )
    assert card_json["summary"] == "Local wording: give the overdue dose"
