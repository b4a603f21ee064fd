"""``prune``: no None, "" , [] or {} at any depth, everything else as it was, in order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cds_b12.render.clean import prune
from cds_b12.render.escape import Markup


def _reference(value: object) -> object:
    """The definition, one value at a time: prune the children, then drop the empty ones."""

    def empty(v: object) -> bool:
        return v is None or (isinstance(v, str | list | dict) and not v)

    if isinstance(value, dict):
        children = {k: _reference(v) for k, v in value.items()}
        return {k: v for k, v in children.items() if not empty(v)}
    if isinstance(value, list):
        return [v for v in map(_reference, value) if not empty(v)]
    return value


_leaves = st.one_of(
    st.none(),
    st.sampled_from(["", "x", " ", Markup(""), Markup("m"), 0, 0.0, False, True, (), ("",)]),
    st.integers(),
)
_values = st.recursive(
    _leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=2), inner),
    max_leaves=30,
)


def test_prune_removes_every_empty_value() -> None:
    assert prune(
        {
            "a": None,
            "b": "",
            "c": [],
            "d": {},
            "e": [{"f": ""}, 0, False],
            "g": {"h": {"i": []}},
            "j": "x",
        }
    ) == {"e": [0, False], "j": "x"}


@given(_values)
def test_prune_matches_its_definition_on_any_json_like_value(value: object) -> None:
    pruned = prune(value)
    assert pruned == _reference(value)
    assert repr(pruned) == repr(_reference(value))  # same types and key order, not just equal
