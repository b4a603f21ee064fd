"""``escape`` passes plain text (dates, counts, ids) through untouched: the same as the
full escaping would give, on any text, plain-looking or not."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cds_b12.render.escape import _escaped, escape

_near_plain = st.text(alphabet="aZ09/-. :_()#\n", max_size=12)
_plain = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9/-]*", fullmatch=True)
_samples = ["2026-11-02", "Observation/b12-3", "14", "1. item", "-x", "+1", "12)", "www.a", ""]


@given(st.one_of(st.text(max_size=12), _near_plain, _plain, st.sampled_from(_samples)))
def test_escape_is_the_full_escaping(text: str) -> None:
    assert escape(text) == _escaped(text)
    assert type(escape(text)) is type(_escaped(text))
