"""``cds-b12 evaluate`` prints one patient's cards; ``cds-b12 request`` prints the hook
request an EHR would send for a bundle, ready for curl; ``cds-b12 schedule`` writes the
patient's reminder calendar.

All three read a FHIR bundle the same way: a file that is missing, is not JSON, is not
FHIR, or does not hold exactly one Patient is a ``UsageError`` (cards are always about
one patient, so "no cards" must never stand for "no patient").
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import textwrap
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from ..hooks import HOOKS, ORDER_HOOKS
from . import UsageError, evaluation_date, settings

if TYPE_CHECKING:
    from ..clinical.record import DataNote
    from ..config import Settings

PROFILES = ("us", "uk")  # cds_b12.clinical.PROFILES; tests/test_cli.py keeps the two equal
WIDTH = 100
# a link the templates made; an escaped bracket (a value's "\[") is text, not a link
_LINK = re.compile(r"(?<!\\)\[([^\]]+)(?<!\\)\]\((\S+?)\)")


def register(sub: argparse._SubParsersAction) -> None:
    ev = sub.add_parser(
        "evaluate",
        help="Print the cards for a FHIR bundle, or for a patient on a FHIR server.",
        description=(
            "Print the cards the service would return for one patient: from a FHIR bundle "
            "file, or fetched from a FHIR R4 server exactly as the service fetches when a "
            "request carries no prefetch. Bundles in fhir_fixtures/ have their dates "
            "shifted to --as-of."
        ),
    )
    source = ev.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--bundle",
        metavar="FILE",
        help="A FHIR R4 Bundle, a single resource or a JSON list of resources.",
    )
    source.add_argument(
        "--fhir-server",
        metavar="URL",
        help="A FHIR R4 base URL to fetch the patient from (with --patient).",
    )
    ev.add_argument("--patient", metavar="ID", help="The Patient id on --fhir-server.")
    ev.add_argument(
        "--bearer-token-env",
        metavar="VAR",
        help="The environment variable holding a bearer token for --fhir-server.",
    )
    _hook_option(ev)
    _profile_option(ev)
    _as_of_option(ev, "The evaluation date, YYYY-MM-DD (default: today).")
    ev.add_argument(
        "--json", action="store_true", help="Print the CDS Hooks response JSON instead of text."
    )
    ev.set_defaults(func=evaluate_command)

    rq = sub.add_parser(
        "request",
        help="Print the hook request an EHR would send for a bundle.",
        description=(
            "Print the CDS Hooks request an EHR would send for the patient in a bundle, "
            "with every prefetch key filled, ready to post to the service with curl."
        ),
    )
    rq.add_argument(
        "--bundle",
        metavar="FILE",
        required=True,
        help="A FHIR R4 Bundle, a single resource or a JSON list of resources.",
    )
    _hook_option(rq)
    _as_of_option(rq, "The date that fixture bundles are shifted to (default: today).")
    rq.set_defaults(func=request_command)

    sc = sub.add_parser(
        "schedule",
        help="Write a patient's reminder calendar (.ics) from a bundle.",
        description=(
            "Write the planned injections and lab windows of the patient in a bundle as an "
            "iCalendar file, the same file the timeline page offers."
        ),
    )
    sc.add_argument(
        "--bundle",
        metavar="FILE",
        required=True,
        help="A FHIR R4 Bundle, a single resource or a JSON list of resources.",
    )
    sc.add_argument("--ics", metavar="FILE", required=True, help="The iCalendar file to write.")
    _profile_option(sc)
    _as_of_option(sc, "The evaluation date, YYYY-MM-DD (default: today).")
    sc.set_defaults(func=schedule_command, hook="patient-view")


def _hook_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--hook",
        metavar="HOOK",
        choices=HOOKS,
        default="patient-view",
        help=(
            "The hook to answer: patient-view (the default), order-select or order-sign. "
            "On the order hooks, draft MedicationRequests and ServiceRequests in the bundle "
            "are sent as the draft orders."
        ),
    )


def _profile_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile",
        metavar="PROFILE",
        choices=PROFILES,
        type=str.lower,
        help="The guideline profile, us or uk (default: CDS_B12_PROFILE, else us).",
    )


def _as_of_option(parser: argparse.ArgumentParser, text: str) -> None:
    parser.add_argument(
        "--as-of", metavar="YYYY-MM-DD", type=evaluation_date, default=date.today(), help=text
    )


def evaluate_command(args: argparse.Namespace) -> int:
    from ..hooks.response import respond
    from ..render import load_card_library, note_lines

    config = settings()
    library = load_card_library(config.cards_dir)
    if args.fhir_server:
        data, missing = _fetch_patient(args, config)
    else:
        for option in ("patient", "bearer_token_env"):
            if getattr(args, option) is not None:
                flag = "--" + option.replace("_", "-")
                raise UsageError(f"{flag} goes with --fhir-server, not --bundle")
        data, missing = _load_bundle(Path(args.bundle)), []
    resources, drafts = _resources_and_drafts(data, args, source=args.bundle or args.fhir_server)
    profile = config.profiles[args.profile or config.profile]  # with CDS_B12_PROFILE_OVERRIDES
    result = respond(
        resources,
        profile=profile,
        as_of=args.as_of,
        draft_orders=drafts,
        missing=missing,
        library=library,
    )
    if args.json:
        print(json.dumps(result.body, indent=2))
    else:
        notes = [*missing, *result.evaluation.notes]
        print_cards(result.body["cards"], note_lines(notes, profile=profile, library=library))
    return 0


def request_command(args: argparse.Namespace) -> int:
    from ..hooks.example_request import example_request

    settings()
    data = _load_bundle(Path(args.bundle))
    resources, drafts = _resources_and_drafts(data, args, source=args.bundle)
    print(json.dumps(example_request(resources, hook=args.hook, drafts=drafts), indent=2))
    return 0


def schedule_command(args: argparse.Namespace) -> int:
    """Write the patient's planned injections and lab windows as an iCalendar file."""
    from ..reminders import write_calendar

    config = settings()
    resources, _ = _resources_and_drafts(_load_bundle(Path(args.bundle)), args, source=args.bundle)
    profile = config.profiles[args.profile or config.profile]  # with CDS_B12_PROFILE_OVERRIDES
    try:
        events = write_calendar(resources, Path(args.ics), profile, args.as_of)
    except OSError as exc:
        raise UsageError(f"cannot write {args.ics}: {exc.strerror or exc}") from None
    print(f"wrote {events} events to {args.ics}", file=sys.stderr)
    return 0


def _load_bundle(path: Path) -> object:
    if str(path) in ("", "."):
        raise UsageError("--bundle needs a file name")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} is not JSON: {exc}") from None
    except RecursionError:
        raise UsageError(f"{path} is not JSON that can be read: nested too deeply") from None
    resources = data if isinstance(data, list) else [data]
    if not resources or not all(
        isinstance(r, dict) and isinstance(r.get("resourceType"), str) for r in resources
    ):
        raise UsageError(f"{path} is not a FHIR resource, Bundle or list of resources")
    return data


def _resources_and_drafts(
    data: object, args: argparse.Namespace, *, source: str
) -> tuple[list[dict], list[dict]]:
    """The resources of exactly one patient, with drafts split off as ``draftOrders`` on the
    order hooks; fixture bundles are shifted to ``--as-of`` first."""
    from ..fhir.read import collect_resources
    from ..fhir.redate import is_anchor_dated, redate
    from ..hooks.response import split_drafts

    if isinstance(data, dict) and is_anchor_dated(data):
        data = redate(data, args.as_of)
    resources = collect_resources(data)
    patients = {
        str(r.get("id")) for r in resources if r.get("resourceType") == "Patient" and r.get("id")
    }
    if not patients:
        raise UsageError(f"{source}: no Patient with an id: cards are about one patient")
    if len(patients) > 1:
        raise UsageError(
            f"{source}: {len(patients)} Patients ({', '.join(sorted(patients))}): "
            "give one patient's data"
        )
    if args.hook in ORDER_HOOKS:
        return split_drafts(resources)
    return resources, []


def _fetch_patient(args: argparse.Namespace, config: Settings) -> tuple[object, list[DataNote]]:
    """Gather one patient from a FHIR server exactly as the service does without prefetch."""
    from ..hooks.fetch import FhirClient, FhirServer, Limits
    from ..hooks.gather import PreconditionFailed, gather
    from ..hooks.request import patient_call
    from ..hooks.services import SERVICES

    if not args.patient:
        raise UsageError("--fhir-server needs --patient ID")
    token = None
    if args.bearer_token_env:
        token = os.environ.get(args.bearer_token_env)
        if not token:
            raise UsageError(f"environment variable {args.bearer_token_env} is not set or empty")
        if not token.isascii() or any(c.isspace() or not c.isprintable() for c in token):
            # never echoed: the value is a secret
            raise UsageError(
                f"environment variable {args.bearer_token_env} does not hold a bearer token "
                "(it has spaces, control or non-ASCII characters)"
            )
    _check_base_url(args.fhir_server)
    service = next(s for s in SERVICES if s.hook == args.hook)
    call = patient_call(service, args.patient, FhirServer(args.fhir_server, token))
    try:
        got = gather(call, FhirClient(Limits.of(config)), args.as_of)
    except PreconditionFailed as exc:
        raise UsageError(str(exc)) from None
    return got.data, list(got.notes)


def _check_base_url(text: str) -> None:
    """The URL as the HTTP client will read it, through the service's one URL parser, so
    that the CLI refuses what the service refuses (a backslash, userinfo, parser
    disagreements)."""
    from ..net.urls import UrlRefused, parse

    try:
        parse(text)
    except UrlRefused as exc:
        raise UsageError(f"--fhir-server must be an http or https URL with a host: {exc}") from None


def print_cards(cards: list[dict], notes: list[tuple[str, str]]) -> None:
    """Cards as text for a terminal: Markdown links become ``label <url>``, values read as
    a Markdown renderer shows them (``unescape``), and lines are wrapped at spaces only, so
    a URL is never broken across lines."""
    from ..render.escape import unescape

    if not cards:
        print("No cards: nothing to recommend for this patient.")
    for card in cards:
        print(f"[{card['indicator'].upper()}] {unescape(card['summary'])}")
        for para in card.get("detail", "").split("\n"):
            print(_wrap(unescape(_LINK.sub(r"\1 <\2>", para)), "    "))
        for suggestion in card.get("suggestions", []):
            print(f"    -> suggestion: {unescape(suggestion['label'])}")
        for link in card.get("links", []):
            print(f"    link: {link['label']} <{link['url']}>")
        print(f"    source: {card['source']['label']} <{card['source']['url']}>")
        print()
    if notes and not cards:
        print("Data notes:")
        for resource, message in notes:
            print(_wrap(f"- {resource}: {message}", "  "))


def _wrap(text: str, indent: str) -> str:
    if not text:
        return ""
    bullet = re.match(r"(?:[-*] |\d+\. )", text)
    return textwrap.fill(
        text,
        WIDTH,
        initial_indent=indent,
        subsequent_indent=indent + " " * (bullet.end() if bullet else 0),
        break_long_words=False,
        break_on_hyphens=False,
    )
