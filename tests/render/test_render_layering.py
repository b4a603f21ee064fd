"""The render layer imports only the standard library and the clinical core (style §1)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import cds_b12.render

from ..layering import matches, violations

RENDER = Path(cds_b12.render.__file__).parent
PACKAGE = "cds_b12.render"


def _allowed(name: str) -> bool:
    top = name.split(".")[0]
    if top == "cds_b12":
        return matches(name, ("cds_b12.clinical", PACKAGE))
    return top in sys.stdlib_module_names or top == "__future__"


def test_render_imports_only_stdlib_and_clinical() -> None:
    assert violations(RENDER, PACKAGE, _allowed) == []


def test_the_guard_catches_planted_imports(tmp_path: Path) -> None:
    """Proven by planting the violation: relative, absolute and third-party forms."""
    (tmp_path / "fine.py").write_text("from .errors import RenderError\nfrom ..clinical import x\n")
    (tmp_path / "up.py").write_text("from ..hooks.fetch import FhirClient\n")
    (tmp_path / "pkg.py").write_text("from .. import api\n")
    (tmp_path / "web.py").write_text("import flask\n")
    found = set(violations(tmp_path, PACKAGE, _allowed))
    assert found == {
        ("cds_b12.render.up", "cds_b12.hooks.fetch"),
        ("cds_b12.render.up", "cds_b12.hooks.fetch.FhirClient"),
        ("cds_b12.render.pkg", "cds_b12.api"),
        ("cds_b12.render.web", "flask"),
    }


def test_module_docstrings_name_the_layer() -> None:
    for path in sorted(RENDER.glob("*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert doc and doc.startswith("Render layer: "), path.name
