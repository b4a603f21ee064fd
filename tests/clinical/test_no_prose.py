"""The clinical core holds no English sentences (style §4): rules pass typed facts, and
``render/`` words them from ``cards/``. Held two ways: no prose in the core's source, and no
text among the facts or notes the core returns for any fixture patient."""

from __future__ import annotations

import ast
import dataclasses
import json
import re
from enum import Enum
from pathlib import Path

import pytest

import cds_b12.clinical
from cds_b12.clinical import evaluate, get_profile
from cds_b12.clinical.record import ClinicalFinding, DataNote, Lab, Medication, UnreadableResult
from cds_b12.fhir.read import collect_resources, read_record
from cds_b12.fhir.redate import redate
from cds_b12.hooks.fixtures import fixture_patients
from cds_b12.hooks.response import split_drafts

from ..scenarios import AS_OF

CORE = Path(cds_b12.clinical.__file__).parent
PROSE = re.compile(r"[A-Za-z]{2,}[ ,;:]+[A-Za-z]{2,}")
# Calls whose string arguments are data, not card wording: terminology displays, citation
# labels (shown as the link text of a source), and the source notes of profile values.
DATA_CALLS = frozenset({"Drug", "Source", "sourced", "judgement"})
# codes.py holds code displays exactly as the terminologies spell them; builder.py writes
# Python source (each record's constructor, as dataclasses writes an __init__), not wording.
DATA_MODULES = frozenset({"codes.py", "builder.py"})


def _prose_in(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    exempt: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            exempt.add(id(body[0].value))  # a docstring
        if isinstance(node, ast.Raise):  # an error message for an operator, not a card
            exempt.update(id(n) for n in ast.walk(node))
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name in DATA_CALLS:
                exempt.update(id(n) for arg in node.args for n in ast.walk(arg))
    found = []
    for node in ast.walk(tree):
        if id(node) in exempt:
            continue
        if isinstance(node, ast.JoinedStr):
            found.append((node.lineno, ast.unparse(node)))
            exempt.update(id(n) for n in ast.walk(node))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.extend([(node.lineno, node.value)] if PROSE.search(node.value) else [])
    return sorted(found)


@pytest.mark.parametrize(
    "path",
    [p for p in sorted(CORE.rglob("*.py")) if p.name not in DATA_MODULES],
    ids=lambda p: str(p.relative_to(CORE)),
)
def test_no_sentences_in_the_core(path):
    assert _prose_in(path) == []


def test_the_guard_catches_planted_prose(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text(
        '"""Docstrings are fine."""\n'
        'KEY = "eight_weeks"\n'
        'def text(a):\n    return f"Hb fell from {a}"\n'
        'NOTE = "no result on file"\n'
        'def fail():\n    raise ValueError("an operator message is fine")\n'
    )
    assert [line for line, _ in _prose_in(planted)] == [4, 5]


def _text_in(value: object, where: str) -> list[str]:
    """Paths to plain text among typed facts; patient data records (a lab result, an order)
    carry FHIR values and are not the core's words."""
    if (
        isinstance(value, Enum | Lab | Medication | ClinicalFinding | UnreadableResult)
        or value is None
    ):
        return []
    if isinstance(value, str):
        return [where]
    if dataclasses.is_dataclass(value):
        return [
            p
            for f in dataclasses.fields(value)
            for p in _text_in(getattr(value, f.name), f"{where}.{f.name}")
        ]
    if isinstance(value, tuple):
        return [p for i, item in enumerate(value) for p in _text_in(item, f"{where}[{i}]")]
    return []


@pytest.mark.parametrize("patient", fixture_patients(), ids=lambda p: p.patient_id)
@pytest.mark.parametrize("profile", ["us", "uk"])
def test_the_core_returns_typed_facts_and_notes(patient, profile):
    resources = collect_resources(redate(json.loads(patient.path.read_text()), AS_OF))
    record, drafts = split_drafts(resources)
    rec = read_record(record, draft_orders=drafts)
    ev = evaluate(rec, get_profile(profile), AS_OF)
    for r in ev.recommendations:
        for name, fact in r.facts.items():
            assert _text_in(fact, name) == [], (r.rule, name, fact)
    added = set(ev.notes) - set(rec.notes)
    assert not any(isinstance(note, DataNote) for note in added), added
