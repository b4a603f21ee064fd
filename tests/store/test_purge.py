"""Retention: ``purge`` deletes hook calls (their cards with them) and feedback received
before the cut-off, and nothing newer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from cds_b12.cli import main
from cds_b12.store.db import Database
from cds_b12.store.report import purge
from cds_b12.store.schema import Feedback, HookCall, IssuedCard

from ..api.support import make_app, scenario_named, scenario_request
from .support import counts, overridden


@dataclass
class Aged:
    db: Database
    calls: dict[str, int]  # age in days -> hook_call id
    cards: dict[str, list[str]]  # age in days -> its cards' uuids
    feedback: dict[str, str]  # age in days -> card uuid of the feedback entry


def days_ago(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


@pytest.fixture
def aged(db_url) -> Aged:
    """Hook calls received 40 days ago, 20 days ago and now; feedback 40, 29 days ago, now."""
    app = make_app(database_url=db_url)
    client = app.test_client()
    db = app.extensions["cds_b12"].db
    calls, cards = {}, {}
    for age, fragment in (
        ("40", "R7-severe-anaemia/severe-anaemia-fires"),
        ("20", "R1-start-neuro-loading/pa-neuro"),
        ("0", "R15-b12-order-on-maintenance"),
    ):
        service, body = scenario_request(scenario_named(fragment))
        response = client.post(f"/cds-services/{service}", json=body)
        cards[age] = [c["uuid"] for c in response.get_json()["cards"]]
        with db.session() as session:
            calls[age] = session.scalar(
                select(IssuedCard.call_id).where(IssuedCard.uuid == cards[age][0])
            )
    feedback = {"40": cards["40"][0], "29": cards["20"][0], "0": cards["0"][0]}
    entries = [overridden(card, code="patient-declined") for card in feedback.values()]
    assert (
        client.post(
            "/cds-services/b12-patient-view/feedback", json={"feedback": entries}
        ).status_code
        == 200
    )
    with db.session() as session:
        for age, call in calls.items():
            session.execute(
                update(HookCall).where(HookCall.id == call).values(received_at=days_ago(int(age)))
            )
        for age, card in feedback.items():
            session.execute(
                update(Feedback)
                .where(Feedback.card_uuid == card)
                .values(received_at=days_ago(int(age)))
            )
    assert counts(db) == {"hook_call": 3, "issued_card": 4, "feedback": 3}
    return Aged(db, calls, cards, feedback)


def remaining(db: Database) -> tuple[set[int], set[str], set[str]]:
    with db.session() as session:
        return (
            set(session.scalars(select(HookCall.id))),
            set(session.scalars(select(IssuedCard.uuid))),
            set(session.scalars(select(Feedback.card_uuid))),
        )


def test_purge_deletes_only_what_is_older_and_the_cards_go_with_their_call(aged):
    assert purge(aged.db, 30) == (1, 1)
    calls, cards, feedback = remaining(aged.db)
    assert calls == {aged.calls["20"], aged.calls["0"]}
    assert cards == {*aged.cards["20"], *aged.cards["0"]}  # the 40-day call's two cards: gone
    assert feedback == {aged.feedback["29"], aged.feedback["0"]}
    assert purge(aged.db, 30) == (0, 0)
    assert purge(aged.db, 10) == (1, 1)
    assert remaining(aged.db) == ({aged.calls["0"]}, set(aged.cards["0"]), {aged.feedback["0"]})


def test_cli_purge_prints_what_it_deleted(aged, db_url, monkeypatch, capsys):
    monkeypatch.setenv("CDS_B12_DATABASE_URL", db_url)
    assert main(["purge", "--older-than", "30"]) == 0
    assert capsys.readouterr() == (
        "deleted 1 hook calls (with their cards) and 1 feedback "
        "entries received more than 30 days ago\n",
        "",
    )
    assert counts(aged.db) == {"hook_call": 2, "issued_card": 2, "feedback": 2}


@pytest.mark.parametrize("days", ["0", "-5"])
def test_cli_purge_of_less_than_a_day_is_refused(aged, db_url, monkeypatch, capsys, days):
    monkeypatch.setenv("CDS_B12_DATABASE_URL", db_url)
    assert main(["purge", "--older-than", days]) == 2
    assert capsys.readouterr() == (
        "",
        f"cds-b12 purge: error: argument --older-than: must be at least 1: '{days}' "
        "(see cds-b12 purge --help)\n",
    )
    assert counts(aged.db) == {"hook_call": 3, "issued_card": 4, "feedback": 3}


@pytest.mark.parametrize("days", ["800000", "999999999", "10000000000000"])
def test_a_cut_off_before_the_year_1_deletes_nothing_and_is_no_traceback(
    aged, db_url, monkeypatch, capsys, days
):
    """The calendar ends: nothing can be older than that (it was an OverflowError)."""
    monkeypatch.setenv("CDS_B12_DATABASE_URL", db_url)
    assert main(["purge", "--older-than", days]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("deleted 0 hook calls") and err == ""
    assert counts(aged.db) == {"hook_call": 3, "issued_card": 4, "feedback": 3}
