"""The ``cds-b12`` command line: the parser, and the one place errors become one line.

May import every cds_b12 layer, but only the standard library at import time: the
subcommands live in ``cds_b12.commands`` and import what they need when they run.
To add one, write ``commands/<name>.py`` with ``register(sub)`` and list it in
``COMMANDS``. A user error (a bad option, file or setting, an unreachable FHIR server
or store, a busy port) prints one line on stderr and exits with code 2; a closed
pipe (``| head``) ends the command quietly; a bug prints one line too, and its
traceback only with ``CDS_B12_LOG_LEVEL=DEBUG``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import textwrap
from typing import NoReturn

from .commands import UsageError

PROG = "cds-b12"
EXIT_USAGE = 2
EXIT_BUG = 1
EXIT_PIPE = 141  # 128 + SIGPIPE, as a shell reports a command whose reader went away
EXIT_INTERRUPTED = 130  # 128 + SIGINT
COMMANDS = ("evaluate", "recall", "serve", "store")  # under cds_b12.commands, in --help order
DESCRIPTION = (
    "Clinical decision support for vitamin B12 therapy, as a CDS Hooks 2.0 service. "
    "Run the service, print the cards for a patient, find the patients due an action across a "
    "population, or report on the feedback store."
)


class _Formatter(argparse.HelpFormatter):
    """Wraps at spaces only: "order-sign" and URLs stay whole."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return textwrap.fill(
            " ".join(text.split()),
            width,
            initial_indent=indent,
            subsequent_indent=indent,
            break_on_hyphens=False,
        )


class Parser(argparse.ArgumentParser):
    """argparse with sentence-case help and usage errors in one line."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, add_help=False, **kwargs)
        self.add_argument("-h", "--help", action="help", help="Show this help and exit.")

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


class _Version(argparse.Action):
    """``--version``, read from the installed distribution only when asked for."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, **kwargs) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> NoReturn:
        from importlib.metadata import version

        print(f"{PROG} {version(PROG)}")
        parser.exit(0)


def build_parser() -> Parser:
    parser = Parser(prog=PROG, description=DESCRIPTION)
    parser.add_argument("--version", action=_Version, help="Show the version and exit.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f".commands.{name}", __package__).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit code (argparse's own exits included)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return int(exc.code or 0)
    try:
        code = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the try, not at exit
        return code
    except BrokenPipeError:
        # Nobody reads the rest: point stdout at /dev/null so the interpreter's final
        # flush cannot fail again, and end quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:
        line = user_error(exc)
        if line is not None:
            _error(line)
            return EXIT_USAGE
        if os.environ.get("CDS_B12_LOG_LEVEL", "").strip().upper() == "DEBUG":
            raise
        _error(
            f"internal error ({type(exc).__name__}: {_first_line(exc)}); please report it. "
            "CDS_B12_LOG_LEVEL=DEBUG shows the traceback"
        )
        return EXIT_BUG


def user_error(exc: Exception) -> str | None:
    """The one line for an error the user can act on, or None for a bug.

    The libraries' exception types are imported here, on the error path only, and only
    when their module is already loaded: an error cannot come from a module never imported.
    """
    if isinstance(exc, UsageError):
        return str(exc)
    render = sys.modules.get("cds_b12.render.errors")
    if render and isinstance(exc, render.RenderError):
        return str(exc)  # it names the wording file and what is wrong in it
    sqlalchemy = sys.modules.get("sqlalchemy.exc")
    if sqlalchemy and isinstance(exc, sqlalchemy.SQLAlchemyError):
        cause = getattr(exc, "orig", None) or exc
        return f"store unavailable: {_first_line(cause)}"
    if isinstance(exc, FileExistsError | NotADirectoryError) and exc.filename:
        return f"cannot use {exc.filename}: a file is where a directory should be"
    if isinstance(exc, OSError) and exc.filename:
        return f"cannot use {exc.filename}: {exc.strerror or exc}"
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _error(line: str) -> None:
    print(f"{PROG}: error: {one_line(line)}", file=sys.stderr)


def one_line(text: str) -> str:
    """``text`` with line breaks and other control characters escaped (a file name or a
    value the user typed may hold them), so an error stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


if __name__ == "__main__":
    sys.exit(main())
