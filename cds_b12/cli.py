"""Command line: ``cds-b12 evaluate`` prints the cards for a bundle or a patient on a FHIR
server; ``cds-b12 serve`` runs the service.

May import every cds_b12 layer. Errors a user can cause (missing file, not
JSON, not FHIR, an unreachable or refusing FHIR server, bad settings) print one
line and exit 2, never a traceback.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
import textwrap
from datetime import UTC, date, datetime
from datetime import time as dt_time
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from .clinical.profiles import overridden
from .config import Settings, describe_error
from .fhir.read import collect_resources
from .fhir.redate import is_anchor_dated, redate
from .hooks.example_request import example_request
from .hooks.fetch import FhirClient, FhirServer, Limits
from .hooks.gather import PreconditionFailed, gather
from .hooks.request import patient_call
from .hooks.response import HOOKS, ORDER_HOOKS, respond, split_drafts
from .hooks.services import SERVICES
from .render import note_lines
from .store.db import Database
from .store.report import purge, report
from .store.table import report_table

EXIT_USAGE = 2


class UsageError(Exception):
    """A problem with the user's input, reported in one line."""


# Threads per serve worker: enough that calls held by slow FHIR servers (at most
# CDS_B12_FHIR_CALLS per worker) always leave some for calls with full prefetch.
SERVE_THREADS = 16


def _as_of(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _load_bundle(path: Path) -> dict | list:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} is not JSON: {exc}") from None
    resources = data if isinstance(data, list) else [data]
    if not resources or not all(
        isinstance(r, dict) and isinstance(r.get("resourceType"), str) for r in resources
    ):
        raise UsageError(f"{path} is not a FHIR resource, Bundle or list of resources")
    return data


def _print_text(body: dict, notes: list[tuple[str, str]]) -> None:
    cards = body["cards"]
    if not cards:
        print("No cards: nothing to recommend for this patient.")
    for card in cards:
        print(f"[{card['indicator'].upper()}] {card['summary']}")
        for para in card.get("detail", "").split("\n"):
            print(
                textwrap.fill(para, 100, initial_indent="    ", subsequent_indent="    ")
                if para
                else ""
            )
        for s in card.get("suggestions", []):
            print(f"    -> suggestion: {s['label']}")
        print(f"    source: {card['source']['label']}")
        print()
    if notes and not cards:
        print("Data notes:")
        for resource, message in notes:
            print(f"  - {resource}: {message}")


def _record_and_drafts(data: object, args: argparse.Namespace) -> tuple[list[dict], list[dict]]:
    """The resources, with drafts split off as ``draftOrders`` on the order hooks."""
    if isinstance(data, dict) and is_anchor_dated(data):
        data = redate(data, args.as_of)
    resources = collect_resources(data)
    if args.hook in ORDER_HOOKS:
        return split_drafts(resources)
    return resources, []


def evaluate_command(args: argparse.Namespace) -> int:
    if args.fhir_server:
        data, missing = _fetch_patient(args)
    else:
        data, missing = _load_bundle(Path(args.bundle)), []
    resources, drafts = _record_and_drafts(data, args)
    profile = _settings().profiles[args.profile]  # with CDS_B12_PROFILE_OVERRIDES
    result = respond(
        resources,
        profile=profile,
        as_of=args.as_of,
        draft_orders=drafts,
        missing=missing,
    )
    if args.json:
        print(json.dumps(result.body, indent=2))
    else:
        notes = note_lines([*missing, *result.evaluation.notes], profile=profile)
        _print_text(result.body, notes)
    return 0


def request_command(args: argparse.Namespace) -> int:
    """Print the hook request an EHR would send for a bundle, ready for curl."""
    resources, drafts = _record_and_drafts(_load_bundle(Path(args.bundle)), args)
    try:
        body = example_request(resources, hook=args.hook, drafts=drafts)
    except ValueError as exc:
        raise UsageError(f"{args.bundle}: {exc}") from None
    print(json.dumps(body, indent=2))
    return 0


def schedule_command(args: argparse.Namespace) -> int:
    """Write the patient's planned injections and lab windows as an iCalendar file."""
    from .reminders import write_calendar

    resources, _ = _record_and_drafts(_load_bundle(Path(args.bundle)), args)
    try:
        profile = _settings().profiles[args.profile]  # with CDS_B12_PROFILE_OVERRIDES
        events = write_calendar(resources, Path(args.ics), profile, args.as_of)
    except OSError as exc:
        raise UsageError(f"cannot write {args.ics}: {exc.strerror or exc}") from None
    print(f"wrote {events} events to {args.ics}", file=sys.stderr)
    return 0


def _fetch_patient(args: argparse.Namespace) -> tuple[list[object], list]:
    """Gather one patient from a FHIR server exactly as the service does without prefetch."""
    if not args.patient:
        raise UsageError("--fhir-server needs --patient ID")
    token = None
    if args.bearer_token_env:
        token = os.environ.get(args.bearer_token_env)
        if not token:
            raise UsageError(f"environment variable {args.bearer_token_env} is not set or empty")
    if not args.fhir_server.startswith(("http://", "https://")):
        raise UsageError(f"--fhir-server must be an http or https URL: {args.fhir_server}")
    service = next(s for s in SERVICES if s.hook == args.hook)
    call = patient_call(service, args.patient, FhirServer(args.fhir_server, token))
    settings = _settings()
    client = FhirClient(Limits.of(settings))
    try:
        got = gather(call, client, args.as_of)
    except PreconditionFailed as exc:
        raise UsageError(str(exc)) from None
    return got.data, got.notes


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise UsageError(describe_error(exc)) from None


def _database() -> Database:
    """The store, migrated to the current schema (so a report works on a fresh install)."""
    db = Database(_settings().store_url)
    db.upgrade()
    return db


def db_command(args: argparse.Namespace) -> int:
    changed = Database(_settings().store_url).upgrade()
    print("store migrated to the current schema" if changed else "store already current")
    return 0


def report_command(args: argparse.Namespace) -> int:
    since = datetime.combine(args.since, dt_time.min, UTC) if args.since else None
    rows = report(_database(), since)
    if args.json:
        print(
            json.dumps(
                {
                    "since": args.since.isoformat() if args.since else None,
                    "rules": [r.as_json() for r in rows],
                },
                indent=2,
            )
        )
    else:
        print(report_table(rows, args.since))
    return 0


def purge_command(args: argparse.Namespace) -> int:
    if args.older_than < 1:
        raise UsageError("--older-than must be at least 1 day")
    calls, feedback = purge(_database(), args.older_than)
    print(
        f"deleted {calls} hook calls (with their cards) and {feedback} feedback entries "
        f"received more than {args.older_than} days ago"
    )
    return 0


def serve_command(args: argparse.Namespace) -> int:
    from .serve import serve  # gunicorn is only needed here

    settings = _settings()
    if args.workers < 1 or args.threads < 1:
        raise UsageError("--workers and --threads must be at least 1")
    if not settings.authenticating:
        if not _is_loopback(args.host):
            raise UsageError(
                f"refusing to serve on {args.host} without CDS_B12_TRUSTED_ISSUERS: callers "
                "would not be authenticated. Bind 127.0.0.1 for local use, or configure the "
                "EHRs' issuers and CDS_B12_PUBLIC_URL"
            )
        print(
            "cds-b12: warning: authentication is off (no CDS_B12_TRUSTED_ISSUERS); "
            "serving on loopback only",
            file=sys.stderr,
        )
    if settings.fhir_calls >= args.threads:
        print(
            f"cds-b12: warning: CDS_B12_FHIR_CALLS ({settings.fhir_calls}) is not below "
            f"--threads ({args.threads}): calls waiting on slow FHIR servers could take every "
            "thread, and calls with full prefetch would wait behind them",
            file=sys.stderr,
        )
    print(
        f"cds-b12: serving http://{_url_host(args.host)}:{args.port}/cds-services "
        f"({settings.profile.upper()} profile, {args.workers} workers)",
        file=sys.stderr,
    )
    for profile, values in overridden(settings.profiles).items():
        changes = ", ".join(f"{name}={value}" for name, value in values.items())
        print(
            f"cds-b12: {profile.upper()} profile overrides from {settings.profile_overrides}: "
            f"{changes}",
            file=sys.stderr,
        )
    serve(settings, host=args.host, port=args.port, workers=args.workers, threads=args.threads)
    return 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    try:
        return f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        return host


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cds-b12", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("evaluate", help="print the cards for a FHIR bundle or a server's patient")
    source = ev.add_mutually_exclusive_group(required=True)
    source.add_argument("--bundle", help="FHIR Bundle, resource or list (JSON)")
    source.add_argument(
        "--fhir-server",
        metavar="URL",
        help="FHIR R4 base URL to fetch the patient from (with --patient)",
    )
    ev.add_argument("--patient", metavar="ID", help="Patient id on --fhir-server")
    ev.add_argument(
        "--bearer-token-env",
        metavar="VAR",
        help="environment variable holding a bearer token for --fhir-server",
    )
    ev.add_argument("--hook", choices=HOOKS, default="patient-view")
    ev.add_argument(
        "--profile",
        choices=("us", "uk"),
        default="us",
        type=str.lower,
        help="guideline profile (default: us)",
    )
    ev.add_argument(
        "--as-of",
        type=_as_of,
        default=date.today(),
        help="evaluation date, YYYY-MM-DD (default: today)",
    )
    ev.add_argument("--json", action="store_true", help="print the CDS Hooks response JSON")
    ev.set_defaults(func=evaluate_command)

    db = sub.add_parser("db", help="manage the feedback and audit store")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply pending schema migrations").set_defaults(
        func=db_command
    )

    rp = sub.add_parser("report", help="cards issued and clinicians' feedback, per rule")
    rp.add_argument("--since", type=_as_of, help="only calls and feedback from this date on")
    rp.add_argument("--json", action="store_true", help="print JSON instead of a table")
    rp.set_defaults(func=report_command)

    pg = sub.add_parser("purge", help="delete stored calls and feedback past retention")
    pg.add_argument(
        "--older-than",
        type=int,
        required=True,
        metavar="DAYS",
        help="delete what was received more than DAYS days ago",
    )
    pg.set_defaults(func=purge_command)

    rq = sub.add_parser("request", help="print the hook request an EHR would send for a bundle")
    rq.add_argument("--bundle", required=True, help="FHIR Bundle, resource or list (JSON)")
    rq.add_argument("--hook", choices=HOOKS, default="patient-view")
    rq.add_argument(
        "--as-of",
        type=_as_of,
        default=date.today(),
        help="date that fixture bundles are shifted to (default: today)",
    )
    rq.set_defaults(func=request_command)

    sc = sub.add_parser("schedule", help="a patient's reminder calendar (.ics) from a bundle")
    sc.add_argument("--bundle", required=True, help="FHIR Bundle, resource or list (JSON)")
    sc.add_argument("--ics", required=True, metavar="OUT", help="the iCalendar file to write")
    sc.add_argument("--profile", choices=("us", "uk"), default="us", type=str.lower)
    sc.add_argument("--as-of", type=_as_of, default=date.today(), help="date (default: today)")
    sc.set_defaults(func=schedule_command, hook="patient-view")

    from .recall.command import add_recall_parser  # the recall code loads only when it runs

    add_recall_parser(sub, _as_of)

    sv = sub.add_parser("serve", help="run the CDS Hooks service under gunicorn")
    sv.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    sv.add_argument("--port", type=int, default=8080, help="port (default: 8080)")
    sv.add_argument("--workers", type=int, default=2, help="worker processes (default: 2)")
    sv.add_argument(
        "--threads",
        type=int,
        default=SERVE_THREADS,
        help=f"threads per worker (default: {SERVE_THREADS}; keep it above CDS_B12_FHIR_CALLS)",
    )
    sv.set_defaults(func=serve_command)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"cds-b12: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SQLAlchemyError as exc:  # an unreachable or unusable store: one line, no traceback
        cause = getattr(exc, "orig", None) or exc
        line = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        print(f"cds-b12: error: store unavailable: {line}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
