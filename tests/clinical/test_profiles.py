"""The profile is the one place for numbers and UK/US differences (style §3): every value
names its source, judgement values are marked and are the only ones a deployment may
override, and no rule holds a bare threshold or asks which profile it is."""

from __future__ import annotations

import ast
import inspect
import re
from dataclasses import fields
from pathlib import Path

import pytest

import cds_b12.clinical
from cds_b12.clinical import assess as assess_module
from cds_b12.clinical import profiles, regimens
from cds_b12.clinical.profile_fields import JUDGEMENT, SOURCE
from cds_b12.clinical.profiles import UK, US, Profile, overridden
from cds_b12.clinical.record import Timing
from cds_b12.clinical.regimens import Step
from cds_b12.overrides import OverrideError, with_overrides

CORE = Path(cds_b12.clinical.__file__).parent
# Where decisions are made: these read every number from the profile.
DECIDING = sorted(
    [*(CORE / "rules").glob("*.py")]
    + [
        CORE / name
        for name in (
            "assess.py",
            "bands.py",
            "cause.py",
            "course.py",
            "safety.py",
            "followup.py",
            "timeline.py",
            "facts.py",
            "evaluate.py",
        )
    ]
)


def test_every_value_names_its_source():
    for f in fields(Profile):
        assert f.metadata.get(SOURCE), f.name


def test_judgement_values_and_judgement_comments_agree():
    """A reviewer greps ``# judgement``: it sits right above each judgement value."""
    lines = inspect.getsource(Profile).splitlines()
    declared = {
        m.group(1): i for i, line in enumerate(lines) if (m := re.match(r"    (\w+): ", line))
    }
    commented = {
        name for name, i in declared.items() if lines[i - 1].strip().startswith("# judgement")
    }
    judged = {f.name for f in fields(Profile) if f.metadata.get(JUDGEMENT)}
    assert judged and commented == judged


def test_only_marked_values_are_judgements_per_profile():
    assert "mma_upper_umol_l" in UK.judgement_names  # NG239 value recalled (❌)
    assert "mma_upper_umol_l" not in US.judgement_names  # Mayo's, verified
    assert "b12_deficient_below_ng_l" not in US.judgement_names + UK.judgement_names


@pytest.mark.parametrize("path", DECIDING, ids=lambda p: p.name)
def test_no_rule_asks_which_profile_it_is(path):
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"\b(?:p|profile|a\.profile)\.name\b", text), path.name


@pytest.mark.parametrize("path", DECIDING, ids=lambda p: p.name)
def test_no_bare_thresholds_where_decisions_are_made(path):
    """0 and 1 (and indexes) only: every other number is a named profile value."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    indexes = {
        id(node)
        for sub in ast.walk(tree)
        if isinstance(sub, ast.Subscript)
        for node in ast.walk(sub.slice)
    }
    bare = [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and type(node.value) in (int, float)
        and node.value not in (0, 1)
        and id(node) not in indexes
    ]
    assert bare == [], f"{path.name}: bare numbers at {bare}"


def test_one_definition_of_a_month_and_a_year():
    tables = [
        path.name
        for path in CORE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Dict)
        and any(isinstance(k, ast.Constant) and k.value == "mo" for k in node.keys)
    ]
    assert tables == ["record.py"]
    for unit in ("d", "wk", "mo", "a"):
        assert Step(1, 1, unit).interval_days == Timing(1, 1, None, unit).interval_days
    assert not hasattr(regimens, "_DAYS")


def test_the_assessment_is_split_along_its_concerns():
    for path in CORE.rglob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 400, path.name
    assert len(inspect.getsource(assess_module.assess).splitlines()) <= 50


# ---- overrides ----


def test_an_override_changes_only_the_named_judgement_value():
    changed = with_overrides({"us": {"overdue_grace_monthly_days": 10}})
    assert changed["us"].overdue_grace_monthly_days == 10
    assert changed["us"].overdue_grace_long_days == US.overdue_grace_long_days
    assert changed["uk"] is UK
    assert overridden(changed) == {"us": {"overdue_grace_monthly_days": 10}}
    assert overridden(profiles.PROFILES) == {}


def test_override_values_take_the_field_type():
    changed = with_overrides(
        {
            "uk": {"mma_upper_umol_l": 1, "recheck_after_stop_days": [60, 120]},
            "us": {"sleeve_is_irreversible": False, "retic_upper_pct": 3},
        }
    )
    assert changed["uk"].mma_upper_umol_l == 1.0 and isinstance(
        changed["uk"].mma_upper_umol_l, float
    )
    assert changed["uk"].recheck_after_stop_days == (60, 120)
    assert changed["us"].sleeve_is_irreversible is False
    assert changed["us"].retic_upper_pct == 3.0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"fr": {"current_lab_days": 200}}, "[fr]: not a profile"),
        ({"us": 7}, "us: must be a table"),
        ({"us": {"grace": 10}}, "us.grace: no such profile value"),
        ({"us": {"b12_deficient_below_ng_l": 200}}, "us.b12_deficient_below_ng_l: not a judgement"),
        ({"us": {"mma_upper_umol_l": 0.5}}, "us.mma_upper_umol_l: not a judgement"),
        ({"uk": {"review_days": 60}}, "uk.review_days: not a judgement"),
        ({"us": {"overdue_grace_monthly_days": "ten"}}, "expected a whole number"),
        ({"us": {"overdue_grace_monthly_days": 10.5}}, "expected a whole number"),
        ({"us": {"overdue_grace_monthly_days": True}}, "expected a whole number"),
        ({"us": {"overdue_grace_monthly_days": -3}}, "must not be negative"),
        ({"uk": {"mma_upper_umol_l": "0.4"}}, "expected a number"),
        ({"us": {"sleeve_is_irreversible": "yes"}}, "expected true or false"),
        ({"us": {"recheck_after_stop_days": [180, 90]}}, "smallest first"),
        ({"us": {"recheck_after_stop_days": [90]}}, "expected 2 whole numbers"),
        ({"us": {"intensify_steps": []}}, "cannot be overridden from a file"),
    ],
)
def test_a_bad_override_is_refused_with_its_name_and_reason(overrides, message):
    with pytest.raises(OverrideError) as exc:
        with_overrides(overrides)
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)
