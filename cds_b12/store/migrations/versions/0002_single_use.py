"""single-use values (the JWT replay store without Redis)

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "single_use",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("single_use", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_single_use_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("single_use", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_single_use_expires_at"))
    op.drop_table("single_use")
