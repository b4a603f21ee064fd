"""S6 through the service: with a low potassium already on file before loading, every
card's potassium line says correct it and recheck within 48 hours, none asks for a
baseline check (the labs already offer only the recheck)."""

from __future__ import annotations

import re

import pytest

from cds_b12.clinical import get_profile
from cds_b12.hooks.response import respond

from .scenarios import AS_OF, scenarios

LOW_BASELINE = [s for s in scenarios() if s.path.stem == "baseline-low-potassium-fires"]


@pytest.mark.parametrize("scenario", LOW_BASELINE, ids=lambda s: s.id)
def test_no_card_asks_for_a_baseline_potassium_already_on_file(scenario):
    resources, drafts = scenario.data()
    body = respond(
        resources, profile=get_profile(scenario.profile), as_of=AS_OF, draft_orders=drafts
    ).body
    details = [card["detail"] for card in body["cards"]]
    assert len(details) == 2
    for detail in details:
        assert not re.search(r"potassium at baseline", detail), detail
    loading = next(c for c in body["cards"] if "loading injections" in c["summary"])
    said = r"already low.*recheck[^.]*within 48 hours of the first dose"
    assert re.search(said, loading["detail"], re.S)


UNREAD_HB = [s for s in scenarios() if s.path.stem == "hb-g-per-l-as-g-dl-fires"]


@pytest.mark.parametrize("scenario", UNREAD_HB, ids=lambda s: s.id)
def test_an_unreadable_newest_hb_gives_the_potassium_advice_as_a_condition(scenario):
    """b12-clinical.md US-2: "Monitor serum K⁺ closely for the first 48 h in pernicious
    anaemia"; §5 S9: "Severe anaemia (Hb <8 g/dL) or pancytopenia: urgent assessment or
    admission." With the newest Hb unreadable, the loading card orders potassium and says
    why without claiming severe anaemia; no card says the patient has it."""
    resources, drafts = scenario.data()
    body = respond(
        resources, profile=get_profile(scenario.profile), as_of=AS_OF, draft_orders=drafts
    ).body
    loading = next(c for c in body["cards"] if "loading injections" in c["summary"])
    assert re.search(r"Severe ana?emia is not ruled out.*check potassium", loading["detail"])
    assert re.search(r"potassium today \(baseline", loading["detail"])
    assert loading["indicator"] == "warning"
    for card in body["cards"]:
        assert "Severe anaemia or pancytopenia:" not in card["detail"]
        assert "Severe anemia or pancytopenia:" not in card["detail"]
        assert "same-day assessment" not in card["summary"]
