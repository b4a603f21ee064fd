"""The reader's fast paths give what the general accessors give, on odd inputs too."""

import contextlib
import pickle
from dataclasses import FrozenInstanceError, fields, replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_b12.clinical.codes import B12_DRUGS
from cds_b12.clinical.record import (
    ClinicalFinding,
    DataNote,
    Finding,
    Lab,
    LabKind,
    Medication,
    MedSource,
    Patient,
    PatientRecord,
    Product,
    Quantity,
    Timing,
)
from cds_b12.fhir import read as read_module
from cds_b12.fhir.accessors import (
    as_dict,
    as_list,
    coded,
    codings,
    dicts,
    dig,
    first_dict,
    label,
    number,
    text,
)
from cds_b12.fhir.build import (
    make_finding,
    make_lab,
    make_medication,
    make_quantity,
    make_record,
    make_timing,
)
from cds_b12.fhir.dates import _DATE, USUAL_SHAPES, parse_date
from cds_b12.fhir.labs import LAB_KINDS, OBSERVATION_STATUS, _bound, _RangeUnit
from cds_b12.fhir.medications import _STATUS as MEDICATION_STATUS
from cds_b12.fhir.problems import PROCEDURE_STATUS
from cds_b12.fhir.products import _CYANOKIT_RX, Match, identify, rxnorm_codes
from cds_b12.fhir.ranges import _Fit, _fit, applicable
from cds_b12.fhir.read import _walk
from cds_b12.fhir.routes import _CODED as ROUTE_CODES
from cds_b12.fhir.units import conversion, quantity_unit, to_canonical
from cds_b12.fhir.usual_labs import interpretation

from .test_never_raises import FHIR_STRINGS, json_values, resource_like

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
RXNORM_OID = "urn:oid:2.16.840.1.113883.6.88"
V3_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"

ODD_STRINGS = [LOINC, f"{LOINC}/", f" {LOINC} ", "/", " ", "", "2132-9", " 2132-9 ", "14685-2"]
ODD_STRINGS += [UCUM, f"{UCUM}/", f" {UCUM}", "pg/mL", " pg/mL ", "ug", V3_INTERPRETATION]
odd_strings = st.sampled_from(ODD_STRINGS) | st.sampled_from(FHIR_STRINGS)
odd_values = odd_strings | json_values(4)
codings_like = st.fixed_dictionaries(
    {}, optional={"system": odd_values, "code": odd_values, "display": odd_values}
)
concepts = st.fixed_dictionaries(
    {},
    optional={
        "coding": st.lists(codings_like | odd_values, max_size=3) | codings_like | odd_values
    },
) | json_values(6)
quantities = st.fixed_dictionaries(
    {}, optional={"value": odd_values, "unit": odd_values, "code": odd_values, "system": odd_values}
) | json_values(4)


def general_lookup(concept: object, table: dict) -> object:
    return next((table[pair] for pair in codings(concept) if pair in table), None)


def general_quantity_unit(quantity: object) -> str | None:
    """The unit as the reader read it before its fast path for the exact UCUM system."""
    if not isinstance(quantity, dict):
        return None
    code = quantity.get("code")
    code = (code.strip() or None) if isinstance(code, str) else None
    system = quantity.get("system")
    if code and isinstance(system, str) and system.strip().rstrip("/") == UCUM:
        return code
    unit = quantity.get("unit")
    return ((unit.strip() or None) if isinstance(unit, str) else None) or code


@pytest.mark.parametrize("table", [LAB_KINDS, ROUTE_CODES], ids=["labs", "routes"])
def test_table_keys_are_as_codings_reads_them(table):
    """``coded`` looks a clean coding up as sent, so every key must already be clean."""
    for system, code in table:
        assert codings({"coding": [{"system": system, "code": code}]}) == [(system, code)]


@settings(max_examples=300)
@given(concepts)
def test_coded_agrees_with_codings(concept):
    assert coded(concept, LAB_KINDS) == general_lookup(concept, LAB_KINDS)
    assert coded(concept, ROUTE_CODES) == general_lookup(concept, ROUTE_CODES)


@pytest.mark.parametrize("system", [LOINC, f"{LOINC}/", f" {LOINC}"])
def test_coded_reads_a_clean_first_coding_and_any_other(system):
    """The fast path takes a clean first coding; the others are found as before."""
    b12 = {"system": LOINC, "code": "2132-9"}
    assert coded({"coding": [b12]}, LAB_KINDS) is LabKind.B12
    assert coded({"coding": [{"system": system, "code": "2132-9 "}]}, LAB_KINDS) is LabKind.B12
    assert coded({"coding": [{"system": [], "code": "x"}, b12]}, LAB_KINDS) is LabKind.B12
    assert coded({"coding": b12}, LAB_KINDS) is LabKind.B12


def general_label(resource: dict) -> str:
    rtype = resource.get("resourceType")
    rtype = rtype if isinstance(rtype, str) and rtype else "Resource"
    rid = resource.get("id")
    rid = rid.strip() if isinstance(rid, str) else None
    return f"{rtype}/{rid}" if rid else rtype


@given(st.fixed_dictionaries({}, optional={"resourceType": odd_values, "id": odd_values}))
def test_label_agrees_with_the_general_reading(resource):
    assert label(resource) == general_label(resource)


@given(
    st.fixed_dictionaries(
        {
            "resourceType": st.sampled_from(
                ["Observation", "MedicationRequest", "MedicationStatement"]
            )
        },
        optional={"id": odd_values},
    )
)
def test_the_reader_hands_each_reader_the_label(resource):
    """``read`` names the resource from the type and id it has read, as ``label`` would."""
    handed = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(read_module, "read_observation", lambda r, n, name, who: handed.append(name))
        patch.setattr(read_module, "read_medication", lambda r, s, i, n, name: handed.append(name))
        read_module.read_record([resource])
    assert handed == [label(resource)]


@settings(max_examples=300)
@given(quantities)
def test_quantity_unit_agrees_with_the_general_reading(quantity):
    assert quantity_unit(quantity) == general_quantity_unit(quantity)


@given(json_values(6))
def test_first_dict_is_as_dict_of_dig_zero(value):
    assert first_dict(value) == as_dict(dig(value, 0))


def general_parse_date(value: object) -> date | None:
    """Dates as read before the ASCII fast path: the regular expression and int() of each part."""
    if not isinstance(value, str):
        return None
    match = _DATE.fullmatch(value.strip())
    if match is None:
        return None
    year, month, day = match.groups()
    try:
        return date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        return None


date_texts = st.from_regex(_DATE, fullmatch=True) | st.builds(
    lambda d, rest: f"{d.isoformat()}{rest}",
    st.dates(),
    st.sampled_from(
        [
            *("", "T08:15:00-05:00", "T08:15", " 08:15:00Z", "T25:99:99.1+0530", "T", "x"),
            *("T08:15:00", "T08:15:00Z", "T08:15:00.123+01:00", "T08:15:00.12Z", "T08:15:00-0500"),
        ]
    ),
)


@settings(max_examples=400)
@given(date_texts | st.text(alphabet="0123456789-T:+Z. ٢٠", max_size=26) | odd_values)
def test_parse_date_agrees_with_the_general_reading(value):
    assert parse_date(value) == general_parse_date(value)


BUILT = [
    (
        make_lab,
        Lab(LabKind.B12, 180.0, date(2026, 1, 2), "Observation/o", reported=Quantity(180, "ng/L")),
    ),
    (make_quantity, Quantity(1000, "ug")),
    (make_finding, ClinicalFinding(Finding.PREGNANCY, "Condition/c", True, date(2026, 1, 2))),
    (make_record, PatientRecord(Patient("Patient/p"), notes=(DataNote("Observation", "x"),))),
    (make_timing, Timing(period=1, period_unit="mo")),
    (
        make_medication,
        Medication(
            MedSource.REQUEST,
            Product.B12_INJECTION,
            "MedicationRequest/m",
            "active",
            end=date(2026, 3, 4),
        ),
    ),
]


@pytest.mark.parametrize(("build", "expected"), BUILT, ids=[type(r).__name__ for _, r in BUILT])
def test_a_built_record_is_the_record_itself(build, expected):
    """The reader's cheap builders give the frozen record as its own constructor does."""
    given_fields = {f.name: getattr(expected, f.name) for f in fields(expected)}
    built = build(**given_fields)
    assert type(built) is type(expected)
    assert built == expected and hash(built) == hash(expected) and repr(built) == repr(expected)
    assert replace(built) == expected and pickle.loads(pickle.dumps(built)) == expected
    with pytest.raises(FrozenInstanceError):
        setattr(built, fields(built)[0].name, None)
    positional = build(*given_fields.values())
    assert positional == expected and type(positional) is type(expected)


def test_a_builder_keeps_the_defaults():
    assert make_medication(MedSource.REQUEST, Product.METFORMIN, "r", "active") == Medication(
        MedSource.REQUEST, Product.METFORMIN, "r", "active"
    )


@pytest.mark.parametrize("shape", sorted(USUAL_SHAPES))
def test_every_usual_date_shape_is_a_fhir_date(shape):
    """A value of a usual shape skips the pattern, so each shape must be one it accepts,
    starting with the full date."""
    assert _DATE.fullmatch(shape.decode())
    assert shape[:10] == b"0000-00-00"


def general_bound(kind: LabKind, quantity: object, value_unit: str) -> float | None:
    """A reference limit as read before the fast path for a limit in the result's own unit."""
    value = number(quantity.get("value")) if isinstance(quantity, dict) else None
    if value is None:
        return None
    return to_canonical(kind, value, quantity_unit(quantity) or value_unit)


@settings(max_examples=300)
@given(quantities, st.sampled_from(["pg/mL", "pmol/L", "ng/L", "g/dL", " pg/mL ", "{x}"]))
def test_a_reference_limit_agrees_with_the_general_reading(quantity, value_unit):
    """Every limit read (one set aside is the tolerance table's) is the general reading's."""
    value_unit = value_unit.strip()
    for kind in (LabKind.B12, LabKind.HB):
        factor = conversion(kind, value_unit)
        if factor is not None:
            with contextlib.suppress(_RangeUnit):
                assert _bound(kind, quantity, value_unit, factor) == general_bound(
                    kind, quantity, value_unit
                )


@settings(max_examples=300)
@given(st.dictionaries(st.sampled_from(["code", "value", "x"]), json_values(6), max_size=3))
def test_chained_gets_are_dig(value):
    """The readers follow a known path by chained gets, without ``dig``'s loop over steps."""
    assert as_dict(value.get("code")).get("value") == dig(value, "code", "value")
    assert first_dict(value.get("code")).get("value") == dig(value, "code", 0, "value")


@pytest.mark.parametrize(
    "policy", [OBSERVATION_STATUS, PROCEDURE_STATUS, *MEDICATION_STATUS.values()]
)
def test_kept_statuses_are_as_the_policy_reads_them(policy):
    """A status sent exactly as kept skips the stripping and lower-casing: it would not change."""
    assert all(status == status.strip().lower() for status in policy.keep)


interpretations = st.lists(
    st.fixed_dictionaries({}, optional={"coding": st.lists(codings_like | odd_values) | odd_values})
    | odd_values,
    max_size=2,
) | json_values(6)


@settings(max_examples=300)
@given(interpretations)
def test_interpretation_agrees_with_the_general_reading(given_value):
    found = [c for c in as_list(first_dict(given_value).get("coding")) if isinstance(c, dict)]
    hl7 = [c for c in found if c.get("system") == V3_INTERPRETATION]
    general = text((hl7 or found or [{}])[0].get("code"))
    assert interpretation(given_value) == general


def general_walk(data: object, *, prefetch: bool, junk: list | None = None) -> list[tuple]:
    """``_walk`` before it took a Bundle's resources without the stack."""
    found: list[tuple] = []
    stack: list[tuple] = [(data, None)]
    seen: set[int] = set()
    while stack:
        item, entry = stack.pop()
        if isinstance(item, dict):
            if id(item) in seen:
                continue
            seen.add(id(item))
            if item.get("resourceType") == "Bundle":
                for child in reversed(as_list(item.get("entry"))):
                    if isinstance(child, dict):
                        stack.append((child.get("resource"), child))
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


@st.composite
def nested_data(draw: st.DrawFn) -> object:
    """Bundles in lists and prefetch mappings, sharing resources and nesting, with junk."""
    pool: list[object] = draw(st.lists(resource_like, min_size=1, max_size=4))
    for _ in range(draw(st.integers(1, 4))):
        shared = st.sampled_from(pool)
        picks = draw(st.lists(shared | shared | shared | json_values(2), max_size=5))
        entries = [{"resource": pick} if draw(st.integers(0, 4)) else pick for pick in picks]
        lone = draw(st.integers(0, 5)) == 0 and entries  # a lone entry object, or junk
        pool.append({"resourceType": "Bundle", "entry": entries[0] if lone else entries})
    top = pool[-draw(st.integers(1, len(pool))) :]
    return draw(st.sampled_from([pool[-1], top, {str(n): item for n, item in enumerate(top)}]))


@settings(max_examples=300)
@given(nested_data(), st.booleans())
def test_walk_agrees_with_the_general_walk(data, prefetch):
    notes: list = []
    general_notes: list = []
    walked = _walk(data, prefetch=prefetch, junk=notes)
    general = general_walk(data, prefetch=prefetch, junk=general_notes)
    assert [(id(r), id(e)) for r, e in walked] == [(id(r), id(e)) for r, e in general]
    assert notes == general_notes


def general_applicable(given: object, who, on: date) -> list[dict] | None:
    """``ranges.applicable`` without its shortcut for one range without qualifiers."""
    found = dicts(given)
    if not found:
        return []
    fits = [_fit(r, who, on) for r in found]
    best = min(fits)
    return (
        None if best is _Fit.NOT else [r for r, fit in zip(found, fits, strict=True) if fit is best]
    )


one_range = st.dictionaries(
    st.sampled_from(["low", "high", "type", "appliesTo", "age", "text"]), json_values(4), max_size=4
)


@settings(max_examples=300)
@given(st.lists(one_range, max_size=2) | json_values(4))
def test_applicable_agrees_with_the_general_choice(given_value):
    """The usual lone range without a qualifier is taken as it is: the general choice's."""
    for who in (None, lambda: ("female", date(1960, 1, 1))):
        expected = general_applicable(given_value, who, date(2026, 1, 1))
        assert applicable(given_value, who, date(2026, 1, 1)) == expected


rxnorm_concepts = st.fixed_dictionaries(
    {},
    optional={
        "coding": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "system": st.sampled_from([RXNORM, f"{RXNORM}/", f" {RXNORM}", RXNORM_OID])
                    | odd_values,
                    "code": st.sampled_from(["309594", " 309594", "", " "]) | odd_values,
                },
            )
            | odd_values,
            max_size=2,
        )
        | odd_values,
        "text": odd_values,
    },
)


@settings(max_examples=500)
@given(st.lists(rxnorm_concepts | concepts, max_size=2))
def test_rxnorm_codes_agree_with_codings(given_concepts):
    """One concept with one clean RxNorm coding, the usual order, is read without ``codings``."""
    expected = [code for c in given_concepts for system, code in codings(c) if system == RXNORM]
    assert rxnorm_codes(given_concepts) == expected


def test_each_clinical_drug_match_is_the_code_table():
    """The matches built once at import are the ones the RxNorm table gives."""
    for code, drug in B12_DRUGS.items():
        cyanokit = Match(Product.CYANOKIT, "hydroxocobalamin")
        assert identify([code], "", 0) == (cyanokit if code in _CYANOKIT_RX else Match(*drug))
