"""The ``cds-b12`` subcommands, one module per family, assembled by ``cds_b12.cli``.

A command module declares its subcommands in ``register(sub)`` and keeps only the
standard library at its top level: each handler imports what it needs when it runs,
so ``--help`` and ``evaluate`` never load the store, Flask or gunicorn
(``tests/test_cli_startup.py`` checks). A handler returns an exit code; a problem
the user can fix is raised as ``UsageError`` and printed as one line.

Every command reads and checks all the ``CDS_B12_*`` settings through ``settings()``,
so a bad value is refused by whichever command runs, not only by ``serve``; an
option that mirrors a setting (``evaluate --profile``) overrides it.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Settings


class UsageError(Exception):
    """A problem with the user's input or settings, reported in one line with exit code 2."""


def settings() -> Settings:
    """The service settings from the environment, checked; a bad one is a ``UsageError``."""
    from pydantic import ValidationError

    from ..config import Settings, describe_error

    try:
        return Settings()
    except ValidationError as exc:
        raise UsageError(describe_error(exc)) from None


def iso_date(text: str) -> date:
    """An argparse type: a calendar date written YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


def evaluation_date(text: str) -> date:
    """An argparse type: a date patients can be evaluated on; years far out would overflow
    the date arithmetic of the rules."""
    day = iso_date(text)
    if not FIRST_DAY <= day <= LAST_DAY:
        raise argparse.ArgumentTypeError(f"must be from {FIRST_DAY} to {LAST_DAY}: {text!r}")
    return day


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value
