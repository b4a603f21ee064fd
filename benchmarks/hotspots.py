"""Profile one patient size in-process, through the same path part 1 times.

    python -m benchmarks.hotspots [--size typical] [--calls 500] [--path service|evaluate]
                                 [--pyinstrument]

cProfile (standard library) prints the functions with the most time, cumulative and
own. With ``--pyinstrument`` (``pip install pyinstrument``, not a project dependency)
it prints pyinstrument's call tree instead, whose sampling distorts small functions less.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import tempfile
from datetime import date
from pathlib import Path

from cds_b12.api import create_app
from cds_b12.config import Settings
from cds_b12.hooks.invoke import invoke
from cds_b12.hooks.request import parse_call
from cds_b12.hooks.services import SERVICE_BY_ID

from .inprocess import as_serve_runs_it, quiet_stderr, without_service_env
from .patients import SIZES, fresh_calls, hook_request, service_path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.hotspots",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--size", choices=SIZES, default="typical")
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument(
        "--path",
        choices=("service", "evaluate"),
        default="service",
        help="service: Flask test client POST; evaluate: parse_call + invoke",
    )
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--pyinstrument", action="store_true")
    args = parser.parse_args(argv)

    as_of = date.today()
    with tempfile.TemporaryDirectory(prefix="cds-b12-profile-") as tmp:
        with without_service_env():
            app = create_app(Settings(data_dir=Path(tmp)), today=lambda: as_of)
        rt = app.extensions["cds_b12"]
        client = app.test_client()
        raw = json.dumps(hook_request(args.size, as_of)).encode()
        fresh = fresh_calls(raw)
        path = service_path(args.size)
        service = SERVICE_BY_ID[path.rsplit("/", 1)[1]]

        def one() -> None:
            if args.path == "service":
                client.post(path, data=fresh(), content_type="application/json")
            else:
                invoke(
                    parse_call(json.loads(raw), service),
                    profile=rt.profile,
                    library=rt.cards,
                    client=rt.client,
                    as_of=as_of,
                )

        with quiet_stderr(), as_serve_runs_it(app):
            for _ in range(min(50, args.calls)):
                one()
            if args.pyinstrument:
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.0001)
                profiler.start()
                for _ in range(args.calls):
                    one()
                profiler.stop()
            else:
                prof = cProfile.Profile()
                prof.enable()
                for _ in range(args.calls):
                    one()
                prof.disable()
        rt.db.dispose()

    print(f"{args.calls} calls, {args.size}, path {args.path}")
    if args.pyinstrument:
        print(profiler.output_text(unicode=False, color=False, show_all=False))
        return
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out)
        stats.sort_stats(order).print_stats(args.top)
        print(f"--- by {order} ---")
        print(out.getvalue().split("\n\n", 2)[-1].rstrip())


if __name__ == "__main__":
    main()
