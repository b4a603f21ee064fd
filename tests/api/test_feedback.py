"""``POST /cds-services/{id}/feedback``: the official examples pass; bad entries are named."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from cds_b12.store.schema import Feedback

from .support import SERVICE_FOR_HOOK, assert_operation_outcome, make_app

OFFICIAL = [
    "feedback-accepted.json",
    "feedback-overridden.json",
    "feedback-overridden-with-reason.json",
]
OVERRIDDEN = {
    "card": "f6b95768-b1c8-40dc-8385-bf3504b82ffb",
    "outcome": "overridden",
    "outcomeTimestamp": "2026-11-21T10:05:31Z",
}


@pytest.mark.parametrize("service", SERVICE_FOR_HOOK.values())
@pytest.mark.parametrize("name", OFFICIAL)
def test_official_feedback_examples_are_acknowledged(client, official, service, name):
    response = client.post(f"/cds-services/{service}/feedback", json=official(f"spec-2.0.1/{name}"))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {}


def test_feedback_with_several_entries_and_a_trailing_slash(logs, official):
    app = make_app()
    body = {"feedback": [official(f"spec-2.0.1/{name}")["feedback"][0] for name in OFFICIAL]}
    response = app.test_client().post("/cds-services/b12-patient-view/feedback/", json=body)
    assert response.status_code == 200 and response.get_json() == {}
    with app.extensions["cds_b12"].db.session() as session:
        stored = session.execute(
            select(Feedback.card_uuid, Feedback.outcome, Feedback.known_card)
            .where(Feedback.service_id == "b12-patient-view")
            .where(Feedback.card_uuid.in_([f["card"] for f in body["feedback"]]))
        ).all()
    # stored once each (a resend is not stored twice), flagged: we never issued these cards
    assert sorted(stored) == sorted((f["card"], f["outcome"], False) for f in body["feedback"])
    (line,) = logs.requests()
    assert line["feedback"] == 3 and line["service"] == "b12-patient-view"


def entry(**changes: object) -> dict:
    result = {**OVERRIDDEN, **changes}
    return {k: v for k, v in result.items() if v is not None}


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ({k: v for k, v in OVERRIDDEN.items() if k != "outcome"}, "outcome: required"),
        (entry(outcome="ignored"), "outcome:"),
        (entry(outcome="Accepted"), "outcome:"),
        (entry(outcomeTimestamp="yesterday"), "outcomeTimestamp:"),
        (entry(outcomeTimestamp="2026-11-21T10:05:31"), "outcomeTimestamp: must carry a time zone"),
        (entry(outcomeTimestamp=1763719531), "outcomeTimestamp:"),
        (
            {k: v for k, v in OVERRIDDEN.items() if k != "outcomeTimestamp"},
            "outcomeTimestamp: required",
        ),
        ({k: v for k, v in OVERRIDDEN.items() if k != "card"}, "card: required"),
        (entry(outcome="accepted"), "acceptedSuggestions"),
        (entry(outcome="accepted", acceptedSuggestions=[]), "acceptedSuggestions"),
        (entry(outcome="accepted", acceptedSuggestions=[{}]), "acceptedSuggestions.0.id: required"),
        (entry(overrideReason={}), "overrideReason: needs a reason or a userComment"),
        (entry(overrideReason={"userComment": ""}), "overrideReason"),
        (
            entry(overrideReason={"reason": {"system": "https://example.com/reasons"}}),
            "overrideReason.reason.code: required",
        ),
        ("not an entry", "feedback.1"),
    ],
)
def test_a_bad_entry_is_400_naming_its_index(client, bad, named):
    body = {"feedback": [OVERRIDDEN, bad]}
    diagnostics = assert_operation_outcome(
        client.post("/cds-services/b12-patient-view/feedback", json=body), 400
    )
    assert "feedback.1" in diagnostics and named in diagnostics, diagnostics
    assert "feedback.0" not in diagnostics


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"feedback": []}, "feedback:"),
        ({}, "feedback: required"),
        ({"feedback": OVERRIDDEN}, "feedback:"),
        ([OVERRIDDEN], "JSON object"),
        (None, "JSON object"),
        ("feedback", "JSON object"),
    ],
)
def test_a_body_that_is_not_a_feedback_object_is_400(client, body, named):
    response = client.post(
        "/cds-services/b12-patient-view/feedback",
        data=json.dumps(body),
        content_type="application/json",
    )
    assert named in assert_operation_outcome(response, 400)


def test_not_json_feedback_is_400(client):
    response = client.post(
        "/cds-services/b12-patient-view/feedback",
        data=b"{feedback",
        content_type="application/json",
    )
    assert "JSON object" in assert_operation_outcome(response, 400)


def test_feedback_for_an_unknown_service_is_404(client):
    response = client.post(
        "/cds-services/no-such-service/feedback", json={"feedback": [OVERRIDDEN]}
    )
    assert_operation_outcome(response, 404)
