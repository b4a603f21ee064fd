"""A panel Observation (a blood count, a B12 + folate panel) carries its results in
``component``: each component of a code we read is a result of its own, dated and withdrawn
with its parent, noted as a standalone result would be; a ``hasMember`` is read once, as
itself."""

from cds_b12.clinical.record import LabKind, NoteKind, Unreadable

from .read_support import (
    DATA_ABSENT,
    LOINC,
    LOINC_B12_FOLATE_PANEL,
    LOINC_B12_MASS,
    LOINC_FOLATE,
    LOINC_HB,
    concept,
    messages,
    observation,
    only,
    quantity,
    read,
)

LOINC_CBC = "58410-2"
LOINC_MCV = "787-2"
LOINC_GLUCOSE = "2345-7"


def component(code, value=None, unit=None, **extra):
    part = {"code": concept(LOINC, code), **extra}
    if value is not None:
        part["valueQuantity"] = quantity(value, unit)
    return part


def panel(*components, code=LOINC_CBC, **extra):
    return observation("fbc", code, component=list(components), **extra)


def test_each_known_component_is_a_result_dated_by_its_parent():
    record = read(
        panel(
            component(LOINC_HB, 9.1, "g/dL", referenceRange=[{"low": quantity(12, "g/dL")}]),
            component(LOINC_MCV, 108, "fL", interpretation=[concept("x", "H")]),
            component(LOINC_GLUCOSE, 5.2, "mmol/L"),
        )
    )
    hb, mcv = record.labs
    assert (hb.kind, hb.value, hb.ref_low, hb.resource_id) == (
        LabKind.HB,
        9.1,
        12,
        "Observation/fbc",
    )
    assert hb.on.isoformat() == "2024-05-01" and hb.reported.unit == "g/dL"
    assert (mcv.kind, mcv.value, mcv.interpretation) == (LabKind.MCV, 108, "H")
    assert record.notes == () and record.unreadable == ()


def test_a_component_that_cannot_be_read_is_noted_as_a_standalone_result_would_be():
    absent = {
        "dataAbsentReason": {"coding": [{"system": DATA_ABSENT, "code": "x"}], "text": "Haemolysed"}
    }
    record = read(
        panel(
            component(LOINC_B12_MASS, 180, "furlongs"),
            component(LOINC_FOLATE, **absent),
            code=LOINC_B12_FOLATE_PANEL,
        )
    )
    standalone = read(
        observation("fbc", LOINC_B12_MASS, 180, "furlongs"),
    )
    assert [(u.kind, u.reason) for u in record.unreadable] == [
        (LabKind.B12, Unreadable.UNKNOWN_UNIT),
        (LabKind.FOLATE, Unreadable.NO_VALUE),
    ]
    assert messages(record) == [
        *messages(standalone),
        ("Observation/fbc", "skipped: no result value (Haemolysed)"),
    ]


def test_a_component_with_a_value_and_a_data_absent_reason_is_not_used():
    """FHIR obs-6 holds for a component too: with both, the value is unreadable and the
    lab's reason is quoted, as for a standalone result."""
    absent = {"dataAbsentReason": {"text": "Clotted"}}
    record = read(panel(component(LOINC_HB, 9.8, "g/dL", **absent)))
    assert record.labs == ()
    assert [(u.kind, u.reason) for u in record.unreadable] == [
        (LabKind.HB, Unreadable.NOT_A_NUMBER)
    ]
    assert messages(record) == [
        ("Observation/fbc", "value ignored: sent with a data-absent reason (Clotted) for Hb")
    ]


def test_an_entered_in_error_panel_drops_every_component():
    record = read(panel(component(LOINC_HB, 9.1, "g/dL"), status="entered-in-error"))
    assert (record.labs, record.unreadable) == ((), ())
    assert messages(record) == [("Observation/fbc", "skipped: marked entered-in-error")]


def test_a_preliminary_panel_is_noted_once_and_read_as_a_preliminary_result_is():
    standalone = read(observation("fbc", LOINC_HB, 9.1, "g/dL", status="preliminary"))
    record = read(panel(component(LOINC_HB, 9.1, "g/dL"), status="preliminary"))
    assert (record.labs, messages(record)) == (standalone.labs, messages(standalone))


def test_a_top_level_value_and_its_components_are_read_once_each():
    record = read(
        observation(
            "b12",
            LOINC_B12_MASS,
            200,
            "pg/mL",
            component=[
                component(LOINC_B12_MASS, 200, "pg/mL"),
                component(LOINC_FOLATE, 3, "ng/mL"),
            ],
        )
    )
    assert [lab.kind for lab in record.labs] == [LabKind.B12, LabKind.FOLATE]
    assert record.notes == ()


def test_a_second_different_value_of_one_analyte_is_said_not_dropped_silently():
    record = read(panel(component(LOINC_HB, 9.1, "g/dL"), component(LOINC_HB, 13.2, "g/dL")))
    assert only(record.labs).value == 9.1
    assert messages(record) == [
        ("Observation/fbc", "ignored: another Hb value in the same Observation")
    ]


def test_a_panel_without_a_date_is_skipped_once():
    resource = panel(component(LOINC_HB, 9.1, "g/dL"), component(LOINC_MCV, 108, "fL"))
    del resource["effectiveDateTime"]
    record = read(resource)
    assert messages(record) == [("Observation/fbc", "skipped: no date")]


def test_has_member_results_are_read_once_as_themselves():
    hb = observation("hb", LOINC_HB, 9.1, "g/dL")
    grouper = observation("fbc", LOINC_CBC, hasMember=[{"reference": "Observation/hb"}])
    record = read(grouper, hb)
    assert [(lab.kind, lab.resource_id) for lab in record.labs] == [(LabKind.HB, "Observation/hb")]


def test_a_component_repeating_a_has_member_result_is_not_counted_twice():
    hb = observation("hb", LOINC_HB, 9.1, "g/dL")
    grouper = panel(
        component(LOINC_HB, 9.1, "g/dL"),
        component(LOINC_MCV, 108, "fL"),
        hasMember=[{"reference": "Observation/hb"}],
    )
    record = read(grouper, hb)
    assert sorted((lab.kind.name, lab.resource_id) for lab in record.labs) == [
        ("HB", "Observation/hb"),
        ("MCV", "Observation/fbc"),
    ]


def test_a_panel_s_own_absent_value_is_noted_beside_its_components():
    absent = {"text": "Haemolysed"}
    record = read(
        observation(
            "b12",
            LOINC_B12_MASS,
            dataAbsentReason=absent,
            component=[component(LOINC_FOLATE, 3, "ng/mL")],
        )
    )
    assert [u.kind for u in record.unreadable] == [LabKind.B12]
    assert [lab.kind for lab in record.labs] == [LabKind.FOLATE]
    assert messages(record) == [("Observation/b12", "skipped: no result value (Haemolysed)")]


def test_a_component_disagreeing_with_its_has_member_result_makes_both_untrusted():
    """Two copies of one result that disagree: neither is used; the member is kept as
    unreadable (R25), and the panel's note says which two disagree."""
    hb = observation("hb", LOINC_HB, 9.1, "g/dL")
    grouper = panel(
        component(LOINC_HB, 13.2, "g/dL"),
        component(LOINC_MCV, 108, "fL"),
        hasMember=[{"reference": "Observation/hb"}],
    )
    record = read(grouper, hb)
    assert [(lab.kind.name, lab.resource_id) for lab in record.labs] == [("MCV", "Observation/fbc")]
    assert [(u.kind, u.resource, u.reason) for u in record.unreadable] == [
        (LabKind.HB, "Observation/hb", Unreadable.SOURCES_DISAGREE)
    ]
    assert messages(record) == [
        ("Observation/fbc", "value ignored: its Hb and Observation/hb's disagree")
    ]
    assert [n.kind for n in record.notes] == [NoteKind.DECISION]


def test_a_component_repeating_its_member_in_another_unit_agrees():
    hb = observation("hb", LOINC_HB, 91, "g/L")
    grouper = panel(component(LOINC_HB, 9.1, "g/dL"), hasMember=[{"reference": "Observation/hb"}])
    record = read(grouper, hb)
    assert [lab.resource_id for lab in record.labs] == ["Observation/hb"]
    assert (record.unreadable, record.notes) == ((), ())
