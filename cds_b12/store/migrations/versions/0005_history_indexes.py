"""a patient's answered cards and the cards of one hookInstance or encounter by index: the
history query reads only those, not every call of the patient

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

feedback = sa.table(
    "feedback",
    sa.column("patient_key", sa.String),
    sa.column("card_uuid", sa.String),
    sa.column("known_card", sa.Boolean),
)
issued_card = sa.table("issued_card", sa.column("uuid", sa.String), sa.column("call_id"))
hook_call = sa.table("hook_call", sa.column("id"), sa.column("patient_key", sa.String))


def upgrade() -> None:
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("patient_key", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_feedback_patient_key"), ["patient_key"], unique=False)
    # the feedback that already counts for its card: its card's patient
    op.execute(
        feedback.update()
        .where(feedback.c.known_card.is_(True))
        .values(
            patient_key=sa.select(hook_call.c.patient_key)
            .select_from(issued_card.join(hook_call, hook_call.c.id == issued_card.c.call_id))
            .where(issued_card.c.uuid == feedback.c.card_uuid)
            .scalar_subquery()
        )
    )
    with op.batch_alter_table("hook_call", schema=None) as batch_op:
        batch_op.create_index(
            "ix_hook_call_patient_instance", ["patient_key", "hook_instance"], unique=False
        )
        batch_op.create_index(
            "ix_hook_call_patient_encounter", ["patient_key", "encounter"], unique=False
        )
        batch_op.drop_index("ix_hook_call_patient_key")  # a prefix of both


def downgrade() -> None:
    with op.batch_alter_table("hook_call", schema=None) as batch_op:
        batch_op.create_index("ix_hook_call_patient_key", ["patient_key"], unique=False)
        batch_op.drop_index("ix_hook_call_patient_encounter")
        batch_op.drop_index("ix_hook_call_patient_instance")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_patient_key"))
        batch_op.drop_column("patient_key")
