"""The CDS Hooks 2.0 feedback body, checked strictly: it is what the service learns from.

The [LM] invariants are enforced: outcome is accepted or overridden (cds-fb-1),
accepted carries acceptedSuggestions (cds-fb-2), an overrideReason has a
reason or a comment (cds-fb-3). A bad entry is named by its index.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from .request import BadRequest, validate

Text = Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


class Coding(_Strict):
    code: Text
    system: Text | None = None
    display: Text | None = None


class OverrideReason(_Strict):
    reason: Coding | None = None
    userComment: Annotated[str, StringConstraints(max_length=4000)] | None = None

    @model_validator(mode="after")
    def _something(self) -> OverrideReason:
        if self.reason is None and not self.userComment:
            raise ValueError("needs a reason or a userComment")
        return self


class AcceptedSuggestion(_Strict):
    id: Text


class Feedback(_Strict):
    card: Text
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[AcceptedSuggestion] | None = None
    overrideReason: OverrideReason | None = None
    outcomeTimestamp: str

    @field_validator("outcomeTimestamp")
    @classmethod
    def _instant(cls, value: str) -> str:
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("must be an ISO 8601 instant, e.g. 2026-11-21T10:05:31Z") from None
        if when.tzinfo is None:
            raise ValueError("must carry a time zone, e.g. 2026-11-21T10:05:31Z")
        try:
            when.astimezone(UTC)
        except OverflowError:  # 9999-12-31T23:59:59-23:59 is in the year 10000 in UTC
            raise ValueError("is outside the years 1 to 9999 once converted to UTC") from None
        return value

    @property
    def outcome_at(self) -> datetime:
        """The outcome time in UTC (the validator made sure it has one)."""
        return datetime.fromisoformat(self.outcomeTimestamp).astimezone(UTC)

    @model_validator(mode="after")
    def _consistent(self) -> Feedback:
        if self.outcome == "accepted" and not self.acceptedSuggestions:
            raise ValueError("an accepted outcome needs acceptedSuggestions")
        if self.outcome == "accepted" and self.overrideReason is not None:
            raise ValueError("an accepted outcome cannot carry an overrideReason")
        return self


class FeedbackBody(_Strict):
    feedback: Annotated[list[Feedback], Field(min_length=1, max_length=1000)]


def parse_feedback(body: object) -> list[Feedback]:
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return validate(FeedbackBody, body).feedback
