"""Clinical core: building frozen records cheaply, for the records built on every call.

A frozen dataclass's ``__init__`` stores each field through ``object.__setattr__``
(its own ``__setattr__`` refuses), several times the cost of a plain slot store. The
reader builds a few records per resource (that was a third of its time), and an
assessment stores some 100 fields a call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import field, fields, make_dataclass
from typing import TypeVar

T = TypeVar("T")


def builder(cls: type[T]) -> Callable[..., T]:
    """A class called like ``cls`` whose instances come out as ``cls`` instances.

    It is a mutable twin with the same fields, defaults and slots, so its
    ``__init__`` fills the slots by plain stores; ``__post_init__`` then makes the
    object a ``cls``, which CPython allows between classes of the same slot
    layout. The result is an ordinary ``cls``: frozen, equal, hashable, replaceable.
    """

    def __post_init__(self: object) -> None:
        self.__class__ = cls

    spec = [
        (f.name, f.type, field(default=f.default, default_factory=f.default_factory))
        for f in fields(cls)  # type: ignore[arg-type]
    ]
    return make_dataclass(
        cls.__name__,
        spec,
        namespace={"__post_init__": __post_init__},
        slots=True,
        eq=False,
        repr=False,
        match_args=False,
    )
