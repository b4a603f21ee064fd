"""FHIR layer: move anchor-dated fixture bundles in time; imports only the standard library.

Fixture bundles under ``fhir_fixtures/`` are written relative to a fixed anchor date
(``Bundle.timestamp``) and tagged ``urn:cds-b12:fixture|anchor-dated``. Loaders call
:func:`redate` with the ``as_of`` of the test, so "5 days ago" stays 5 days ago: fixtures
never go stale and nobody commits date refreshes (style guide §6, "Dates").

The walk works on plain JSON, not validated models, because messy fixtures are
deliberately invalid and must still be shifted.
"""

from __future__ import annotations

import copy
import datetime
import re
from typing import Any

ANCHOR_TAG_SYSTEM = "urn:cds-b12:fixture"
ANCHOR_TAG_CODE = "anchor-dated"

# FHIR date/dateTime/instant with at least day precision. The time zone is optional
# because EHRs send local times without one; those are shifted too.
_DATE_TIME = re.compile(
    r"(?P<date>[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01]))"
    r"(?P<rest>T(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]+)?"
    r"(?:Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))?)?"
)

# Elements holding identifiers, codes or text; nothing beneath them is a date to shift.
_NEVER_SHIFT_KEYS = frozenset(
    {
        "id",
        "code",
        "text",
        "display",
        "system",
        "version",
        "reference",
        "url",
        "fullUrl",
        "div",
        "value",
        "valueString",
        "valueCode",
        "valueId",
        "valueUri",
        "valueUrl",
        "valueCanonical",
        "valueMarkdown",
        "valueOid",
        "valueUuid",
        "comment",
        "description",
        "title",
        "unit",
    }
)


def _anchor_date(bundle: object) -> datetime.date | None:
    """The anchor date of an anchor-dated bundle, else None."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return None
    meta = bundle.get("meta")
    tags = meta.get("tag") if isinstance(meta, dict) else None
    if not isinstance(tags, list) or not any(
        isinstance(tag, dict)
        and tag.get("system") == ANCHOR_TAG_SYSTEM
        and tag.get("code") == ANCHOR_TAG_CODE
        for tag in tags
    ):
        return None
    timestamp = bundle.get("timestamp")
    if not isinstance(timestamp, str):
        return None
    match = _DATE_TIME.fullmatch(timestamp)
    if match is None:
        return None
    try:
        return datetime.date.fromisoformat(match["date"])
    except ValueError:
        return None


def is_anchor_dated(bundle: object) -> bool:
    """True if the bundle carries the anchor-dated tag and a usable ``timestamp`` anchor."""
    return _anchor_date(bundle) is not None


def _shift_string(value: str, delta: datetime.timedelta) -> str:
    match = _DATE_TIME.fullmatch(value)
    if match is None:
        return value
    try:
        shifted = datetime.date.fromisoformat(match["date"]) + delta
    except (ValueError, OverflowError):
        return value
    return shifted.isoformat() + (match["rest"] or "")


def _shift(node: Any, delta: datetime.timedelta) -> Any:
    if isinstance(node, dict):
        return {
            key: value if key in _NEVER_SHIFT_KEYS else _shift(value, delta)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_shift(item, delta) for item in node]
    if isinstance(node, str):
        return _shift_string(node, delta)
    return node


def redate(bundle: dict[str, Any], as_of: datetime.date) -> dict[str, Any]:
    """A copy of the bundle with every full date moved by ``as_of - anchor`` days.

    Partial dates (``YYYY``, ``YYYY-MM``) and the time and zone of a dateTime are kept
    as written. A bundle that is not anchor-dated comes back as an unchanged copy.
    The result is anchor-dated at ``as_of``, so redating it again composes.
    """
    anchor = _anchor_date(bundle)
    if anchor is None:
        return copy.deepcopy(bundle)
    if isinstance(as_of, datetime.datetime):
        as_of = as_of.date()
    return _shift(copy.deepcopy(bundle), as_of - anchor)
