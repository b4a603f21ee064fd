"""Clinical core: the typed patient record that the FHIR reader fills in.

Imports only the standard library. Every number is already in its canonical
unit (the unit is in the field name or in ``LabKind.unit``); converting is the
FHIR reader's job and nobody else's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from types import MappingProxyType


class LabKind(StrEnum):
    """Lab analytes the rules use; each value is stored in ``unit``."""

    B12 = "B12"  # total serum/plasma cobalamin, ng/L (= pg/mL)
    HOLOTC = "HOLOTC"  # holotranscobalamin (active B12), pmol/L
    MMA = "MMA"  # methylmalonic acid, umol/L
    HCY = "HCY"  # total homocysteine, umol/L
    HB = "HB"  # haemoglobin, g/dL
    MCV = "MCV"  # mean cell volume, fL
    RETIC = "RETIC"  # reticulocytes, % of red cells
    POTASSIUM = "POTASSIUM"  # mmol/L
    FOLATE = "FOLATE"  # serum folate, ng/mL
    FERRITIN = "FERRITIN"  # ng/mL (= ug/L)
    WBC = "WBC"  # white cells (leukocytes), 10*9/L (= 10*3/uL)
    NEUTROPHILS = "NEUTROPHILS"  # absolute neutrophil count, 10*9/L
    PLATELETS = "PLATELETS"  # 10*9/L
    EGFR = "EGFR"  # estimated glomerular filtration rate, mL/min/1.73 m2 (R24)

    @property
    def unit(self) -> str:
        """The canonical UCUM unit of this analyte."""
        return _CANONICAL_UNITS[self]


_CANONICAL_UNITS = {
    LabKind.B12: "ng/L",
    LabKind.HOLOTC: "pmol/L",
    LabKind.MMA: "umol/L",
    LabKind.HCY: "umol/L",
    LabKind.HB: "g/dL",
    LabKind.MCV: "fL",
    LabKind.RETIC: "%",
    LabKind.POTASSIUM: "mmol/L",
    LabKind.FOLATE: "ng/mL",
    LabKind.FERRITIN: "ng/mL",
    LabKind.WBC: "10*9/L",
    LabKind.NEUTROPHILS: "10*9/L",
    LabKind.PLATELETS: "10*9/L",
    LabKind.EGFR: "mL/min/{1.73_m2}",
}


@dataclass(frozen=True, slots=True)
class Quantity:
    """A value with its unit exactly as the lab reported it (the unit is FHIR text)."""

    value: float
    unit: str


@dataclass(frozen=True, slots=True)
class Lab:
    """One final lab result in canonical units, with the value as reported beside it."""

    kind: LabKind
    value: float
    on: date
    resource_id: str
    ref_low: float | None = None  # lab's own range, canonical unit
    ref_high: float | None = None
    interpretation: str | None = None  # v3 ObservationInterpretation code: L, LL, H, HH, N, A
    reported: Quantity | None = None  # as the lab sent it, for the card to show ("190 pmol/L")
    comparator: str | None = None  # "<", "<=", ">=" or ">": a censored value, only a bound


class Product(StrEnum):
    """What a medication is, as far as B12 logic cares."""

    B12_INJECTION = "B12_INJECTION"
    B12_ORAL_HIGH = "B12_ORAL_HIGH"  # >= 0.5 mg per dose
    B12_ORAL_LOW = "B12_ORAL_LOW"  # dietary dose, 50-250 ug
    B12_NASAL = "B12_NASAL"
    CYANOKIT = "CYANOKIT"  # hydroxocobalamin 5 g cyanide antidote: never B12 therapy (S10)
    METFORMIN = "METFORMIN"
    ACID_SUPPRESSANT = "ACID_SUPPRESSANT"  # PPI or H2RA
    FOLIC_ACID = "FOLIC_ACID"


class Route(StrEnum):
    IM = "IM"
    SC = "SC"
    ORAL = "ORAL"
    NASAL = "NASAL"
    IV = "IV"  # only hydroxocobalamin 5 g (Cyanokit) is given this way
    UNKNOWN = "UNKNOWN"


# bound once, as the MedSource members below are: ``is_injection`` runs per medication
B12_INJECTION = Product.B12_INJECTION


class MedSource(StrEnum):
    REQUEST = "MedicationRequest"
    ADMINISTRATION = "MedicationAdministration"
    STATEMENT = "MedicationStatement"


# The members as plain names, for the loops over medications: on Python 3.11 reading an Enum
# class attribute goes through EnumType.__getattr__'s hook (some 900 instructions), a global
# next to none, and a long record has hundreds of medications.
REQUEST, ADMINISTRATION, STATEMENT = (
    MedSource.REQUEST,
    MedSource.ADMINISTRATION,
    MedSource.STATEMENT,
)


@dataclass(frozen=True, slots=True)
class Timing:
    """``Dosage.timing.repeat`` as written, kept so a schedule can be shown exactly."""

    frequency: int = 1
    period: float | None = None
    period_max: float | None = None
    period_unit: str | None = None  # UCUM: s min h d wk mo a
    bounded: bool = False  # repeat states an end: count, boundsDuration/Range or boundsPeriod.end

    @property
    def interval_days(self) -> float | None:
        """Days between doses at the shortest stated period."""
        return to_days(self.period, self.period_unit, self.frequency)

    @property
    def interval_max_days(self) -> float | None:
        """Days between doses at the longest stated period (``periodMax``)."""
        if self.period_max is None:
            return self.interval_days
        return to_days(self.period_max, self.period_unit, self.frequency)


# UCUM time units in days: the one definition of a month (30 days) and a year (365 days)
# that schedules, orders, intervals and their wording all share.
DAYS_PER_UNIT = MappingProxyType(
    {"s": 1 / 86400, "min": 1 / 1440, "h": 1 / 24, "d": 1, "wk": 7, "mo": 30, "a": 365}
)


def to_days(period: float | None, unit: str | None, frequency: int = 1) -> float | None:
    """Days between doses for ``frequency`` doses every ``period`` ``unit``; None if unknown."""
    if period is None or unit not in DAYS_PER_UNIT or frequency < 1:
        return None
    return period * DAYS_PER_UNIT[unit] / frequency


@dataclass(frozen=True, slots=True)
class Medication:
    """A B12 product, risk drug or folic acid from an order, a dose given or a statement."""

    source: MedSource
    product: Product
    resource_id: str
    status: str
    ingredient: str | None = None  # a codes.B12_INGREDIENTS name, or None for other drugs
    intent: str | None = None
    on: date | None = None  # authoredOn, effective[x] start, or dateAsserted
    start: date | None = None  # validity/bounds/effective period start
    end: date | None = None  # validity/bounds/effective period end
    dose_mg: float | None = None
    route: Route = Route.UNKNOWN
    timing: Timing | None = None
    dose_written: Quantity | None = None  # the dose as the order states it ("1000 mg", "2 mL")

    @property
    def is_b12_therapy(self) -> bool:
        """True for products that treat B12 deficiency; Cyanokit is excluded (S10)."""
        return self.product in B12_THERAPY

    @property
    def is_injection(self) -> bool:
        return self.product is B12_INJECTION


B12_THERAPY = frozenset(
    {Product.B12_INJECTION, Product.B12_ORAL_HIGH, Product.B12_ORAL_LOW, Product.B12_NASAL}
)


class Finding(StrEnum):
    """Conditions, procedures and allergies that change B12 decisions."""

    PERNICIOUS_ANAEMIA = "PERNICIOUS_ANAEMIA"
    ATROPHIC_GASTRITIS = "ATROPHIC_GASTRITIS"
    GASTRECTOMY = "GASTRECTOMY"
    BARIATRIC_BYPASS = "BARIATRIC_BYPASS"
    SLEEVE_GASTRECTOMY = "SLEEVE_GASTRECTOMY"
    ILEAL_RESECTION = "ILEAL_RESECTION"
    SHORT_BOWEL = "SHORT_BOWEL"
    CROHNS = "CROHNS"
    COELIAC = "COELIAC"
    MALABSORPTION = "MALABSORPTION"
    B12_DEFICIENCY = "B12_DEFICIENCY"  # coded diagnosis of B12 deficiency (any cause)
    DIETARY_DEFICIENCY = "DIETARY_DEFICIENCY"  # vegan diet or dietary B12 deficiency
    NEURO = "NEURO"  # paraesthesia, neuropathy
    NEURO_SEVERE = "NEURO_SEVERE"  # subacute combined degeneration, dementia, optic atrophy
    LEBER = "LEBER"  # Leber hereditary optic neuropathy
    COBALT_B12_ALLERGY = "COBALT_B12_ALLERGY"
    PREGNANCY = "PREGNANCY"
    BREASTFEEDING = "BREASTFEEDING"  # NG239 (UK-8): reviewed at 1 month, as in pregnancy
    FATIGUE = "FATIGUE"  # Seed 2: a symptom that may recur before a maintenance dose is due
    GLOSSITIS = "GLOSSITIS"  # Seed 2: as FATIGUE
    NITROUS_OXIDE = "NITROUS_OXIDE"
    RENAL_IMPAIRMENT = "RENAL_IMPAIRMENT"  # chronic kidney disease or dialysis: raises MMA (R24)


@dataclass(frozen=True, slots=True)
class ClinicalFinding:
    """One Condition, Procedure or AllergyIntolerance mapped to a Finding."""

    finding: Finding
    resource_id: str
    active: bool  # clinicalStatus active/recurrence/relapse (procedures: completed)
    on: date | None = None  # onset, performed or recorded date
    resolved_on: date | None = None  # abatement date
    recurrence: bool = False  # recorded as come back (clinicalStatus recurrence or relapse)


@dataclass(frozen=True, slots=True)
class DraftOrder:
    """An order being selected or signed (order-select / order-sign ``draftOrders``)."""

    resource_type: str  # MedicationRequest | ServiceRequest | ...
    resource_id: str
    resource: dict  # the draft as sent, so a suggestion can update it
    medication: Medication | None = None  # for medication drafts we recognise
    lab: LabKind | None = None  # for lab drafts we recognise


class NoteKind(StrEnum):
    """What a data-quality note is about, in the order the cards list them: what a
    clinician needs first."""

    DECISION = "DECISION"  # a result or dose the decisions rest on: unread, set aside, undated
    STATUS = "STATUS"  # an entry skipped for its status (entered-in-error, cancelled, ...)
    OTHER = "OTHER"  # bookkeeping: an unknown resource type, another patient's entry


@dataclass(frozen=True, slots=True)
class DataNote:
    """A resource the reader skipped or a value it ignored, and why: shown to the clinician.

    ``message`` is the FHIR reader's (or the fetch's) own words; the core adds none.
    ``kind`` is set where the note is made; it orders the notes and is no part of what
    the note says, so two notes equal in resource and message are one note.
    """

    resource: str  # "Observation/obs-1", or the resourceType when there is no id
    message: str
    kind: NoteKind = field(default=NoteKind.OTHER, compare=False)


@dataclass(frozen=True, slots=True)
class IgnoredResult:
    """A B12 result set aside by the assessment (S2): taken within ``within_days`` of a dose."""

    resource: str
    on: date
    within_days: int


@dataclass(frozen=True, slots=True)
class UndecidedResult:
    """A censored result ("<200") whose range spans more than one band: it decided nothing."""

    resource: str
    on: date
    kind: LabKind


class Unreadable(StrEnum):
    """Why a result on file could not be read as a number in a known unit."""

    NO_UNIT = "NO_UNIT"
    UNKNOWN_UNIT = "UNKNOWN_UNIT"
    NO_VALUE = "NO_VALUE"
    NOT_A_NUMBER = "NOT_A_NUMBER"  # NaN, Infinity, 1e400 or text that is not a number
    UNITS_DISAGREE = "UNITS_DISAGREE"  # the unit in words and the UCUM code are two units
    IMPLAUSIBLE = "IMPLAUSIBLE"  # outside the profile's plausible_limits: no patient's value
    SOURCES_DISAGREE = "SOURCES_DISAGREE"  # a panel's copy of the result gives another value


@dataclass(frozen=True, slots=True)
class UnreadableResult:
    """A final result of an analyte the rules use that could not be read (R25).

    The reader's come with a ``DataNote``; an IMPLAUSIBLE one, set aside by the
    assessment, is its own note and keeps the result as read (``lab``) for the card to
    quote as the lab sent it.
    """

    kind: LabKind
    resource: str
    on: date
    reason: Unreadable
    lab: Lab | None = None  # IMPLAUSIBLE: the result as read, quoted, never used


Note = DataNote | IgnoredResult | UndecidedResult | UnreadableResult


@dataclass(frozen=True, slots=True)
class Patient:
    resource_id: str
    sex: str | None = None  # FHIR administrative gender
    birth_date: date | None = None
    deceased: bool = False  # deceasedBoolean true, or a deceasedDateTime
    deceased_on: date | None = None  # deceasedDateTime, when it is a date


@dataclass(frozen=True, slots=True)
class PatientRecord:
    """Everything the core knows about one patient, read tolerantly from FHIR."""

    patient: Patient | None = None
    labs: tuple[Lab, ...] = ()
    medications: tuple[Medication, ...] = ()
    findings: tuple[ClinicalFinding, ...] = ()
    drafts: tuple[DraftOrder, ...] = ()
    notes: tuple[DataNote, ...] = field(default=())
    unreadable: tuple[UnreadableResult, ...] = ()  # the reader's: each also has a DataNote
