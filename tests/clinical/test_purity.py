"""The clinical core stays pure: no web, HTTP, database, clock or other cds_b12 layer."""

from __future__ import annotations

from pathlib import Path

import cds_b12.clinical

from ..layering import matches, violations

CORE = Path(cds_b12.clinical.__file__).parent
PACKAGE = "cds_b12.clinical"
FORBIDDEN = (
    "flask",
    "requests",
    "sqlalchemy",
    "urllib",
    "http",
    "socket",
    "os",
    "time",
    "cds_b12.api",
    "cds_b12.hooks",
    "cds_b12.store",
    "cds_b12.fhir",
    "cds_b12.render",
    "cds_b12.auth",
    "cds_b12.net",
    "cds_b12.config",
    "cds_b12.cli",
    "cds_b12.serve",
)


def impure(root: Path) -> list[tuple[str, str]]:
    return violations(root, PACKAGE, lambda name: not matches(name, FORBIDDEN))


def test_core_imports_nothing_impure():
    assert len(list(CORE.rglob("*.py"))) > 10
    assert impure(CORE) == []


def test_the_guard_catches_relative_and_absolute_planted_imports(tmp_path: Path):
    """A guard proven by planting the violation (style §9): each form is caught."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "__init__.py").write_text("from . import profiles\n")
    (tmp_path / "ok.py").write_text("from .record import Lab\nimport itertools\n")
    (tmp_path / "planted.py").write_text("from ..hooks.fetch import FhirClient\n")
    (tmp_path / "rules" / "deep.py").write_text("from ... import render\nimport os.path\n")
    (tmp_path / "rules" / "abs.py").write_text("from cds_b12.store.db import Database\n")
    found = {(module, name) for module, name in impure(tmp_path)}
    assert ("cds_b12.clinical.planted", "cds_b12.hooks.fetch") in found
    assert ("cds_b12.clinical.rules.deep", "cds_b12.render") in found
    assert ("cds_b12.clinical.rules.deep", "os.path") in found
    assert ("cds_b12.clinical.rules.abs", "cds_b12.store.db") in found
    assert {module for module, _ in found} == {
        "cds_b12.clinical.planted",
        "cds_b12.clinical.rules.deep",
        "cds_b12.clinical.rules.abs",
    }


def test_core_never_reads_the_clock():
    for path in CORE.rglob("*.py"):
        text = path.read_text()
        assert "date.today" not in text and "datetime.now" not in text, path
