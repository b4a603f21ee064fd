"""Settings: the judgement values a deployment changes in its profiles, checked before use.

May import ``cds_b12.clinical``. ``CDS_B12_PROFILE_OVERRIDES`` names a TOML file of
``[us]`` / ``[uk]`` tables; ``config.Settings`` reads it at start and applies it
here. Only the values ``Profile`` marks as judgement (``profile_fields.judgement``) may
change, each as its field's type; anything else is refused in one line.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from types import MappingProxyType

from .clinical.profile_fields import SOURCE
from .clinical.profiles import PROFILES, Profile


class OverrideError(ValueError):
    """A profile override that cannot be applied; the message names the value and why."""


def with_overrides(
    overrides: Mapping[str, object], profiles: Mapping[str, Profile] = PROFILES
) -> Mapping[str, Profile]:
    """``profiles`` with a deployment's judgement values applied.

    ``overrides`` maps a profile name (us, uk) to ``{value name: new value}``, as a
    TOML file reads. Raises OverrideError for an unknown profile or name, a value
    that is not a judgement, or a value of the wrong type.
    """
    changed = dict(profiles)
    for key, values in overrides.items():
        if key not in profiles:
            raise OverrideError(f"[{key}]: not a profile (expected {', '.join(profiles)})")
        if not isinstance(values, Mapping):
            raise OverrideError(f"{key}: must be a table of profile values")
        profile = profiles[key]
        fields = {f.name: f for f in dataclasses.fields(profile)}
        hints = typing.get_type_hints(Profile)
        updates = {}
        for name, value in values.items():
            where = f"{key}.{name}"
            if name not in fields:
                raise OverrideError(f"{where}: no such profile value")
            if name not in profile.judgement_names:
                source = fields[name].metadata.get(SOURCE, "")
                raise OverrideError(
                    f"{where}: not a judgement value ({source}); only values marked "
                    "judgement may be overridden"
                )
            updates[name] = _checked(value, hints[name], getattr(profile, name), where)
        changed[key] = dataclasses.replace(profile, **updates)
    return MappingProxyType(changed)


def _checked(value: object, hint: object, current: object, where: str) -> object:
    """``value`` as the field's type: a non-negative number, a yes/no, or an ascending pair."""
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise OverrideError(f"{where}: expected true or false, got {value!r}")
        return value
    if isinstance(current, int | float):
        wants_int = hint is int
        ok = isinstance(value, int) if wants_int else isinstance(value, int | float)
        if isinstance(value, bool) or not ok:
            kind = "a whole number" if wants_int else "a number"
            raise OverrideError(f"{where}: expected {kind}, got {value!r}")
        if value < 0:
            raise OverrideError(f"{where}: must not be negative, got {value!r}")
        return value if wants_int else float(value)
    if isinstance(current, tuple) and all(type(v) is int for v in current):
        pair = list(value) if isinstance(value, list) else None
        if (
            pair is None
            or len(pair) != len(current)
            or not all(type(v) is int and v >= 0 for v in pair)
            or pair != sorted(pair)
        ):
            raise OverrideError(
                f"{where}: expected {len(current)} whole numbers, smallest first, got {value!r}"
            )
        return tuple(pair)
    raise OverrideError(f"{where}: cannot be overridden from a file")
