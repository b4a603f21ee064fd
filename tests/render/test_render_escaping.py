"""Strings from FHIR data are inert in card text (issue 13 §6): a unit, an id, a medication
reference, a note or a draft id holding Markdown or HTML reads as its characters and never
adds a link, heading, emphasis, raw HTML or a new paragraph, wherever it reaches a card
(summary, detail, suggestion labels, action descriptions, source label). Each hostile value
is compared with a plain one in the same place: the rendered page must have the same
elements, in marked (GitHub Markdown, the preview's renderer)."""

from __future__ import annotations

import html
import itertools
import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from cds_b12.clinical import get_profile
from cds_b12.clinical.profiles import UK, US
from cds_b12.clinical.record import (
    DataNote,
    IgnoredResult,
    Lab,
    LabKind,
    Medication,
    MedSource,
    Product,
    Quantity,
    Route,
)
from cds_b12.fhir.read import collect_resources
from cds_b12.fhir.redate import redate
from cds_b12.hooks.fixtures import fixture_patients
from cds_b12.hooks.response import respond, split_drafts
from cds_b12.render import render_cards

from ..markdown import structure, to_html
from .render_support import AS_OF, PATIENT, lab_draft, medication_draft
from .rule_facts import facts_for
from .rule_specs import make_rec

HOSTILE = [
    "[Verify dose](https://e.vil/x)",
    "Medication/[Safety](https://e.vil/s)",
    "![beacon](https://e.vil/b.png)",
    "obs-1\n\n# Injected heading\n\nnew paragraph",
    "**Safety:** double the dose",
    "<img src=//host/beacon>",
    "<script>alert(1)</script>",
    "`code` and ```fence```",
    "# heading",
    "| a | b |\n|---|---|\n| c | d |",
    "see https://e.vil/auto or www.e.vil or x@e.vil",
    "_em_ *em* ~~gone~~ __strong__",
    "&lt;img src=x&gt; &amp;",
    "\\[escaped\\]",
    "- item\n1. first\n> quote\n---",
    "line\u2028break\u202eRTL\u200bzero\x00nul\rCR",
    "<https://e.vil/angle>",
    "[ref]: https://e.vil/def\n\n[ref]",
]
PLAIN = "plain"


def _texts(card: dict) -> list[str]:
    """Every text of a card an EHR may show."""
    texts = [card["summary"], card["detail"], card["source"]["label"]]
    for suggestion in card.get("suggestions", []):
        texts.append(suggestion["label"])
        texts.extend(action["description"] for action in suggestion["actions"])
    return texts


def assert_inert(
    pages: dict[str, str],
    hostile_cards: list[dict],
    plain_cards: list[dict],
    value: str,
    where: str = "",
) -> None:
    hostile = [t for card in hostile_cards for t in _texts(card)]
    plain = [t for card in plain_cards for t in _texts(card)]
    assert len(hostile) == len(plain)
    for text, plain_text in zip(hostile, plain, strict=True):
        assert structure(pages[text]) == structure(pages[plain_text]), (where, value, text)
        assert text.count("\n") == plain_text.count("\n"), (where, value, text)
        assert "<" not in text, (where, value, text)
    # Said, not dropped: the characters are on the page (whitespace collapsed).
    shown = html.unescape(" ".join(pages[t] for t in hostile))
    printable = "".join(ch for ch in value if ch.isprintable() or ch.isspace())
    assert " ".join(printable.split())[:20].replace("\\", "") in shown.replace("\\", "")


def _render(rec, profile, *, library=None, **kwargs) -> list[dict]:
    return render_cards(
        [rec], profile=profile, as_of=AS_OF, patient_id=PATIENT, library=library, **kwargs
    )


def _medication(ingredient: str) -> Medication:
    return Medication(
        MedSource.REQUEST,
        Product.B12_INJECTION,
        "MedicationRequest/m",
        "draft",
        ingredient,
        dose_mg=1.0,
        route=Route.IM,
    )


def _carriers(value: str, tmp_path: Path) -> dict[str, list[dict]]:
    """The cards in which ``value`` reaches text, one way per FHIR-derived field."""
    r2 = make_rec("R2-start-standard-loading", UK)
    b12 = Lab(LabKind.B12, 140.0, date(2026, 1, 3), "Observation/b", reported=Quantity(140, value))
    draft = f"MedicationRequest/{value}"
    r21_update = make_rec("R21-cyanocobalamin-contraindicated", US, draft_id=draft)
    r21_remove = make_rec(
        "R21-cyanocobalamin-contraindicated",
        US,
        with_regimen=False,
        facts={**facts_for("R21-cyanocobalamin-contraindicated"), "product": _medication(value)},
    )
    r15 = make_rec("R15-b12-order-on-maintenance", UK, draft_id="ServiceRequest/x")
    return {
        "note resource": _render(r2, UK, notes=[DataNote(value, "skipped: result cancelled")]),
        "note message": _render(r2, UK, notes=[DataNote("Observation/o1", value)]),
        "ignored result": _render(r2, UK, notes=[IgnoredResult(value, date(2026, 1, 2), 14)]),
        "reported unit": _render(replace(r2, facts={**r2.facts, "b12": b12}), UK),
        "draft id (update)": _render(
            r21_update, US, drafts={draft: medication_draft("draft-cyano")}
        ),
        "draft id (delete)": _render(r15, UK, drafts={"ServiceRequest/x": lab_draft(value)}),
        "medication": _render(r21_remove, US, drafts={}),
    }


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every text of every card below, rendered by marked in one Node run."""
    tmp = tmp_path_factory.mktemp("cards")
    texts = {
        text
        for value in (*HOSTILE, PLAIN)
        for cards in (*_carriers(value, tmp).values(), _service_cards(value))
        for card in cards
        for text in _texts(card)
    }
    ordered = sorted(texts)
    return dict(zip(ordered, to_html(ordered), strict=True))


@pytest.mark.parametrize("value", HOSTILE)
def test_fhir_strings_are_inert_in_every_field_that_reaches_a_card(value, pages, tmp_path):
    hostile = _carriers(value, tmp_path)
    plain = _carriers(PLAIN, tmp_path)
    for carrier, cards in hostile.items():
        assert cards and all(_texts(c) for c in cards), carrier
        assert_inert(pages, cards, plain[carrier], value, carrier)


def _fixture(folder: str) -> tuple[list[dict], list[dict]]:
    patient = next(p for p in fixture_patients() if p.folder == folder)
    resources = collect_resources(redate(json.loads(patient.path.read_text()), AS_OF))
    return split_drafts(resources)


def _hostile_resources(value: str, patient: str) -> list[dict]:
    subject = {"reference": f"Patient/{patient}"}
    return [
        {
            "resourceType": "Observation",
            "id": f"mma-{value}",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "13964-2"}]},
            "subject": subject,
            "effectiveDateTime": AS_OF.isoformat(),
            "valueQuantity": {"value": 0.3, "unit": value},
        },
        {
            "resourceType": "Observation",
            "id": "hb-status",
            "status": value,
            "code": {"coding": [{"system": "http://loinc.org", "code": "718-7"}]},
            "subject": subject,
            "effectiveDateTime": AS_OF.isoformat(),
            "valueQuantity": {"value": 12, "unit": "g/dL"},
        },
        {
            "resourceType": "MedicationRequest",
            "id": "med-ref",
            "status": "active",
            "intent": "order",
            "subject": subject,
            "medicationReference": {"reference": f"Medication/{value}"},
        },
    ]


def _service_cards(text: str) -> list[dict]:
    """The cards for two fixture patients with ``text`` in FHIR fields the reader notes, and
    in the id of an order-select draft."""
    cards = []
    for folder in ("R1-start-neuro-loading", "R15-b12-order-on-maintenance"):
        record, drafts = _fixture(folder)
        patient = next(r["id"] for r in record if r["resourceType"] == "Patient")
        for draft in drafts:
            draft["id"] = f"{draft['id']}-{text}"
        body = respond(
            [*record, *_hostile_resources(text, patient)],
            profile=get_profile("uk"),
            as_of=AS_OF,
            draft_orders=drafts or None,
        ).body
        cards.extend(body["cards"])
    return cards


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_fhir_data_through_the_whole_service_is_inert(value, pages):
    """The reader's notes (units, ids, statuses, medication references) and a draft's id,
    from FHIR JSON to the CDS Hooks response."""
    hostile, plain = _service_cards(value), _service_cards(PLAIN)
    assert hostile and len(hostile) == len(plain)
    assert_inert(pages, hostile, plain, value)


def test_escape_keeps_ordinary_clinical_text_as_it_is():
    from cds_b12.render.escape import escape

    for text in ("152 ng/L on 2026-01-03", "every 2–3 months", "Crohn's disease", "0.45"):
        assert escape(text) == text


_MARKUP_BITS = [*"\\`*_[]~|#&<>:@-+=)/.\n²", "://", "www.", "WwW.", "1.", "12) ", "x@y"]
_AROUND = ("", "a ", " 12", "é", "\u200b", "W.")


@pytest.mark.parametrize("bit", _MARKUP_BITS)
def test_escape_skips_substitutions_only_when_none_would_change_the_text(bit):
    """The fast path (no character any pattern acts on) gives what every step would."""
    from cds_b12.render import escape as e

    for before, after in itertools.product(_AROUND, repeat=2):
        text = before + bit + after
        slow = e._one_line(text)
        slow = slow.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        slow = e._INLINE.sub(r"\\\1", slow)
        slow = e._AUTOLINK.sub(e._break_autolink, slow)
        slow = e._LEADING_BLOCK.sub(e._break_block, slow)
        assert e.escape(text) == slow, text
