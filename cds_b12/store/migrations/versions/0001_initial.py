"""audit of issued cards and feedback

Revision ID: 0001
Revises: (none)
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_key", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("card_uuid", sa.String(length=1000), nullable=False),
        sa.Column("known_card", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("accepted_suggestions", sa.JSON(), nullable=False),
        sa.Column("override_system", sa.String(length=1000), nullable=True),
        sa.Column("override_code", sa.String(length=1000), nullable=True),
        sa.Column("has_comment", sa.Boolean(), nullable=False),
        sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=True),
        sa.Column("tenant", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entry_key"),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_card_uuid"), ["card_uuid"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedback_received_at"), ["received_at"], unique=False)

    op.create_table(
        "hook_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("hook", sa.String(length=64), nullable=False),
        sa.Column("hook_instance", sa.String(length=200), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=True),
        sa.Column("tenant", sa.String(length=200), nullable=True),
        sa.Column("patient_key", sa.String(length=64), nullable=False),
        sa.Column("profile", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("hook_call", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hook_call_patient_key"), ["patient_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_hook_call_received_at"), ["received_at"], unique=False)

    op.create_table(
        "issued_card",
        sa.Column("uuid", sa.String(length=64), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("indicator", sa.String(length=16), nullable=False),
        sa.Column("suggestion_uuids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["hook_call.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("uuid"),
    )
    with op.batch_alter_table("issued_card", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_issued_card_call_id"), ["call_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_issued_card_rule_id"), ["rule_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("issued_card", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issued_card_rule_id"))
        batch_op.drop_index(batch_op.f("ix_issued_card_call_id"))

    op.drop_table("issued_card")
    with op.batch_alter_table("hook_call", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hook_call_received_at"))
        batch_op.drop_index(batch_op.f("ix_hook_call_patient_key"))

    op.drop_table("hook_call")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_received_at"))
        batch_op.drop_index(batch_op.f("ix_feedback_card_uuid"))

    op.drop_table("feedback")
