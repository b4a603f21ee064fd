"""Fixtures for the render tests; the builders live in ``render_support``, ``rule_facts`` and
``rule_specs``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from cds_b12.render.wording import CardLibrary, load_card_library


@pytest.fixture(scope="session")
def library() -> CardLibrary:
    return load_card_library()


@pytest.fixture
def new_id() -> Callable[[], str]:
    """Predictable ids, so tests can tell which resource is which."""
    counter = itertools.count(1)
    return lambda: f"id-{next(counter)}"
