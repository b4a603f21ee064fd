"""Shared builders for the render tests: full fact sets and one Recommendation per rule.

Facts are long but realistic, so a summary that only fits with short values fails here.
A plain module with a unique name (not conftest) so test modules can import it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from cds_b12.clinical.cause import Cause
from cds_b12.clinical.facts import (
    Agents,
    CauseFact,
    Confoundings,
    DailyDose,
    Direction,
    Fact,
    Findings,
    Interval,
    LabTrend,
    LastDose,
    Since,
    Stopped,
    Trends,
    Unreadables,
    Years,
)
from cds_b12.clinical.markers import Confounded, Confounder
from cds_b12.clinical.profiles import UK, US, Profile
from cds_b12.clinical.recommendation import (
    Indicator,
    Kind,
    LabNote,
    LabOrder,
    Recommendation,
    Urgency,
    Variant,
)
from cds_b12.clinical.record import (
    Finding,
    Lab,
    LabKind,
    Medication,
    MedSource,
    Product,
    Quantity,
    Route,
    Unreadable,
    UnreadableResult,
)
from cds_b12.clinical.regimens import CATALOGUE, HYDROXOCOBALAMIN_INJ, intensified, with_drug

AS_OF = date(2026, 1, 15)
PATIENT = "pat-42"
PROFILES = (UK, US)


def _lab(kind: LabKind, value: float, on: date, reported: Quantity | None = None) -> Lab:
    return Lab(kind, value, on, f"Observation/{kind.value.lower()}-1", reported=reported)


def _findings(*items: tuple[Finding, date | None]) -> Findings:
    return Findings(tuple(Since(finding, on) for finding, on in items))


def _medication(
    product: Product, ingredient: str | None, dose_mg: float, route: Route
) -> Medication:
    return Medication(
        MedSource.REQUEST,
        product,
        "MedicationRequest/draft-1",
        "draft",
        ingredient,
        dose_mg=dose_mg,
        route=route,
    )


# Typed, as the clinical core sends them; several findings each, so the words are long.
ALWAYS_FACTS: dict[str, Fact] = {
    "as_of": date(2026, 1, 15),
    "b12": _lab(LabKind.B12, 152.0, date(2026, 1, 3), Quantity(112.2, "pmol/L")),
    "hb": _lab(LabKind.HB, 7.9, date(2026, 1, 3)),
    "mcv": _lab(LabKind.MCV, 112.0, date(2026, 1, 3)),
    "mma": _lab(LabKind.MMA, 0.62, date(2026, 1, 4)),
    "cause": CauseFact(
        Cause.IRREVERSIBLE_MALABSORPTION,
        _findings(
            (Finding.PERNICIOUS_ANAEMIA, date(2019, 4, 2)),
            (Finding.GASTRECTOMY, date(2021, 9, 14)),
            (Finding.ATROPHIC_GASTRITIS, None),
        ),
    ),
    "neuro": _findings(
        (Finding.NEURO, date(2025, 11, 2)), (Finding.NEURO_SEVERE, date(2025, 12, 20))
    ),
    "last_dose": LastDose(date(2025, 12, 1), 45),
    "interval": Interval(90.0),
    "review_date": date(2026, 4, 15),
}

RULE_FACTS: dict[str, dict[str, Fact]] = {
    "R1-start-neuro-loading": {},
    "R2-start-standard-loading": {},
    "R3-dietary-oral": {},
    "R4-medication-cause": {
        "drug": Agents((Product.METFORMIN, Product.ACID_SUPPRESSANT), nitrous_oxide=True)
    },
    "R5-indeterminate-order-mma": {},
    "R6-indeterminate-neuro": {},
    "R7-severe-anaemia": {
        "wbc": _lab(LabKind.WBC, 2.3, date(2026, 1, 14)),
        "neutrophils": _lab(LabKind.NEUTROPHILS, 0.9, date(2026, 1, 14)),
        "platelets": _lab(LabKind.PLATELETS, 62, date(2026, 1, 14)),
        "potassium": _lab(LabKind.POTASSIUM, 3.1, date(2026, 1, 16)),
        "loading_start": date(2026, 1, 15),
    },
    "R8-suboptimal-response": {
        "course_day": 12,
        "retic": _lab(LabKind.RETIC, 1.1, date(2026, 1, 13)),
    },
    "R9-neuro-loading-continue": {"draft_schedule": Interval(60.0)},
    "R10-start-maintenance": {"doses_given": 6, "loading_start": date(2025, 12, 29)},
    "R11-maintenance-overdue": {"due_date": date(2026, 2, 1), "days_overdue": 23},
    "R12-missed-doses": {
        "due_date": date(2025, 11, 1),
        "days_overdue": 75,
        "missed_doses": 2,
    },
    "R13-intensify-interval": {
        "recurrence": _findings(
            (Finding.NEURO, date(2025, 10, 2)), (Finding.NEURO_SEVERE, date(2025, 12, 5))
        ),
        "new_interval": Interval(60.0),
    },
    "R14-lab-drift": {
        "drift": Trends(
            (
                LabTrend(
                    LabKind.HB,
                    Direction.FELL,
                    _lab(LabKind.HB, 13.4, date(2025, 3, 1)),
                    _lab(LabKind.HB, 11.6, date(2026, 1, 3)),
                ),
                LabTrend(
                    LabKind.MCV,
                    Direction.ROSE,
                    _lab(LabKind.MCV, 92.0, date(2025, 3, 1)),
                    _lab(LabKind.MCV, 103.0, date(2026, 1, 3)),
                ),
            )
        ),
    },
    "R15-b12-order-on-maintenance": {"retest_min_days": 42},
    "R16-consider-stop": {"resolved": Stopped(Product.ACID_SUPPRESSANT, date(2025, 6, 1))},
    "R17-metformin-screening": {
        "metformin_years": Years(2374),
        "metformin_dose": DailyDose(2000.0),
        "last_b12": date(2023, 5, 2),
    },
    "R18-acid-suppressant-screening": {
        "drug": Product.ACID_SUPPRESSANT,
        "drug_years": Years(1168),
        "last_b12": None,
    },
    "R19-bariatric-prophylaxis": {
        "surgery": _findings(
            (Finding.BARIATRIC_BYPASS, date(2021, 9, 14)),
            (Finding.SLEEVE_GASTRECTOMY, date(2019, 2, 1)),
        ),
    },
    "R20-folate-without-b12": {
        "folate_order": _medication(Product.FOLIC_ACID, None, 5.0, Route.ORAL),
    },
    "R26-interrupted-course": {
        "doses_given": 3,
        "doses_due": 6,
        "doses_remaining": 3,
        "loading_start": date(2025, 12, 1),
        "b12_before": _lab(LabKind.B12, 112.0, date(2025, 11, 20), Quantity(82.6, "pmol/L")),
        "restart_after_days": 90,
    },
    "R27-oral-relapse": {
        "oral": _medication(Product.B12_ORAL_HIGH, "cyanocobalamin", 1.0, Route.ORAL),
        "oral_since": date(2025, 6, 1),
        "relapse": _findings(
            (Finding.NEURO, date(2025, 12, 20)), (Finding.GLOSSITIS, date(2025, 12, 28))
        ),
    },
    "R21-cyanocobalamin-contraindicated": {
        "reason": Finding.LEBER,
        "product": _medication(Product.B12_INJECTION, "cyanocobalamin", 1.0, Route.IM),
    },
    "R22-raised-b12": {"earlier_b12": _lab(LabKind.B12, 1380, date(2025, 10, 5))},
    "R23-not-adult": {"age": 6, "adult_age": 16},
    "R24-confounded-marker": {
        "confounded": Confoundings(
            (
                Confounded(
                    _lab(LabKind.MMA, 0.62, date(2026, 1, 5)),
                    Confounder.RENAL,
                    _lab(LabKind.EGFR, 34, date(2026, 1, 5)),
                ),
            )
        ),
        "hcy": None,
    },
    "R25-unreadable-result": {
        "unreadable": Unreadables(
            (UnreadableResult(LabKind.B12, "Observation/b12-2", AS_OF, Unreadable.NO_UNIT),)
        ),
    },
    "R28-order-dose-error": {
        "product": _medication(Product.B12_INJECTION, "cyanocobalamin", 1000.0, Route.IM),
    },
    "R29-over-treatment": {
        "product": _medication(Product.B12_INJECTION, "cyanocobalamin", 1.0, Route.IM),
    },
}
RULES = tuple(RULE_FACTS)

# Each card variant (``[variants.<name>]``), with what its Recommendation changes and adds.
VARIANTS: dict[tuple[str, Variant], dict[str, Any]] = {
    ("R11-maintenance-overdue", Variant.NO_DOSE_DATES): {
        "kind": Kind.CHECK_RECORD,
        "indicator": Indicator.INFO,
        "regimen": None,
        "facts": {"on_regimen_since": date(2025, 3, 2)},
    },
    ("R7-severe-anaemia", Variant.LOW_POTASSIUM): {"kind": Kind.URGENT_ASSESSMENT},
    ("R7-severe-anaemia", Variant.BASELINE_LOW_POTASSIUM): {"kind": Kind.URGENT_ASSESSMENT},
    ("R21-cyanocobalamin-contraindicated", Variant.LEBER): {"kind": Kind.CHANGE_PRODUCT},
    **{
        ("R28-order-dose-error", v): {"kind": Kind.CORRECT_ORDER}
        for v in (Variant.THOUSANDFOLD, Variant.VOLUME, Variant.ABOVE_MAX, Variant.OPEN_ENDED)
    },
    ("R29-over-treatment", Variant.CONFIRM_FIRST): {
        "kind": Kind.CORRECT_ORDER,
        "indicator": Indicator.WARNING,
        "regimen": None,
        "labs": (LabOrder("MMA", AS_OF, None, LabNote.CONFIRM),),
    },
    ("R21-cyanocobalamin-contraindicated", Variant.ALLERGY): {
        "kind": Kind.CHANGE_PRODUCT,
        "regimen": None,
        "facts": {"reason": Finding.COBALT_B12_ALLERGY},
    },
    **{
        (rule, Variant.RELOAD): {
            "kind": Kind.START_LOADING,
            "indicator": Indicator.CRITICAL,
            "regimen": CATALOGUE["UK_LOAD_NEURO"],
            "facts": {"recurrence": RULE_FACTS["R13-intensify-interval"]["recurrence"]},
        }
        for rule in ("R11-maintenance-overdue", "R12-missed-doses", "R13-intensify-interval")
    },
    ("R10-start-maintenance", Variant.NEURO_MAINTENANCE): {
        "indicator": Indicator.WARNING,
        "regimen": CATALOGUE["UK_MAINT_NEURO"],
        "draft_id": "MedicationRequest/draft-maint",
        "facts": {
            "draft_schedule": Interval(90.0),
            "neuro_history": _findings((Finding.NEURO, date(2024, 3, 2))),
        },
    },
    ("R5-indeterminate-order-mma", Variant.NITROUS_OXIDE): {"indicator": Indicator.WARNING},
    ("R6-indeterminate-neuro", Variant.NITROUS_OXIDE): {},
}
AUTOMATIC = frozenset({"profile"})
REGIMEN_PLACEHOLDERS = frozenset({"regimen", "schedule", "alternative"})


def facts_for(rule: str) -> dict[str, Fact]:
    """Every fact the clinical layer promises for ``rule``."""
    return {**ALWAYS_FACTS, **RULE_FACTS[rule]}


def labs(
    *tests: str, start: date = AS_OF, days: int = 0, note: LabNote | None = None
) -> tuple[LabOrder, ...]:
    end = date.fromordinal(start.toordinal() + days) if days else None
    return tuple(LabOrder(test, start, end, note) for test in tests)


BASELINE = labs("CBC", "RETIC", "FOLATE", "FERRITIN", "IF_AB", note=LabNote.BASELINE)
RESPONSE = labs("RETIC", start=date(2026, 1, 22), days=3, note=LabNote.RESPONSE)


@dataclass(frozen=True)
class Spec:
    """How a rule's Recommendation looks in the tests (what the clinical rules would send)."""

    indicator: Indicator
    kind: Kind
    regimen: Callable[[Profile], str | None] = lambda p: None
    alternative: Callable[[Profile], str | None] = lambda p: None
    labs: tuple[LabOrder, ...] = ()
    draft: str | None = None
    sources: tuple[str, ...] = ("UK-1",)
    extra: dict[str, Any] = field(default_factory=dict)


SPECS: dict[str, Spec] = {
    "R1-start-neuro-loading": Spec(
        Indicator.CRITICAL,
        Kind.START_LOADING,
        lambda p: p.neuro_loading,
        labs=(
            *BASELINE,
            *labs("POTASSIUM", start=date(2026, 1, 17), note=LabNote.AT_48_HOURS),
            *RESPONSE,
        ),
        sources=("UK-2", "UK-3", "SP-7"),
    ),
    "R2-start-standard-loading": Spec(
        Indicator.WARNING,
        Kind.START_LOADING,
        lambda p: p.loading,
        lambda p: p.oral if p.name == "US" else None,
        labs=(*BASELINE, *RESPONSE),
        sources=("UK-1", "UK-5"),
    ),
    "R3-dietary-oral": Spec(
        Indicator.INFO,
        Kind.START_ORAL,
        lambda p: p.dietary,
        lambda p: p.dietary_alternative,
        sources=("UK-4",),
    ),
    "R4-medication-cause": Spec(
        Indicator.INFO,
        Kind.START_ORAL,
        lambda p: p.oral,
        lambda p: p.loading,
        sources=("US-5", "SP-5"),
    ),
    "R5-indeterminate-order-mma": Spec(
        Indicator.INFO, Kind.ORDER_LABS, labs=labs("MMA", "HCY"), sources=("UK-8", "US-6")
    ),
    "R6-indeterminate-neuro": Spec(
        Indicator.CRITICAL,
        Kind.START_LOADING,
        lambda p: p.neuro_loading,
        labs=BASELINE,
        sources=("UK-6", "UK-2"),
    ),
    "R7-severe-anaemia": Spec(
        Indicator.CRITICAL,
        Kind.URGENT_ASSESSMENT,
        labs=(
            *labs("POTASSIUM", note=LabNote.BASELINE),
            *labs("POTASSIUM", start=date(2026, 1, 17), note=LabNote.AT_48_HOURS),
            *labs("RETIC", start=date(2026, 1, 20), days=2),
        ),
        sources=("WHO-2.6", "US-2"),
    ),
    "R8-suboptimal-response": Spec(
        Indicator.WARNING,
        Kind.ORDER_LABS,
        labs=labs("FERRITIN", "FOLATE", "TSH", "CBC", "RETIC"),
        sources=("US-2",),
    ),
    "R9-neuro-loading-continue": Spec(
        Indicator.WARNING,
        Kind.CONTINUE_LOADING,
        lambda p: p.neuro_loading,
        draft="MedicationRequest/draft-maint",
        sources=("UK-2",),
    ),
    "R10-start-maintenance": Spec(
        Indicator.INFO,
        Kind.START_MAINTENANCE,
        lambda p: p.maintenance,
        lambda p: p.oral,
        labs=labs("CBC", "RETIC", start=date(2026, 2, 23), days=7, note=LabNote.EIGHT_WEEKS),
        sources=("UK-1", "UK-5"),
    ),
    "R11-maintenance-overdue": Spec(
        Indicator.WARNING, Kind.GIVE_DOSE, lambda p: p.maintenance, sources=("UK-1",)
    ),
    "R12-missed-doses": Spec(
        Indicator.WARNING,
        Kind.GIVE_DOSE,
        lambda p: p.maintenance,
        labs=labs("CBC", "MMA"),
        sources=("UK-1", "UK-10"),
    ),
    "R13-intensify-interval": Spec(
        Indicator.INFO, Kind.INTENSIFY, lambda p: "INTENSIFIED", sources=("UK-9",)
    ),
    "R14-lab-drift": Spec(
        Indicator.WARNING,
        Kind.ORDER_LABS,
        labs=labs("CBC", "FERRITIN", "FOLATE", "TSH"),
        sources=("UK-9",),
    ),
    "R15-b12-order-on-maintenance": Spec(
        Indicator.INFO,
        Kind.ORDER_ADVICE,
        draft="ServiceRequest/draft-b12",
        sources=("LAB-UK-2.8", "LAB-2.8"),
    ),
    "R16-consider-stop": Spec(
        Indicator.INFO,
        Kind.CONSIDER_STOP,
        labs=labs("B12", "MMA", start=date(2026, 4, 15), days=90, note=LabNote.AFTER_STOPPING),
        sources=("UK-9",),
    ),
    "R17-metformin-screening": Spec(
        Indicator.INFO, Kind.ORDER_LABS, labs=labs("B12", "CBC"), sources=("SP-4", "SP-5")
    ),
    "R18-acid-suppressant-screening": Spec(
        Indicator.INFO, Kind.ORDER_LABS, labs=labs("B12"), sources=("US-5", "SP-6")
    ),
    "R19-bariatric-prophylaxis": Spec(
        Indicator.WARNING,
        Kind.START_MAINTENANCE,
        lambda p: p.bariatric,
        lambda p: p.bariatric_alternative,
        labs=labs("B12", "CBC", start=date(2027, 1, 15), days=30, note=LabNote.ANNUAL),
        sources=("SP-1", "US-5"),
    ),
    "R20-folate-without-b12": Spec(
        Indicator.CRITICAL,
        Kind.ORDER_ADVICE,
        labs=labs("B12", "FOLATE"),
        draft="MedicationRequest/draft-folic",
        sources=("LABEL-S3",),
    ),
    "R21-cyanocobalamin-contraindicated": Spec(
        Indicator.CRITICAL,
        Kind.CHANGE_PRODUCT,
        lambda p: "LEBER",
        draft="MedicationRequest/draft-cyano",
        sources=("LABEL-S4", "UK-5"),
    ),
    "R22-raised-b12": Spec(Indicator.INFO, Kind.REVIEW, sources=("US-6",)),
    "R23-not-adult": Spec(Indicator.INFO, Kind.REVIEW, sources=("UK-8",)),
    "R24-confounded-marker": Spec(
        Indicator.INFO,
        Kind.ORDER_LABS,
        labs=labs("HOLOTC", note=LabNote.CONFIRM),
        sources=("UK-6", "LAB-2.8"),
    ),
    "R25-unreadable-result": Spec(
        Indicator.WARNING,
        Kind.ORDER_LABS,
        labs=labs("B12", note=LabNote.REPEAT),
        sources=("UK-8", "US-6", "WHO-2.6"),
    ),
    "R26-interrupted-course": Spec(
        Indicator.WARNING,
        Kind.START_LOADING,
        lambda p: p.loading,
        labs=RESPONSE,
        sources=("UK-1", "US-3"),
    ),
    "R27-oral-relapse": Spec(
        Indicator.CRITICAL,
        Kind.START_LOADING,
        lambda p: p.neuro_loading,
        labs=RESPONSE,
        sources=("UK-9", "US-5"),
    ),
    "R28-order-dose-error": Spec(
        Indicator.CRITICAL,
        Kind.CORRECT_ORDER,
        lambda p: p.maintenance,
        draft="MedicationRequest/draft-cyano",
        sources=("US-1", "UK-1"),
    ),
    "R29-over-treatment": Spec(
        Indicator.WARNING,
        Kind.CORRECT_ORDER,
        lambda p: p.dietary,
        lambda p: p.dietary_alternative,
        draft="MedicationRequest/draft-cyano",
        sources=("UK-5", "UK-4", "US-5"),
    ),
}


def _regimen(regimen_id: str | None, profile: Profile):
    if regimen_id is None:
        return None
    if regimen_id == "INTENSIFIED":
        current = CATALOGUE[profile.maintenance]
        return intensified(
            current,
            current.steps[-1].interval_max_days,
            profile.intensify_steps,
            profile.min_interval_days,
        )
    if regimen_id == "LEBER":
        return with_drug(CATALOGUE[profile.loading], HYDROXOCOBALAMIN_INJ)
    return CATALOGUE[regimen_id]


def make_rec(
    rule: str, profile: Profile, *, with_regimen: bool = True, **changes: Any
) -> Recommendation:
    """The Recommendation the clinical rules would send for ``rule`` (regimen optional)."""
    spec = SPECS[rule]
    fields: dict[str, Any] = {
        "rule": rule,
        "indicator": spec.indicator,
        "kind": spec.kind,
        "urgency": Urgency.URGENT if spec.indicator is Indicator.CRITICAL else Urgency.ROUTINE,
        "sources": spec.sources,
        "regimen": _regimen(spec.regimen(profile), profile) if with_regimen else None,
        "alternative": _regimen(spec.alternative(profile), profile) if with_regimen else None,
        "labs": spec.labs,
        "facts": facts_for(rule),
        "draft_id": spec.draft,
        "start_on": AS_OF if with_regimen else None,
        # the core's reading of the cause: ALWAYS_FACTS' cause is irreversible
        "lifelong": True,
        **spec.extra,
    }
    fields.update(changes)
    return Recommendation(**fields)


def make_variant(rule: str, variant: Variant, profile: Profile) -> Recommendation:
    """The Recommendation the clinical rules would send for one card variant."""
    changes = dict(VARIANTS[(rule, variant)])
    facts = {**facts_for(rule), **changes.pop("facts", {})}
    return make_rec(rule, profile, variant=variant, facts=facts, **changes)


def medication_draft(draft_id: str = "draft-maint") -> dict:
    """A MedicationRequest draft as an order-select request might carry it."""
    return {
        "resourceType": "MedicationRequest",
        "id": draft_id,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{PATIENT}"},
        "requester": {"reference": "Practitioner/dr-1"},
        "medicationCodeableConcept": {
            "coding": [
                {
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code": "309594",
                    "display": "vitamin B12 1 MG/ML Injectable Solution",
                }
            ],
        },
        "dosageInstruction": [{"text": "1 mg every 2 months"}],
        "note": [{"text": "entered by Dr One"}],
    }


def lab_draft(draft_id: str = "draft-b12") -> dict:
    return {
        "resourceType": "ServiceRequest",
        "id": draft_id,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{PATIENT}"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "2132-9"}]},
    }


def all_drafts() -> dict[str, dict]:
    return {
        "MedicationRequest/draft-maint": medication_draft("draft-maint"),
        "MedicationRequest/draft-folic": medication_draft("draft-folic"),
        "MedicationRequest/draft-cyano": medication_draft("draft-cyano"),
        "ServiceRequest/draft-b12": lab_draft("draft-b12"),
    }


def validate_fhir(resource: dict) -> None:
    """Raise unless ``resource`` is a valid FHIR R4B resource of its type."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def walk(value: Any, path: str = "$"):
    """Yield (path, value) for every node of a JSON value."""
    yield path, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from walk(child, f"{path}.{key}")
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from walk(child, f"{path}[{i}]")
