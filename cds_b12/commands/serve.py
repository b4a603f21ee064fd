"""``cds-b12 serve``: check the settings and the address, then run the service under gunicorn.

Everything that can fail for a user's reason (a bad setting, serving beyond loopback
without authentication, a port in use, unreadable card wording, an unreachable
store) fails before the first "serving" line, in one line with exit code 2.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import sys
from typing import TYPE_CHECKING

from . import UsageError, positive_int, settings

if TYPE_CHECKING:
    import socket

    from ..config import Settings

# Threads per serve worker: enough that calls held by slow FHIR servers (at most
# CDS_B12_FHIR_CALLS per worker) always leave some for calls with full prefetch.
SERVE_THREADS = 16


def register(sub: argparse._SubParsersAction) -> None:
    sv = sub.add_parser(
        "serve",
        help="Run the CDS Hooks service under gunicorn.",
        description=(
            "Run the CDS Hooks service under gunicorn (threaded workers), configured by the "
            "CDS_B12_* environment variables. Without CDS_B12_TRUSTED_ISSUERS callers are "
            "not authenticated, so it listens on a loopback address only."
        ),
    )
    sv.add_argument(
        "--host",
        metavar="HOST",
        type=_host,
        default="127.0.0.1",
        help="The address to bind (default: 127.0.0.1).",
    )
    sv.add_argument(
        "--port",
        metavar="PORT",
        type=_port,
        default=8080,
        help="The port to listen on; 0 picks a free one (default: 8080).",
    )
    sv.add_argument(
        "--workers",
        metavar="N",
        type=positive_int,
        default=2,
        help="The number of worker processes (default: 2).",
    )
    sv.add_argument(
        "--threads",
        metavar="N",
        type=positive_int,
        default=SERVE_THREADS,
        help=(
            f"The number of threads per worker (default: {SERVE_THREADS}); keep it above "
            "CDS_B12_FHIR_CALLS."
        ),
    )
    sv.set_defaults(func=serve_command)


def serve_command(args: argparse.Namespace) -> int:
    from .. import serve

    config = settings()
    if not config.authenticating and not _is_loopback(args.host):
        raise UsageError(
            f"refusing to serve on {args.host} without CDS_B12_TRUSTED_ISSUERS: callers "
            "would not be authenticated. Bind 127.0.0.1 for local use, or configure the "
            "EHRs' issuers and CDS_B12_PUBLIC_URL"
        )
    listener = _listen(serve.listen, args.host, args.port)
    with listener:  # closed if start-up fails; gunicorn has taken it over otherwise
        serve.serve(
            config,
            listener,
            workers=args.workers,
            threads=args.threads,
            announce=lambda: _announce(config, listener, args),
        )
    return 0


def say(line: str) -> None:
    print(f"cds-b12: {line}", file=sys.stderr, flush=True)


def _listen(listen, host: str, port: int) -> socket.socket:
    import socket

    where = f"{_url_host(host)}:{port}"
    try:
        return listen(host, port)
    except socket.gaierror as exc:
        raise UsageError(f"cannot serve on {host}: {exc.strerror}") from None
    except OSError as exc:
        reason = {
            errno.EADDRINUSE: "the port is in use (is another server running?)",
            errno.EADDRNOTAVAIL: "not an address of this machine",
            errno.EACCES: "permission denied (ports below 1024 need privileges)",
        }.get(exc.errno, exc.strerror or str(exc))
        raise UsageError(f"cannot listen on {where}: {reason}") from None


def _announce(config: Settings, listener: socket.socket, args: argparse.Namespace) -> None:
    """Where the service answers, where its preview is, and where its data lives."""
    from ..clinical.profiles import overridden

    base = f"http://{_url_host(args.host)}:{listener.getsockname()[1]}"
    if not config.authenticating:
        say("warning: authentication is off (no CDS_B12_TRUSTED_ISSUERS); serving on loopback only")
    say(
        f"serving {base}/cds-services ({config.profile.upper()} profile, "
        f"{args.workers} workers x {args.threads} threads)"
    )
    if not config.authenticating:
        say(f"preview: {base}/preview")
    if config.fhir_calls >= args.threads:
        say(
            f"warning: CDS_B12_FHIR_CALLS ({config.fhir_calls}) is not below --threads "
            f"({args.threads}): calls waiting on slow FHIR servers could take every thread, "
            "and calls with full prefetch would wait behind them"
        )
    for profile, values in overridden(config.profiles).items():
        changes = ", ".join(f"{name}={value}" for name, value in values.items())
        say(f"{profile.upper()} profile overrides from {config.profile_overrides}: {changes}")
    say(f"store: {_store(config)}")
    key = (
        "from CDS_B12_PSEUDONYM_KEY"
        if config.pseudonym_key
        else str((config.data_dir / "pseudonym.key").resolve())
    )
    say(f"pseudonym key: {key}")


def _store(config: Settings) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(config.store_url)
    if url.get_backend_name() == "sqlite":
        return f"SQLite {url.database}"
    return url.render_as_string(hide_password=True)


def _host(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("needs an address or host name")
    return text.strip()


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number (0-65535): {text!r}")
    return port


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
