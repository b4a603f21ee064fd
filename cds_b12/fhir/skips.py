"""FHIR layer: how a reader skips a resource and says why. Imports the standard library and
the record's ``NoteKind`` only.

A reader returns nothing to skip a resource silently, raises ``Skip`` to skip it
with a note for the clinician, and calls its ``Note`` callback to keep the
resource but flag a doubtful value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from cds_b12.clinical.record import NoteKind

from .accessors import shorten


class Note(Protocol):
    """Notes ``message`` about the resource being read; ``kind`` says what it is about."""

    def __call__(self, message: str, kind: NoteKind = NoteKind.OTHER, /) -> None: ...


class Skip(Exception):
    """The resource is left out; ``message`` is shown to the clinician."""

    def __init__(self, message: str, kind: NoteKind = NoteKind.OTHER) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


@dataclass(frozen=True, slots=True)
class StatusPolicy:
    """Which ``status`` values of one resource type we use, skip with a note, or skip silently."""

    keep: frozenset[str]
    noted: Mapping[str, str]  # status -> note
    silent: frozenset[str] = field(default=frozenset())

    def apply(self, resource: dict, note: Note) -> str | None:
        """The status to record, or None to skip silently; raises Skip to skip with a note."""
        raw = resource.get("status")
        if raw.__class__ is str and raw in self.keep:  # sent clean, the usual case
            return raw
        if raw is None:
            note("status missing; used anyway", NoteKind.STATUS)
            return "unknown"
        if not isinstance(raw, str):
            raise Skip("skipped: unreadable status", NoteKind.STATUS)
        status = raw.strip().lower()
        if status in self.keep:
            return status
        if status in self.noted:
            raise Skip(self.noted[status], NoteKind.STATUS)
        if status in self.silent:
            return None
        raise Skip(f"skipped: unrecognised status '{shorten(raw)}'", NoteKind.STATUS)


ENTERED_IN_ERROR = "skipped: marked entered-in-error"
