"""The data-quality block words only the notes it lists, yet counts the rest as wording
every note would: notes read the same exactly when their worded lines are equal."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cds_b12.clinical.profiles import UK, US, Profile
from cds_b12.clinical.record import (
    DataNote,
    IgnoredResult,
    LabKind,
    Note,
    NoteKind,
    UndecidedResult,
)
from cds_b12.render import load_card_library, note_lines, render_cards
from cds_b12.render.data_quality import MAX_DATA_NOTES
from cds_b12.render.wording import DEFAULT_CARDS_DIR, CardLibrary

from .render_support import AS_OF, PATIENT
from .rule_specs import make_rec

# Resources and messages chosen to collide once worded: "a: b" + "c" reads as "a" + "b: c",
# and whitespace and braces are folded by the escaping.
_resources = st.one_of(
    st.sampled_from(["Observation/o1", "Observation/o2", "Observation", "-x", "Obs o1"]),
    st.sampled_from(["Observation/o1: unit", "Observation/o1:", "Observation/{o1}"]),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9/-]{0,3}", fullmatch=True),
)
_messages = st.sampled_from(["unit  number", "unit number", "unit: x", "{a}", "(a)", "a\nb", "bc"])
_dates = st.sampled_from([date(2025, 1, 2), date(2025, 1, 3)])
_notes = st.lists(
    st.one_of(
        st.builds(DataNote, _resources, _messages, st.sampled_from(NoteKind)),
        st.builds(IgnoredResult, _resources, _dates, st.sampled_from([7, 14])),
        st.builds(UndecidedResult, _resources, _dates, st.sampled_from([LabKind.B12])),
    ),
    max_size=14,
)
# A line that does not start with its resource, or where a placeholder follows it: the
# count words every note.
_ITEMS = ['"{message} ({resource})"', '"{resource}{message}"', '"{resource}: {message}"']


@pytest.fixture(scope="module")
def libraries(tmp_path_factory: pytest.TempPathFactory) -> list[CardLibrary]:
    found = [load_card_library()]
    for item in _ITEMS:
        cards = tmp_path_factory.mktemp("cards") / "cards"
        shutil.copytree(DEFAULT_CARDS_DIR, cards)
        defaults = cards / "_defaults.toml"
        text = defaults.read_text(encoding="utf-8")
        old = 'data_quality_item = "{resource}: {message}"'
        assert old in text
        defaults.write_text(text.replace(old, f"data_quality_item = {item}"), encoding="utf-8")
        found.append(load_card_library(Path(cards)))
    return found


def _block(notes: list[Note], profile: Profile, library: CardLibrary) -> str:
    """The block as wording every note gives it."""
    lines = list(
        dict.fromkeys(
            library.text(
                "sections", "data_quality_item", profile.name, {"resource": r, "message": m}
            )
            for r, m in note_lines(notes, profile=profile, library=library)
        )
    )
    if not lines:
        return ""
    listed = lines[:MAX_DATA_NOTES]
    if len(lines) > MAX_DATA_NOTES:
        more = {"count": len(lines) - MAX_DATA_NOTES}
        listed.append(library.text("sections", "more", profile.name, more))
    heading = library.text("sections", "data_quality", profile.name, {})
    return heading + "\n\n" + "\n".join(f"- {line}" for line in listed)


_OTHERS = [DataNote(f"Observation/o{i}", "unit number") for i in range(3, 8)]
_SAME_LINE = [  # pairs of notes that read the same under one of the templates
    [DataNote("Observation/o1", "unit  number"), DataNote("Observation/o1", "unit number")],
    [DataNote("Observation/o1: unit", "x"), DataNote("Observation/o1", "unit: x")],
    [DataNote("a", "bc"), DataNote("ab", "c")],  # "{resource}{message}"
    [DataNote("a", "(a)"), DataNote("a", "{a}")],
]


@given(_notes, st.sampled_from([UK, US]))
@example(_OTHERS + _SAME_LINE[0], UK)
@example(_OTHERS + _SAME_LINE[1], UK)
@example(_OTHERS + _SAME_LINE[2], UK)
@example(_SAME_LINE[3] + _OTHERS, US)
def test_the_block_counts_as_wording_every_note_would(
    libraries: list[CardLibrary], notes: list[Note], profile: Profile
) -> None:
    rec = make_rec("R14-lab-drift", profile)
    for library in libraries:
        (card,) = render_cards(
            [rec], profile=profile, as_of=AS_OF, patient_id=PATIENT, notes=notes, library=library
        )
        expected = _block(notes, profile, library)
        if expected:
            assert f"\n\n{expected}\n\n" in card["detail"] + "\n\n"  # the whole block
        else:
            assert "Data quality" not in card["detail"]
