"""The facts' hashes are stored with every hold: whatever makes them faster must give the same
bytes for every input, or an upgrade would silently end every hold.

``reference`` is the fingerprint as first written, plainly: one JSON document per hash, by
the standard library's encoder with a ``default`` for the types JSON has none for.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from operator import attrgetter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cds_b12.clinical import evaluate
from cds_b12.clinical.facts import (
    Agents,
    Direction,
    Interval,
    LabTrend,
    LastDose,
    OnFile,
    Trends,
    Unused,
    Years,
)
from cds_b12.clinical.profiles import UK, US
from cds_b12.clinical.record import (
    Finding,
    Lab,
    LabKind,
    Medication,
    MedSource,
    Product,
    Quantity,
    Route,
    Timing,
)
from cds_b12.fatigue.fingerprint import Fingerprint, fingerprints

from ..clinical.test_never_raises import AS_OF as RECORDS_AS_OF
from ..clinical.test_never_raises import records
from ..scenarios import scenarios
from .test_fingerprint import evaluation, metformin


def _reference_plain(value: object) -> object:
    if isinstance(value, date):
        return type(value).isoformat(value)
    if is_dataclass(value):
        return [type(value).__qualname__, *(getattr(value, f.name) for f in fields(value))]
    return repr(value)


_reference_json = json.JSONEncoder(
    default=_reference_plain, separators=(",", ":"), check_circular=False, allow_nan=True
).encode


def _reference_card(rec) -> tuple[list, list]:
    kept: list[list] = []
    ordered: list[list] = []
    for name in sorted(rec.facts):
        value = rec.facts[name]
        if isinstance(value, LastDose):
            kept.append([name, value.on])
        elif isinstance(value, date | int | float | Years):
            continue
        elif isinstance(value, Interval) or (
            isinstance(value, Medication) and value.source is MedSource.REQUEST
        ):
            ordered.append([name, value])
        else:
            kept.append([name, value])
    evidence = [
        rec.rule,
        rec.kind,
        rec.indicator,
        rec.safety,
        rec.regimen,
        rec.alternative,
        sorted({lab.test for lab in rec.labs}),
        rec.overdue_since,
        kept,
    ]
    return evidence, [rec.draft_id, ordered]


def reference(ev) -> dict[str, Fingerprint]:
    """The hashes as the first release stored them."""
    record = ev.assessment.record
    rules = sorted(rec.rule for rec in ev.recommendations)
    b12 = [m for m in record.medications if m.ingredient is not None]
    where = attrgetter("resource_id", "source")
    taken = sorted((m for m in b12 if m.source is not MedSource.REQUEST), key=where)
    orders = sorted((m for m in b12 if m.source is MedSource.REQUEST), key=where)
    drafts = sorted(d.resource_id for d in record.drafts)

    def sha(document: list) -> str:
        return hashlib.sha256(_reference_json(document).encode()).hexdigest()

    found = {}
    for rec in ev.recommendations:
        evidence, ordered = _reference_card(rec)
        found[rec.rule] = Fingerprint(
            sha([rules, taken, orders, drafts, evidence, ordered]), sha([rules, taken, evidence])
        )
    return found


SCENARIOS = scenarios()


@pytest.mark.parametrize("shift", [0, 1, 400])
def test_every_fixture_s_hashes_are_the_reference_s(shift):
    for scenario in SCENARIOS:
        _, ev = evaluation(scenario, shift=shift)
        assert fingerprints(ev) == reference(ev), scenario.id


@given(records, st.sampled_from([US, UK]))
def test_an_odd_record_s_hashes_are_the_reference_s(record, profile):
    ev = evaluate(record, profile, RECORDS_AS_OF)
    assert fingerprints(ev) == reference(ev)


@dataclass(frozen=True)
class Later:
    """A record type added after the first release, with a type JSON has no name for."""

    amount: Decimal
    when: datetime | None
    tags: tuple[str, ...] = ()


# every kind of value the reference encoder treats on its own: JSON's own, the floats it
# writes as Infinity and NaN, str and int subclasses, dates and datetimes, dataclasses
# (nested), and values with no JSON type (by repr)
odd_floats = st.floats() | st.sampled_from([math.inf, -math.inf, math.nan, -0.0, 1e16, 1e-7])
odd_text = st.text() | st.sampled_from(["", "é", "\u2028", '"\\', "\x00", "\ud800", "😀"])
days = st.dates()
moments = st.datetimes(timezones=st.none() | st.just(timezone(timedelta(hours=-5))))
quantities = st.builds(Quantity, value=odd_floats, unit=odd_text)
labs = st.builds(
    Lab,
    kind=st.sampled_from(LabKind),
    value=odd_floats,
    on=days | moments,
    resource_id=odd_text,
    ref_low=st.none() | odd_floats,
    reported=st.none() | quantities,
    comparator=st.none() | odd_text,
)
meds = st.builds(
    Medication,
    source=st.sampled_from(MedSource),
    product=st.sampled_from(Product),
    resource_id=st.sampled_from(["MedicationRequest/a", "MedicationAdministration/a"]) | odd_text,
    status=odd_text,
    ingredient=st.none() | st.sampled_from(["cyanocobalamin", "hydroxocobalamin"]) | odd_text,
    intent=st.none() | odd_text,
    on=st.none() | days | moments,
    end=st.none() | days,
    dose_mg=st.none() | odd_floats | st.integers(),
    route=st.sampled_from(Route),
    timing=st.none()
    | st.builds(
        Timing, frequency=st.integers(), period=st.none() | odd_floats, bounded=st.booleans()
    ),
    dose_written=st.none() | quantities,
)
leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | odd_floats
    | odd_text
    | days
    | moments
    | st.sampled_from([*Finding, *Product, *Unused, *Direction])
    | st.decimals()
    | st.builds(Years, st.integers())
)
values = st.recursive(
    leaves | quantities | labs | meds,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(odd_text, inner, max_size=3)
        | st.builds(LastDose, on=days, days_ago=st.integers())
        | st.builds(Interval, days=odd_floats, max_days=st.none() | odd_floats)
        | st.builds(
            Agents, st.lists(st.sampled_from(Product), max_size=2).map(tuple), st.booleans()
        )
        | st.builds(OnFile, lab=labs, why=st.sampled_from(Unused), limit_days=st.integers())
        | st.builds(
            Trends,
            st.lists(
                st.builds(
                    LabTrend, st.sampled_from(LabKind), st.sampled_from(Direction), labs, labs
                ),
                max_size=2,
            ).map(tuple),
        )
        | st.builds(Later, st.decimals(), st.none() | moments, st.lists(odd_text).map(tuple))
    ),
    max_leaves=12,
)
BASE = evaluation(metformin())[1]


@given(
    facts=st.dictionaries(odd_text, values, max_size=6),
    medications=st.lists(meds, max_size=6),
    rule=odd_text,
    draft=st.none() | odd_text,
    overdue=st.none() | days | moments,
    safety=st.lists(odd_text, max_size=2).map(tuple),
)
def test_odd_facts_hash_as_the_reference_hashes_them(
    facts, medications, rule, draft, overdue, safety
):
    (rec,) = BASE.recommendations
    odd = replace(rec, facts=facts, draft_id=draft, overdue_since=overdue, safety=safety)
    record = BASE.assessment.record
    record = replace(record, medications=(*record.medications, *medications))
    ev = replace(
        BASE,
        assessment=replace(BASE.assessment, record=record),
        recommendations=(odd, replace(rec, rule=rule)),
    )
    assert fingerprints(ev) == reference(ev)
