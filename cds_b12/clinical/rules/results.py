"""Clinical core: rules R24-R25, about what the results on file can and cannot show.

Imports only ``cds_b12.clinical``. R24 says when a raised MMA or homocysteine
with a normal B12 has another cause on file (``markers.py``); R25 when a result
that decides a card could not be read (``Assessment.unreadable``: the reader's, and
those outside the profile's plausible limits), so an unusable value is never dropped
in silence.
"""

from __future__ import annotations

from ..assess import PHASE_NONE, Assessment
from ..bands import B12_KINDS
from ..facts import Confoundings, Unreadables
from ..followup import on
from ..markers import Confounder
from ..profiles import Profile
from ..recommendation import Indicator, Kind, LabNote, Recommendation, Variant
from ..record import LabKind
from ..sources import cites
from .common import REPEAT_TEST, current, recommend, said, unread_results
from .orders import plain_injection_drafts


@cites("UK-6", "LAB-2.8", variants={Variant.DRAFT_ORDER: ("UK-6", "LAB-2.8", "UK-5")})
def r24_confounded_marker(a: Assessment, p: Profile) -> Recommendation | None:
    """Say that a raised MMA or homocysteine with a normal B12 is not B12 deficiency on its
    own, name the cause on file that can explain it, and suggest the confirming step.

    Fires: no B12 therapy; B12 normal; every raised marker explained (renal impairment
    for MMA: eGFR below the profile's ``renal_impairment_egfr_below``, or CKD or
    dialysis recorded; folate below the lab's lower limit, else the profile's
    ``folate_deficient_below_ng_ml``, or renal impairment for homocysteine); no
    neurological signs and no nitrous oxide (then R1/R6 treat: S8, S12). Confirming
    step: MMA when a folate-explained homocysteine has none (MMA is not raised by
    folate deficiency); active B12 when kidney function explains the rise (judgement:
    the KB names no test; active B12 is NICE's alternative first test, §2.3). No
    lifelong injections are suggested. Warning when anaemic or macrocytic. With a B12
    injection order being placed (order hooks; a plausible dose, else R28), the card
    (variant draft_order) says the order is not supported by this evidence alone and
    offers removing it: one card for the problem, as R29's "a normal MMA makes
    deficiency unlikely" does not fit a raised one (S13: confirm before treating).
    Sources: UK-6 (BSH 2014 key recommendation 2: homocysteine is also raised by folate
    deficiency and renal impairment), LAB-2.8 (Mayo: MMA is raised in renal impairment);
    the draft_order variant also UK-5 (SmPC: confirm the diagnosis before treating).
    """
    if a.phase is not PHASE_NONE or not a.markers_explained:
        return None
    tests: list[str] = []
    folate = any(c.confounder is Confounder.FOLATE for c in a.confounded)
    if folate and a.mma is None:
        tests.append("MMA")
    renal = any(c.confounder is Confounder.RENAL for c in a.confounded)
    if renal and (a.b12 is None or a.b12.kind is not LabKind.HOLOTC):
        tests.append("HOLOTC")
    drafts = plain_injection_drafts(a, p)
    med, draft_id = drafts[0] if drafts else (None, None)
    return recommend(
        a,
        "R24-confounded-marker",
        Indicator.WARNING if a.is_anaemic or a.macrocytosis or med else Indicator.INFO,
        Kind.ORDER_LABS if med is None else Kind.CORRECT_ORDER,
        labs=tuple(on(a.as_of, test, LabNote.CONFIRM) for test in tests),
        draft_id=draft_id,
        variant=None if med is None else Variant.DRAFT_ORDER,
        confounded=Confoundings(
            a.confounded,
            tuple(c.result and said(a, c.result, (c.result.kind,)) for c in a.confounded),
        ),
        **({} if med is None else {"product": med}),
    )


@cites("UK-8", "US-6", "WHO-2.6")
def r25_unreadable_result(a: Assessment, p: Profile) -> Recommendation | None:
    """Say that a result could not be read, and ask for the report or a repeat test.

    Fires: the newest B12, active B12, MMA, homocysteine or Hb result, taken within
    the profile's ``current_lab_days``, has no unit, a unit not known for the analyte,
    a unit whose words and UCUM code are two units, no value, a value that is not a
    usable number (NaN, Infinity, 1e400, negative, text such as "1,250"), or a value
    outside the profile's ``plausible_limits`` (no living patient's: an Hb of 75 g/dL
    is a unit slip), and no readable result of that analyte is as new: an older one
    is still read, and this card says the newest could not be. Warning when the
    missing value could matter now (macrocytosis, anaemia or neurological signs), else info.
    Silent: a readable result on the same day or later. The bands it could not be
    placed in are stated per unit by UK-8 (NICE NG239) and US-6 (AFP 2025) for B12
    and MMA, and WHO-2.6 for Hb: a value without a known unit fits none of them.
    Sources: UK-8 (NG239), US-6 (AFP 2025), WHO-2.6.
    """
    unread = unread_results(a, p)
    if not unread:
        return None
    matters = a.macrocytosis or a.is_anaemic or a.has_neuro
    tests = dict.fromkeys(REPEAT_TEST[u.kind] for u in unread)
    return recommend(
        a,
        "R25-unreadable-result",
        Indicator.WARNING if matters else Indicator.INFO,
        Kind.ORDER_LABS,
        labs=tuple(on(a.as_of, test, LabNote.REPEAT) for test in tests),
        unreadable=Unreadables(unread),
        # the unreadable ones are this card's own subject: its readable results stay plain
        b12=current(a, a.b12, B12_KINDS),
        hb=current(a, a.hb, (LabKind.HB,)),
        mma=current(a, a.mma, (LabKind.MMA,)),
        hcy=current(a, a.hcy, (LabKind.HCY,)),
    )
