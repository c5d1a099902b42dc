"""The Alembic migrations build exactly the schema the models describe, and undo it."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from conftest import make_app
from tracker.database import built_on
from tracker.extensions import db


def _tables(connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names()) - {"alembic_version"}


def test_upgrade_matches_the_models_and_downgrade_empties(empty_database_url):
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            dialect = connection.dialect.name
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    # As migrations/env.py: an index for one database is compared there only.
                    "include_object": lambda item, _n, _t, reflected, _c: (
                        reflected or built_on(item, dialect)
                    ),
                },
            )
            differences = compare_metadata(context, db.metadata)
            assert differences == [], differences
            assert _tables(connection) == set(db.metadata.tables)
            # Autogenerate does not compare CHECK constraints: every one the models declare
            # must exist, under its conventional name, in the migrated database.
            inspector = sa.inspect(connection)
            for table in db.metadata.sorted_tables:
                declared = {
                    str(c.name) for c in table.constraints if isinstance(c, sa.CheckConstraint)
                }
                found = {c["name"] for c in inspector.get_check_constraints(table.name)}
                assert declared <= found, (table.name, declared - found)
        downgrade(revision="base")
        with db.engine.connect() as connection:
            assert _tables(connection) == set()
        db.engine.dispose()
