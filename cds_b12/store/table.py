"""The report as a table a person reads in a terminal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from .report import RuleRow

HEADINGS = ("Rule", "Service", "Issued", "Feedback", "Accepted", "Overridden", "Accepted %")


def report_table(rows: Sequence[RuleRow], since: date | None) -> str:
    title = f"Cards and feedback since {since.isoformat()}" if since else "Cards and feedback"
    if not rows:
        return f"{title}: nothing recorded yet."
    cells = [HEADINGS] + [
        (
            r.rule,
            r.service,
            str(r.issued),
            str(r.feedback),
            str(r.accepted),
            str(r.overridden),
            "-" if r.acceptance_rate is None else f"{r.acceptance_rate * 100:.0f}%",
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(HEADINGS))]
    lines = [title, ""]
    for n, row in enumerate(cells):
        lines.append(
            "  ".join(
                c.ljust(w) if i < 2 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    reasons = [(r, code, count) for r in rows for code, count in r.override_reasons.items()]
    if reasons:
        lines += ["", "Override reasons"]
        lines += [f"  {r.rule} ({r.service}): {code} x{count}" for r, code, count in reasons]
    return "\n".join(lines)
