"""A result coded only locally reaches every card as a data-quality note, never as a value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cds_b12.clinical import get_profile
from cds_b12.hooks.response import respond

from .scenarios import AS_OF as FIXTURES_AS_OF
from .test_untrusted_values_respond import AS_OF, bundle


@pytest.mark.parametrize("profile", ["US", "UK"])
def test_a_locally_coded_b12_is_named_on_every_card(profile):
    """A result coded only locally is never read, but the clinician is told on each card."""
    data = bundle('{"value": 150, "unit": "pg/mL"}')
    data["entry"].append(
        {
            "resource": {
                "resourceType": "Observation",
                "id": "local-b12",
                "status": "final",
                "code": {
                    "coding": [{"system": "urn:oid:1.2.3.4", "code": "VB12"}],
                    "text": "Vitamin B12",
                },
                "effectiveDateTime": "2025-12-28",
                "valueQuantity": {"value": 900, "unit": "pg/mL"},
            }
        }
    )
    cards = respond(data, profile=get_profile(profile), as_of=AS_OF).body["cards"]
    assert cards
    for card in cards:
        assert (
            "Observation/local-b12: a result labelled 'Vitamin B12' is coded only locally"
            " and was not read; map it to LOINC" in card["detail"]
        )


@pytest.mark.parametrize("profile", ["US", "UK"])
def test_the_messy_fixtures_local_code_note_is_listed_before_bookkeeping(profile):
    """Its six notes are one more than a card lists: the locally coded B12 is listed and the
    unknown resource type is the one left to "1 more not shown"."""
    path = Path(__file__).resolve().parent.parent / "fhir_fixtures/messy/mixed-units-messy.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    cards = respond(data, profile=get_profile(profile), as_of=FIXTURES_AS_OF).body["cards"]
    assert cards
    for card in cards:
        _, _, block = card["detail"].partition("**Data quality:**")
        assert (
            "- Observation/messy-mixed-units-obs-local-1: a result labelled"
            " 'B12 send-out (see scanned report)' is coded only locally" in block
        )
        assert "FooBar" not in block
        assert "- 1 more not shown" in block
