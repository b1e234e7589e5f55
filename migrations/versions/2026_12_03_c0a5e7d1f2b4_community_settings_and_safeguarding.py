"""community settings (default agreement, safeguarding contact), default-agreement removals,
and the routing of incident reports about organisers and facilitators

Revision ID: c0a5e7d1f2b4
Revises: 51adf2d0df75
Create Date: 2026-12-03 21:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c0a5e7d1f2b4'
down_revision = '51adf2d0df75'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('community_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('default_agreement_id', sa.Integer(), nullable=True),
    sa.Column('safeguarding_contact_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('id = 1', name=op.f('ck_community_settings_single_row')),
    sa.ForeignKeyConstraint(['default_agreement_id'], ['agreements.id'], name=op.f('fk_community_settings_default_agreement_id_agreements')),
    sa.ForeignKeyConstraint(['safeguarding_contact_id'], ['users.id'], name=op.f('fk_community_settings_safeguarding_contact_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_settings'))
    )
    op.create_table('default_agreement_removals',
    sa.Column('gathering_id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('removed_by_id', sa.Integer(), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_default_agreement_removals_agreement_id_agreements')),
    sa.ForeignKeyConstraint(['gathering_id'], ['gatherings.id'], name=op.f('fk_default_agreement_removals_gathering_id_gatherings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['removed_by_id'], ['users.id'], name=op.f('fk_default_agreement_removals_removed_by_id_users')),
    sa.PrimaryKeyConstraint('gathering_id', 'agreement_id', name=op.f('pk_default_agreement_removals'))
    )
    with op.batch_alter_table('incident_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('about_leader', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('routed_to_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_incident_reports_routed_to_id_users'), 'users', ['routed_to_id'], ['id'])


def downgrade():
    with op.batch_alter_table('incident_reports', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_incident_reports_routed_to_id_users'), type_='foreignkey')
        batch_op.drop_column('routed_to_id')
        batch_op.drop_column('about_leader')

    op.drop_table('default_agreement_removals')
    op.drop_table('community_settings')
