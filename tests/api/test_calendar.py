"""The reminder calendar on the timeline: the same plan as the picture, as iCalendar."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from icalendar import Calendar

from .support import TODAY, make_app
from .test_timeline import ISSUERS, MAINTENANCE, _fake_ehr, embedded_data

LOADING = "r2-pa-low-b12"


def ics(client, patient: str):
    response = client.get(f"/timeline/calendar.ics?patient={patient}")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert (
        response.headers["Content-Disposition"] == f'attachment; filename="b12-plan-{patient}.ics"'
    )
    return response.get_data(), Calendar.from_ical(response.get_data())


def day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def test_an_overdue_injection_is_on_today_and_says_so():
    client = make_app().test_client()
    body, cal = ics(client, MAINTENANCE)
    (event,) = cal.events
    assert event.start == TODAY and event.end == TODAY + timedelta(days=1)
    assert re.fullmatch(r"B12 injection: overdue since \d{4}-\d\d-\d\d", str(event["summary"]))
    due = date.fromisoformat(str(event["summary"]).rsplit(" ", 1)[1])
    assert due < TODAY
    assert "every month" in str(event["description"])
    assert "Give the overdue B12 maintenance injection" in str(event["description"])
    data = client.get(f"/timeline/data?patient={MAINTENANCE}").get_json()
    assert data["plannedDoses"] == [TODAY.isoformat()]
    assert data["calendar"].encode() == body, "the page's link offers the same file"


@pytest.mark.parametrize("profile", ["us", "uk"])
def test_every_planned_dose_and_lab_window_of_the_timeline_is_an_event(profile):
    client = make_app(profile=profile).test_client()
    data = client.get(f"/timeline/data?patient={LOADING}").get_json()
    _, cal = ics(client, LOADING)
    doses = [e for e in cal.events if "B12 injection" in e.categories]
    labs = [e for e in cal.events if "B12 lab" in e.categories]
    assert [e.start.isoformat() for e in doses] == data["plannedDoses"]
    regimen = "hydroxocobalamin 1 mg IM" if profile == "uk" else "cyanocobalamin 1000 micrograms IM"
    assert all(regimen in str(e["description"]) for e in doses), "the regimen is described"
    windows = {(lab["from"], lab["to"] or lab["from"]) for lab in data["dueLabs"]}
    assert {(e.start.isoformat(), (e.end - timedelta(days=1)).isoformat()) for e in labs} == windows
    assert sum(str(e["summary"]).count(",") + 1 for e in labs) == len(data["dueLabs"])
    for event in cal.events:
        (alarm,) = event.walk("VALARM")
        assert alarm["action"] == "DISPLAY"
        assert alarm["trigger"].dt == -timedelta(days=1)
    assert len({str(e["uid"]) for e in cal.events}) == len(cal.events)


def test_the_calendar_is_local_development_only_like_the_data():
    client = make_app(public_url="https://cds.example.org", trusted_issuers=ISSUERS).test_client()
    assert client.get(f"/timeline/calendar.ics?patient={MAINTENANCE}").status_code == 401


def test_a_smart_launch_page_carries_the_calendar(httpserver):
    base = _fake_ehr(httpserver)
    client = make_app(smart_client_id="cds-b12-test").test_client()
    state = parse_qs(
        urlsplit(client.get(f"/timeline/launch?iss={base}&launch=abc").headers["Location"]).query
    )["state"][0]
    html = client.get(f"/timeline/callback?code=the-code&state={state}").get_data(as_text=True)
    embedded = json.loads(embedded_data(html))
    cal = Calendar.from_ical(embedded["calendar"])
    (event,) = cal.events
    assert "overdue" in str(event["summary"]) and event.start == TODAY
