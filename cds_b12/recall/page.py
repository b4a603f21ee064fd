"""Recall: the worklist as one self-contained HTML page for a practice manager.

Standard library only. The page's HTML, CSS and script are package files in
``page/``; the preview's vendored Chart.js and base stylesheet are inlined, and
the rows embedded as JSON, so the one file works offline and sends no request.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from importlib.resources import files
from typing import TextIO

from .rows import Row

_ROW_KEYS = ("patient", "identifier", "name", "birth_date", "indicator", "rule", "summary")


def _asset(package: str, name: str) -> str:
    return files(package).joinpath(name).read_text(encoding="utf-8")


def _script_safe(text: str) -> str:
    """JSON or code that cannot close the <script> element it sits in."""
    return text.replace("</", "<\\/")


def _script(package: str, name: str) -> str:
    """A script to inline as it is; one that could end its <script> element is refused."""
    code = _asset(package, name)
    if "</script" in code.lower():
        raise ValueError(f"{name} cannot be inlined: it contains </script")
    return code


def write_page(
    rows: Iterable[Row], out: TextIO, *, as_of: date, schedule: bool, profile: str = "us"
) -> None:
    meta = {"asOf": as_of.isoformat(), "profile": profile, "schedule": schedule}
    template = _asset("cds_b12.recall", "page/recall.html")
    template = (
        template.replace("/*BASE_CSS*/", _asset("cds_b12.api", "static/base.css"))
        .replace("/*RECALL_CSS*/", _asset("cds_b12.recall", "page/recall.css"))
        .replace("/*RECALL_META*/null", json.dumps(meta))
    )
    head, tail = template.split("/*RECALL_ROWS*/[]")
    tail = tail.replace("/*CHART_JS*/", _script("cds_b12.api", "static/vendor/chart.umd.min.js"))
    tail = tail.replace("/*RECALL_JS*/", _script("cds_b12.recall", "page/recall.js"))
    out.write(head)
    out.write("[")
    for i, row in enumerate(rows):
        data = {key: getattr(row, key) for key in _ROW_KEYS}
        data.update(due=row.due, overdue=row.overdue, schedule=row.schedule)
        out.write(("," if i else "") + _script_safe(json.dumps(data, ensure_ascii=False)) + "\n")
    out.write("]")
    out.write(tail)
