"""A result coded only locally reaches every card as a data-quality note, never as a value."""

from __future__ import annotations

import pytest

from cds_b12.clinical import get_profile
from cds_b12.hooks.response import respond

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
