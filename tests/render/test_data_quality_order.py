"""The data-quality block lists only the first few notes, so it lists what a clinician needs
first: results and doses the decisions rest on, then entries skipped for their status, then
bookkeeping, each kind in the order given."""

from __future__ import annotations

from datetime import date

from cds_b12.clinical.profiles import UK
from cds_b12.clinical.record import DataNote, IgnoredResult, NoteKind
from cds_b12.render import render_cards

from .render_support import AS_OF, PATIENT
from .rule_specs import make_rec

_UNKNOWN = [DataNote(f"FooBar/f{i}", "skipped: unknown resource type 'FooBar'") for i in (1, 2)]
_CANCELLED = DataNote("MedicationRequest/m1", "skipped: order cancelled", NoteKind.STATUS)
_LOCAL = DataNote(
    "Observation/local-1",
    "a result labelled 'B12 send-out' is coded only locally and was not read; map it to LOINC",
    NoteKind.DECISION,
)
_SET_ASIDE = IgnoredResult("Observation/b12-9", date(2026, 1, 10), 14)
_NO_UNIT = DataNote(
    "Observation/b12-3", "value ignored: no unit given for vitamin B12", NoteKind.DECISION
)


def _block(notes: list) -> list[str]:
    (card,) = render_cards(
        [make_rec("R14-lab-drift", UK)], profile=UK, as_of=AS_OF, patient_id=PATIENT, notes=notes
    )
    _, _, block = card["detail"].partition("**Data quality:**")
    return [line for line in block.split("\n") if line.startswith("- ")]


def test_the_notes_the_decisions_rest_on_are_listed_before_skips_and_bookkeeping():
    lines = _block([*_UNKNOWN, _CANCELLED, DataNote("Patient", "x"), _LOCAL, _SET_ASIDE, _NO_UNIT])
    assert [line.split(":")[0] for line in lines] == [
        "- Observation/local-1",
        "- Observation/b12-9",
        "- Observation/b12-3",
        "- MedicationRequest/m1",
        "- FooBar/f1",
        "- 2 more not shown",  # FooBar/f2 and Patient, still counted
    ]


def test_the_kind_orders_a_note_and_is_no_part_of_it():
    """Two notes on one resource with one message are one line, whatever kind they carry."""
    same = DataNote(_LOCAL.resource, _LOCAL.message)
    assert same == _LOCAL
    assert len(_block([same, _LOCAL])) == 1
