"""Feedback changes what is shown: each snooze reason holds the rule's card for its period,
new facts end a hold early, critical safety cards are held for a day at most, an accepted
card waits while it is acted on, and no card is shown twice in one hookInstance or
encounter. Through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from cds_b12.api.fatigue import HELD_EXTENSION
from cds_b12.fatigue.policy import CRITICAL_FLOOR, DEFAULT_ACCEPTED_DAYS, DEFAULT_SNOOZE_DAYS
from cds_b12.store.schema import Feedback, HeldCard, HookCall

from ..api.support import TODAY, make_app, scenario_named, scenario_request
from ..api.test_metrics import scrape, value
from .support import accepted, now_iso, overridden

METFORMIN = "R17-metformin-screening/metformin-no-b12-fires"
SEVERE = "R7-severe-anaemia/severe-anaemia-fires"
OVERDUE = "R11-maintenance-overdue/monthly-overdue-fires"
MAINTENANCE = "R10-start-maintenance/us-loading-complete-fires"
_FEEDBACK_TIMES = ("received_at", "outcome_at")


@pytest.fixture
def app(db_url):
    return make_app(database_url=db_url)


class Chart:
    """One patient's chart, opened as an EHR opens it: a new hookInstance each time."""

    def __init__(self, app, fragment: str) -> None:
        self.app = app
        self.service, self.body = scenario_request(scenario_named(fragment))

    def open(self, body: dict | None = None, *, same_instance: bool = False) -> dict:
        body = copy.deepcopy(body or self.body)
        if not same_instance:
            body["hookInstance"] = f"instance-{datetime.now(UTC).timestamp()}-{id(body)}"
        response = self.app.test_client().post(f"/cds-services/{self.service}", json=body)
        assert response.status_code == 200
        return response.get_json()

    def answer(self, entry: dict) -> None:
        response = self.app.test_client().post(
            f"/cds-services/{self.service}/feedback", json={"feedback": [entry]}
        )
        assert response.status_code == 200

    def backdate(self, by: timedelta) -> None:
        """Everything stored happened ``by`` earlier."""
        with self.app.extensions["cds_b12"].db.session() as session:
            for table, columns in ((HookCall, ("received_at",)), (Feedback, _FEEDBACK_TIMES)):
                for row in session.scalars(select(table)):
                    for column in columns:  # in Python: SQLite has no date arithmetic
                        setattr(row, column, getattr(row, column) - by)


def held(response: dict) -> list[dict]:
    return response.get("extension", {}).get(HELD_EXTENSION, [])


def only_card(response: dict) -> dict:
    (card,) = response["cards"]
    return card


def with_lab(body: dict, obs_id: str, value: float) -> dict:
    """The request with one more result, today: a copy of its haemoglobin (else of its first
    result) with another value."""
    body = copy.deepcopy(body)
    entries = body["prefetch"]["labs"]["entry"]
    hb = [e for e in entries if e["resource"]["code"]["coding"][0]["code"] == "718-7"]
    new = copy.deepcopy((hb or entries)[0])
    new["resource"]["id"] = obs_id
    new["resource"]["valueQuantity"]["value"] = value
    new["resource"]["effectiveDateTime"] = f"{TODAY.isoformat()}T08:00:00Z"
    entries.append(new)
    return body


def with_b12_order(body: dict) -> dict:
    """The request with a new B12 injection order on the record, as after a suggestion."""
    body = copy.deepcopy(body)
    meds = body["prefetch"]["medicationRequests"]["entry"]
    order = copy.deepcopy(meds[0])
    order["resource"].update(
        id="b12-order-new",
        status="active",
        intent="order",
        medicationCodeableConcept={
            "coding": [
                {
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code": "309594",
                    "display": "vitamin B12 1 MG/ML Injectable Solution",
                }
            ]
        },
    )
    meds.append(order)
    return body


@pytest.mark.parametrize("reason", sorted(DEFAULT_SNOOZE_DAYS))
def test_each_override_reason_snoozes_the_rule_for_its_period(app, reason):
    chart = Chart(app, METFORMIN)
    first = only_card(chart.open())
    chart.answer(overridden(first["uuid"], code=reason, when=now_iso()))

    second = chart.open()
    assert second["cards"] == []
    (hold,) = held(second)
    assert (hold["rule"], hold["why"], hold["reason"]) == (
        "R17-metformin-screening",
        "snoozed",
        reason,
    )
    until = datetime.fromisoformat(hold["until"])
    expected = datetime.now(UTC) + timedelta(days=DEFAULT_SNOOZE_DAYS[reason])
    assert abs(until - expected) < timedelta(minutes=1)

    chart.backdate(timedelta(days=DEFAULT_SNOOZE_DAYS[reason]) - timedelta(hours=1))
    assert chart.open()["cards"] == []
    chart.backdate(timedelta(hours=2))  # the period is over
    again = only_card(chart.open())
    display = {r["code"]: r["display"] for r in again["overrideReasons"]}[reason]
    assert "**Dismissed before:**" in again["detail"] and f"({display})" in again["detail"]


def test_the_first_card_is_never_held(app):
    """Nothing is snoozed for a patient no clinician has answered about."""
    chart = Chart(app, METFORMIN)
    response = chart.open()
    assert len(response["cards"]) == 1 and "extension" not in response
    assert "Dismissed before" not in response["cards"][0]["detail"]


def test_an_override_without_a_reason_snoozes_nothing_but_is_remembered(app):
    chart = Chart(app, METFORMIN)
    first = only_card(chart.open())
    chart.answer(overridden(first["uuid"], comment="not now", when=now_iso()))
    again = only_card(chart.open())
    assert "**Dismissed before:**" in again["detail"] and "(no reason given)" in again["detail"]


def test_a_new_lab_result_ends_the_snooze(app):
    chart = Chart(app, METFORMIN)
    first = only_card(chart.open())
    chart.answer(overridden(first["uuid"], code="patient-declined", when=now_iso()))
    assert chart.open()["cards"] == []
    newer = with_lab(chart.body, "hb-new", 11.2)
    again = only_card(chart.open(newer))
    assert again["summary"] == first["summary"] and "Dismissed before" in again["detail"]


def test_a_critical_card_is_snoozed_for_a_day_at_most_and_says_when_it_was_dismissed(app):
    chart = Chart(app, SEVERE)
    first = chart.open()["cards"]
    critical = next(c for c in first if c["indicator"] == "critical")
    chart.answer(overridden(critical["uuid"], code="specialist-managing", when=now_iso()))

    second = chart.open()
    assert critical["summary"] not in {c["summary"] for c in second["cards"]}
    (hold,) = [h for h in held(second) if h["why"] == "snoozed"]
    until = datetime.fromisoformat(hold["until"])
    assert abs(until - (datetime.now(UTC) + CRITICAL_FLOOR)) < timedelta(minutes=1)

    chart.backdate(CRITICAL_FLOOR + timedelta(minutes=5))
    shown = next(c for c in chart.open()["cards"] if c["summary"] == critical["summary"])
    day = (datetime.now(UTC) - CRITICAL_FLOOR).date().isoformat()
    assert f"**Dismissed before:** {day} (Managed by specialist)" in shown["detail"]


def test_a_critical_card_is_shown_again_in_the_same_encounter(app):
    """A repeat holds only cards that are not critical: the first answer may have been lost."""
    chart = Chart(app, SEVERE)
    chart.body["context"]["encounterId"] = "enc-1"
    first = chart.open()["cards"]
    again = chart.open()
    critical = [c["summary"] for c in first if c["indicator"] == "critical"]
    assert critical and [c["summary"] for c in again["cards"]] == critical
    assert len(held(again)) == len(first) - len(critical)


def test_a_new_order_ends_the_snooze(app):
    chart = Chart(app, OVERDUE)
    card = only_card(chart.open())
    chart.answer(overridden(card["uuid"], code="already-addressed", when=now_iso()))
    assert chart.open()["cards"] == []
    assert len(chart.open(with_b12_order(chart.body))["cards"]) == 1


def test_an_accepted_card_waits_while_its_order_is_acted_on_until_a_new_result(app):
    """The order reaching the record is what acceptance asked for; a new result is news."""
    chart = Chart(app, MAINTENANCE)
    card = only_card(chart.open())
    chart.answer(accepted(card["uuid"], card["suggestions"][0]["uuid"], when=now_iso()))
    ordered = with_b12_order(chart.body)
    response = chart.open(ordered)
    assert response["cards"] == [] and [h["why"] for h in held(response)] == ["accepted"]
    assert len(chart.open(with_lab(ordered, "hb-new", 10.1))["cards"]) == 1


def test_an_accepted_card_is_not_shown_again_in_its_encounter_whatever_came_since(app):
    chart = Chart(app, METFORMIN)
    chart.body["context"]["encounterId"] = "enc-3"
    card = only_card(chart.open())
    chart.answer(accepted(card["uuid"], card["suggestions"][0]["uuid"], when=now_iso()))
    response = chart.open(with_lab(chart.body, "hb-new", 11.0))
    assert response["cards"] == [] and held(response) == [
        {"rule": "R17-metformin-screening", "why": "accepted"}
    ]
    del chart.body["context"]["encounterId"]
    assert len(chart.open(with_lab(chart.body, "hb-new", 11.0))["cards"]) == 1


def test_the_same_card_is_not_shown_twice_in_one_hook_instance_or_encounter(app):
    chart = Chart(app, METFORMIN)
    chart.open(same_instance=True)
    again = chart.open(same_instance=True)
    assert again["cards"] == [] and [h["why"] for h in held(again)] == ["repeat"]

    chart.body["context"]["encounterId"] = "enc-7"
    assert len(chart.open()["cards"]) == 1  # a new instance and a new encounter
    assert chart.open()["cards"] == []  # the same encounter, another instance
    del chart.body["context"]["encounterId"]
    assert len(chart.open()["cards"]) == 1


def test_an_accepted_card_waits_while_it_is_acted_on(app):
    chart = Chart(app, METFORMIN)
    first = only_card(chart.open())
    chart.answer(accepted(first["uuid"], first["suggestions"][0]["uuid"], when=now_iso()))
    second = chart.open()
    assert second["cards"] == [] and [h["why"] for h in held(second)] == ["accepted"]
    chart.backdate(timedelta(days=DEFAULT_ACCEPTED_DAYS, hours=1))
    assert len(chart.open()["cards"]) == 1


def test_held_cards_are_recorded_for_the_report(app):
    chart = Chart(app, METFORMIN)
    first = only_card(chart.open())
    chart.answer(overridden(first["uuid"], code="already-addressed", when=now_iso()))
    chart.open()
    app.extensions["cds_b12"].audit.flush()
    with app.extensions["cds_b12"].db.session() as session:
        rows = session.execute(select(HeldCard.rule_id, HeldCard.why, HeldCard.reason)).all()
    assert [tuple(r) for r in rows] == [("R17-metformin-screening", "snoozed", "already-addressed")]


def test_feedback_from_another_tenant_snoozes_nothing(app):
    """Feedback counts only for the EHR the card was issued to (``known_card``)."""
    chart = Chart(app, METFORMIN)
    first = only_card(chart.open())
    with app.extensions["cds_b12"].db.session() as session:
        session.execute(update(HookCall).values(tenant="another-site"))
    chart.answer(overridden(first["uuid"], code="patient-declined", when=now_iso()))
    assert len(chart.open()["cards"]) == 1


def test_metrics_count_a_held_card_apart_from_the_cards_sent(app):
    chart = Chart(app, METFORMIN)
    card = only_card(chart.open())
    chart.answer(overridden(card["uuid"], code="patient-declined", when=now_iso()))
    chart.open()
    got = scrape(app.test_client())
    rule = "R17-metformin-screening"
    assert value(got, "cds_b12_cards_issued_total", rule=rule, indicator="info") == 1
    assert value(got, "cds_b12_cards_held_total", rule=rule, why="snoozed") == 1
