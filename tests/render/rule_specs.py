"""The Recommendation each rule, and each card variant, would send: indicator, kind,
regimen per profile, labs, draft and sources, with the facts from ``rule_facts``.

So every card file renders in the render tests without running the rules. A plain
module with a unique name (not conftest) so test modules can import it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cds_b12.clinical.facts import Interval
from cds_b12.clinical.profiles import Profile
from cds_b12.clinical.recommendation import (
    Indicator,
    Kind,
    LabNote,
    LabOrder,
    Recommendation,
    Urgency,
    Variant,
)
from cds_b12.clinical.record import Finding
from cds_b12.clinical.regimens import CATALOGUE, HYDROXOCOBALAMIN_INJ, intensified, with_drug

from .render_support import AS_OF
from .rule_facts import RULE_FACTS, facts_for, findings

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
    ("R7-severe-anaemia", Variant.CHILD): {"kind": Kind.URGENT_ASSESSMENT, "facts": {"age": 9}},
    ("R7-severe-anaemia", Variant.CHILD_PANCYTOPENIA): {
        "kind": Kind.URGENT_ASSESSMENT,
        "facts": {"age": 8},
    },
    ("R7-severe-anaemia", Variant.PANCYTOPENIA): {"kind": Kind.URGENT_ASSESSMENT},
    ("R4-medication-cause", Variant.METFORMIN): {},
    ("R26-interrupted-course", Variant.RESTART): {},
    ("R4-medication-cause", Variant.NO_METFORMIN): {},
    ("R21-cyanocobalamin-contraindicated", Variant.LEBER): {"kind": Kind.CHANGE_PRODUCT},
    **{
        ("R28-order-dose-error", v): {"kind": Kind.CORRECT_ORDER}
        for v in (Variant.THOUSANDFOLD, Variant.VOLUME, Variant.ABOVE_MAX, Variant.OPEN_ENDED)
    },
    ("R24-confounded-marker", Variant.DRAFT_ORDER): {
        "kind": Kind.CORRECT_ORDER,
        "indicator": Indicator.WARNING,
        "draft_id": "MedicationRequest/draft-cyano",
        "facts": {"product": RULE_FACTS["R29-over-treatment"]["product"]},
    },
    ("R29-over-treatment", Variant.CONFIRM_FIRST): {
        "kind": Kind.CORRECT_ORDER,
        "indicator": Indicator.WARNING,
        "regimen": None,
        "labs": (),
    },
    ("R29-over-treatment", Variant.CONFIRM_FIRST_NO_MMA): {
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
            "neuro_history": findings((Finding.NEURO, date(2024, 3, 2))),
        },
    },
    ("R10-start-maintenance", Variant.AFTER_RELOAD): {
        "regimen": intensified(CATALOGUE["UK_MAINT_NEURO"], 60, (CATALOGUE["US_MAINT"].steps), 14),
        "facts": {"reloaded_from": Interval(30.0)},
    },
    ("R10-start-maintenance", Variant.DRAFT_AFTER_RELOAD): {
        "indicator": Indicator.WARNING,
        "regimen": intensified(CATALOGUE["UK_MAINT_NEURO"], 60, (CATALOGUE["US_MAINT"].steps), 14),
        "draft_id": "MedicationRequest/draft-maint",
        "facts": {
            "draft_schedule": Interval(60.0),
            "reloaded_from": Interval(30.0),
            "neuro_history": findings((Finding.NEURO, date(2025, 12, 2))),
        },
    },
    ("R5-indeterminate-order-mma", Variant.NITROUS_OXIDE): {"indicator": Indicator.WARNING},
    ("R6-indeterminate-neuro", Variant.NITROUS_OXIDE): {},
}


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
