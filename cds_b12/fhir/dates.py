"""FHIR layer: tolerant FHIR date and dateTime parsing. Imports the standard library only.

Rules compare calendar days, so a dateTime becomes the date as written, with no
timezone conversion. EHR feeds send dateTimes without a timezone, which strict
validators reject (python-ecosystem.md §1.4 item 5); we accept them.
"""

from __future__ import annotations

import re
from datetime import date

_DATE = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2})"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?)?)?"
)
# The same pattern for ASCII text, where \d is [0-9] either way; matching it is cheaper.
_ASCII_DATE = re.compile(_DATE.pattern, re.ASCII)
# The shapes EHRs send most, each digit read as 0; every one is a full match of _DATE.
# Testing the shape costs about a fifth of matching the pattern.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
USUAL_SHAPES = frozenset(
    {
        b"0000-00-00",
        b"0000-00-00T00:00:00",
        b"0000-00-00T00:00:00Z",
        b"0000-00-00T00:00:00+00:00",
        b"0000-00-00T00:00:00-00:00",
        b"0000-00-00T00:00:00.000Z",
        b"0000-00-00T00:00:00.000+00:00",
        b"0000-00-00T00:00:00.000-00:00",
    }
)


_from_isoformat = date.fromisoformat  # bound once: ``date.fromisoformat`` binds it each call


def parse_date(value: object) -> date | None:
    """The calendar date of a FHIR date/dateTime/instant; ``YYYY-MM`` → day 1, ``YYYY`` → 1 Jan."""
    if not isinstance(value, str):
        return None
    # a usual shape as sent (one with blanks around it is read below)
    if value.isascii() and value.encode().translate(_DIGITS_AS_ZERO) in USUAL_SHAPES:
        try:  # every usual shape starts with the full date
            return _from_isoformat(value[:10])
        except ValueError:
            return None
    value = value.strip()
    ascii_only = value.isascii()
    match = (_ASCII_DATE if ascii_only else _DATE).fullmatch(value)
    if match is None:
        return None
    try:
        if ascii_only and len(value) >= 10:  # a full date, "YYYY-MM-DD..."
            return _from_isoformat(value[:10])
        year, month, day = match.groups()
        return date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        return None
