"""``cds-b12 recall``: the population worklist, declared in ``cds_b12.recall.command``
(whose top level is as light as this one's: the engines load when the command runs)."""

from __future__ import annotations

import argparse

from . import evaluation_date


def register(sub: argparse._SubParsersAction) -> None:
    from ..recall.command import add_recall_parser

    add_recall_parser(sub, evaluation_date)
