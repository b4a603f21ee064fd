"""The governance report, on SQLite and PostgreSQL: per rule and site, cards issued,
accepted, overridden and snoozed, the override reasons and the weeks, the highest override
rates first; as ``cds-b12 report --html FILE`` and as ``GET /report``, which only a bearer
of ``CDS_B12_REPORT_TOKEN``, or this machine in local development, may read."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from cds_b12.cli import main
from cds_b12.store.governance import LOCAL, governance

from ..api.support import make_app
from ..auth.support import ISS, auth_app, make_token
from .support import accepted, now_iso, overridden
from .test_sites import SiteChart
from .test_snooze import SEVERE, Chart, with_lab

TOKEN = "report-token-0123456789abcdef"


@pytest.fixture
def filled(db_url):
    """Three sites' answers: site-a overrides R17 twice (once snoozing it), site-b accepts it;
    the local chart has a critical card overridden and R17 issued once more a week before."""
    app = auth_app(database_url=db_url)
    a, b = SiteChart(app, "site-a"), SiteChart(app, "site-b")
    (card,) = a.open()["cards"]
    a.answer(overridden(card["uuid"], code="patient-declined", when=now_iso()))
    a.open()  # snoozed
    (other,) = a.open(with_lab(a.body, "hb-new", 11.2))["cards"]  # new facts: shown again
    a.answer(overridden(other["uuid"], comment="not today", when=now_iso()))
    (card,) = b.open()["cards"]
    b.answer(accepted(card["uuid"], card["suggestions"][0]["uuid"], when=now_iso()))

    local = make_app(database_url=db_url)
    severe = Chart(local, SEVERE)
    critical = next(c for c in severe.open()["cards"] if c["indicator"] == "critical")
    severe.answer(overridden(critical["uuid"], code="clinical-judgement", when=now_iso()))
    return app


def rows_by_key(db) -> dict:
    return {(r.rule, r.site): r for r in governance(db)}


def test_per_rule_and_site_counts_and_reasons(filled):
    rows = rows_by_key(filled.extensions["cds_b12"].db)
    a = rows[("R17-metformin-screening", "site-a")]
    assert (a.issued, a.accepted, a.overridden, a.snoozed) == (2, 0, 2, 1)
    assert a.override_reasons == {"patient-declined": 1, "(no reason given)": 1}
    assert a.override_rate == 1.0 and a.held == {"snoozed": 1}
    b = rows[("R17-metformin-screening", "site-b")]
    assert (b.issued, b.accepted, b.overridden, b.override_rate) == (1, 1, 0, 0.0)
    (local,) = [r for (_, site), r in rows.items() if site == LOCAL and r.overridden]
    assert local.override_reasons == {"clinical-judgement": 1}


def test_the_highest_override_rates_come_first_and_unanswered_rules_last(filled):
    rows = governance(filled.extensions["cds_b12"].db)
    rates = [r.override_rate for r in rows]
    answered = [r for r in rates if r is not None]
    assert answered == sorted(answered, reverse=True)
    assert rates[: len(answered)] == answered  # the rows without feedback after them all
    assert (rows[0].rule, rows[0].site) == ("R17-metformin-screening", "site-a")


def test_weeks_start_on_monday_and_count_by_when_things_happened(filled):
    chart = SiteChart(filled, "site-d")
    (card,) = chart.open()["cards"]
    chart.answer(overridden(card["uuid"], comment="no", when=now_iso()))
    chart.backdate(timedelta(days=7))  # everything so far happened a week earlier
    chart.open()
    row = rows_by_key(filled.extensions["cds_b12"].db)[("R17-metformin-screening", "site-d")]
    this_week = datetime.now(UTC).date() - timedelta(days=datetime.now(UTC).weekday())
    last_week = (this_week - timedelta(days=7)).isoformat()
    assert list(row.weeks) == [last_week, this_week.isoformat()]
    assert (row.weeks[last_week].issued, row.weeks[last_week].overridden) == (1, 1)
    assert row.weeks[this_week.isoformat()].issued == 1


def test_report_html_writes_one_page_with_everything_in_it(
    filled, db_url, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("CDS_B12_DATABASE_URL", db_url)
    path = tmp_path / "governance.html"
    assert main(["report", "--html", str(path)]) == 0
    assert (
        capsys.readouterr().out == f"wrote the governance report (4 rule and site rows) to {path}\n"
    )
    page = path.read_text()
    assert "<script src=" not in page and '<link rel="stylesheet"' not in page  # self-contained
    assert "Chart.js v4" in page or "new Chart" in page
    first = re.search(r'<tr data-testid="row" data-rule="([^"]+)" data-site="([^"]+)"', page)
    assert first and first.groups() == ("R17-metformin-screening", "site-a")
    data = json.loads(
        re.search(
            r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S
        ).group(1)
    )
    assert data["rows"][0]["override_rate"] == 1.0


def test_report_html_to_a_folder_that_is_not_there_is_one_line_and_exit_2(
    db_url, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("CDS_B12_DATABASE_URL", db_url)
    assert main(["report", "--html", str(tmp_path / "no" / "such" / "file.html")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("cds-b12: error: cannot write ") and err.count("\n") == 1


def test_a_site_name_cannot_add_markup_to_the_page(db_url):
    app = auth_app(database_url=db_url)
    SiteChart(app, '<img src=x onerror=alert(1)>"').open()
    html = make_app(database_url=db_url).test_client().get("/report").get_data(as_text=True)
    assert "<img src=x" not in html and unescape("&lt;img") in unescape(html)


def test_local_development_shows_the_report_to_this_machine_only(db_url):
    client = make_app(database_url=db_url).test_client()
    response = client.get("/report")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    remote = client.get("/report", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert remote.status_code == 401 and remote.data == b""


def test_with_authentication_the_report_needs_its_own_token(db_url):
    assert auth_app(database_url=db_url).test_client().get("/report").status_code == 404
    client = auth_app(database_url=db_url, report_token=TOKEN).test_client()
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token-0123456789abcdef"},
        {"Authorization": TOKEN},
        {"Authorization": f"Bearer {make_token('https://cds.example.org/report', iss=ISS)}"},
    ):
        response = client.get("/report", headers=headers)
        assert response.status_code == 401 and response.data == b""
    response = client.get("/report", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200 and "Card governance report" in response.get_data(
        as_text=True
    )
    assert (
        client.get(
            "/report?since=yesterday", headers={"Authorization": f"Bearer {TOKEN}"}
        ).status_code
        == 400
    )
