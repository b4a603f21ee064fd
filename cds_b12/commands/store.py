"""``cds-b12 report``, ``cds-b12 purge`` and ``cds-b12 db upgrade``: the feedback and
audit store, where ``CDS_B12_DATABASE_URL`` (or the SQLite file in the data dir) says."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, date, datetime
from datetime import time as dt_time
from typing import TYPE_CHECKING

from . import UsageError, iso_date, positive_int, settings

if TYPE_CHECKING:
    from ..store.db import Database


def register(sub: argparse._SubParsersAction) -> None:
    rp = sub.add_parser(
        "report",
        help="Print the cards issued and the clinicians' feedback, per rule.",
        description=(
            "Print, per rule and service, the cards issued, the feedback received, how many "
            "were accepted and overridden, and the override reasons."
        ),
    )
    rp.add_argument(
        "--since",
        metavar="YYYY-MM-DD",
        type=iso_date,
        help="Count only the calls and feedback from this date on.",
    )
    out = rp.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="Print JSON instead of a table.")
    out.add_argument(
        "--html",
        metavar="FILE",
        help=(
            "Write the governance report to FILE instead: per rule and site, the cards "
            "issued, accepted, overridden and snoozed, the override reasons and weekly trend "
            "charts, the highest override rates first. The page needs nothing else to open."
        ),
    )
    rp.set_defaults(func=report_command)

    pg = sub.add_parser(
        "purge",
        help="Delete the stored calls and feedback that are past retention.",
        description=(
            "Delete the hook calls (with their cards) and the feedback received more than "
            "DAYS days ago. Nothing is deleted otherwise: run it at the interval your "
            "retention policy sets."
        ),
    )
    pg.add_argument(
        "--older-than",
        metavar="DAYS",
        type=positive_int,
        required=True,
        help="Delete what was received more than DAYS days ago (at least 1).",
    )
    pg.set_defaults(func=purge_command)

    db = sub.add_parser(
        "db",
        help="Manage the feedback and audit store.",
        description="Manage the feedback and audit store's schema.",
    )
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser(
        "upgrade",
        help="Apply the pending schema migrations.",
        description="Apply the pending schema migrations (every start of serve does too).",
    ).set_defaults(func=db_command)


def _database() -> Database:
    """The store, migrated to the current schema (so a report works on a fresh install)."""
    from ..store.db import Database

    db = Database(settings().store_url)
    db.upgrade()
    return db


def db_command(args: argparse.Namespace) -> int:
    from ..store.db import Database

    changed = Database(settings().store_url).upgrade()
    print("store migrated to the current schema" if changed else "store already current")
    return 0


def report_command(args: argparse.Namespace) -> int:
    from ..store.report import report
    from ..store.table import report_table

    since = datetime.combine(args.since, dt_time.min, UTC) if args.since else None
    if args.html:
        return _html_report(args.html, since, args.since)
    rows = report(_database(), since)
    if args.json:
        body = {
            "since": args.since.isoformat() if args.since else None,
            "rules": [r.as_json() for r in rows],
        }
        print(json.dumps(body, indent=2))
    else:
        print(report_table(rows, args.since))
    return 0


def _html_report(path: str, since: datetime | None, since_day: date | None) -> int:
    from ..store.governance import governance
    from ..store.report_page import report_page

    rows = governance(_database(), since)
    page = report_page(rows, since=since_day, today=date.today(), assets="inline")
    try:
        with open(path, "w", encoding="utf-8") as out:
            out.write(page)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    print(f"wrote the governance report ({len(rows)} rule and site rows) to {path}")
    return 0


def purge_command(args: argparse.Namespace) -> int:
    from ..store.report import purge

    calls, feedback = purge(_database(), args.older_than)
    print(
        f"deleted {calls} hook calls (with their cards) and {feedback} feedback entries "
        f"received more than {args.older_than} days ago"
    )
    return 0
