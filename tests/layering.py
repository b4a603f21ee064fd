"""The one import reader the layering tests share: every import a module makes, with
relative imports resolved to absolute module names (``from ..hooks.fetch import X`` inside
``cds_b12.clinical`` is ``cds_b12.hooks.fetch``), so a guard cannot be dodged by a dot."""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path


def modules_under(root: Path, package: str) -> Iterator[tuple[str, Path]]:
    """``(module name, file)`` for every ``.py`` file below ``root``, the package ``package``."""
    for path in sorted(root.rglob("*.py")):
        parts = [*path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join([package, *parts]), path


def imported(path: Path, module: str) -> set[str]:
    """Absolute names of the modules ``path`` (the module ``module``) imports.

    ``from pkg import name`` yields ``pkg`` and ``pkg.name``: the name may be a submodule.
    ``from .. import name`` yields only the submodule: the bare package is not a dependency.
    """
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
            if node.module:
                names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def matches(name: str, prefixes: Iterable[str]) -> bool:
    """``name`` is one of ``prefixes`` or inside one of them."""
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def violations(root: Path, package: str, allowed: Callable[[str], bool]) -> list[tuple[str, str]]:
    """``(module, imported name)`` for each import below ``root`` that ``allowed`` refuses."""
    return [
        (module, name)
        for module, path in modules_under(root, package)
        for name in sorted(imported(path, module))
        if not allowed(name)
    ]
