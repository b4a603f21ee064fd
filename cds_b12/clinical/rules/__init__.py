"""Clinical core: the decision table R1-R21 (``b12-clinical.md`` §6.2), R22-R27 and the
order checks R28-R29, in order.

Imports only ``cds_b12.clinical``. One function per rule, named after its ID;
each returns a Recommendation or None. Several rules may fire for one patient.
"""

from __future__ import annotations

from collections.abc import Callable

from ..assess import Assessment
from ..profiles import Profile
from ..recommendation import Recommendation
from .initiation import (
    r1_start_neuro_loading,
    r2_start_standard_loading,
    r3_dietary_oral,
    r4_medication_cause,
    r5_indeterminate_order_mma,
    r6_indeterminate_neuro,
    r7_severe_anaemia,
)
from .loading import (
    r8_suboptimal_response,
    r9_neuro_loading_continue,
    r10_start_maintenance,
    r26_interrupted_course,
)
from .maintenance import (
    r11_maintenance_overdue,
    r12_missed_doses,
    r13_intensify_interval,
    r14_lab_drift,
    r15_b12_order_on_maintenance,
    r16_consider_stop,
)
from .oral import r27_oral_relapse
from .orders import (
    r20_folate_without_b12,
    r21_cyanocobalamin_contraindicated,
    r28_order_dose_error,
    r29_over_treatment,
)
from .population import r22_raised_b12, r23_not_adult
from .results import r24_confounded_marker, r25_unreadable_result
from .screening import (
    r17_metformin_screening,
    r18_acid_suppressant_screening,
    r19_bariatric_prophylaxis,
)

Rule = Callable[[Assessment, Profile], Recommendation | None]

RULES: tuple[Rule, ...] = (
    r1_start_neuro_loading,
    r2_start_standard_loading,
    r3_dietary_oral,
    r4_medication_cause,
    r5_indeterminate_order_mma,
    r6_indeterminate_neuro,
    r7_severe_anaemia,
    r8_suboptimal_response,
    r9_neuro_loading_continue,
    r10_start_maintenance,
    r11_maintenance_overdue,
    r12_missed_doses,
    r13_intensify_interval,
    r14_lab_drift,
    r15_b12_order_on_maintenance,
    r16_consider_stop,
    r17_metformin_screening,
    r18_acid_suppressant_screening,
    r19_bariatric_prophylaxis,
    r20_folate_without_b12,
    r21_cyanocobalamin_contraindicated,
    r22_raised_b12,
    r23_not_adult,
    r24_confounded_marker,
    r25_unreadable_result,
    r26_interrupted_course,
    r27_oral_relapse,
    r28_order_dose_error,
    r29_over_treatment,
)

# Below the adult age: the rules that apply to anyone (urgent assessment, prescribing
# safety, a result that cannot be read) and R23; the adult regimens and thresholds do not.
ANY_AGE: tuple[Rule, ...] = (
    r7_severe_anaemia,
    r20_folate_without_b12,
    r21_cyanocobalamin_contraindicated,
    r23_not_adult,
    r25_unreadable_result,
)
