"""``cds-b12 evaluate`` text shows card text as a Markdown renderer shows it: a value the
renderer escaped for Markdown (">2000 pg/mL" sent as "&gt;2000 pg/mL") reads as reported."""

from __future__ import annotations

import pytest

from cds_b12.cli import main
from cds_b12.commands.evaluate import print_cards
from cds_b12.render.escape import escape, unescape

from .scenarios import FIXTURES

CENSORED = FIXTURES / "R22-raised-b12" / "censored-above-range-fires.json"


@pytest.mark.parametrize("profile", ["us", "uk"])
def test_a_censored_value_reads_as_reported(profile, capsys):
    args = ["evaluate", "--bundle", str(CENSORED), "--profile", profile, "--as-of", "2026-11-21"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert ">2000 pg/mL" in out
    assert "&gt;" not in out and "&lt;" not in out and "&amp;" not in out


@pytest.mark.parametrize(
    "value",
    [
        ">2000 pg/mL",
        "<150 ng/L & falling",
        "[Verify dose](https://e.vil/x) *now* _x_ `y` ~z~ a|b #1 \\ www.e.vil me@e.vil",
        "- item",
        "+ item",
        "= heading",
        "12. item",
        "3) item",
        "&lt; written as an entity",
        "  two\nlines\t",
    ],
)
def test_unescape_undoes_exactly_what_escape_does(value):
    assert unescape(escape(value)) == " ".join(value.split())


@pytest.mark.parametrize("text", ["**Plan:** \\( \\! &quot; &#62;", "[label](https://doi.org/x)"])
def test_unescape_leaves_other_markdown_alone(text):
    # the templates' own markup, and escapes the renderer never writes, stay as they are
    assert unescape(text) == text


def test_a_value_that_looks_like_a_link_prints_as_the_text_it_holds(capsys):
    value = escape("[Verify dose](https://e.vil/x)")
    card = {
        "indicator": "info",
        "summary": f"Check {value}",
        "detail": f"- Unit: {value}\n\nSources: [BNF](https://bnf.nice.org.uk/).",
        "source": {"label": "BNF", "url": "https://bnf.nice.org.uk/"},
    }
    print_cards([card], [])
    out = capsys.readouterr().out
    # as a Markdown renderer shows it: the value's brackets are text, the template's link a link
    assert "Check [Verify dose](https://e.vil/x)" in out
    assert "- Unit: [Verify dose](https://e.vil/x)" in out
    assert "Sources: BNF <https://bnf.nice.org.uk/>." in out
