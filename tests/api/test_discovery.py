"""``GET /cds-services``: the three services, with prefetch templates a 2.0 client honours."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import quote

import pytest
from fhir.resources.R4B import get_fhir_model_class

from cds_b12.hooks.prefetch import LOOKBACK_DAYS

from .support import SERVICE_FOR_HOOK, TODAY, TYPE_BY_KEY, make_app

TOKEN = re.compile(r"\{\{(.*?)\}\}")
URL_SAFE_ID = re.compile(r"^[A-Za-z0-9._~-]+$")
# Root-level context fields that the hook library marks "Prefetch Token: Yes".
TOKEN_FIELDS = {
    "patient-view": {"userId", "patientId", "encounterId"},
    "order-select": {"userId", "patientId", "encounterId"},
    "order-sign": {"userId", "patientId", "encounterId"},
}
USER_TOKENS = {
    "userPractitionerId",
    "userPractitionerRoleId",
    "userPatientId",
    "userRelatedPersonId",
}
TOKEN_PARAMS = {"code", "status"}
DATE_PARAMS = {
    "date",
    "effective-time",
    "authoredon",
    "onset-date",
    "recorded-date",
    "effective",
    "issued",
    "period",
}
TOKEN_VALUE = re.compile(r"^(?:[^|,\s]+\|)?[^|,\s]+$")
DATE_VALUE = re.compile(r"^(?P<prefix>ge|le|gt|lt|eq)?(?P<date>\d{4}(?:-\d{2}(?:-\d{2})?)?)$")
SORT_VALUE = re.compile(r"^-?[a-z][a-z-]*(?:,-?[a-z][a-z-]*)*$")


def discovery(today: date = TODAY) -> dict:
    response = make_app(today=lambda: today).test_client().get("/cds-services")
    assert response.status_code == 200
    return response.get_json()


def templates_of(doc: dict):
    for service in doc["services"]:
        for key, template in service["prefetch"].items():
            yield service["hook"], key, template


def assert_no_empty_members(value: object, path: str = "$") -> None:
    assert value is not None, f"{path} is null"
    if isinstance(value, dict | list):
        assert value, f"{path} is empty"
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            assert_no_empty_members(item, f"{path}.{key}")
    elif isinstance(value, str):
        assert value.strip(), f"{path} is blank"


def test_discovery_lists_the_three_services_as_json(client):
    response = client.get("/cds-services")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    services = response.get_json()["services"]
    assert {s["hook"]: s["id"] for s in services} == SERVICE_FOR_HOOK
    for service in services:
        assert set(service) == {
            "hook",
            "id",
            "title",
            "description",
            "usageRequirements",
            "prefetch",
        }
        for field in ("hook", "id", "title", "description", "usageRequirements"):
            assert isinstance(service[field], str) and service[field].strip()
        assert isinstance(service["prefetch"], dict)
        assert all(isinstance(v, str) for v in service["prefetch"].values())


def test_discovery_with_a_trailing_slash(client):
    assert client.get("/cds-services/").get_json() == client.get("/cds-services").get_json()


def test_service_ids_are_url_safe_and_unique():
    ids = [s["id"] for s in discovery()["services"]]
    assert len(ids) == len(set(ids))
    assert all(URL_SAFE_ID.fullmatch(i) for i in ids), ids
    assert all(quote(i, safe="") == i for i in ids)


def test_discovery_has_no_empty_members():
    assert_no_empty_members(discovery())


def test_prefetch_keys_ask_for_the_resource_types_the_service_reads():
    for _hook, key, template in templates_of(discovery()):
        assert template.split("?")[0].split("/")[0] == TYPE_BY_KEY[key], (key, template)
    assert {key for _, key, _ in templates_of(discovery())} == set(TYPE_BY_KEY)


def test_every_token_is_a_2_0_token():
    """Root-level context fields and the four user tokens only: no FHIRPath, no today()."""
    for hook, key, template in templates_of(discovery()):
        tokens = TOKEN.findall(template)
        assert tokens, f"{key}: a template without a token cannot be about this patient"
        for token in tokens:
            allowed = {f"context.{f}" for f in TOKEN_FIELDS[hook]} | USER_TOKENS
            assert token in allowed, f"{hook} {key}: {{{{{token}}}}} is not a 2.0 token"
        rest = TOKEN.sub("", template)
        assert "{" not in rest and "}" not in rest, f"{key}: stray braces in {template}"
        assert "%" not in rest and not re.search(r"\s", rest), template


def is_resource_type(name: str) -> bool:
    try:
        get_fhir_model_class(name)
    except ValueError:
        return False
    return True


def check_query_subset(template: str) -> None:
    """Instance read or type search; reference, token, date (ge/le/gt/lt/eq), _count, _sort."""
    path, _, query = template.partition("?")
    segments = path.split("/")
    assert is_resource_type(segments[0]), template
    if len(segments) == 2:  # instance-level read
        assert TOKEN.fullmatch(segments[1]), template
        assert not query, f"a read takes no parameters: {template}"
        return
    assert len(segments) == 1 and query, template
    for param in query.split("&"):
        name, sep, value = param.partition("=")
        assert sep and value, f"{param!r} in {template}"
        if name == "patient":
            assert value == "{{context.patientId}}", template
        elif name in TOKEN_PARAMS:
            assert all(TOKEN_VALUE.fullmatch(v) for v in value.split(",")), param
        elif name in DATE_PARAMS:
            assert DATE_VALUE.fullmatch(value), f"{param}: only ge/le/gt/lt/eq dates"
        elif name == "_count":
            assert value.isdigit() and int(value) > 0, param
        elif name == "_sort":
            assert SORT_VALUE.fullmatch(value), param
        else:
            raise AssertionError(f"{name!r} is outside the 2.0 recommended subset: {template}")


def test_templates_use_only_the_recommended_query_subset():
    for _hook, _key, template in templates_of(discovery()):
        check_query_subset(template)


@pytest.mark.parametrize(
    "template",
    [
        "Observation?patient={{context.patientId}}&code:text=b12",
        "Observation?patient={{context.patientId}}&date=sa2020-01-01",
        "Observation?patient={{context.patientId}}&_include=Observation:subject",
        "Observation?subject.name=smith",
        "Patient/{{context.patientId}}?_elements=id",
        "Foo?patient={{context.patientId}}",
    ],
)
def test_the_subset_check_rejects_queries_outside_it(template):
    with pytest.raises(AssertionError):
        check_query_subset(template)


def date_values(doc: dict) -> set[str]:
    found = set()
    for _hook, _key, template in templates_of(doc):
        for param in template.partition("?")[2].split("&"):
            name, _, value = param.partition("=")
            if name in DATE_PARAMS:
                found.add(value)
    return found


def test_date_window_is_counted_back_from_the_apps_today():
    since = TODAY - timedelta(days=LOOKBACK_DAYS)
    assert date_values(discovery()) == {f"ge{since.isoformat()}"}
    assert LOOKBACK_DAYS >= 2 * 365  # the rules look back two years


def test_date_window_follows_today_on_every_request():
    clock = [date(2026, 1, 1)]
    client = make_app(today=lambda: clock[0]).test_client()
    first = date_values(client.get("/cds-services").get_json())
    clock[0] = date(2027, 6, 30)
    second = date_values(client.get("/cds-services").get_json())
    (a,), (b,) = first, second
    shift = date.fromisoformat(b[2:]) - date.fromisoformat(a[2:])
    assert shift == clock[0] - date(2026, 1, 1)
