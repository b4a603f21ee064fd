"""The whole loop: cards issued, clinicians' feedback, and the report of how each rule fares,
from ``report()`` and from ``cds-b12 report`` (table and JSON, with and without --since)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from cds_b12.cli import main
from cds_b12.store.report import report
from cds_b12.store.schema import Feedback, HookCall, IssuedCard

from ..api.support import make_app, scenario_named, scenario_request
from .support import accepted, counts, overridden

R1, R2, R7, R15 = (
    "R1-start-neuro-loading",
    "R2-start-standard-loading",
    "R7-severe-anaemia",
    "R15-b12-order-on-maintenance",
)
PV, OS = "b12-patient-view", "b12-order-select"

# rule, service, issued, feedback, accepted, overridden, acceptance rate, override reasons
EXPECTED = [
    (R1, PV, 1, 1, 0, 1, 0.0, {"already-treated": 1}),
    (R2, PV, 3, 2, 1, 1, 0.5, {"(no reason given)": 1}),
    (R7, PV, 3, 3, 1, 2, 0.333, {"patient-declined": 2}),
    (R15, OS, 1, 0, 0, 0, None, {}),
]
FIELDS = (
    "rule",
    "service",
    "issued",
    "feedback",
    "accepted",
    "overridden",
    "acceptance_rate",
    "override_reasons",
)


@dataclass
class Cycle:
    app: Flask
    r1_card: str


def issue(client, logs, fragment: str) -> dict[str, dict]:
    """One hook call; its cards by rule (the request log names the rules, in card order)."""
    service, body = scenario_request(scenario_named(fragment))
    response = client.post(f"/cds-services/{service}", json=body)
    assert response.status_code == 200
    rules = logs.requests()[-1]["rules"]
    return dict(zip(rules, response.get_json()["cards"], strict=True))


def first_suggestion(card: dict) -> str:
    return card["suggestions"][0]["uuid"]


@pytest.fixture
def cycle(db_url, logs) -> Cycle:
    app = make_app(database_url=db_url)
    client = app.test_client()
    a, b, c = (issue(client, logs, "R7-severe-anaemia/severe-anaemia-fires") for _ in range(3))
    r1 = issue(client, logs, "R1-start-neuro-loading/pa-neuro")[R1]
    issue(client, logs, "R15-b12-order-on-maintenance")
    feedback = [
        accepted(a[R2]["uuid"], first_suggestion(a[R2])),
        overridden(b[R2]["uuid"], comment="prefers to wait for the haematology clinic"),
        accepted(a[R7]["uuid"], first_suggestion(a[R7])),
        overridden(b[R7]["uuid"], code="patient-declined"),
        overridden(c[R7]["uuid"], code="patient-declined"),
    ]
    response = client.post(f"/cds-services/{PV}/feedback", json={"feedback": feedback})
    assert response.status_code == 200 and response.get_json() == {}
    response = client.post(
        f"/cds-services/{PV}/feedback",
        json={"feedback": [overridden(r1["uuid"], code="already-treated")]},
    )
    assert response.status_code == 200
    assert counts(app.extensions["cds_b12"].db) == {"hook_call": 5, "issued_card": 8, "feedback": 6}
    return Cycle(app, r1["uuid"])


def as_dicts(rows: list[tuple]) -> list[dict]:
    return [dict(zip(FIELDS, row, strict=True)) for row in rows]


def cli(monkeypatch, capsys, db_url: str, *argv: str) -> str:
    monkeypatch.setenv("CDS_B12_DATABASE_URL", db_url)
    assert main(list(argv)) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


def table_rows(out: str) -> list[list[str]]:
    """The table's body rows, as cells (every cell is one word)."""
    lines = out.split("\n\n")[1].splitlines()
    assert lines[0].split()[:2] == ["Rule", "Service"] and set(lines[1]) <= {"-", " "}
    return [line.split() for line in lines[2:]]


def table_cells(expected: list[tuple]) -> list[list[str]]:
    return [
        [
            rule,
            service,
            str(issued),
            str(fb),
            str(acc),
            str(ovr),
            "-" if rate is None else f"{rate * 100:.0f}%",
        ]
        for rule, service, issued, fb, acc, ovr, rate, _ in expected
    ]


def reasons_section(out: str) -> list[str]:
    _, _, tail = out.partition("\n\nOverride reasons\n")
    assert tail, out
    return tail.rstrip("\n").splitlines()


def test_report_counts_each_rule_per_service(cycle):
    rows = report(cycle.app.extensions["cds_b12"].db)
    assert [r.as_json() for r in rows] == as_dicts(EXPECTED)


def test_cli_report_prints_the_table(cycle, db_url, monkeypatch, capsys):
    out = cli(monkeypatch, capsys, db_url, "report")
    assert out.startswith("Cards and feedback\n\n")
    assert table_rows(out) == table_cells(EXPECTED)
    assert table_cells(EXPECTED)[2][-1] == "33%"
    assert reasons_section(out) == [
        f"  {R1} ({PV}): already-treated x1",
        f"  {R2} ({PV}): (no reason given) x1",
        f"  {R7} ({PV}): patient-declined x2",
    ]


def test_cli_report_json(cycle, db_url, monkeypatch, capsys):
    out = json.loads(cli(monkeypatch, capsys, db_url, "report", "--json"))
    assert out == {"since": None, "rules": as_dicts(EXPECTED)}


def test_since_a_future_date_shows_nothing_and_a_past_date_everything(
    cycle, db_url, monkeypatch, capsys
):
    today = datetime.now(UTC).date()
    future, past = (today + timedelta(days=2)).isoformat(), (today - timedelta(days=2)).isoformat()

    assert (
        cli(monkeypatch, capsys, db_url, "report", "--since", future)
        == f"Cards and feedback since {future}: nothing recorded yet.\n"
    )
    assert json.loads(cli(monkeypatch, capsys, db_url, "report", "--since", future, "--json")) == {
        "since": future,
        "rules": [],
    }

    out = cli(monkeypatch, capsys, db_url, "report", "--since", past)
    assert out.startswith(f"Cards and feedback since {past}\n\n")
    assert table_rows(out) == table_cells(EXPECTED)
    assert json.loads(cli(monkeypatch, capsys, db_url, "report", "--since", past, "--json")) == {
        "since": past,
        "rules": as_dicts(EXPECTED),
    }


def test_since_leaves_out_what_came_before_it(cycle):
    db = cycle.app.extensions["cds_b12"].db
    long_ago = datetime.now(UTC) - timedelta(days=10)
    with db.session() as session:  # the R1 call and its feedback came ten days ago
        r1_call = select(IssuedCard.call_id).where(IssuedCard.uuid == cycle.r1_card)
        session.execute(
            update(HookCall)
            .where(HookCall.id == r1_call.scalar_subquery())
            .values(received_at=long_ago)
        )
        session.execute(
            update(Feedback).where(Feedback.card_uuid == cycle.r1_card).values(received_at=long_ago)
        )
    rows = report(db, since=datetime.now(UTC) - timedelta(days=5))
    assert [r.as_json() for r in rows] == as_dicts(EXPECTED[1:])
    assert [r.as_json() for r in report(db, since=long_ago - timedelta(days=1))] == as_dicts(
        EXPECTED
    )
