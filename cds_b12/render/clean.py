"""Render layer: card JSON without None, "", [] or {} (CDS Hooks 2.0 §JSON).

Imports only the standard library and this package. ``cards.py`` prunes each card it
builds; ``resources.py`` builds a suggestion's FHIR resource ``Pruned``, pruning what it
copies from the EHR (a draft or current order) where it copies it.
"""

from __future__ import annotations

from .escape import Markup

_CONTAINERS = (dict, list)  # a tuple: isinstance checks it faster than dict | list


class Pruned(dict):
    """A dict with no None, "", [] or {} at any depth, as ``prune`` leaves one: a FHIR
    resource the renderer built, its own values never empty and what it took from the
    EHR pruned. ``prune`` passes it as it is: a resource holds most of a card's values."""

    __slots__ = ()


def prune(value: object) -> object:
    """``value`` without None, "", [] or {} at any depth (CDS Hooks 2.0 §JSON).

    One pass that recurses only into containers: a card has some 75 values, and a
    call per value was a third of rendering one. Most values are text, tested first by
    exact type (a call of ``isinstance`` costs more than the rest of the test), and a
    suggestion's resource, most of the rest, is ``Pruned`` already: passed as it is."""
    if isinstance(value, dict):
        kept_dict = {}
        for k, v in value.items():
            cls = type(v)
            if cls is str or cls is Markup or cls is Pruned:
                if v:
                    kept_dict[k] = v
                continue
            if isinstance(v, _CONTAINERS):
                v = prune(v)
                if not v:
                    continue
            elif v is None or (isinstance(v, str) and not v):
                continue
            kept_dict[k] = v
        return kept_dict
    if isinstance(value, list):
        kept_list = []
        for v in value:
            cls = type(v)
            if cls is str or cls is Markup or cls is Pruned:
                if v:
                    kept_list.append(v)
                continue
            if isinstance(v, _CONTAINERS):
                v = prune(v)
                if not v:
                    continue
            elif v is None or (isinstance(v, str) and not v):
                continue
            kept_list.append(v)
        return kept_list
    return value
