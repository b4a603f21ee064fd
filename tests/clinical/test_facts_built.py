"""The facts every card carries are built cheaply (``facts.build_*``) and must be the same
records the dataclasses build; a cause of one finding skips the merge of several."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from cds_b12.clinical import facts
from cds_b12.clinical.cause import Cause
from cds_b12.clinical.record import ClinicalFinding, Finding, LabKind

from .records import AS_OF, lab

one_finding = st.builds(
    ClinicalFinding,
    st.sampled_from(list(Finding)),
    st.just("Condition/x"),
    st.booleans(),
    st.one_of(st.none(), st.integers(0, 5000).map(lambda d: AS_OF - timedelta(d))),
)


@given(one_finding)
def test_one_finding_reads_as_the_merge_of_several_reads_it(f: ClinicalFinding) -> None:
    """The one-finding path gives what the general merge gives (the same finding twice)."""
    alone, merged = facts.Findings.of((f,)), facts.Findings.of((f, f))
    assert alone == merged and type(alone) is facts.Findings
    assert all(type(item) is facts.Since for item in alone.items)


def test_the_built_records_are_the_dataclasses_records() -> None:
    cases = [
        (facts.build_interval(30.0), facts.Interval(30.0)),
        (facts.build_last_dose(date(2026, 1, 2), 45), facts.LastDose(date(2026, 1, 2), 45)),
        (facts.build_markers(()), facts.Markers(())),
        (
            facts.build_cause_fact(Cause.UNKNOWN, facts.NO_FINDINGS),
            facts.CauseFact(Cause.UNKNOWN, facts.Findings(())),
        ),
        (
            facts.build_on_file(lab_b12 := lab(LabKind.B12, 300), facts.Unused.TOO_OLD, 365),
            facts.OnFile(lab_b12, facts.Unused.TOO_OLD, 365),
        ),
    ]
    for built, made in cases:
        assert built == made and type(built) is type(made) and hash(built) == hash(made)
