"""Over HTTP too, a value that cannot be trusted is said: a B12 with no unit, NaN,
Infinity or 1e400 gives a card with its data note, on patient-view and order-select."""

from __future__ import annotations

import json
from uuid import uuid4

import pytest

from ..conformance import assert_valid_response
from .support import context_for, prefetch_for

LOINC = "http://loinc.org"
PATIENT = {
    "resourceType": "Patient",
    "id": "p-unread",
    "gender": "female",
    "birthDate": "1958-04-12",
}
MCV = {
    "resourceType": "Observation",
    "id": "mcv",
    "status": "final",
    "code": {"coding": [{"system": LOINC, "code": "787-2"}]},
    "effectiveDateTime": "2025-12-18",
    "valueQuantity": {"value": 107, "unit": "fL"},
}
DRAFT = {
    "resourceType": "ServiceRequest",
    "id": "draft-cbc",
    "status": "draft",
    "intent": "order",
    "code": {"coding": [{"system": LOINC, "code": "58410-2"}]},
    "subject": {"reference": "Patient/p-unread"},
}
B12 = (
    '{"resourceType": "Observation", "id": "b12", "status": "final",'
    ' "code": {"coding": [{"system": "http://loinc.org", "code": "2132-9"}]},'
    ' "effectiveDateTime": "2025-12-18", "valueQuantity": VALUE}'
)


@pytest.mark.parametrize(
    "value", ['{"value": 150}', '{"value": NaN, "unit": "pg/mL"}', '{"value": 1e400}']
)
@pytest.mark.parametrize("hook", ["patient-view", "order-select"])
def test_a_b12_that_cannot_be_read_is_a_card_with_its_note(client, value, hook):
    body = {
        "hookInstance": str(uuid4()),  # a repeat in one hookInstance is held (fatigue)
        "hook": hook,
        "context": context_for(hook, "p-unread", [DRAFT]),
        "prefetch": prefetch_for([PATIENT, MCV]),
    }
    raw = json.dumps(body).replace(
        '"labs": {"resourceType": "Bundle", "type": "searchset", "entry": [',
        '"labs": {"resourceType": "Bundle", "type": "searchset", "entry": ['
        f'{{"resource": {B12.replace("VALUE", value)}}}, ',
    )
    assert "2132-9" in raw
    response = client.post(f"/cds-services/b12-{hook}", data=raw, content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)
    cards = response.get_json()["cards"]
    (card,) = [c for c in cards if "could not be read" in c["summary"]]
    assert card["indicator"] == "warning"
    assert "Observation/b12: value ignored:" in card["detail"]
    assert_valid_response(response.get_json())
