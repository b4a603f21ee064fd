"""``--help`` reads as sentences, agrees with the README, and starts fast.

Start-up time itself is measured by the benchmark (``python -m benchmarks --only
startup``), never in a timed test; here only what makes it fast is checked: the
parser and ``evaluate`` do not import the store, Flask, gunicorn or the HTTP client.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cds_b12.cli import build_parser
from cds_b12.clinical import PROFILES
from cds_b12.commands import evaluate
from cds_b12.hooks.response import HOOKS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
R1 = ROOT / "fhir_fixtures" / "R1-start-neuro-loading" / "pa-neuro-low-b12-fires.json"
HEAVY = ("sqlalchemy", "alembic", "flask", "gunicorn", "requests", "jwt", "psycopg", "redis")


def parsers() -> dict[str, argparse.ArgumentParser]:
    """Every parser by its command line ("cds-b12", "cds-b12 evaluate", "cds-b12 db upgrade")."""
    found: dict[str, argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser) -> None:
        found[parser.prog] = parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child in action.choices.values():
                    walk(child)

    walk(build_parser())
    return found


def sentence(text: str | None) -> bool:
    return bool(text) and text[0].isupper() and text.endswith(".") and "``" not in text


@pytest.mark.parametrize("prog", list(parsers()))
def test_every_help_text_is_a_complete_sentence(prog):
    parser = parsers()[prog]
    assert sentence(parser.description), parser.description
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                assert sentence(choice.help), (prog, choice.dest, choice.help)
        else:
            assert sentence(action.help), (prog, action.option_strings, action.help)
    shown = parser.format_help()
    assert "``" not in shown and "{" not in shown, shown  # no raw markup, no {a,b,c} lists


def test_the_help_lists_every_command_and_is_not_cut_short():
    shown = build_parser().format_help()
    assert "Run the service, print the cards for a patient" in shown
    for command in ("evaluate", "request", "serve", "report", "purge", "db"):
        assert re.search(rf"^\s+{command}\s+[A-Z]", shown, flags=re.M), command


def test_help_never_breaks_a_hyphenated_word():
    for prog, parser in parsers().items():
        for line in parser.format_help().splitlines():
            assert not re.search(r"[a-z]-$", line), (prog, line)


def readme_synopsis() -> dict[str, set[str]]:
    """ "--option METAVAR" (or "--flag") per command in the README's command-line block."""
    block = re.search(r"## Command line\n\n```\n(.*?)\n```", README, flags=re.S).group(1)
    synopsis: dict[str, set[str]] = {}
    command = ""
    for line in block.splitlines():
        if line.startswith("cds-b12 "):
            words = line.split()
            command = " ".join(w for w in words[:3] if re.fullmatch(r"[a-z]+|cds-b12", w))
            synopsis.setdefault(command, set())
        if command == "cds-b12":  # cds-b12 --version
            continue
        synopsis[command] |= {
            m.group(1) + (f" {m.group(2)}" if m.group(2) else "")
            for m in re.finditer(r"(--[a-z-]+)(?: ([A-Z][A-Z0-9-]*|YYYY-MM-DD))?", line)
        }
    synopsis.pop("cds-b12", None)
    return synopsis


def parser_synopsis(parser: argparse.ArgumentParser) -> set[str]:
    shown = set()
    for action in parser._actions:
        long = [o for o in action.option_strings if o.startswith("--")]
        if not long or long[0] in ("--help", "--version"):
            continue
        shown.add(long[0] + (f" {action.metavar}" if action.nargs != 0 else ""))
    return shown


def test_the_readme_shows_every_command_with_the_parsers_options_and_metavars():
    documented = readme_synopsis()
    actual = {
        prog: parser_synopsis(parser)
        for prog, parser in parsers().items()
        if not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)
    }
    assert documented == actual


def test_the_cli_offers_exactly_the_cores_profiles_and_the_services_hooks():
    assert set(evaluate.PROFILES) == set(PROFILES)
    assert evaluate.HOOKS == HOOKS


def _imported_after(code: str) -> list[str]:
    probe = (
        "import contextlib, io, json, sys\n"
        f"{code}\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_importing_the_cli_and_building_its_parser_imports_nothing_heavy():
    assert _imported_after("from cds_b12.cli import build_parser; build_parser()") == []


def test_evaluate_on_a_bundle_imports_nothing_heavy():
    code = (
        "from cds_b12.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['evaluate', '--bundle', {str(R1)!r}]) == 0"
    )
    assert _imported_after(code) == []
