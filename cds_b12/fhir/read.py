"""FHIR layer: CDS Hooks prefetch and draft orders → ``PatientRecord``. Imports cds_b12.clinical.

We read plain JSON dicts with small tolerant accessors (``accessors.py``) rather
than validating with fhir.resources R4B models. Full validation of a typical
prefetch costs about 6 ms, over 90% of request CPU, and rejects a whole Bundle
for one unknown vendor property or one dateTime without a timezone
(python-ecosystem.md §1.3–1.4), while the rules need a small subset of fields.
The tests use fhir.resources R4B to validate every resource the service emits.

``read_record`` never raises. A resource that cannot be read becomes a
``DataNote`` and the others are still read; no pydantic, no deep copies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from math import isclose
from typing import TypeVar

from cds_b12.clinical.codes import B12_FOLATE_PANEL
from cds_b12.clinical.record import (
    ClinicalFinding,
    DataNote,
    DraftOrder,
    Lab,
    LabKind,
    Medication,
    MedSource,
    NoteKind,
    Patient,
    PatientRecord,
    Unreadable,
    UnreadableResult,
)

from .accessors import as_dict, as_list, codings, label, shorten, string
from .build import make_record
from .dates import parse_date
from .labs import ANALYTE_NAMES, lab_kind, read_observation
from .medications import MEDICATION_SOURCES, MedicationIndex, read_medication
from .problems import read_allergy, read_condition, read_procedure
from .ranges import Who
from .resource_types import R4_RESOURCE_TYPES
from .skips import Note, Skip

T = TypeVar("T")


def collect_resources(data: object) -> list[dict]:
    """The resources in a Bundle, list, single resource or prefetch mapping, in document order."""
    return [resource for resource, _ in _walk(data, prefetch=True)]


def read_record(data: object, *, draft_orders: object = None) -> PatientRecord:
    """Everything the rules need from the prefetch, and the draft orders; never raises."""
    notes: list[DataNote] = []
    entries = _walk(data, prefetch=True)
    drafts_in = _walk(draft_orders, prefetch=False, junk=notes)
    index = MedicationIndex([*entries, *drafts_in])
    reader = _Reader(index, notes, entries)
    # bound once a read, not once a resource (some 400 instructions each); held here, not
    # by the reader, which would then be a reference cycle
    note, who = reader.note, reader.who
    for resource, _ in entries:
        reader.current = resource
        try:
            reader.read(resource, note, who)
        except Skip as skip:
            reader.note(skip.message, skip.kind)
        except Exception:  # one unreadable resource must not cost the others (never raise)
            reader.note("skipped: unreadable resource")
    drafts = []
    for resource, _ in drafts_in:
        draft = _guarded(resource, lambda r, note: _read_draft(r, index, note), notes)
        if draft is not None:
            drafts.append(draft)
    labs, unreadable = reader.labs, reader.unreadable
    if reader.members:
        labs, unreadable = _unrepeated(labs, unreadable, reader.members, notes)
    return make_record(
        patient=reader.patient,
        labs=tuple(labs),
        medications=tuple(reader.medications),
        findings=tuple(reader.findings),
        drafts=tuple(drafts),
        notes=tuple(notes),
        unreadable=tuple(unreadable),
    )


def _unrepeated(
    labs: list[Lab],
    unreadable: list[UnreadableResult],
    members: dict[str, set[str | None]],
    notes: list[DataNote],
) -> tuple[list[Lab], list[UnreadableResult]]:
    """The results without a panel's component that repeats one of the panel's
    ``hasMember`` results of the same analyte and date: the member is the result itself.
    A copy whose value disagrees with the member's leaves neither to be trusted: the member
    is kept as unreadable (R25), with a note on the panel saying which two disagree."""
    read = {(_name(r), r.kind, r.on): r for r in (*labs, *unreadable)}
    disputed: set[tuple[str, LabKind, date]] = set()

    def repeats(result: Lab | UnreadableResult) -> bool:
        for m in members.get(_name(result), ()):
            key = (m, result.kind, result.on)
            member = read.get(key)
            if member is None:
                continue
            if _disagree(result, member) and key not in disputed:
                disputed.add(key)
                said = f"value ignored: its {ANALYTE_NAMES[result.kind]} and {m}'s disagree"
                notes.append(DataNote(_name(result), said, NoteKind.DECISION))
            return True
        return False

    kept = [lab for lab in labs if not repeats(lab)]
    unread = [u for u in unreadable if not repeats(u)]
    if disputed:
        unread.extend(
            UnreadableResult(lab.kind, lab.resource_id, lab.on, Unreadable.SOURCES_DISAGREE)
            for lab in kept
            if (lab.resource_id, lab.kind, lab.on) in disputed
        )
        kept = [lab for lab in kept if (lab.resource_id, lab.kind, lab.on) not in disputed]
    return kept, unread


def _disagree(copy: Lab | UnreadableResult, member: Lab | UnreadableResult) -> bool:
    """Whether two readable copies of one result give two values (in canonical units)."""
    if not (isinstance(copy, Lab) and isinstance(member, Lab)):
        return False
    return copy.comparator != member.comparator or not isclose(copy.value, member.value)


def _name(result: Lab | UnreadableResult) -> str:
    return result.resource_id if isinstance(result, Lab) else result.resource


def _reference(ref: object) -> str | None:
    """A reference as the reader names its resource ("Observation/hb"), from a relative
    or absolute one."""
    given = string(as_dict(ref), "reference")
    return None if given is None else "/".join(given.strip().split("/")[-2:])


def _walk(
    data: object, *, prefetch: bool, junk: list[DataNote] | None = None
) -> list[tuple[dict, dict | None]]:
    """``(resource, Bundle entry)`` pairs through Bundles (nested too) and lists, without recursion.

    The entry (None outside a Bundle) is kept rather than its ``fullUrl``, which only
    a Medication needs. With ``prefetch``, a top-level object without a resourceType
    is a CDS Hooks prefetch mapping; its null and non-resource values are skipped.
    With ``junk``, a non-object where a resource should be is noted.
    """
    found: list[tuple[dict, dict | None]] = []
    stack: list[tuple[object, dict | None]] = [(data, None)]
    seen: set[int] = set()
    while stack:
        item, entry = stack.pop()
        if isinstance(item, dict):
            key = id(item)
            if key in seen:
                continue
            seen.add(key)
            if item.get("resourceType") == "Bundle":
                _entries(as_list(item.get("entry")), stack, seen, found)
            elif prefetch and item is data and "resourceType" not in item:
                stack.extend((value, None) for value in reversed(list(item.values())))
            else:
                found.append((item, entry))
        elif isinstance(item, list):
            if id(item) in seen:
                continue
            seen.add(id(item))
            stack.extend((child, None) for child in reversed(item))
        elif item is not None and junk is not None:
            junk.append(DataNote("draftOrders", "skipped: draft order is not a FHIR resource"))
    return found


def _entries(
    entries: list, stack: list[tuple[object, dict | None]], seen: set[int], found: list
) -> None:
    """A Bundle's entries for ``_walk``: each resource is taken here, as the stack would
    take it (about 30 fewer bytecodes a resource); from the first entry holding anything
    else (a nested Bundle, a list, junk), that entry and the rest go through the stack,
    so document order is kept."""
    for at, entry in enumerate(entries):
        try:  # a lookup chain rather than type checks: the usual entry holds a resource
            resource = entry["resource"]
            nested = resource["resourceType"] == "Bundle"
        except (KeyError, TypeError, IndexError):
            nested = True
        if nested or resource.__class__ is not dict:
            rest = [child for child in entries[at:] if isinstance(child, dict)]
            stack.extend((child.get("resource"), child) for child in reversed(rest))
            return
        if (key := id(resource)) not in seen:
            seen.add(key)
            found.append((resource, entry))


def _guarded(resource: dict, read: Callable[[dict, Note], T], notes: list[DataNote]) -> T | None:
    """Run one resource's reader; a Skip or any error becomes a note about that resource only."""

    def note(message: str, kind: NoteKind = NoteKind.OTHER, /) -> None:
        notes.append(DataNote(shorten(label(resource), 100), message, kind))

    try:
        return read(resource, note)
    except Skip as skip:
        note(skip.message, skip.kind)
    except Exception:  # one unreadable resource must not cost the others (never raise)
        note("skipped: unreadable resource")
    return None


@dataclass(slots=True)
class _Reader:
    """Sorts the facts of each resource in the prefetch into the record's fields."""

    index: MedicationIndex
    notes: list[DataNote]
    entries: list[tuple[dict, dict | None]]  # the data, for a Patient not yet read
    current: dict = field(default_factory=dict)  # the resource being read, for its notes
    patient: Patient | None = None
    labs: list[Lab] = field(default_factory=list)
    medications: list[Medication] = field(default_factory=list)
    findings: list[ClinicalFinding] = field(default_factory=list)
    unreadable: list[UnreadableResult] = field(default_factory=list)
    seen: set[tuple[str, str]] = field(default_factory=set)
    members: dict[str, set[str | None]] = field(default_factory=dict)  # a panel's hasMember
    facts: dict[type, list] = field(init=False)  # each fact's list, by its class

    def __post_init__(self) -> None:
        self.facts = {
            Lab: self.labs,
            Medication: self.medications,
            ClinicalFinding: self.findings,
            UnreadableResult: self.unreadable,
        }

    def note(self, message: str, kind: NoteKind = NoteKind.OTHER, /) -> None:
        """A note about the resource being read (``current``)."""
        self.notes.append(DataNote(shorten(label(self.current), 100), message, kind))

    def read(self, resource: dict, note: Note, who: Who) -> None:
        """One resource's facts; ``note`` and ``who`` are this reader's, bound once."""
        rtype = resource.get("resourceType")
        if not isinstance(rtype, str) or not rtype.strip():
            raise Skip("skipped: resource has no resourceType")
        rid = resource.get("id")
        if isinstance(rid, str) and (rid := rid.strip()):
            # overlapping prefetch queries return the same resource twice
            key = (rtype, rid)
            if key in self.seen:
                return
            self.seen.add(key)
            name = f"{rtype}/{rid}"  # label(resource), from what is read here already
        else:
            name = rtype
        if rtype == "Observation":  # the commonest types first
            fact = read_observation(resource, note, name, who)
        elif (source := MEDICATION_SOURCES.get(rtype)) is not None:
            fact = read_medication(resource, source, self.index, note, name)
        else:
            self._read_other(rtype, resource, note)
            return
        if fact.__class__ is tuple:  # a panel's results
            self._read_panel(resource, name, fact)
        elif fact is not None:
            # by exact class: the readers build each record as itself
            self.facts[fact.__class__].append(fact)

    def _read_panel(self, resource: dict, name: str, results: tuple) -> None:
        """A panel's results; a component repeating one of its ``hasMember`` results (read
        as itself, a resource of its own) is left to that result, not counted twice."""
        members = {_reference(ref) for ref in as_list(resource.get("hasMember"))}
        if members:
            self.members[name] = members
        for result in results:
            self.facts[result.__class__].append(result)

    def birth_date(self) -> date | None:
        """The patient's birth date, for a date given as an age: the Patient read already,
        else the first in the data (the one ``_read_patient`` will use), which may come later."""
        if self.patient is not None:
            return self.patient.birth_date
        for resource, _ in self.entries:
            if resource.get("resourceType") == "Patient":
                return parse_date(resource.get("birthDate"))
        return None

    def who(self) -> tuple[str | None, date | None]:
        """The patient's sex and birth date, for a reference range given per sex or age: the
        Patient read already, else the first in the data, as ``birth_date``."""
        if self.patient is not None:
            return self.patient.sex, self.patient.birth_date
        for resource, _ in self.entries:
            if resource.get("resourceType") == "Patient":
                gender = string(resource, "gender")
                return (gender.lower() if gender else None), parse_date(resource.get("birthDate"))
        return None, None

    def _read_other(self, rtype: str, resource: dict, note: Note) -> None:
        if rtype == "Condition":
            self.findings.extend(read_condition(resource, note, self.birth_date))
        elif rtype == "Patient":
            self._read_patient(resource, note)
        elif rtype == "Procedure":
            self.findings.extend(read_procedure(resource, note, self.birth_date))
        elif rtype == "AllergyIntolerance":
            self.findings.extend(read_allergy(resource, note, self.birth_date))
        elif rtype not in R4_RESOURCE_TYPES:
            raise Skip(f"skipped: unknown resource type '{shorten(rtype)}'")

    def _read_patient(self, resource: dict, note: Note) -> None:
        if self.patient is not None:
            note(f"ignored: more than one Patient; used {self.patient.resource_id}")
            return
        gender = string(resource, "gender")
        born = parse_date(resource.get("birthDate"))
        if born is None:
            given = "birthDate" in resource
            missing = "birth date not understood" if given else "no birth date"
            # what the guidance rests on: adult advice, as no age is known (R23)
            note(f"{missing}: adult guidance applied; check the patient's age", NoteKind.DECISION)
        died = resource.get("deceasedDateTime")
        self.patient = Patient(
            resource_id=label(resource),
            sex=gender.lower() if gender else None,
            birth_date=born,
            deceased=resource.get("deceasedBoolean") is True or died not in (None, ""),
            deceased_on=parse_date(died),
        )


def _read_draft(resource: dict, index: MedicationIndex, note: Note) -> DraftOrder:
    """A draft order as sent, with the medication or lab it orders when we recognise it."""
    rtype = resource.get("resourceType")
    if not isinstance(rtype, str) or not rtype.strip():
        raise Skip("skipped: draft order has no resourceType")
    medication = lab = None
    if rtype == "MedicationRequest":
        try:
            parsed = read_medication(
                resource, MedSource.REQUEST, index, note, label(resource), draft=True
            )
        except Skip as skip:
            note(skip.message.removeprefix("skipped: "), skip.kind)
        except Exception:  # the order is still returned so a suggestion can update it
            note("medication not recognised: unreadable order")
        else:
            medication = parsed if isinstance(parsed, Medication) else None
    elif rtype == "ServiceRequest":
        lab = _ordered_lab(resource.get("code"))
    return DraftOrder(rtype, label(resource), resource, medication, lab)


def _ordered_lab(concept: object) -> LabKind | None:
    """The analyte a lab order asks for; the B12 + folate panel counts as a B12 order."""
    kind = lab_kind(concept)
    if kind is None and B12_FOLATE_PANEL in codings(concept):
        return LabKind.B12
    return kind
