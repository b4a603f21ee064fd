"""What a feedback body stores: all of it or nothing, once, flagged when the card is not one
we issued, and never the clinician's free text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from cds_b12.store.db import Database
from cds_b12.store.report import UNKNOWN_CARD, report
from cds_b12.store.schema import Feedback

from ..api.support import assert_operation_outcome, make_app, scenario_named, scenario_request
from .support import REASONS, accepted, counts, dump, new_card, overridden

PV = "b12-patient-view"
FEEDBACK = f"/cds-services/{PV}/feedback"


@pytest.fixture
def app(db_url):
    return make_app(database_url=db_url)


@pytest.fixture
def card(app) -> dict:
    """A card we issued, from a real hook call."""
    service, body = scenario_request(scenario_named("R1-start-neuro-loading/pa-neuro"))
    response = app.test_client().post(f"/cds-services/{service}", json=body)
    assert response.status_code == 200
    (issued,) = response.get_json()["cards"]
    return issued


def db_of(app) -> Database:
    return app.extensions["cds_b12"].db


def stored(app) -> list[tuple]:
    with db_of(app).session() as session:
        return [
            tuple(r)
            for r in session.execute(
                select(
                    Feedback.card_uuid,
                    Feedback.known_card,
                    Feedback.outcome,
                    Feedback.accepted_suggestions,
                    Feedback.override_system,
                    Feedback.override_code,
                    Feedback.has_comment,
                ).order_by(Feedback.id)
            )
        ]


def post(app, body: object):
    return app.test_client().post(FEEDBACK, json=body)


def test_feedback_on_a_card_we_never_issued_is_kept_flagged_and_reported_apart(app, card):
    unknown = new_card()
    suggestion = card["suggestions"][0]["uuid"]
    body = {
        "feedback": [accepted(card["uuid"], suggestion), overridden(unknown, code="not-relevant")]
    }
    assert post(app, body).status_code == 200
    assert stored(app) == [
        (card["uuid"], True, "accepted", [suggestion], None, None, False),
        (unknown, False, "overridden", [], REASONS, "not-relevant", False),
    ]
    rows = report(db_of(app))
    assert [
        (
            r.rule,
            r.service,
            r.issued,
            r.feedback,
            r.accepted,
            r.overridden,
            r.acceptance_rate,
            r.override_reasons,
        )
        for r in rows
    ] == [
        ("R1-start-neuro-loading", PV, 1, 1, 1, 0, 1.0, {}),
        (UNKNOWN_CARD, PV, 0, 1, 0, 1, 0.0, {"not-relevant": 1}),
    ]


def test_a_resent_body_stores_nothing_new(app, card, logs):
    body = {
        "feedback": [
            overridden(card["uuid"], code="patient-declined"),
            overridden(new_card(), comment="seen in clinic"),
            accepted(new_card(), new_card()),
        ]
    }
    assert post(app, body).status_code == 200
    after_first = counts(db_of(app))
    assert after_first["feedback"] == 3
    for _ in range(2):
        response = post(app, body)
        assert response.status_code == 200 and response.get_json() == {}
    assert counts(db_of(app)) == after_first
    # a resend with one new entry, in another order: only the new one is stored
    extra = overridden(new_card(), code="already-treated")
    assert post(app, {"feedback": [extra, *reversed(body["feedback"])]}).status_code == 200
    assert counts(db_of(app))["feedback"] == 4
    assert [line["stored"] for line in logs.requests() if line["path"] == FEEDBACK] == [3, 0, 0, 1]


def _without(entry: dict, key: str) -> dict:
    return {k: v for k, v in entry.items() if k != key}


GOOD = overridden("f6b95768-b1c8-40dc-8385-bf3504b82ffb", code="patient-declined")
BAD = {
    "missing outcome": [_without(GOOD, "outcome")],
    "unknown outcome": [{**GOOD, "outcome": "ignored"}],
    "timestamp not a date": [{**GOOD, "outcomeTimestamp": "yesterday"}],
    "timestamp without a zone": [{**GOOD, "outcomeTimestamp": "2026-01-01T10:05:31"}],
    "override reason without a code": [{**GOOD, "overrideReason": {"reason": {"system": REASONS}}}],
    "empty override reason": [{**GOOD, "overrideReason": {}}],
    "accepted without suggestions": [{**_without(GOOD, "overrideReason"), "outcome": "accepted"}],
    "good entry then bad": [GOOD, {**GOOD, "outcome": "ignored"}],
    "bad entry then good": [_without(GOOD, "outcomeTimestamp"), GOOD],
}


@pytest.mark.parametrize("entries", BAD.values(), ids=BAD.keys())
def test_a_malformed_body_is_400_and_stores_nothing(app, card, entries):
    assert post(app, {"feedback": [overridden(card["uuid"], code="x")]}).status_code == 200
    before = counts(db_of(app))
    assert before == {"hook_call": 1, "issued_card": 1, "feedback": 1}
    assert_operation_outcome(post(app, {"feedback": entries}), 400)
    assert counts(db_of(app)) == before
    if GOOD in entries:  # the good entry alone is stored: the 400 was about its neighbour
        assert post(app, {"feedback": [GOOD]}).status_code == 200
        assert counts(db_of(app))["feedback"] == 2


def test_the_clinicians_comment_is_never_stored_only_that_there_was_one(app, card):
    comment = "Mrs Hartley would rather take tablets, see letter QX-7731"
    body = {
        "feedback": [
            overridden(card["uuid"], code="patient-declined", comment=comment),
            overridden(new_card(), code="patient-declined"),
        ]
    }
    assert post(app, body).status_code == 200
    assert [row[-1] for row in stored(app)] == [True, False]  # has_comment
    text = dump(db_of(app))
    for fragment in (comment, "QX-7731", "Hartley", "tablets"):
        assert fragment not in text


def test_an_over_long_reason_system_is_a_400_on_every_backend(app):
    entry = overridden(new_card(), code="patient-declined")
    entry["overrideReason"]["reason"]["system"] = "https://example.org/" + "x" * 1000
    diagnostics = assert_operation_outcome(post(app, {"feedback": [entry]}), 400)
    assert "overrideReason.reason.system" in diagnostics
    assert counts(db_of(app))["feedback"] == 0


def test_the_outcome_time_is_kept_as_the_instant_sent(app, db_url, request):
    entry = overridden(new_card(), code="patient-declined", when="2026-01-01T10:05:31+02:00")
    assert post(app, {"feedback": [entry]}).status_code == 200
    with db_of(app).session() as session:
        (value,) = session.scalars(select(Feedback.outcome_at))
    as_utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    assert as_utc == datetime(2026, 1, 1, 8, 5, 31, tzinfo=UTC)


@pytest.mark.parametrize(
    "when",
    [
        "9999-12-31T23:59:59-23:59",
        "9999-12-31T23:00:00-01:00",
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:00:00.5+00:01",
    ],
)
def test_an_outcome_time_outside_the_calendar_in_utc_is_400_not_500(app, when):
    """Each is a valid instant as written, but falls in the year 0 or 10000 in UTC."""
    entry = overridden(new_card(), code="patient-declined", when=when)
    diagnostics = assert_operation_outcome(post(app, {"feedback": [entry]}), 400)
    assert "outcomeTimestamp" in diagnostics and "UTC" in diagnostics
    assert counts(db_of(app))["feedback"] == 0


@pytest.mark.parametrize(
    ("when", "instant"),
    [
        ("9999-12-31T23:59:59Z", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("9999-12-31T00:00:00-23:59", datetime(9999, 12, 31, 23, 59, tzinfo=UTC)),
        ("0001-01-01T14:00:00+14:00", datetime(1, 1, 1, 0, 0, tzinfo=UTC)),
    ],
)
def test_the_last_and_first_instants_the_calendar_holds_are_stored(app, when, instant):
    entry = overridden(new_card(), code="patient-declined", when=when)
    assert post(app, {"feedback": [entry]}).status_code == 200
    with db_of(app).session() as session:
        (value,) = session.scalars(select(Feedback.outcome_at))
    assert (value if value.tzinfo else value.replace(tzinfo=UTC)) == instant
