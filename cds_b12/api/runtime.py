"""What every request needs, built once per process: settings, profile, cards, FHIR client."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask import current_app

from ..clinical import Profile, get_profile
from ..config import Settings
from ..hooks.fetch import FhirClient, Limits
from ..render import CardLibrary, load_card_library


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    profile: Profile
    cards: CardLibrary
    client: FhirClient
    today: Callable[[], date]

    @classmethod
    def start(cls, settings: Settings, today: Callable[[], date]) -> Runtime:
        """Load and check the card wording now, so a bad card file stops start-up, not a call."""
        limits = Limits(
            connect_timeout=settings.fhir_connect_timeout,
            read_timeout=settings.fhir_read_timeout,
            deadline=settings.fhir_deadline,
            max_pages=settings.fhir_max_pages,
        )
        return cls(
            settings=settings,
            profile=get_profile(settings.profile),
            cards=load_card_library(settings.cards_dir),
            client=FhirClient(limits),
            today=today,
        )


def runtime() -> Runtime:
    return current_app.extensions["cds_b12"]
