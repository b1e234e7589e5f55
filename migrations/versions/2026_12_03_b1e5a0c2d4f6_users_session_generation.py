"""users.session_generation: raising it ends every session of the account

Revision ID: b1e5a0c2d4f6
Revises: c0a5e7d1f2b4
Create Date: 2026-12-03 21:20:00

Existing rows start at 0; a session cookie made before this change holds the bare account id,
which counts as generation 0, so nobody is logged out by the upgrade itself.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b1e5a0c2d4f6'
down_revision = 'c0a5e7d1f2b4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_generation')
