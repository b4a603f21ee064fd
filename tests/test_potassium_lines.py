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
