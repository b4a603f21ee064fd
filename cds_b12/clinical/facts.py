"""Clinical core: the patient's own values that a card quotes, as typed facts.

Imports only the standard library and ``cds_b12.clinical``. A fact is a date, a
count, a lab result (``record.Lab``, with the value as reported beside the
canonical one), an enum member (a ``Finding``, a ``Product``) or one of the small
records below; ``None`` means "not on file". There is no text here: ``render/``
words every fact with the tables in ``cards/_defaults.toml`` ([facts],
[finding_names], [absent], ...), so the words can change without touching a rule.

Every Recommendation carries the common facts (``rules/common.py``), so any card
template may quote them; rules add their own through ``recommend(..., name=fact)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from .builder import builder
from .cause import Cause
from .markers import Confounded
from .record import ClinicalFinding, Finding, Lab, LabKind, Medication, Product, UnreadableResult


@dataclass(frozen=True, slots=True)
class Since:
    """A finding and the earliest date it was recorded (None: undated)."""

    finding: Finding
    on: date | None


@dataclass(frozen=True, slots=True)
class Findings:
    """Each finding once, with its earliest date, oldest first; empty: none recorded.

    The same whatever order the EHR sent the resources in (a Condition and a
    Procedure often record one event).
    """

    items: tuple[Since, ...]

    @classmethod
    def of(cls, findings: tuple[ClinicalFinding, ...]) -> Findings:
        if not findings:  # every card quotes the neurological signs: most have none
            return NO_FINDINGS
        # every card quotes the cause, most of one finding: its own earliest date, with no
        # merge (test_facts_built pins it to the merge's answer)
        if len(findings) == 1:
            return build_findings((build_since(findings[0].finding, findings[0].on),))
        first: dict[Finding, date | None] = {}
        for f in findings:
            dates = [d for d in (first.get(f.finding), f.on) if d is not None]
            first[f.finding] = min(dates) if dates else None
        ordered = sorted(first.items(), key=lambda item: item[1] or date.max)
        return build_findings(tuple(build_since(finding, on) for finding, on in ordered))


NO_FINDINGS = Findings(())


@dataclass(frozen=True, slots=True)
class CauseFact:
    """The §6.1 cause and the findings that show it (none for a drug cause or no cause)."""

    cause: Cause
    findings: Findings


@dataclass(frozen=True, slots=True)
class LastDose:
    on: date
    days_ago: int


@dataclass(frozen=True, slots=True)
class Interval:
    """Days between doses, as an order or a regimen step gives them; ``max_days`` when it
    gives a range (``periodMax``), so the card words the same range as the order."""

    days: float
    max_days: float | None = None


class Direction(StrEnum):
    FELL = "FELL"
    ROSE = "ROSE"


@dataclass(frozen=True, slots=True)
class LabTrend:
    """R14: an analyte moving the wrong way between its last two results."""

    kind: LabKind
    direction: Direction
    start: Lab
    end: Lab


@dataclass(frozen=True, slots=True)
class Trends:
    items: tuple[LabTrend, ...]


@dataclass(frozen=True, slots=True)
class Stopped:
    """R16: a risk drug stopped on ``on``."""

    product: Product
    on: date


@dataclass(frozen=True, slots=True)
class DietCorrected:
    """R16: the dietary cause recorded as resolved on ``on``."""

    on: date


@dataclass(frozen=True, slots=True)
class Years:
    """A length of use, shown in years."""

    days: int


@dataclass(frozen=True, slots=True)
class DailyDose:
    mg: float


@dataclass(frozen=True, slots=True)
class Agents:
    """R4: the drugs (and nitrous oxide) behind a drug-related deficiency."""

    products: tuple[Product, ...]
    nitrous_oxide: bool = False


class Unused(StrEnum):
    """Why a result on file does not describe the patient now (issue 11 §5)."""

    TOO_OLD = "TOO_OLD"  # older than ``limit_days``
    AFTER_DOSE = "AFTER_DOSE"  # taken within ``limit_days`` of an injection (S2)
    NOT_NORMAL = "NOT_NORMAL"  # recent, but low or indeterminate: deficiency not excluded


@dataclass(frozen=True, slots=True)
class OnFile:
    """A result that is on file but does not count, and why: a card shows it, never
    "no result on file" while one is in the record."""

    lab: Lab
    why: Unused
    limit_days: int


@dataclass(frozen=True, slots=True)
class Ordered:
    """A medicine being ordered now (a draft) or already current, as a card names it."""

    medication: Medication
    draft: bool


@dataclass(frozen=True, slots=True)
class Unreadables:
    """R25: results on file that could not be read, oldest first."""

    items: tuple[UnreadableResult, ...]


@dataclass(frozen=True, slots=True)
class NoneReadable:
    """R25's readable results for a test whose results on file could none be read
    (``unread``, which the card lists as its subject): never "none on file"."""

    unread: Unreadables


@dataclass(frozen=True, slots=True)
class BeforeUnreadable:
    """A result a card rests on, with newer ones of the analyte that could not be read
    (R25): the card says it rests on the older result and names the newer ones (§6)."""

    lab: Lab
    unread: Unreadables


@dataclass(frozen=True, slots=True)
class Latest:
    """R26: the latest B12 beside the one before the first dose; ``None`` when it is that
    one (said once) or the record holds no B12 ("no result before the first dose")."""

    result: Lab | OnFile | BeforeUnreadable | Unreadables | None


@dataclass(frozen=True, slots=True)
class AdultLimit:
    """A child's result judged low by the profile's adult cut-off ``below`` (in the
    analyte's unit): the lab gave no range or flag, and the KB gives no paediatric value,
    so the card says which limit was used (R7's potassium)."""

    lab: Lab
    below: float


@dataclass(frozen=True, slots=True)
class Confoundings:
    """R24: raised functional markers and the other cause on file for each; ``results``:
    each item's eGFR or folate as the card quotes it, naming newer ones that could not be
    read (``rules.common.said``)."""

    items: tuple[Confounded, ...]
    results: tuple[Lab | BeforeUnreadable | None, ...]


@dataclass(frozen=True, slots=True)
class Markers:
    """The functional markers (MMA, homocysteine) on file beside the B12 a treatment card
    quotes, as the lab reported them: a B12 of 400 is deficiency only by a raised MMA, so
    the card shows it; empty when none is on file, and the card then says nothing of them
    (a line of "none on file" would crowd the card a clinician has seconds for)."""

    items: tuple[Lab | OnFile | BeforeUnreadable | Unreadables, ...]


# The records every card's common facts hold (``rules/common.py``), built cheaply: the
# same frozen records, without a frozen __init__'s stores on every card (``builder``).
build_since = builder(Since)
build_findings = builder(Findings)
build_cause_fact = builder(CauseFact)
build_last_dose = builder(LastDose)
build_interval = builder(Interval)
build_on_file = builder(OnFile)
build_markers = builder(Markers)

# What a fact may be: the renderer words each of these, and refuses anything else.
Fact = (
    date
    | int
    | float
    | Lab
    | Finding
    | Product
    | Medication
    | Findings
    | CauseFact
    | LastDose
    | Interval
    | Trends
    | Stopped
    | DietCorrected
    | Years
    | DailyDose
    | Agents
    | OnFile
    | Ordered
    | Unreadables
    | NoneReadable
    | BeforeUnreadable
    | Latest
    | AdultLimit
    | Confoundings
    | Markers
    | None
)
