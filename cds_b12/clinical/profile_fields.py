"""Clinical core: the metadata each ``profiles.Profile`` value carries, its source and
whether a deployment may change it (``cds_b12.overrides`` reads both).

Imports only the standard library.
"""

from __future__ import annotations

from typing import Any

SOURCE = "source"  # field metadata: the source ID or knowledge-base section of the value
JUDGEMENT = "judgement"  # field metadata: the profiles whose value is a judgement
BOTH = ("UK", "US")


def sourced(source: str) -> dict[str, Any]:
    """Field metadata of a value the knowledge base verifies: fixed in code."""
    return {SOURCE: source}


def judgement(source: str, *, only: tuple[str, ...] = BOTH) -> dict[str, Any]:
    """Field metadata of an unverified or expert value (in the profiles ``only``): a
    deployment may override it."""
    return {SOURCE: source, JUDGEMENT: only}
