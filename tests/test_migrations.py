"""The schema comes only from migrations, and the migrations match the models."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from facilitation.core.db import render_item
from facilitation.extensions import db


def _differences():
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "render_item": render_item}
        )
        return compare_metadata(context, db.metadata)


def test_upgraded_database_matches_the_models(app):
    # The session fixture upgraded an empty database through every migration.
    assert _differences() == []


def test_every_migration_downgrades_and_upgrades_again(app):
    downgrade(revision="base")
    tables = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert tables == set()
    upgrade()
    assert _differences() == []


def test_a_model_change_without_migration_is_detected(app):
    extra = sa.Table("not_migrated", db.metadata, sa.Column("id", sa.Integer, primary_key=True))
    try:
        assert any(diff[0] == "add_table" for diff in _differences())
    finally:
        db.metadata.remove(extra)
