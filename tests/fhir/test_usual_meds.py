"""The usual order or dose given, read in few steps, is read as the general reading reads
it: the same medication and the same notes, on near-usual and odd resources too."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_b12.clinical.record import Medication, MedSource, Product, Quantity, Route, Timing
from cds_b12.fhir import medications
from cds_b12.fhir.medications import MedicationIndex, read_medication
from cds_b12.fhir.products import Match
from cds_b12.fhir.skips import Skip
from cds_b12.fhir.usual_meds import usual_medication

from .test_never_raises import json_values
from .test_usual_labs import now_and_then

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
V3_ROUTE = "http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration"
SOURCES = {
    "MedicationRequest": MedSource.REQUEST,
    "MedicationAdministration": MedSource.ADMINISTRATION,
    "MedicationStatement": MedSource.STATEMENT,
}
# B12 drugs (injection, oral, nasal, Cyanokit), B12 ingredients, a risk drug, folic acid,
# nitrous oxide and a drug we do not use
RX_CODES = ["309594", "309593", "861113", "700496", "11248", "5514", "6809", "4511", "7486"]
RX_CODES += ["29046"]
ROUTES = [
    (SNOMED, "78421000"),  # IM
    (SNOMED, "26643006"),  # oral
    (SNOMED, "47625008"),  # IV
    (SNOMED, "46713006"),  # nasal
    (V3_ROUTE, "SC"),
    (SNOMED, "999"),
    (f"{SNOMED}/", "78421000"),
]
UNITS = ["ug", "mg", "g", "mL", "1", "{tbl}", "mcg", " mg", "", "{puff}"]
STATUSES = {
    "MedicationRequest": ["active", "completed", "stopped", " Active", "draft", "cancelled"],
    "MedicationAdministration": ["completed", "in-progress", "not-done", "COMPLETED"],
    "MedicationStatement": ["active", "completed"],
}
DATES = ["2026-10-20T10:30:00-05:00", "2026-10-20", "2026-02-30", " 2026", "2026-10", "x"]
numbers = st.sampled_from([1000, 1, 0.5, 5000, 0, 2.5]) | st.integers(0, 10**4) | st.floats(0, 1e4)
odd_numbers = st.sampled_from([-0.0, -1, 10**400, 2**53 + 1, float("nan"), float("inf"), True])
odd = json_values(3)


def usually(draw: st.DrawFn, values: list, usual: int = 1) -> object:
    """One of the first ``usual`` ``values`` most of the time, now and then any of them."""
    return draw(st.sampled_from(values if now_and_then(draw) else values[:usual]))


def sometimes_odd(draw: st.DrawFn, fields: dict, times: int = 12) -> dict:
    """``fields`` with now and then a value odd, or one left out."""
    if fields and now_and_then(draw, times):
        fields[draw(st.sampled_from(list(fields)))] = draw(odd)
    if fields and now_and_then(draw, times):
        del fields[draw(st.sampled_from(list(fields)))]
    return fields


@st.composite
def routes(draw: st.DrawFn) -> object:
    system, code = usually(draw, ROUTES, 2)
    coding = sometimes_odd(draw, {"system": system, "code": code, "display": "route"})
    concept = {"coding": [coding], "text": draw(st.sampled_from(["Intramuscular", "by mouth"]))}
    if now_and_then(draw, 12):
        concept["coding"] = draw(st.sampled_from([[], [coding, coding], coding, None]))
    return sometimes_odd(draw, concept)


@st.composite
def doses(draw: st.DrawFn) -> object:
    unit = usually(draw, UNITS, 2)
    value = draw(odd_numbers if now_and_then(draw, 8) else numbers)
    system = draw(st.sampled_from([f"{UCUM}/", None])) if now_and_then(draw, 8) else UCUM
    fields = {"value": value, "unit": unit, "system": system, "code": unit}
    if now_and_then(draw, 8):
        fields["value"] = draw(st.sampled_from(["1000", "1 mg", "n/a"]))
    if now_and_then(draw, 8):
        fields["unit"] = draw(st.sampled_from(UNITS))
    return draw(odd) if now_and_then(draw, 16) else sometimes_odd(draw, fields)


@st.composite
def repeats(draw: st.DrawFn) -> object:
    fields = {
        "frequency": draw(st.sampled_from([1, 2, 3])),
        "period": draw(numbers),
        "periodUnit": usually(draw, ["mo", "d", "wk", " d", ""], 3),
    }
    extra = {
        "periodMax": 2,
        "count": 10,
        "boundsPeriod": {"start": "2026-01-01", "end": "2026-06-01"},
        "boundsDuration": {"value": 3, "unit": "mo"},
    }
    if now_and_then(draw, 8):
        key = draw(st.sampled_from(list(extra)))
        fields[key] = extra[key]
    if now_and_then(draw):
        odd_frequency = odd_numbers | st.sampled_from([0, 1.0, 2**53, "1"])
        fields[draw(st.sampled_from(["frequency", "period"]))] = draw(odd_frequency)
    return sometimes_odd(draw, fields)


@st.composite
def resources(draw: st.DrawFn) -> tuple[dict, MedSource]:
    """An order, a dose given or a statement of the usual shape, or one with a part
    missing, odd or unusual; and what it is."""
    rtype = usually(draw, list(SOURCES), 2)
    coding = {"system": RXNORM, "code": usually(draw, RX_CODES, 2), "display": "a drug"}
    dosage = {"route": draw(routes()), "timing": {"repeat": draw(repeats())}}
    resource = {
        "resourceType": rtype,
        "status": usually(draw, STATUSES[rtype], 2),
        "medicationCodeableConcept": {"coding": [coding], "text": "a drug"},
    }
    if rtype == "MedicationRequest":
        dosage["doseAndRate"] = [{"doseQuantity": draw(doses())}]
        if now_and_then(draw, 8):
            dosage["doseAndRate"] = dosage["doseAndRate"][0]  # a lone object
        resource["intent"] = usually(draw, ["order", "plan", " order", ""], 2)
        resource["authoredOn"] = usually(draw, DATES, 2)
        resource["dosageInstruction"] = [sometimes_odd(draw, dosage)]
        if now_and_then(draw, 8):
            resource["dispenseRequest"] = {"validityPeriod": {"start": "2026-01-01"}}
    else:
        dosage["dose"] = draw(doses())
        resource["effectiveDateTime"] = usually(draw, DATES, 2)
        resource["dosage"] = sometimes_odd(draw, dosage)
        if now_and_then(draw, 8):
            resource["effectivePeriod"] = {"start": "2026-10-01"}
    if now_and_then(draw, 8):
        resource[draw(st.sampled_from(["doNotPerform", "notGiven", "taken"]))] = True
    return sometimes_odd(draw, resource), SOURCES[rtype]


def read(resource: dict, source: MedSource, draft: bool) -> tuple[object, list]:
    """What read_medication gives for ``resource`` (or what it raises), and its notes."""
    notes: list = []

    def note(message: str, kind: object = None, /) -> None:
        notes.append((message, kind))

    try:
        result = read_medication(resource, source, MedicationIndex([]), note, "M/m", draft=draft)
    except Skip as skip:
        result = ("skipped", skip.message)
    except Exception as error:  # read_record says "skipped: unreadable resource"
        result = ("unreadable", type(error))
    return result, notes


@settings(max_examples=1000)
@given(resources(), st.booleans())
def test_the_shortcut_reads_as_the_general_reading(given_resource, draft):
    resource, source = given_resource
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(medications, "usual_medication", lambda *_: None)
        general = read(resource, source, draft)
    assert read(resource, source, draft) == general


INJECTION = Match(Product.B12_INJECTION, "cyanocobalamin", 1.0)
DOSE = {"value": 1000, "unit": "ug", "system": UCUM, "code": "ug"}
IM = {"coding": [{"system": SNOMED, "code": "78421000"}]}
ADMINISTRATION = {
    "status": "completed",
    "effectiveDateTime": "2026-10-20T10:30:00-05:00",
    "dosage": {"route": IM, "dose": DOSE},
}
REQUEST = {
    "status": "active",
    "intent": "order",
    "authoredOn": "2026-10-20T10:12:00-05:00",
    "dosageInstruction": [
        {
            "route": IM,
            "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "mo"}},
            "doseAndRate": [{"doseQuantity": DOSE}],
        }
    ],
}


def test_the_usual_shape_takes_the_shortcut():
    """An order and a dose given as EHRs send them most are read by the shortcut."""
    given = usual_medication(ADMINISTRATION, MedSource.ADMINISTRATION, INJECTION, "M/a", "done")
    assert given == Medication(
        MedSource.ADMINISTRATION,
        Product.B12_INJECTION,
        "M/a",
        "done",
        "cyanocobalamin",
        on=date(2026, 10, 20),
        dose_mg=1.0,
        route=Route.IM,
        dose_written=Quantity(1000.0, "ug"),
    )
    order = usual_medication(REQUEST, MedSource.REQUEST, INJECTION, "M/r", "active")
    assert order is not None
    assert (order.intent, order.on) == ("order", date(2026, 10, 20))
    assert order.timing == Timing(1, 1.0, period_unit="mo")
    ingredient = Match(None, "cyanocobalamin")  # its form follows the route
    given = usual_medication(ADMINISTRATION, MedSource.ADMINISTRATION, ingredient, "M/a", "done")
    assert given is not None and given.product is Product.B12_INJECTION


def _changed(resource: dict, path: tuple, value: object) -> dict:
    """A deep copy of the usual ``resource`` with the element at ``path`` set to ``value``."""
    copy = {key: value for key, value in resource.items()}
    holder = copy
    for step in path[:-1]:
        holder[step] = child = (
            [dict(holder[step][0])] if isinstance(holder[step], list) else dict(holder[step])
        )
        holder = child[0] if isinstance(child, list) else child
    holder[path[-1]] = value
    return copy


@pytest.mark.parametrize(
    ("resource", "path", "value"),
    [
        (ADMINISTRATION, ("effectiveDateTime",), "2026-02-30"),
        (ADMINISTRATION, ("dosage", "dose"), {**DOSE, "value": "1000"}),
        (ADMINISTRATION, ("dosage", "dose"), {**DOSE, "code": " ug"}),
        (ADMINISTRATION, ("dosage", "dose"), {"value": 1000, "unit": "ug"}),
        (ADMINISTRATION, ("dosage", "route"), {"text": "IM"}),
        (REQUEST, ("dispenseRequest",), {"validityPeriod": {"start": "2026-01-01"}}),
        (REQUEST, ("intent",), " order"),
        (REQUEST, ("dosageInstruction", "doseAndRate"), {"doseQuantity": DOSE}),
        (REQUEST, ("dosageInstruction", "timing"), {"repeat": {"period": 1, "periodUnit": "mo"}}),
        (
            REQUEST,
            ("dosageInstruction", "timing"),
            {"repeat": {"frequency": 1, "period": 1, "periodUnit": "mo", "count": 3}},
        ),
        (
            REQUEST,
            ("dosageInstruction", "timing"),
            {"repeat": {"frequency": 2**53 + 1, "period": 1, "periodUnit": "mo"}},
        ),
    ],
)
def test_another_shape_is_left_to_the_general_reading(resource, path, value):
    """A date not understood, a dose in text or with spaces or not in UCUM, a route in
    words, a validity period, an intent with spaces, a lone doseAndRate, a timing
    without its frequency, with a bound or with a frequency no float holds: the general
    reading reads it."""
    source = MedSource.ADMINISTRATION if "dosage" in resource else MedSource.REQUEST
    assert usual_medication(resource, source, INJECTION, "M/m", "active") is not None
    changed = _changed(resource, path, value)
    assert usual_medication(changed, source, INJECTION, "M/m", "active") is None


def test_an_ingredient_whose_form_is_assumed_is_left_to_the_general_reading():
    """Cyanocobalamin given IV: its form is assumed, and the general reading notes it."""
    iv = {"coding": [{"system": SNOMED, "code": "47625008"}]}
    given = _changed(ADMINISTRATION, ("dosage", "route"), iv)
    ingredient = Match(None, "cyanocobalamin")
    assert usual_medication(given, MedSource.ADMINISTRATION, ingredient, "M/a", "done") is None
