"""FHIR layer: how a reader skips a resource and says why. Imports the standard library only.

A reader returns nothing to skip a resource silently, raises ``Skip`` to skip it
with a note for the clinician, and calls its ``Note`` callback to keep the
resource but flag a doubtful value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .accessors import shorten

Note = Callable[[str], None]


class Skip(Exception):
    """The resource is left out; ``message`` is shown to the clinician."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
            note("status missing; used anyway")
            return "unknown"
        if not isinstance(raw, str):
            raise Skip("skipped: unreadable status")
        status = raw.strip().lower()
        if status in self.keep:
            return status
        if status in self.noted:
            raise Skip(self.noted[status])
        if status in self.silent:
            return None
        raise Skip(f"skipped: unrecognised status '{shorten(raw)}'")


ENTERED_IN_ERROR = "skipped: marked entered-in-error"
