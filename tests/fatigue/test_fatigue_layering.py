"""``cds_b12.fatigue`` decides from clinical types and the store's history alone: it imports
the standard library, pydantic (the site settings file), orjson (the facts' hash text) and the
clinical core, never Flask, SQLAlchemy or another layer, so its decisions can be tested and
benchmarked without either."""

from __future__ import annotations

import sys
from pathlib import Path

import cds_b12.fatigue

from ..layering import matches, violations

FATIGUE = Path(cds_b12.fatigue.__file__).parent
PACKAGE = "cds_b12.fatigue"


def _allowed(name: str) -> bool:
    top = name.split(".")[0]
    if top == "cds_b12":
        return matches(name, ("cds_b12.clinical", PACKAGE))
    return top in sys.stdlib_module_names or top in ("__future__", "orjson", "pydantic")


def test_fatigue_imports_only_stdlib_pydantic_orjson_and_clinical() -> None:
    assert violations(FATIGUE, PACKAGE, _allowed) == []


def test_the_guard_catches_planted_imports(tmp_path: Path) -> None:
    (tmp_path / "fine.py").write_text("from .policy import Policy\nfrom ..clinical import x\n")
    (tmp_path / "store.py").write_text("from ..store.history import history\n")
    (tmp_path / "db.py").write_text("import sqlalchemy\n")
    found = set(violations(tmp_path, PACKAGE, _allowed))
    assert found == {
        ("cds_b12.fatigue.store", "cds_b12.store.history"),
        ("cds_b12.fatigue.store", "cds_b12.store.history.history"),
        ("cds_b12.fatigue.db", "sqlalchemy"),
    }
