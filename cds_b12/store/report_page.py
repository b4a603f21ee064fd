"""The governance report as one HTML page: a table of every rule at every site, the rules
clinicians override most first, and a weekly trend chart for each (vendored Chart.js).

``linked`` is the page ``GET /report`` serves (its scripts and styles from ``/static``, as
the page's CSP asks); ``inline`` is the file ``cds-b12 report --html`` writes, with
everything inside it so that it opens anywhere, offline. The data travel as a JSON block
that no browser runs; every text from the store is escaped.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from html import escape
from pathlib import Path
from typing import Literal

from .governance import SiteRow

STATIC = Path(__file__).resolve().parent.parent / "api" / "static"
SCRIPTS = ("vendor/chart.umd.min.js", "report.js")
STYLES = ("base.css", "report.css")
REASONS_SHOWN = 3


def report_page(
    rows: Sequence[SiteRow],
    *,
    since: date | None,
    today: date,
    assets: Literal["linked", "inline"],
) -> str:
    title = "Card governance report"
    period = f"since {since.isoformat()}" if since else "everything recorded"
    subtitle = (
        f"Cards issued, accepted, overridden and snoozed per rule and site, {period}; "
        f"made {today.isoformat()}. Highest override rate first."
    )
    data = json.dumps(
        {"since": since.isoformat() if since else None, "rows": [r.as_json() for r in rows]}
    )
    data = data.replace("<", "\\u003c")  # nothing in it can end the script element
    if assets == "linked":
        styles = "".join(f'<link rel="stylesheet" href="/static/{s}">' for s in STYLES)
        scripts = "".join(f'<script src="/static/{s}" defer></script>' for s in SCRIPTS)
    else:
        styles = "".join(f"<style>{(STATIC / s).read_text()}</style>" for s in STYLES)
        scripts = "".join(f"<script>{(STATIC / s).read_text()}</script>" for s in SCRIPTS)
    body = (
        _table(rows) + _charts(rows) if rows else '<p data-testid="empty">Nothing recorded yet.</p>'
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{title}</title>
<link rel="icon" href="data:,">
{styles}
</head>
<body>
<header class="topbar"><div class="topbar__inner"><h1>{title}</h1>
<p class="topbar__sub" data-testid="period">{subtitle}</p></div></header>
<main class="page report">
{body}
</main>
<script type="application/json" id="report-data">{data}</script>
{scripts}
</body>
</html>
"""


def _table(rows: Sequence[SiteRow]) -> str:
    head = "".join(
        f'<th scope="col">{h}</th>'
        for h in (
            "Rule",
            "Site",
            "Issued",
            "Accepted",
            "Overridden",
            "Override rate",
            "Snoozed",
            "Other holds",
            "Override reasons",
        )
    )
    lines = []
    for r in rows:
        rate = "–" if r.override_rate is None else f"{r.override_rate * 100:.0f}%"
        reasons = ", ".join(
            f"{escape(code)} ×{count}"
            for code, count in list(r.override_reasons.items())[:REASONS_SHOWN]
        )
        others = ", ".join(
            f"{escape(why)} {n}" for why, n in sorted(r.held.items()) if why != "snoozed"
        )
        lines.append(
            f'<tr data-testid="row" data-rule="{escape(r.rule)}" data-site="{escape(r.site)}">'
            f'<th scope="row">{escape(r.rule)}</th><td>{escape(r.site)}</td>'
            f'<td class="n">{r.issued}</td><td class="n">{r.accepted}</td>'
            f'<td class="n">{r.overridden}</td><td class="n" data-testid="rate">{rate}</td>'
            f'<td class="n">{r.snoozed}</td><td>{others or "–"}</td><td>{reasons or "–"}</td></tr>'
        )
    return (
        '<section aria-labelledby="table-heading"><h2 id="table-heading">Per rule and site</h2>'
        f'<div class="table-wrap"><table data-testid="report-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(lines)}</tbody></table></div></section>"
    )


def _charts(rows: Sequence[SiteRow]) -> str:
    boxes = "".join(
        f'<figure class="trend" data-testid="trend"><figcaption>{escape(r.rule)} at '
        f"{escape(r.site)}</figcaption>"
        f'<div class="trend__box"><canvas data-row="{i}" role="img" aria-label="Weekly cards '
        f'issued, accepted, overridden and snoozed: {escape(r.rule)} at {escape(r.site)}">'
        "</canvas></div></figure>"
        for i, r in enumerate(rows)
    )
    return (
        '<section aria-labelledby="trend-heading"><h2 id="trend-heading">Week by week</h2>'
        f'<div class="trends">{boxes}</div></section>'
    )
