"""Per-site settings through the real app with authentication on, on SQLite and PostgreSQL:
each EHR site (the JWT ``tenant``, else the issuer) gets its own rules, indicators and hold
periods, and the file is read again without a restart."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from cds_b12.api.fatigue import HELD_EXTENSION
from cds_b12.fatigue import sites

from ..auth.support import FEEDBACK_AUD, SERVICE_AUD, auth_app, make_token
from .support import now_iso, overridden
from .test_snooze import METFORMIN, Chart

SETTINGS = """
[sites."site-a"]
rules_off = ["R17-metformin-screening"]

[sites."site-b"]
indicators = { "R17-metformin-screening" = "warning" }
snooze_days = { "already-addressed" = 2 }
"""


class SiteChart(Chart):
    """A chart opened by one tenant of the trusted issuer, with a fresh token each time."""

    def __init__(self, app, tenant: str | None) -> None:
        super().__init__(app, METFORMIN)
        self.tenant = tenant

    def _headers(self, aud: str) -> dict:
        claims = {"tenant": self.tenant} if self.tenant else {}
        return {"Authorization": f"Bearer {make_token(aud, **claims)}"}

    def open(self, body: dict | None = None, *, same_instance: bool = False) -> dict:
        body = dict(body or self.body)
        body["hookInstance"] = f"i-{datetime.now(UTC).timestamp()}-{self.tenant}"
        response = self.app.test_client().post(
            f"/cds-services/{self.service}", json=body, headers=self._headers(SERVICE_AUD)
        )
        assert response.status_code == 200
        return response.get_json()

    def answer(self, entry: dict) -> None:
        response = self.app.test_client().post(
            f"/cds-services/{self.service}/feedback",
            json={"feedback": [entry]},
            headers=self._headers(FEEDBACK_AUD),
        )
        assert response.status_code == 200


@pytest.fixture
def settings_file(tmp_path):
    path = tmp_path / "sites.toml"
    path.write_text(SETTINGS)
    return path


@pytest.fixture
def app(db_url, settings_file):
    return auth_app(database_url=db_url, site_settings=str(settings_file))


def test_a_site_that_switched_a_rule_off_gets_no_card_and_the_others_do(app):
    off = SiteChart(app, "site-a").open()
    assert off["cards"] == []
    assert off["extension"][HELD_EXTENSION] == [{"rule": "R17-metformin-screening", "why": "off"}]
    assert len(SiteChart(app, "site-c").open()["cards"]) == 1
    assert len(SiteChart(app, None).open()["cards"]) == 1


def test_a_site_s_indicator_is_the_one_sent(app):
    (card,) = SiteChart(app, "site-b").open()["cards"]
    (default,) = SiteChart(app, "site-c").open()["cards"]
    assert (card["indicator"], default["indicator"]) == ("warning", "info")


def test_a_site_s_snooze_period_is_its_own(app):
    charts = {tenant: SiteChart(app, tenant) for tenant in ("site-b", "site-c")}
    for chart in charts.values():
        (card,) = chart.open()["cards"]
        chart.answer(overridden(card["uuid"], code="already-addressed", when=now_iso()))
        assert chart.open()["cards"] == []
    charts["site-b"].backdate(timedelta(days=2, hours=1))  # every row, both sites' too
    assert len(charts["site-b"].open()["cards"]) == 1  # its own 2 days are over
    assert charts["site-c"].open()["cards"] == []  # the default 14 days are not


def test_the_file_is_read_again_without_a_restart(app, settings_file, monkeypatch):
    monkeypatch.setattr(sites, "RECHECK_SECONDS", 0.0)
    assert SiteChart(app, "site-a").open()["cards"] == []
    settings_file.write_text('[sites."site-a"]\nrules_off = []\n')
    os.utime(settings_file, ns=(1, 1))
    assert len(SiteChart(app, "site-a").open()["cards"]) == 1
