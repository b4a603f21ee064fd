"""The tables. Changing them means a new Alembic migration in ``migrations/versions``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Double, ForeignKey, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class HookCall(Base):
    """One answered hook call. The patient is a keyed hash, never the id or a name. The
    patient's calls in one hookInstance or encounter are found by index (``store.history``)."""

    __tablename__ = "hook_call"
    __table_args__ = (
        Index("ix_hook_call_patient_instance", "patient_key", "hook_instance"),
        Index("ix_hook_call_patient_encounter", "patient_key", "encounter"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    service_id: Mapped[str] = mapped_column(String(64))
    hook: Mapped[str] = mapped_column(String(64))
    hook_instance: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str | None] = mapped_column(String(500))
    tenant: Mapped[str | None] = mapped_column(String(200))
    patient_key: Mapped[str] = mapped_column(String(64))
    profile: Mapped[str] = mapped_column(String(8))
    encounter: Mapped[str | None] = mapped_column(String(200))  # the EHR's encounter id
    cards: Mapped[list[IssuedCard]] = relationship(
        back_populates="call", cascade="all, delete-orphan", passive_deletes=True
    )


class IssuedCard(Base):
    __tablename__ = "issued_card"

    uuid: Mapped[str] = mapped_column(String(64), primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("hook_call.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[str] = mapped_column(String(64), index=True)
    indicator: Mapped[str] = mapped_column(String(16))
    suggestion_uuids: Mapped[list[str]] = mapped_column(JSON)
    # a hash of the facts behind the card (fatigue/fingerprint.py): new facts end a snooze
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    evidence: Mapped[str | None] = mapped_column(String(64))  # the same without the orders
    call: Mapped[HookCall] = relationship(back_populates="cards")


class HeldCard(Base):
    """A card a call did not show: snoozed by an override, held while an accepted card is
    acted on, already shown for this hookInstance or encounter, or switched off by its site
    (``fatigue/policy.py``). Counted by the governance report."""

    __tablename__ = "held_card"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("hook_call.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    why: Mapped[str] = mapped_column(String(16))  # snoozed | accepted | repeat | off
    reason: Mapped[str | None] = mapped_column(String(1000))  # the override reason's code
    until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Feedback(Base):
    """One feedback entry as received. ``card_uuid`` is not a foreign key: feedback on a card
    we have no record of (purged, never ours, or issued to another issuer or tenant) is kept
    and flagged ``known_card = false``. Feedback that arrives before its card's audit row
    (written by another worker or replica) starts so, and is flipped when the row is written
    (``records.record_calls``). ``patient_key`` is its card's patient, set with ``known_card``:
    a patient's answered cards are found by index (``store.history``)."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_key: Mapped[str] = mapped_column(String(64), unique=True)  # a resent entry is a no-op
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    service_id: Mapped[str] = mapped_column(String(64))
    card_uuid: Mapped[str] = mapped_column(String(1000), index=True)
    known_card: Mapped[bool] = mapped_column(Boolean)
    outcome: Mapped[str] = mapped_column(String(16))
    accepted_suggestions: Mapped[list[str]] = mapped_column(JSON)
    override_system: Mapped[str | None] = mapped_column(String(1000))
    override_code: Mapped[str | None] = mapped_column(String(1000))
    has_comment: Mapped[bool] = mapped_column(Boolean)  # the free text itself is not kept
    outcome_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    issuer: Mapped[str | None] = mapped_column(String(500))
    tenant: Mapped[str | None] = mapped_column(String(200))
    patient_key: Mapped[str | None] = mapped_column(String(64), index=True)


class SingleUse(Base):
    """Values accepted once (a JWT's issuer and ``jti``), until they expire; shared by every
    worker and replica on this database. ``key`` is a hash of the pair (``replay_key``)."""

    __tablename__ = "single_use"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[float] = mapped_column(Double, index=True)  # epoch seconds
