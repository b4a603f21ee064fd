"""Each answered hook call is audited: service, hook, profile, a pseudonymous patient key and,
per card, its uuid, rule, indicator and suggestion uuids. Never who the patient is."""

from __future__ import annotations

import hashlib
import hmac
import re
import stat

import pytest
from sqlalchemy import select

from cds_b12.fatigue.policy import Hold
from cds_b12.store.pseudonym import KEY_FILE, load_key
from cds_b12.store.records import CallRecord, record_calls
from cds_b12.store.schema import Feedback, HeldCard, HookCall, IssuedCard

from ..api.support import make_app, scenario_named, scenario_request
from ..auth.support import (
    FEEDBACK_AUD,
    ISS,
    SERVICE_AUD,
    SERVICE_PATH,
    TENANT,
    auth_app,
    bearer,
    close,
    make_token,
)
from .support import counts, dump, new_card, overridden

R1 = "R1-start-neuro-loading/pa-neuro-low-b12-fires"
R7 = "R7-severe-anaemia/severe-anaemia-fires"
R15 = "R15-b12-order-on-maintenance"


def call(app, fragment: str, profile: str = "us") -> tuple[dict, dict]:
    """(request, response) of one hook call for a fixture patient."""
    service, body = scenario_request(scenario_named(fragment, profile))
    response = app.test_client().post(f"/cds-services/{service}", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["cards"], "the scenario is chosen for its cards"
    return body, response.get_json()


def calls(db) -> list[HookCall]:
    with db.session() as session:
        return list(session.scalars(select(HookCall).order_by(HookCall.id)))


def issued(db) -> list[tuple[str, str, str, list[str]]]:
    with db.session() as session:
        return [
            tuple(r)
            for r in session.execute(
                select(
                    IssuedCard.uuid,
                    IssuedCard.rule_id,
                    IssuedCard.indicator,
                    IssuedCard.suggestion_uuids,
                )
            )
        ]


@pytest.mark.parametrize(
    ("fragment", "profile", "service", "hook", "rule"),
    [
        (R1, "us", "b12-patient-view", "patient-view", "R1-start-neuro-loading"),
        (R1, "uk", "b12-patient-view", "patient-view", "R1-start-neuro-loading"),
        (R15, "us", "b12-order-select", "order-select", "R15-b12-order-on-maintenance"),
    ],
)
def test_an_answered_call_is_stored_with_its_cards(db_url, fragment, profile, service, hook, rule):
    app = make_app(database_url=db_url, profile=profile, pseudonym_key="secret-one")
    request, response = call(app, fragment, profile)
    db = app.extensions["cds_b12"].db

    (row,) = calls(db)
    patient_id = request["context"]["patientId"]
    assert (row.service_id, row.hook, row.hook_instance, row.profile, row.issuer, row.tenant) == (
        service,
        hook,
        request["hookInstance"],
        profile.upper(),
        None,
        None,
    )
    assert re.fullmatch(r"[0-9a-f]{64}", row.patient_key)
    assert patient_id not in row.patient_key
    assert (
        row.patient_key == hmac.new(b"secret-one", patient_id.encode(), hashlib.sha256).hexdigest()
    )

    cards = response["cards"]
    assert sorted(issued(db)) == sorted(
        (card["uuid"], rule, card["indicator"], [s["uuid"] for s in card["suggestions"]])
        for card in cards
    )
    assert all(card["suggestions"] for card in cards)


def test_the_patient_key_is_stable_for_a_secret_and_changes_with_it(db_url):
    first = make_app(database_url=db_url, pseudonym_key="secret-one")
    call(first, R1)
    call(first, R1)
    call(first, R7)
    call(make_app(database_url=db_url, pseudonym_key="secret-two"), R1)
    db = first.extensions["cds_b12"].db
    r1_first, r1_again, r7, r1_other_secret = (c.patient_key for c in calls(db))
    assert r1_first == r1_again  # the same patient counts as one
    assert r7 != r1_first  # another patient does not
    assert r1_other_secret != r1_first  # another deployment secret: unlinkable


def test_a_restarted_service_without_a_configured_secret_keeps_its_key(db_url):
    call(make_app(database_url=db_url), R1)
    call(make_app(database_url=db_url), R1)
    first, again = calls(make_app(database_url=db_url).extensions["cds_b12"].db)
    assert first.patient_key == again.patient_key


def test_no_patient_id_name_or_card_text_is_stored(db_url):
    app = make_app(database_url=db_url)
    exchanges = [call(app, R1), call(app, R7), call(app, R15)]
    db = app.extensions["cds_b12"].db
    assert counts(db)["hook_call"] == 3
    text = dump(db)
    secrets: set[str] = set()
    for request, response in exchanges:
        patient = request["prefetch"]["patient"]
        secrets |= {request["context"]["patientId"], patient["birthDate"]}
        secrets |= {i["value"] for i in patient.get("identifier", [])}
        for name in patient["name"]:
            secrets |= {name["family"], *name["given"]}
        secrets |= {card["summary"] for card in response["cards"]}
    found = {s for s in secrets if s in text}  # case matters: R7-... is a rule, r7-... a patient
    assert not found, f"the store holds {sorted(found)}"


def test_a_generated_secret_is_kept_private_in_the_data_dir(tmp_path):
    key = load_key(None, tmp_path)
    path = tmp_path / KEY_FILE
    assert re.fullmatch(rb"[0-9a-f]{64}", key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key(None, tmp_path) == key
    assert load_key("configured", tmp_path / "other") == b"configured"
    assert not (tmp_path / "other").exists()


def test_an_empty_key_file_is_never_the_secret(tmp_path):
    (tmp_path / KEY_FILE).write_text("")
    try:
        key = load_key(None, tmp_path)
    except (OSError, ValueError, RuntimeError):
        return  # refusing to start is as good as making a new secret
    assert key.strip()


def _authenticated(db_url: str, tenant: str):
    """An app that checks tokens, a hook call and feedback with a token each; the responses."""
    app = auth_app(database_url=db_url)
    client = app.test_client()
    _, body = scenario_request(scenario_named(R1))
    call_response = client.post(
        SERVICE_PATH, json=body, headers=bearer(make_token(SERVICE_AUD, tenant=tenant))
    )
    feedback = {"feedback": [overridden(new_card(), code="patient-declined")]}
    feedback_response = client.post(
        f"{SERVICE_PATH}/feedback",
        json=feedback,
        headers=bearer(make_token(FEEDBACK_AUD, tenant=tenant)),
    )
    close(app)
    return app, call_response, feedback_response


def test_an_authenticated_call_and_its_feedback_record_issuer_and_tenant(db_url):
    app, call_response, feedback_response = _authenticated(db_url, TENANT)
    assert call_response.status_code == 200 and feedback_response.status_code == 200
    db = app.extensions["cds_b12"].db
    (row,) = calls(db)
    assert (row.issuer, row.tenant) == (ISS, TENANT)
    with db.session() as session:
        assert session.execute(select(Feedback.issuer, Feedback.tenant)).all() == [(ISS, TENANT)]


def test_a_long_tenant_claim_neither_loses_the_audit_nor_makes_feedback_fail(db_url, request, logs):
    _, call_response, feedback_response = _authenticated(db_url, "t" * 300)
    assert feedback_response.status_code != 503
    assert call_response.status_code in (200, 401)
    assert not [r for r in logs.records() if r["message"] == "audit not stored"]


def test_a_batch_stores_each_call_s_cards_and_held_cards_with_that_call(store):
    """One INSERT for the batch's calls: each card still goes with the call it was made in."""
    record_calls(store, [_call("before", 1)])  # ids do not start at 1
    calls = [_call(f"hi-{n}", n % 3, held=n % 2) for n in range(12)]
    record_calls(store, calls)
    with store.engine.connect() as conn:
        cards = conn.execute(
            select(IssuedCard.uuid, HookCall.hook_instance).join(
                HookCall, HookCall.id == IssuedCard.call_id
            )
        ).all()
        held = conn.execute(
            select(HeldCard.rule_id, HookCall.hook_instance).join(
                HookCall, HookCall.id == HeldCard.call_id
            )
        ).all()
    assert sorted(cards) == sorted(
        (card["uuid"], call.hook_instance)
        for call in [_call("before", 1), *calls]
        for _, card in call.cards
    )
    assert sorted(held) == sorted(
        (hold.rule, call.hook_instance) for call in calls for hold in call.held
    )


def _call(instance: str, cards: int, held: int = 0) -> CallRecord:
    return CallRecord(
        service_id="b12-patient-view",
        hook="patient-view",
        hook_instance=instance,
        issuer=None,
        tenant=None,
        patient_key="k" * 64,
        profile="us",
        cards=[
            (f"R{n}", {"uuid": f"{instance}-card-{n}", "indicator": "info"}) for n in range(cards)
        ],
        held=[Hold(f"R{9 + n}-{instance}", "repeat", None) for n in range(held)],
    )
