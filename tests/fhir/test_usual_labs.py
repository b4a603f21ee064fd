"""The usual lab result, read in few steps, is read as the general reading reads it:
the same result and the same notes, on near-usual and odd Observations too."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_b12.clinical.record import Lab, LabKind, Quantity
from cds_b12.fhir import labs
from cds_b12.fhir.skips import Skip
from cds_b12.fhir.usual_labs import interpretation, usual_lab

from .test_never_raises import json_values

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
V3_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
KINDS = {"2132-9": LabKind.B12, "718-7": LabKind.HB}  # B12 (pg/mL) and Hb (g/dL)
UNITS = {"2132-9": ["pg/mL", "pmol/L", "ng/L", "PG/ML"], "718-7": ["g/dL", "g/L", "mmol/L"]}
units = st.sampled_from([unit for known in UNITS.values() for unit in known])
odd_units = st.sampled_from(["", "{x}", "mg"])
numbers = st.floats(0, 1e4) | st.integers(0, 10**4)
odd_numbers = st.sampled_from([-1.5, -1, 1e308 * 10, 10**400, float("nan"), None, True])
values = st.sampled_from([numbers] * 5 + [odd_numbers, st.sampled_from(["245", "<150", "n/a"])])
odd = json_values(3)


def now_and_then(draw: st.DrawFn, times: int = 4) -> bool:
    """True about one time in ``times``: most examples keep the usual shape, or near it."""
    return draw(st.integers(1, times)) == times  # not 1, which hypothesis favours


@st.composite
def quantities(draw: st.DrawFn, unit: str, known: list[str]) -> object:
    """A Quantity in ``unit`` as a lab sends it, or one with a part missing or odd, or in
    words another of the ``known`` units."""
    fields = {"value": draw(draw(values)), "unit": unit, "system": UCUM, "code": unit}
    if now_and_then(draw, 8):
        fields["unit"] = draw(st.sampled_from(known))
    if now_and_then(draw, 8):
        key = draw(st.sampled_from(list(fields)))
        fields[key] = draw(units | odd_units | st.sampled_from([None, f"{UCUM}/"]) | odd)
    if now_and_then(draw, 8):
        fields["comparator"] = draw(st.sampled_from(["<", ">=", "~", None]) | odd)
    if now_and_then(draw, 8):
        del fields[draw(st.sampled_from(list(fields)))]
    return draw(odd) if now_and_then(draw, 16) else fields


_HL7 = {"system": V3_INTERPRETATION, "code": "H"}
# interpretations not of the usual shape: an EHR's own coding first, a lone object, a code
# to strip, a lone coding, no code, none
INTERPRETATIONS = [
    [{"coding": [{"system": "urn:local", "code": "HI"}, _HL7]}],
    {"coding": [_HL7]},
    [{"coding": [{"code": " L "}]}],
    [{"coding": _HL7}],
    [{"coding": [{"system": V3_INTERPRETATION}]}],
    [],
]


@st.composite
def observations(draw: st.DrawFn) -> dict:
    """An Observation of the usual shape, or one with a part missing, odd or unusual."""
    code = draw(st.sampled_from(list(KINDS)))
    known = UNITS[code]
    unit = draw(st.sampled_from(known))
    if now_and_then(draw, 6):
        unit = draw(st.sampled_from([f" {unit}", f"{unit} "]))  # read stripped
    elif now_and_then(draw, 6):
        unit = draw(odd_units)
    plain = {  # each limit in the result's unit, now and then in another
        key: draw(quantities(draw(st.sampled_from(known)) if now_and_then(draw) else unit, known))
        for key in ("low", "high")
    }
    if now_and_then(draw):
        del plain[draw(st.sampled_from(["low", "high"]))]
    qualified = {**plain, "appliesTo": [{"text": "female"}]}
    resource = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "effectiveDateTime": "2026-10-20T08:15:00-05:00",
        "issued": "2026-10-21T14:30:00Z",
        "valueQuantity": draw(quantities(unit, known)),
        "interpretation": [{"coding": [{"system": V3_INTERPRETATION, "code": "L"}]}],
        "referenceRange": [plain],
    }
    if now_and_then(draw):
        resource["status"] = draw(st.sampled_from(["amended", " final", "preliminary"]))
    if now_and_then(draw):
        dates = ["2026-10-20", "2026-02-30", " 2026", "2026-10-20T08:15"]
        resource["effectiveDateTime"] = draw(st.sampled_from(dates))
    if now_and_then(draw):
        resource["interpretation"] = draw(st.sampled_from(INTERPRETATIONS))
    if now_and_then(draw):
        ranges = [[], [plain, plain], [qualified], plain, [plain, 1], None]
        resource["referenceRange"] = draw(st.sampled_from(ranges))
    if now_and_then(draw):
        resource[draw(st.sampled_from(list(resource)))] = draw(odd)
    if now_and_then(draw):
        del resource[draw(st.sampled_from(list(resource)))]
    if now_and_then(draw):
        resource["dataAbsentReason"] = {"text": "haemolysed"}
    return resource


def read(resource: dict) -> tuple[object, list]:
    """What read_observation gives for ``resource`` (or what it raises), and its notes."""
    notes: list = []

    def note(message: str, kind: object = None, /) -> None:
        notes.append((message, kind))

    try:
        result = labs.read_observation(resource, note, "Observation/o", lambda: ("female", None))
    except Skip as skip:
        result = ("skipped", skip.message)
    except Exception as error:  # read_record says "skipped: unreadable resource"
        result = ("unreadable", type(error))
    return result, notes


@settings(max_examples=800)
@given(observations())
def test_the_shortcut_reads_as_the_general_reading(resource):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(labs, "usual_lab", lambda *_: None)
        general = read(resource)
    assert read(resource) == general


@given(observations())
def test_a_status_sent_clean_is_read_as_the_status_policy_reads_it(resource):
    """read_observation applies the status policy only to a status not sent clean: with
    every status through the policy, each result and note is the same."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(labs, "_KEEP", frozenset())
        through_policy = read(resource)
    assert read(resource) == through_policy


def test_the_usual_shape_takes_the_shortcut():
    """A result as EHRs send it most is read by the shortcut, in its own unit or another."""
    limit = {"value": 150, "unit": "pmol/L", "system": UCUM, "code": "pmol/L"}
    resource = {
        "status": "final",
        "effectiveDateTime": "2026-10-20T08:15:00-05:00",
        "valueQuantity": {"value": 120.5, "unit": "pmol/L", "system": UCUM, "code": "pmol/L"},
        "interpretation": [{"coding": [{"system": V3_INTERPRETATION, "code": "L"}]}],
        "referenceRange": [{"low": limit}],
    }
    assert usual_lab(resource, LabKind.B12, "Observation/o") == Lab(
        LabKind.B12,
        120.5 * 1.355,
        date(2026, 10, 20),
        "Observation/o",
        ref_low=150 * 1.355,
        interpretation="L",
        reported=Quantity(120.5, "pmol/L"),
    )
    del resource["referenceRange"]
    assert usual_lab(resource, LabKind.B12, "Observation/o").ref_low is None


PG_ML = {"value": 150, "unit": "pg/mL", "system": UCUM, "code": "pg/mL"}


@pytest.mark.parametrize("given_value", INTERPRETATIONS)
def test_the_shortcut_reads_any_interpretation_as_the_general_reading(given_value):
    """The shortcut reads the usual interpretation itself, and any other as ``interpretation``."""
    resource = {"effectiveDateTime": "2026-10-20", "valueQuantity": PG_ML}
    found = usual_lab({**resource, "interpretation": given_value}, LabKind.B12, "Observation/o")
    assert found.interpretation == interpretation(given_value)


@pytest.mark.parametrize(
    "unusual",
    [
        {"valueQuantity": {**PG_ML, "value": "<150"}},
        {"valueQuantity": {**PG_ML, "comparator": "<"}},
        {"valueQuantity": {**PG_ML, "unit": " pg/mL", "code": " pg/mL"}},
        {"valueQuantity": {**PG_ML, "unit": "ng/L"}},
        {"valueQuantity": {"value": 150, "system": UCUM, "code": "pg/mL"}},
        {"effectiveDateTime": None},
        {"referenceRange": [{"low": {"value": 1, "unit": "ng/L", "system": UCUM, "code": "ng/L"}}]},
        {"dataAbsentReason": {"text": "haemolysed"}},
    ],
)
def test_another_shape_is_left_to_the_general_reading(unusual):
    """A censored value (in text or by comparator), a unit with spaces, two units, a unit
    not said in words, no date, a limit in another unit or a data-absent reason: the
    general reading reads it, and says what it must."""
    usual = {"status": "final", "effectiveDateTime": "2026-10-20", "valueQuantity": PG_ML}
    assert usual_lab(usual, LabKind.B12, "Observation/o") is not None
    assert usual_lab({**usual, **unusual}, LabKind.B12, "Observation/o") is None
