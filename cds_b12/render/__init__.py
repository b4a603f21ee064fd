"""Render layer: recommendations → CDS Hooks 2.0 cards with FHIR R4 suggestion resources.

Imports only the standard library and ``cds_b12.clinical``; never flask or
requests. Card wording is data in the repository's ``cards/`` folder.
"""

from __future__ import annotations

from .cards import note_lines, render_cards
from .errors import RenderError
from .resources import medication_request, service_request
from .schedule import schedule_text
from .wording import CardLibrary, load_card_library

__all__ = [
    "CardLibrary",
    "RenderError",
    "load_card_library",
    "medication_request",
    "note_lines",
    "render_cards",
    "schedule_text",
    "service_request",
]
