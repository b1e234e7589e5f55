"""signatures.seal: a keyed HMAC over every field of the record

Revision ID: d4a8b6c0e2f7
Revises: c7d2e9f1a3b5
Create Date: 2026-12-03 21:55:00

Rows signed before this change keep seal NULL: they are not sealed by the upgrade, which
would bless whatever they hold at that moment. Their record page says that only the text
can be checked for them (consent/seals.py, docs/security.md).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4a8b6c0e2f7'
down_revision = 'c7d2e9f1a3b5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seal', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_column('seal')
