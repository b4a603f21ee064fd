"""The timeline lays out what the assessment knows: doses, phases, plan and reference bands."""

from __future__ import annotations

from datetime import timedelta

from cds_b12.clinical import evaluate, get_profile
from cds_b12.clinical.assess import Phase
from cds_b12.clinical.timeline import timeline
from cds_b12.fhir.read import read_record
from cds_b12.hooks.fixtures import find_fixture

from ..scenarios import AS_OF
from ..test_cli import R1  # noqa: F401  (keeps the fixture path helpers in one place)

US = get_profile("us")


def _timeline(patient_id: str, profile=US):
    resources, _ = find_fixture(patient_id).data(AS_OF)
    record = read_record(resources)
    return timeline(record, evaluate(record, profile, AS_OF), profile, AS_OF)


def test_maintenance_patient_has_its_doses_one_band_and_the_next_dose_due():
    t = _timeline("r11-monthly-overdue")
    assert len(t.doses) == 5 and t.doses == tuple(sorted(t.doses))
    (band,) = t.phases
    assert band.phase is Phase.MAINTENANCE
    assert (band.start, band.end) == (t.doses[0], AS_OF)
    assert t.planned_doses == (AS_OF,)  # overdue: due today


def test_loading_then_suggested_maintenance_start():
    t = _timeline("r10-loading-complete", get_profile("uk"))  # a UK loading course
    assert [b.phase for b in t.phases] == [Phase.LOADING]
    assert t.phases[0].end == AS_OF
    assert t.planned_doses and all(d >= AS_OF for d in t.planned_doses)


def test_series_are_in_one_unit_with_the_rules_reference_bands():
    t = _timeline("r14-hb-falling")
    by_kind = {s.kind.value: s for s in t.series}
    assert [s.kind.value for s in t.series] == ["B12", "MMA", "HB", "MCV"]
    assert by_kind["HB"].unit == "g/dL" and len(by_kind["HB"].points) >= 2
    assert by_kind["B12"].normal_low == US.b12_indeterminate_below_ng_l
    assert by_kind["MCV"].normal_high == US.macrocytosis_above_fl
    assert by_kind["MMA"].normal_high == US.mma_upper_umol_l


def test_due_labs_come_from_the_recommendations():
    t = _timeline("r1-pa-neuro-low-b12")
    assert t.due_labs and {lab.test for lab in t.due_labs} >= {"CBC", "RETIC"}
    assert all(lab.due_from >= AS_OF - timedelta(days=1) for lab in t.due_labs)


def test_a_patient_without_therapy_has_no_bands_or_plan():
    t = _timeline("r17-metformin-no-b12")
    assert t.doses == () and t.phases == () and t.planned_doses == ()
    assert t.as_of == AS_OF
