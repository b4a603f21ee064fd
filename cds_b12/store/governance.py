"""The governance report: per rule and per site, how the cards fare, week by week, the rules
clinicians override most first. What a CDS committee reviews every month.

A site is the caller's JWT ``tenant``, else its issuer, else ``LOCAL`` (no authentication).
Cards issued and held back are counted by the call's time, feedback by when it arrived, so
a week's figures do not change as late feedback comes in for earlier weeks. Each query
groups by day in the database (``date()`` on both SQLite and PostgreSQL) and the days are
added up into weeks (starting on Monday, in UTC) here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Select, func, select

from .db import Database
from .report import FOR_ITS_CARD, NO_REASON, UNKNOWN_CARD, _rule_order
from .schema import Feedback, HeldCard, HookCall, IssuedCard

LOCAL = "(local)"
COUNTS = ("issued", "accepted", "overridden", "snoozed")


@dataclass(slots=True)
class Week:
    issued: int = 0
    accepted: int = 0
    overridden: int = 0
    snoozed: int = 0


@dataclass(slots=True)
class SiteRow:
    rule: str
    site: str
    issued: int = 0
    accepted: int = 0
    overridden: int = 0
    snoozed: int = 0  # calls where an override held the card back
    held: dict[str, int] = field(default_factory=dict)  # every hold, by why
    override_reasons: dict[str, int] = field(default_factory=dict)
    weeks: dict[str, Week] = field(default_factory=dict)  # Monday (ISO date) -> counts

    @property
    def override_rate(self) -> float | None:
        answered = self.accepted + self.overridden
        return round(self.overridden / answered, 3) if answered else None

    def as_json(self) -> dict:
        return {**asdict(self), "override_rate": self.override_rate}


def site_of(tenant: str | None, issuer: str | None) -> str:
    return tenant or issuer or LOCAL


def governance(db: Database, since: datetime | None = None) -> list[SiteRow]:
    """Every (rule, site) with anything recorded since ``since``, highest override rate first
    (rows without feedback last), then by overrides and the rule's number."""
    rows: dict[tuple[str, str], SiteRow] = {}

    def add(rule: str, tenant: str | None, issuer: str | None, day: object, what: str, n: int):
        site = site_of(tenant, issuer)
        row = rows.setdefault((rule, site), SiteRow(rule, site))
        setattr(row, what, getattr(row, what) + n)
        week = row.weeks.setdefault(_monday(day), Week())
        setattr(week, what, getattr(week, what) + n)
        return row

    with db.session() as session:
        called = _day(HookCall.received_at, db.is_sqlite)
        issued = _counts(IssuedCard.rule_id, HookCall.tenant, HookCall.issuer, called).join(
            HookCall, IssuedCard.call_id == HookCall.id
        )
        held = _counts(
            HeldCard.rule_id, HookCall.tenant, HookCall.issuer, called, HeldCard.why
        ).join(HookCall, HeldCard.call_id == HookCall.id)
        arrived = _day(Feedback.received_at, db.is_sqlite)
        answers = _counts(
            IssuedCard.rule_id,
            Feedback.tenant,
            Feedback.issuer,
            arrived,
            Feedback.outcome,
            Feedback.override_code,
        ).outerjoin(IssuedCard, FOR_ITS_CARD)
        if since is not None:
            issued = issued.where(HookCall.received_at >= since)
            held = held.where(HookCall.received_at >= since)
            answers = answers.where(Feedback.received_at >= since)
        for rule, tenant, issuer, day, count in session.execute(issued):
            add(rule, tenant, issuer, day, "issued", count)
        for rule, tenant, issuer, day, why, count in session.execute(held):
            row = add(rule, tenant, issuer, day, "snoozed", count if why == "snoozed" else 0)
            row.held[why] = row.held.get(why, 0) + count
        for rule, tenant, issuer, day, outcome, code, count in session.execute(answers):
            what = "accepted" if outcome == "accepted" else "overridden"
            row = add(rule or UNKNOWN_CARD, tenant, issuer, day, what, count)
            if what == "overridden":
                key = code or NO_REASON
                row.override_reasons[key] = row.override_reasons.get(key, 0) + count
    for row in rows.values():
        row.override_reasons = dict(sorted(row.override_reasons.items(), key=lambda kv: -kv[1]))
        row.weeks = dict(sorted(row.weeks.items()))
    return sorted(rows.values(), key=_worst_first)


def _counts(*by: ColumnElement[object]) -> Select:
    """How many rows share each combination of ``by``: ``by``, then the count."""
    return select(*by, func.count()).group_by(*by)


def _day(column: ColumnElement[datetime], sqlite: bool) -> ColumnElement[object]:
    """The UTC day of a stored time (SQLite holds UTC text; PostgreSQL would use the
    session's time zone)."""
    return func.date(column if sqlite else func.timezone("UTC", column))


def _worst_first(row: SiteRow) -> tuple:
    rate = row.override_rate
    return (rate is None, -(rate or 0), -row.overridden, _rule_order(row.rule), row.site)


def _monday(day: object) -> str:
    """The Monday of the day's week; the database hands back a date or an ISO string."""
    if isinstance(day, datetime):
        day = day.date()
    if not isinstance(day, date):
        day = date.fromisoformat(str(day)[:10])
    return (day - timedelta(days=day.weekday())).isoformat()
