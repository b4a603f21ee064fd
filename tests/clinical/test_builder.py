"""The core's cheaply built records are the frozen records their constructors give."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass, field, fields, replace

import pytest

from cds_b12.clinical import assess as assess_module
from cds_b12.clinical.assess import Assessment, assess
from cds_b12.clinical.bands import LabFindings, assess_labs, by_kind
from cds_b12.clinical.builder import builder
from cds_b12.clinical.course import CourseFindings, assess_course, injection_dates
from cds_b12.clinical.evaluate import evaluate
from cds_b12.clinical.profiles import PROFILES
from cds_b12.clinical.recommendation import Recommendation
from cds_b12.fhir.read import read_record

from ..scenarios import AS_OF, scenarios

SCENARIOS = scenarios()


def same_as_constructed(built: object, cls: type) -> None:
    assert type(built) is cls
    plain = cls(**{f.name: getattr(built, f.name) for f in fields(cls)})
    assert built == plain and repr(built) == repr(plain)
    assert replace(built) == plain
    with pytest.raises(FrozenInstanceError):
        setattr(built, fields(cls)[0].name, None)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_assessment_and_its_parts_are_built_as_their_classes(scenario):
    resources, drafts = scenario.data()
    record = read_record(resources, draft_orders=drafts)
    profile = PROFILES[scenario.profile]
    a = assess(record, profile, AS_OF)
    same_as_constructed(a, Assessment)
    labs = assess_labs(a.labs, by_kind(a.labs), a.doses, record.patient, a.pregnant, profile, AS_OF)
    same_as_constructed(labs, LabFindings)
    meds = record.medications
    doses, _raised_by = injection_dates(meds, AS_OF)
    course = assess_course(meds, doses, (), (), False, profile, AS_OF, record.findings)
    same_as_constructed(course, CourseFindings)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_recommendations_are_built_as_their_class(scenario):
    """A rule's card and every copy the rails and ``reconcile`` make of it."""
    resources, drafts = scenario.data()
    record = read_record(resources, draft_orders=drafts)
    for rec in evaluate(record, PROFILES[scenario.profile], AS_OF).recommendations:
        same_as_constructed(rec, Recommendation)


@pytest.mark.parametrize("scenario", SCENARIOS[:40], ids=[s.id for s in SCENARIOS[:40]])
def test_the_assessment_holds_each_concerns_findings_under_their_names(scenario, monkeypatch):
    """``assess`` builds the Assessment positionally, each concern's values as one block."""
    found = {}
    for name in ("assess_labs", "assess_cause", "assess_course"):
        real = getattr(assess_module, name)

        def kept(*args, real=real, name=name, **kwargs):
            found[name] = real(*args, **kwargs)
            return found[name]

        monkeypatch.setattr(assess_module, name, kept)
    resources, drafts = scenario.data()
    a = assess(read_record(resources, draft_orders=drafts), PROFILES[scenario.profile], AS_OF)
    assert len(found) == 3
    for part in found.values():
        for f in fields(part):
            assert getattr(a, f.name) is getattr(part, f.name), f.name


def test_a_default_factory_gives_each_built_record_its_own_value():
    @dataclass(frozen=True, slots=True)
    class Held:
        name: str
        tags: list = field(default_factory=list)

    build = builder(Held)
    first, second = build("a"), build("b")
    assert first == Held("a") and first.tags is not second.tags
    assert build("a", ["x"]) == Held("a", ["x"])


def test_a_builder_refuses_an_init_that_does_more_than_store():
    @dataclass(frozen=True, slots=True)
    class Checked:
        name: str

        def __post_init__(self) -> None:
            pass

    with pytest.raises(TypeError):
        builder(Checked)
