"""Render layer: the profile's own numbers that a card's wording states, as placeholders.

Imports only the standard library and ``cds_b12.clinical``. A card that says "Hb below
80 g/L" must state the threshold the service uses, a deployment's override included
(``cds_b12.overrides``), so no threshold is written into ``cards/``: each placeholder here
words one named profile value, with the facts' number and span wording, when a template
quotes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType

from cds_b12.clinical.profiles import Profile
from cds_b12.clinical.record import DAYS_PER_UNIT, LabKind
from cds_b12.clinical.regimens import CATALOGUE

from .escape import Markup
from .facts import FactWords
from .schedule import frequency_text, number

_G_L_PER_G_DL = 10  # the UK wording states Hb in g/L; the profile holds g/dL
_HOURS_PER_DAY = 24

Wording = Callable[[Profile, FactWords], str]


def _range(low: float, high: float) -> str:
    return f"{number(low)}–{number(high)}"


# Each placeholder and how it words its profile value (cards/README.md lists them).
PROFILE_PLACEHOLDERS: Mapping[str, Wording] = MappingProxyType(
    {
        "b12_indeterminate_range": lambda p, w: (
            f"{_range(p.b12_deficient_below_ng_l, p.b12_indeterminate_below_ng_l)}"
            f" {w.unit(LabKind.B12)}"
        ),
        "raised_b12_above": lambda p, w: f"{number(p.raised_b12_above_ng_l)} {w.unit(LabKind.B12)}",
        "severe_hb_g_dl": lambda p, w: number(p.severe_anaemia_below_g_dl),
        "severe_hb_g_l": lambda p, w: number(p.severe_anaemia_below_g_dl * _G_L_PER_G_DL),
        "potassium_recheck_hours": lambda p, w: number(
            p.potassium_recheck_days[1] * _HOURS_PER_DAY
        ),
        "elderly_age": lambda p, w: number(p.elderly_age_years),
        "acid_suppressant_span": lambda p, w: w.span(p.acid_suppressant_risk_days),
        "folate_lookback_span": lambda p, w: w.span(p.folate_b12_lookback_days),
        "recheck_after_stop_span": lambda p, w: w.span_range(*p.recheck_after_stop_days),
        "post_injection_days": lambda p, w: number(p.post_injection_b12_invalid_days),
        "post_injection_span": lambda p, w: w.span(p.post_injection_b12_invalid_days),
        "min_interval_span": lambda p, w: w.span(p.min_interval_days),
        "pregnancy_review_span": lambda p, w: w.span(p.pregnancy_review_days),
        "retic_response_days": lambda p, w: _range(*p.retic_response_days),
        "hb_response_week": lambda p, w: number(p.hb_response_day / DAYS_PER_UNIT["wk"]),
        "suboptimal_repeat_span": lambda p, w: w.span_range(*p.suboptimal_repeat_days),
        "cbc_response_weeks": lambda p, w: number(p.cbc_response_days / DAYS_PER_UNIT["wk"]),
        "neuro_reassess_interval": lambda p, w: w.interval_range(*p.neuro_reassess_days),
        "missed_doses_review_span": lambda p, w: w.span_range(*p.missed_doses_review_days),
        "intensified_review_span": lambda p, w: w.span_range(*p.intensified_review_days),
        "intensify_steps": lambda p, w: w.steps(  # from the maintenance regimen's longest
            [CATALOGUE[p.maintenance].steps[-1].interval_max_days]
            + [step.interval_days for step in p.intensify_steps]
        ),
        "shortest_step": lambda p, w: frequency_text(p.intensify_steps[-1]),
        "max_injection_mg": lambda p, w: number(p.max_injection_dose_mg),
        "max_injection_micrograms": lambda p, w: number(
            p.max_injection_dose_mg * p.micrograms_per_mg
        ),
        "max_injection_ml": lambda p, w: number(p.max_injection_volume_ml),
        "max_oral_mg": lambda p, w: number(p.max_oral_dose_mg),
        "max_oral_micrograms": lambda p, w: number(p.max_oral_dose_mg * p.micrograms_per_mg),
    }
)


class ProfileValues(Mapping[str, object]):
    """The placeholders of ``PROFILE_PLACEHOLDERS`` for one profile, each worded once, on
    first use (most cards quote none)."""

    def __init__(self, profile: Profile, words: FactWords) -> None:
        self._profile = profile
        self._words = words
        self._worded: dict[str, Markup] = {}

    def __getitem__(self, key: str) -> Markup:
        if key not in self._worded:
            # the profile's numbers and the service's own words: no escaping
            self._worded[key] = Markup(PROFILE_PLACEHOLDERS[key](self._profile, self._words))
        return self._worded[key]

    def __iter__(self) -> Iterator[str]:
        return iter(PROFILE_PLACEHOLDERS)

    def __len__(self) -> int:
        return len(PROFILE_PLACEHOLDERS)
