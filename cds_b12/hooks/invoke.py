"""One hook call, end to end: gather the data, evaluate, render. HTTP and CLI share it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from ..clinical import Profile
from ..render import CardLibrary
from .fetch import ANY_SERVER, FhirClient, ServerPolicy
from .gather import gather
from .request import HookCall
from .response import HookResult, respond


def invoke(
    call: HookCall,
    *,
    profile: Profile,
    client: FhirClient,
    as_of: date,
    library: CardLibrary | None = None,
    policy: ServerPolicy = ANY_SERVER,
) -> HookResult:
    """Raises ``PreconditionFailed`` (412) or ``BadRequest`` (400), by design nothing else."""
    got = gather(call, client, as_of, policy=policy)
    result = respond(
        got.data,
        profile=profile,
        as_of=as_of,
        draft_orders=call.draft_orders,
        missing=got.notes,
        library=library,
    )
    return replace(result, fetched=tuple(got.fetched), fetch_outcomes=got.outcomes)
