"""The render layer imports only the standard library and the clinical core (style §1)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import cds_b12.render

RENDER = Path(cds_b12.render.__file__).parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_render_imports_only_stdlib_and_clinical() -> None:
    for path in sorted(RENDER.glob("*.py")):
        for name in _imports(path):
            top = name.split(".")[0]
            allowed = top in sys.stdlib_module_names or name.startswith("cds_b12.clinical")
            assert allowed or top == "__future__", f"{path.name} imports {name}"


def test_module_docstrings_name_the_layer() -> None:
    for path in sorted(RENDER.glob("*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert doc and doc.startswith("Render layer: "), path.name
