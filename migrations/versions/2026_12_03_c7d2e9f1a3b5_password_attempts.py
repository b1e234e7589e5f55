"""password_attempts: password checks counted before they are made (log-in, erasure)

Revision ID: c7d2e9f1a3b5
Revises: b1e5a0c2d4f6
Create Date: 2026-12-03 21:30:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c7d2e9f1a3b5"
down_revision = "b1e5a0c2d4f6"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "password_attempts",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("window_s", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("window_started", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_s", name=op.f("pk_password_attempts")),
    )


def downgrade():
    op.drop_table("password_attempts")
