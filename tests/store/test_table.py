"""``report_table``: the report as a person reads it in a terminal."""

from __future__ import annotations

from datetime import date

import pytest

from cds_b12.store.report import UNKNOWN_CARD, RuleRow
from cds_b12.store.table import HEADINGS, report_table

ROWS = [
    RuleRow(
        "R1-start-neuro-loading",
        "b12-patient-view",
        issued=12,
        feedback=3,
        accepted=2,
        overridden=1,
        override_reasons={"patient-declined": 1},
    ),
    RuleRow("R15-b12-order-on-maintenance", "b12-order-select", issued=1),
    RuleRow(
        UNKNOWN_CARD,
        "b12-order-sign",
        feedback=8,
        accepted=2,
        overridden=6,
        override_reasons={"already-treated": 4, "(no reason given)": 2},
    ),
]


def test_an_empty_report_says_so_in_one_line():
    assert report_table([], None) == "Cards and feedback: nothing recorded yet."
    assert (
        report_table([], date(2026, 3, 1))
        == "Cards and feedback since 2026-03-01: nothing recorded yet."
    )


def test_the_table_aligns_names_left_and_numbers_right():
    assert report_table(ROWS, date(2026, 1, 1)).splitlines() == [
        "Cards and feedback since 2026-01-01",
        "",
        "Rule                          Service           Issued  Feedback  Accepted  Overridden"
        "  Accepted %",
        "----------------------------  ----------------  ------  --------  --------  ----------"
        "  ----------",
        "R1-start-neuro-loading        b12-patient-view      12         3         2           1"
        "         67%",
        "R15-b12-order-on-maintenance  b12-order-select       1         0         0           0"
        "           -",
        "(unknown card)                b12-order-sign         0         8         2           6"
        "         25%",
        "",
        "Override reasons",
        "  R1-start-neuro-loading (b12-patient-view): patient-declined x1",
        "  (unknown card) (b12-order-sign): already-treated x4",
        "  (unknown card) (b12-order-sign): (no reason given) x2",
    ]


def test_every_column_lines_up_with_its_heading():
    lines = report_table(ROWS, None).splitlines()[2:7]
    header, dashes = lines[0], lines[1]
    edges = [
        i + 1
        for i, c in enumerate(dashes)
        if c == "-" and (i + 1 == len(dashes) or dashes[i + 1] == " ")
    ]
    assert len(edges) == len(HEADINGS)
    assert len(lines[2:]) == len(ROWS)
    for line in (header, *lines[2:]):
        assert all(line[edge - 1] != " " for edge in edges[2:]), line  # numbers: right edge
        assert line[0] != " "  # rule: left edge
    assert all(not line.endswith(" ") for line in lines)


@pytest.mark.parametrize(
    ("feedback", "accepted", "shown"),
    [
        (0, 0, "-"),
        (1, 1, "100%"),
        (4, 0, "0%"),
        (3, 1, "33%"),
        (3, 2, "67%"),
        (8, 2, "25%"),
    ],
)
def test_the_acceptance_rate_is_a_whole_percentage(feedback, accepted, shown):
    row = RuleRow(
        "R2-start-standard-loading",
        "b12-patient-view",
        issued=9,
        feedback=feedback,
        accepted=accepted,
        overridden=feedback - accepted,
    )
    last_line = report_table([row], None).splitlines()[-1]
    assert last_line.split()[-1] == shown
    assert row.as_json()["acceptance_rate"] == (round(accepted / feedback, 3) if feedback else None)


def test_no_override_reasons_no_section():
    rows = [RuleRow("R1-start-neuro-loading", "b12-patient-view", issued=2, feedback=2, accepted=2)]
    out = report_table(rows, None)
    assert "Override reasons" not in out
    assert out.splitlines()[-1].split() == [
        "R1-start-neuro-loading",
        "b12-patient-view",
        "2",
        "2",
        "2",
        "0",
        "100%",
    ]
