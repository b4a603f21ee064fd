"""The preview page in Chromium: cards as an EHR shows them, real feedback, the exchange panel."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import expect

from ..serving import ServeProcess, free_port, service_env, started
from .conftest import choose, get_cards, open_preview

R1_SUMMARY = (
    "Start B12 neuro loading injections today and get urgent hematology or neurology advice"
)


def _rule_totals(report: dict, rule: str) -> dict:
    rows = [row for row in report["rules"] if row["rule"] == rule]
    assert rows, f"{rule} is not in the report: {report}"
    reasons: dict[str, int] = {}
    for row in rows:
        for code, count in row["override_reasons"].items():
            reasons[code] = reasons.get(code, 0) + count
    return {
        "accepted": sum(r["accepted"] for r in rows),
        "overridden": sum(r["overridden"] for r in rows),
        "override_reasons": reasons,
    }


@pytest.fixture(scope="module")
def own_service(tmp_path_factory) -> Iterator[ServeProcess]:
    """A store of its own: feedback holds the patient's card back (README, "Fewer, better-timed
    cards"), which the other tests on the shared service must not see. The tests that give
    feedback share it, each on a patient of its own; it stops after their pages are closed
    (a page still connected holds up the service's stop by seconds)."""
    store = tmp_path_factory.mktemp("feedback-store")
    with started(service_env(store), store / "serve.log") as running:
        yield running


def own_origin(open_page, service: ServeProcess):
    return lambda **options: open_page(origins=(service.base,), **options)


def test_accepting_the_neuro_loading_suggestion_is_recorded(open_page, own_service, artifacts):
    service = own_service
    opened = open_preview(own_origin(open_page, service), service)
    page = opened.page
    choose(page, "r1-pa-neuro-low-b12")
    expect(page.get_by_test_id("patient-info")).to_contain_text("R1-start-neuro-loading")
    get_cards(page)

    cards = page.get_by_test_id("card")
    expect(cards).to_have_count(1)
    card = cards.first
    expect(card).to_have_attribute("data-indicator", "critical")
    expect(card.get_by_test_id("card-indicator")).to_have_text("Critical")
    expect(card.get_by_test_id("card-indicator").locator("svg")).to_have_count(1)
    expect(card.get_by_test_id("card-summary")).to_have_text(R1_SUMMARY)
    source = card.get_by_test_id("card-source")
    expect(source).to_have_attribute("target", "_blank")
    expect(source).to_have_attribute("rel", re.compile(r"\bnoopener\b"))
    link = card.get_by_test_id("card-link")
    expect(link).to_have_attribute("href", re.compile(r"/timeline\?patient=r1-pa-neuro-low-b12$"))
    expect(link).to_have_attribute("target", "_blank")

    # the regimen suggestion, drawn readably: the drug, its dose, route and schedule, the tests
    suggestion = card.get_by_test_id("suggestion").filter(has_text="neuro loading course")
    expect(suggestion).to_have_count(1)
    medication = suggestion.locator("[data-resource-type='MedicationRequest']")
    expect(medication).to_contain_text("1000 micrograms")
    expect(medication).to_contain_text("Intramuscular route")
    expect(medication).to_contain_text("daily, 14 doses, for 2 weeks")
    tests = suggestion.locator("[data-resource-type='ServiceRequest']")
    expect(tests.first).to_contain_text("Due ")
    # each test's priority as the EHR shows it: today's baseline urgent, week 8 routine
    priorities = suggestion.get_by_test_id("priority")
    expect(priorities).to_have_text(["Urgent"] * 4 + ["Routine"] * 3)
    expect(priorities.last).to_have_attribute("data-priority", "routine")

    suggestion.get_by_test_id("suggestion-accept").click()
    status = card.get_by_test_id("feedback-status")
    expect(status).to_have_text(re.compile(r"^Recorded: accepted at \d+ \w{3} \d{4}, [\d:]+ "))
    expect(card).to_have_attribute("data-feedback", "accepted")
    expect(card.get_by_test_id("dismiss")).to_be_disabled()
    page.screenshot(path=str(artifacts / "preview.png"), full_page=True)

    # the store has it: the page said so, and the operator's report counts it
    uuid = card.get_attribute("data-card-uuid")
    stored = requests.get(f"{service.base}/preview/feedback/{uuid}", timeout=10).json()
    assert [f["outcome"] for f in stored["feedback"]] == ["accepted"]
    assert _rule_totals(service.report(), "R1-start-neuro-loading")["accepted"] >= 1

    # the next call holds the accepted card back for a day (critical), and the page says so
    get_cards(page)
    expect(page.get_by_test_id("card")).to_have_count(0)
    held = page.get_by_test_id("held-card")
    expect(held).to_have_count(1)
    expect(held).to_have_attribute("data-rule", "R1-start-neuro-loading")
    expect(held).to_have_attribute("data-why", "accepted")
    expect(held).to_contain_text(re.compile(r"while its order is acted on until \d+ \w{3} \d{4}"))
    expect(page.get_by_test_id("status")).to_contain_text("1 card held back")


def test_dismissing_with_a_reason_records_that_reason(open_page, own_service):
    service = own_service
    page = open_preview(own_origin(open_page, service), service).page
    choose(page, "r11-monthly-overdue")
    get_cards(page)
    card = page.get_by_test_id("card").first
    expect(card.get_by_test_id("card-summary")).not_to_be_empty()

    card.get_by_test_id("override-reason").select_option(label="Managed by specialist")
    card.get_by_test_id("dismiss").click()
    status = card.get_by_test_id("feedback-status")
    expect(status).to_have_text(re.compile(r"^Recorded: overridden \(Managed by specialist\) at "))
    expect(status).to_have_attribute("data-reason", "specialist-managing")
    expect(card.get_by_test_id("dismiss")).to_be_disabled()

    uuid = card.get_attribute("data-card-uuid")
    stored = requests.get(f"{service.base}/preview/feedback/{uuid}", timeout=10).json()
    assert [(f["outcome"], f["reason"]) for f in stored["feedback"]] == [
        ("overridden", "specialist-managing")
    ]
    totals = _rule_totals(service.report(), "R11-maintenance-overdue")
    assert totals["override_reasons"].get("specialist-managing", 0) >= 1

    get_cards(page)  # snoozed for 180 days: named under the cards, not shown
    held = page.get_by_test_id("held-card").filter(has_text="R11-maintenance-overdue")
    expect(held).to_have_attribute("data-why", "snoozed")
    expect(held).to_contain_text("snoozed after a dismissal (specialist-managing) until ")


def test_order_sign_with_edited_drafts_warns_about_folic_acid(open_page, service):
    page = open_preview(open_page, service, width=400).page  # the editor at phone width
    choose(page, "r17-metformin-no-b12", hook="order-sign")
    expect(page.get_by_test_id("draft-product")).to_be_visible()

    page.get_by_test_id("draft-product").select_option("cyanocobalamin-im")
    page.get_by_test_id("draft-dose").fill("1000")
    page.get_by_test_id("draft-every").select_option("month")
    page.get_by_test_id("add-b12").click()
    page.get_by_test_id("add-folic-acid").click()
    page.get_by_test_id("add-b12-test").click()
    drafts = page.get_by_test_id("draft")
    expect(drafts).to_have_count(3)
    drafts.filter(has_text="Serum B12 test").get_by_test_id("draft-remove").click()
    expect(drafts.get_by_test_id("draft-text")).to_have_text(
        ["Cyanocobalamin IM 1000 micrograms monthly", "Folic acid 5 mg oral daily"]
    )
    get_cards(page)

    folate = page.get_by_test_id("card").filter(
        has=page.get_by_test_id("card-summary").filter(
            has_text=re.compile(r"^Check B12 before or with folic acid")
        )
    )
    expect(folate).to_have_count(1)
    expect(folate).to_have_attribute("data-indicator", "critical")

    # what was sent: exactly the two drafts from the editor, written as an EHR writes them
    sent = json.loads(page.get_by_test_id("request-json").text_content() or "")
    assert sent["hook"] == "order-sign"
    orders = sent["context"]["draftOrders"]["entry"]
    codes = sorted(e["resource"]["medicationCodeableConcept"]["coding"][0]["code"] for e in orders)
    assert codes == ["309594", "4511"]  # RxNorm: cyanocobalamin 1 mg/mL injection; folic acid
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_change_of_the_draft_is_drawn_as_a_change_not_a_new_order(open_page, service):
    page = open_preview(open_page, service).page
    choose(page, "r2-pa-low-b12", hook="order-sign")
    page.get_by_test_id("draft-product").select_option("cyanocobalamin-im")
    page.get_by_test_id("draft-dose").fill("1000")
    page.get_by_test_id("draft-every").select_option("month")
    page.get_by_test_id("add-b12").click()
    get_cards(page)

    loading = page.get_by_test_id("card").filter(
        has=page.get_by_test_id("card-summary").filter(has_text=re.compile(r"^Start B12 loading"))
    )
    expect(loading).to_have_count(1)
    actions = loading.get_by_test_id("suggestion-action")
    medication = actions.filter(has=page.locator("[data-resource-type='MedicationRequest']"))
    expect(medication.first).to_have_attribute("data-change", "update")
    assert all(a.get_attribute("data-change") != "create" for a in medication.all())
    # the draft as it stands, then as it will be
    change = medication.first
    expect(change.get_by_test_id("change-was")).to_contain_text("monthly")
    expect(change.get_by_test_id("change-now")).to_contain_text("every other day")
    expect(change.locator(".action__type")).to_have_text("Change")


def test_a_changed_regimen_on_patient_view_stops_the_current_order(open_page, service):
    page = open_preview(open_page, service).page
    choose(page, "r13-recurrence-adherent", profile="uk")
    get_cards(page)
    (suggestion,) = page.get_by_test_id("suggestion").all()[:1]
    actions = suggestion.get_by_test_id("suggestion-action")
    expect(actions.first).to_have_attribute("data-change", "create")
    stop = actions.filter(has=page.locator(".action__type--stop"))
    expect(stop).to_have_count(1)
    expect(stop.locator(".action__type")).to_have_text("Stop")
    expect(stop).to_contain_text("every 3 months")  # the current order, as it stands


def test_the_exchange_panel_shows_exactly_what_was_sent_and_received(open_page, service):
    page = open_preview(open_page, service).page
    choose(page, "r1-pa-neuro-low-b12")
    with (
        page.expect_request("**/cds-services/b12-patient-view") as sent,
        page.expect_response("**/cds-services/b12-patient-view") as received,
    ):
        page.get_by_test_id("get-cards").click()
    expect(page.get_by_test_id("card")).to_have_count(1)

    page.get_by_test_id("exchange").locator("summary").click()
    expect(page.get_by_test_id("request-json")).to_be_visible()
    shown_request = json.loads(page.get_by_test_id("request-json").text_content() or "")
    shown_response = json.loads(page.get_by_test_id("response-json").text_content() or "")
    assert shown_request == sent.value.post_data_json
    assert shown_response == received.value.json()
    assert shown_request["hook"] == "patient-view"
    assert shown_request["context"]["patientId"] == "r1-pa-neuro-low-b12"
    assert [c["uuid"] for c in shown_response["cards"]] == [
        page.get_by_test_id("card").first.get_attribute("data-card-uuid")
    ]
    expect(page.get_by_test_id("request-url")).to_have_text("POST /cds-services/b12-patient-view")


def test_card_markdown_is_rendered_and_sanitised(open_page, service):
    page = open_preview(open_page, service).page
    choose(page, "r1-pa-neuro-low-b12")
    get_cards(page)
    card = page.get_by_test_id("card").first
    detail = card.get_by_test_id("card-detail")
    expect(detail.locator("strong").first).to_have_text("with neurological involvement")
    expect(detail.locator("ul").first).to_be_visible()
    assert "**" not in (detail.text_content() or "")  # no Markdown left raw
    assert card.locator("script").count() == 0
    assert page.locator("#cards [onclick], #cards [onerror], #cards iframe").count() == 0
    for anchor in detail.locator("a").all():
        assert anchor.get_attribute("target") == "_blank"
        assert "noopener" in (anchor.get_attribute("rel") or "").split()


def test_a_refused_call_shows_the_operation_outcome(open_page, service):
    """A FHIR server that cannot be reached: the service answers 412, the page says why."""
    opened = open_preview(open_page, service)
    page = opened.page
    opened.watch.expect_console_error(r"status of 412")
    page.locator("label[for='source-server']").click()
    # a port that was free a moment ago: nothing listens there
    page.get_by_test_id("fhir-server").fill(f"http://127.0.0.1:{free_port()}/fhir")
    page.get_by_test_id("server-patient").fill("nobody")
    with page.expect_response("**/cds-services/b12-patient-view") as received:
        page.get_by_test_id("get-cards").click()
    answer = received.value
    assert answer.status == 412
    diagnostics = answer.json()["issue"][0]["diagnostics"]
    expect(page.get_by_test_id("error-message")).to_have_text(diagnostics)
    expect(page.get_by_test_id("card")).to_have_count(0)
