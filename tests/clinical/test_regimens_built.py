"""with_drug and single_dose build their regimens cheaply (``builder``) and share single_dose's
one step: each must be the Regimen the dataclass builds, field for field."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cds_b12.clinical.regimens import (
    CATALOGUE,
    CYANOCOBALAMIN_INJ,
    HYDROXOCOBALAMIN_INJ,
    SINGLE_DOSE,
    Regimen,
    Step,
    single_dose,
    with_drug,
)


@pytest.mark.parametrize("regimen_id", sorted(CATALOGUE))
@pytest.mark.parametrize("drug", [CYANOCOBALAMIN_INJ, HYDROXOCOBALAMIN_INJ])
def test_the_built_regimens_are_the_dataclasses(regimen_id, drug) -> None:
    base = CATALOGUE[regimen_id]
    dose, unit = drug.dose or (base.dose, base.dose_unit)
    swapped = with_drug(base, drug)
    assert swapped == replace(base, drug=drug, dose=dose, dose_unit=unit)
    one = single_dose(swapped)
    expected = Regimen(
        SINGLE_DOSE, drug, dose, unit, base.route, (Step(1, 1, "d", count=1),), base.sources
    )
    assert type(swapped) is Regimen and type(one) is Regimen
    assert one == expected and hash(one) == hash(expected)
