"""Command line: ``cds-b12 evaluate`` prints the cards a hook would return for a bundle.

May import every cds_b12 layer. Errors a user can cause (missing file, not
JSON, not FHIR) print one line and exit 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from datetime import date
from pathlib import Path

from .clinical import get_profile
from .fhir.read import collect_resources
from .fhir.redate import is_anchor_dated, redate
from .hooks.response import HOOKS, ORDER_HOOKS, respond, split_drafts

EXIT_USAGE = 2


class UsageError(Exception):
    """A problem with the user's input, reported in one line."""


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
    if not resources or not all(isinstance(r, dict) and isinstance(r.get("resourceType"), str)
                                for r in resources):
        raise UsageError(f"{path} is not a FHIR resource, Bundle or list of resources")
    return data


def _print_text(body: dict, notes) -> None:
    cards = body["cards"]
    if not cards:
        print("No cards: nothing to recommend for this patient.")
    for card in cards:
        print(f"[{card['indicator'].upper()}] {card['summary']}")
        for para in card.get("detail", "").split("\n"):
            print(textwrap.fill(para, 100, initial_indent="    ", subsequent_indent="    ")
                  if para else "")
        for s in card.get("suggestions", []):
            print(f"    -> suggestion: {s['label']}")
        print(f"    source: {card['source']['label']}")
        print()
    if notes and not cards:
        print("Data notes:")
        for note in notes:
            print(f"  - {note.resource}: {note.message}")


def evaluate_command(args: argparse.Namespace) -> int:
    data = _load_bundle(Path(args.bundle))
    if isinstance(data, dict) and is_anchor_dated(data):
        data = redate(data, args.as_of)
    resources = collect_resources(data)
    drafts: list[dict] = []
    if args.hook in ORDER_HOOKS:
        resources, drafts = split_drafts(resources)
    result = respond(resources, profile=get_profile(args.profile), as_of=args.as_of,
                     draft_orders=drafts)
    if args.json:
        print(json.dumps(result.body, indent=2))
    else:
        _print_text(result.body, result.evaluation.notes)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cds-b12", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("evaluate", help="print the cards for a FHIR bundle")
    ev.add_argument("--bundle", required=True, help="FHIR Bundle, resource or list (JSON)")
    ev.add_argument("--hook", choices=HOOKS, default="patient-view")
    ev.add_argument("--profile", choices=("us", "uk"), default="us",
                    type=str.lower, help="guideline profile (default: us)")
    ev.add_argument("--as-of", type=_as_of, default=date.today(),
                    help="evaluation date, YYYY-MM-DD (default: today)")
    ev.add_argument("--json", action="store_true", help="print the CDS Hooks response JSON")
    ev.set_defaults(func=evaluate_command)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"cds-b12: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
