"""Property: no patient record, however odd, makes the clinical core raise."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from cds_b12.clinical import evaluate
from cds_b12.clinical.profiles import UK, US
from cds_b12.clinical.record import (
    ClinicalFinding,
    DraftOrder,
    Finding,
    Lab,
    LabKind,
    Medication,
    MedSource,
    Patient,
    PatientRecord,
    Product,
    Route,
    Timing,
)
from cds_b12.render.cards import render_cards

AS_OF = date(2026, 3, 1)
days = st.integers(min_value=-30, max_value=3000).map(lambda d: AS_OF - timedelta(days=d))
maybe_day = st.none() | days
small = st.floats(min_value=0, max_value=5000, allow_nan=False, allow_infinity=False)

timings = st.builds(
    Timing,
    frequency=st.integers(0, 5),
    period=st.none() | st.floats(0, 12, allow_nan=False),
    period_max=st.none() | st.floats(0, 12, allow_nan=False),
    period_unit=st.sampled_from([None, "d", "wk", "mo", "a", "h", "bogus"]),
)
labs = st.builds(
    Lab,
    kind=st.sampled_from(LabKind),
    value=small,
    on=days,
    resource_id=st.just("Observation/x"),
    ref_low=st.none() | small,
    ref_high=st.none() | small,
    interpretation=st.sampled_from([None, "L", "H", "N", "LL"]),
)
meds = st.builds(
    Medication,
    source=st.sampled_from(MedSource),
    product=st.sampled_from(Product),
    resource_id=st.just("MedicationRequest/m"),
    status=st.sampled_from(["active", "completed", "stopped", "on-hold", "draft", "weird"]),
    ingredient=st.sampled_from([None, "cyanocobalamin", "hydroxocobalamin"]),
    on=maybe_day,
    start=maybe_day,
    end=maybe_day,
    dose_mg=st.none() | small,
    route=st.sampled_from(Route),
    timing=st.none() | timings,
)
findings = st.builds(
    ClinicalFinding,
    finding=st.sampled_from(Finding),
    resource_id=st.just("Condition/c"),
    active=st.booleans(),
    on=maybe_day,
    resolved_on=maybe_day,
)
drafts = st.builds(
    DraftOrder,
    resource_type=st.sampled_from(["MedicationRequest", "ServiceRequest"]),
    resource_id=st.just("MedicationRequest/d"),
    resource=st.just({}),
    medication=st.none() | meds,
    lab=st.none() | st.sampled_from(LabKind),
)
records = st.builds(
    PatientRecord,
    patient=st.none()
    | st.builds(
        Patient,
        resource_id=st.just("Patient/p"),
        sex=st.sampled_from([None, "male", "female", "other"]),
        birth_date=maybe_day,
    ),
    labs=st.lists(labs, max_size=8).map(tuple),
    medications=st.lists(meds, max_size=8).map(tuple),
    findings=st.lists(findings, max_size=5).map(tuple),
    drafts=st.lists(drafts, max_size=2).map(tuple),
)


@given(records, st.sampled_from([US, UK]))
def test_evaluate_and_render_never_raise(rec, profile):
    ev = evaluate(rec, profile, AS_OF)
    cards = render_cards(
        ev.recommendations, profile=profile, as_of=AS_OF, patient_id="p", notes=ev.notes
    )
    assert len(cards) == len(ev.recommendations)
    for card in cards:
        assert len(card["summary"]) < 140
        assert card["indicator"] in ("info", "warning", "critical")
