"""Recall: one patient's exported resources through exactly the patient-view path.

May import every layer below the API. Both engines (local and Spark) call
:func:`recall_patient`, so a patient gets the same rows whichever runs; and it
answers through ``hooks.response.respond``, the function every patient-view call
goes through, so the rows say what the chart would say.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import quote

from .. import jsonio
from ..clinical import Profile
from ..fhir.accessors import dicts, string
from ..hooks.response import respond
from ..reminders import calendar_bytes
from ..render import load_card_library
from .lines import Problem
from .rows import Row, iso


@dataclass(frozen=True, slots=True)
class Settings:
    """What every patient of one run shares; plain values, so Spark can ship it."""

    profile: Profile  # with any CDS_B12_PROFILE_OVERRIDES, as evaluate and the service
    as_of: date
    calendars: bool = False  # also build each patient's iCalendar schedule


@dataclass(frozen=True, slots=True)
class Calendars:
    """Where each patient's .ics goes (a folder) and how a row names it (a relative path)."""

    folder: Path
    prefix: str


def calendar_file(patient: str) -> str:
    """The patient's calendar file name: the id, with anything unsafe in a file name quoted."""
    return quote(patient, safe="-._") + ".ics"


@dataclass(slots=True)
class PatientResult:
    rows: list[Row] = field(default_factory=list)
    problems: list[tuple[Problem, tuple[str, int], str]] = field(default_factory=list)
    calendar: bytes | None = None
    resources: int = 0
    evaluated: bool = False  # went through patient-view (whether or not it gave cards)


def warm() -> None:
    """Load what every patient needs (the card library) before the first one comes."""
    load_card_library()


def recall_patient(
    patient: str,
    lines: Iterable[bytes | str],
    first: tuple[str, int],
    medications: Mapping[str, str],
    settings: Settings,
) -> PatientResult:
    """The recall rows of one patient, from the export lines ``lines.route`` gave them
    (each a resource naming this patient); ``first`` is where the first line was read."""
    result = PatientResult()
    resources: list[tuple[tuple, dict]] = []
    for line in lines:
        resource = jsonio.loads(line)
        # a canonical order, so neither the export's order nor the engine changes the answer
        rid = resource.get("id")
        key = (resource["resourceType"], rid.strip() if isinstance(rid, str) else "", line)
        resources.append((key, resource))
    result.resources = len(resources)
    resources.sort(key=lambda item: item[0])
    data = [resource for _, resource in resources]
    record_patient = next((r for r in data if r["resourceType"] == "Patient"), None)
    if record_patient is None:
        result.problems.append(
            (Problem.NO_PATIENT_RESOURCE, first, f"Patient/{patient}: {len(data)} resources")
        )
        return result
    data.extend(_medications(data, medications))
    profile = settings.profile
    try:
        # a row shows no suggestions; the summary, indicator and detail are the same without
        answer = respond(
            data,
            profile=profile,
            as_of=settings.as_of,
            library=load_card_library(),
            suggestions=False,
        )
        recs = answer.evaluation.recommendations
        cards = list(zip(recs, answer.body["cards"], strict=True))
        calendar = (
            calendar_bytes(answer, profile, settings.as_of, patient_id=patient)
            if settings.calendars and cards
            else None
        )
    except Exception as exc:  # one patient must not stop the population; said, never silent
        detail = f"Patient/{patient}: {type(exc).__name__}: {str(exc)[:200]}"
        result.problems.append((Problem.UNREADABLE_PATIENT, ("", 0), detail))
        return result
    result.evaluated = True
    who = _identity(record_patient)
    for index, (rec, card) in enumerate(cards):
        result.rows.append(
            Row(
                patient=patient,
                **who,
                indicator=card["indicator"],
                urgency=rec.urgency.value,
                rule=rec.rule,
                summary=card["summary"],
                due=iso(rec.due),
                overdue=rec.due is not None and rec.due < settings.as_of,
                due_by=iso(rec.due_until),
                kind=rec.kind.value,
                detail=card.get("detail", ""),
                card=index,
            )
        )
    result.calendar = calendar
    return result


def _medications(data: list[dict], medications: Mapping[str, str]) -> list[dict]:
    """The export's shared Medication resources that this patient's orders refer to."""
    wanted: dict[str, None] = {}
    for resource in data:
        ref = resource.get("medicationReference")
        reference = ref.get("reference") if isinstance(ref, dict) else None
        if isinstance(reference, str):
            parts = reference.strip().split("/_history/")[0].split("/")
            wanted["/".join(parts[-2:])] = None
    return [jsonio.loads(medications[ref]) for ref in wanted if ref in medications]


def _identity(patient: dict) -> dict[str, str]:
    """The patient's identifier (the medical record number when typed so), name and birth
    date, as a worklist shows them."""
    identifiers = [i for i in dicts(patient.get("identifier")) if string(i, "value")]
    mrn = next(
        (
            i
            for i in identifiers
            if any(c.get("code") == "MR" for c in dicts((i.get("type") or {}).get("coding")))
        ),
        identifiers[0] if identifiers else None,
    )
    names = dicts(patient.get("name"))
    name = next((n for n in names if n.get("use") == "official"), names[0] if names else None)
    return {
        "identifier": string(mrn, "value") or "" if mrn else "",
        "name": _name_text(name) if name else "",
        "birth_date": string(patient, "birthDate") or "",
    }


def _name_text(name: dict) -> str:
    family = string(name, "family")
    given = " ".join(g.strip() for g in name.get("given") or [] if isinstance(g, str))
    if family:
        return f"{family}, {given}" if given else family
    return given or string(name, "text") or ""
