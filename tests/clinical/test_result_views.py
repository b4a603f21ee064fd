"""The assessment's quick views of the results agree with the plain scans they replace.

``assess`` sorts and cuts instead of filtering, ``latest_on_file`` reads each kind's
newest result, and the B12 results come from the by-kind view: on any record (ties of
dates, future results, B12 and holoTC together) they pick the same results.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from cds_b12.clinical.assess import assess
from cds_b12.clinical.bands import B12_KINDS
from cds_b12.clinical.profiles import UK, US
from cds_b12.clinical.record import Lab, LabKind
from cds_b12.clinical.rules.common import latest_on_file

from .records import AS_OF, dose, record

KINDS = (LabKind.B12, LabKind.HOLOTC, LabKind.HB, LabKind.MMA)
labs = st.lists(
    st.builds(
        lambda i, kind, days, value: Lab(
            kind,
            value / 100 if kind is LabKind.HB else value,  # a plausible Hb: 1.5-12 g/dL
            AS_OF - timedelta(days),
            f"Observation/{i}",
        ),
        st.integers(0, 10**6),
        st.sampled_from(KINDS),
        st.integers(-30, 60),  # a few days in the future too
        st.sampled_from((150.0, 300.0, 1200.0)),
    ),
    max_size=12,
)


@given(labs, st.lists(st.integers(0, 60), max_size=4), st.sampled_from((US, UK)))
def test_the_views_pick_what_a_scan_of_the_record_picks(results, dose_days, profile):
    a = assess(record(*results, *(dose(d) for d in dose_days)), profile, AS_OF)
    up_to = [lab for lab in results if lab.on <= AS_OF]  # in the record's order
    assert a.labs == tuple(sorted(up_to, key=lambda lab: lab.on))
    for kinds in ((LabKind.HB,), B12_KINDS, KINDS):
        of_kinds = [lab for lab in up_to if lab.kind in kinds]
        assert latest_on_file(a, *kinds) is max(of_kinds, key=lambda lab: lab.on, default=None)
    b12 = [lab for lab in a.labs if lab.kind in B12_KINDS]
    doses = sorted({AS_OF - timedelta(d) for d in dose_days})
    window = profile.post_injection_b12_invalid_days

    def after_dose(lab: Lab) -> bool:
        before = [d for d in doses if d <= lab.on]
        return bool(before) and (lab.on - before[-1]).days <= window

    assert a.ignored_b12 == tuple(lab for lab in b12 if after_dose(lab))
    kept = [lab for lab in b12 if not after_dose(lab)]
    current = kept and (AS_OF - kept[-1].on).days <= profile.current_lab_days
    assert a.b12 is (kept[-1] if current else None)
    assert a.last_b12_test == (b12[-1].on if b12 else None)
