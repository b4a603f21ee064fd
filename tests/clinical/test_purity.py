"""The clinical core stays pure: no web, HTTP, database, clock or other cds_b12 layer."""

from __future__ import annotations

import ast
from pathlib import Path

import cds_b12.clinical

CORE = Path(cds_b12.clinical.__file__).parent
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
)


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_core_imports_nothing_impure():
    files = sorted(CORE.rglob("*.py"))
    assert len(files) > 10
    for path in files:
        for name in _imports(path):
            assert not any(name == f or name.startswith(f + ".") for f in FORBIDDEN), (path, name)


def test_core_never_reads_the_clock():
    for path in CORE.rglob("*.py"):
        text = path.read_text()
        assert "date.today" not in text and "datetime.now" not in text, path
