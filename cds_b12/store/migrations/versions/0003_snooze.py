"""what alert-fatigue control needs: the encounter of a call, the facts behind a card, and
the cards held back

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hook_call", schema=None) as batch_op:
        batch_op.add_column(sa.Column("encounter", sa.String(length=200), nullable=True))
    with op.batch_alter_table("issued_card", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=True))
    op.create_table(
        "held_card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("why", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["call_id"], ["hook_call.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("held_card", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_held_card_call_id"), ["call_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("held_card", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_held_card_call_id"))
    op.drop_table("held_card")
    with op.batch_alter_table("issued_card", schema=None) as batch_op:
        batch_op.drop_column("fingerprint")
    with op.batch_alter_table("hook_call", schema=None) as batch_op:
        batch_op.drop_column("encounter")
