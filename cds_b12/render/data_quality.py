"""Render layer: the data-quality notes a request's cards list, chosen, ordered and counted.

Imports only the standard library, ``cds_b12.clinical`` and this package. Every card of
a request lists the same notes (``cards.py`` puts them under its detail), so they are
worded once per request here; the words come from ``cards/`` (``FactWords.note``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from cds_b12.clinical.record import DataNote, Note, NoteKind

from .escape import plain
from .facts import FactWords
from .wording import CardLibrary, as_value

MAX_DATA_NOTES = 5  # more would bury the clinical message
# A data-quality line that starts with its resource (see DataQuality._count), and what a
# plain resource holds, or a following placeholder might start with.
_LEADING_RESOURCE = "{resource}"
_RESOURCE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/-{}")
_KIND_RANK = {kind: at for at, kind in enumerate(NoteKind)}  # NoteKind lists most needed first


def in_priority(notes: Iterable[Note]) -> tuple[Note, ...]:
    """``notes`` in the order a clinician needs them, stable within each kind: only the
    first few are listed, so a result set aside or coded only locally must not sit under
    "more" behind an unknown resource type. The assessment's notes are all about results."""
    return tuple(sorted(notes, key=_rank))


def _rank(note: Note) -> int:
    return _KIND_RANK[note.kind] if isinstance(note, DataNote) else 0


@dataclass(slots=True)
class DataQuality:
    """One request's data-quality notes (already ``in_priority``) as card list items."""

    notes: tuple[Note, ...]
    words: FactWords
    library: CardLibrary
    profile: str
    # ``_list()``, kept by the first card (not a functools.cached_property: it takes a lock)
    _listed: tuple[list[tuple[str, str]], list[str]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def lines(self, said: str) -> list[str]:
        """The items of the data-quality list ([] without notes), without the notes the
        card's own text ``said`` already (R25 leads with the unreadable result): each thing
        once."""
        if self._listed is None:
            self._listed = self._list()
        listed, more = self._listed
        lines = [line for message, line in listed if message not in said]
        return [*lines, *more] if lines else []

    def _list(self) -> tuple[list[tuple[str, str]], list[str]]:
        """Each listed note's ``(message, line)`` and the "more" line: the same on every
        card of a request, so built once, wording only the notes it lists (a long record
        has dozens)."""
        listed: dict[str, str] = {}
        for note in self.notes:
            if len(listed) == MAX_DATA_NOTES:
                break
            resource, message = self.words.note(note)
            listed.setdefault(self._item(resource, message), as_value(message))
        count = self._count() if listed else 0
        more = (
            [self._section("more", count=count - MAX_DATA_NOTES)] if count > MAX_DATA_NOTES else []
        )
        return [(message, line) for line, message in listed.items()], more

    def _section(self, key: str, **values: object) -> str:
        return self.library.text("sections", key, self.profile, values)

    def _line(self, note: Note) -> str:
        return self._item(*self.words.note(note))

    def _item(self, resource: str, message: str) -> str:
        # FHIR text: ``fill`` escapes it and collapses its whitespace.
        return self._section("data_quality_item", resource=resource, message=message)

    def _count(self) -> int:
        """How many notes read differently, wording only notes on a shared resource: when
        a line starts with its resource as it is and then a character no such resource
        holds, the resource is the line's start, so notes on different ones differ."""
        template = self.library.table("sections", self.profile)["data_quality_item"]
        head, after = template[: len(_LEADING_RESOURCE)], template[len(_LEADING_RESOURCE) :]
        if not (
            head == _LEADING_RESOURCE
            and after[:1]
            and after[0] not in _RESOURCE_CHARS
            and all(plain(note.resource) for note in self.notes)
        ):
            return len(set(map(self._line, self.notes)))
        on: dict[str, list[Note]] = {}
        for note in self.notes:
            on.setdefault(note.resource, []).append(note)
        return sum(len(set(map(self._line, same))) if len(same) > 1 else 1 for same in on.values())
