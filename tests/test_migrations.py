"""The Alembic migrations build exactly the schema the models describe, and undo it."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import make_app
from flask_migrate import downgrade, upgrade

from tracker.extensions import db

SCHEMA = "migration_check"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    """A database with no tables: a new SQLite file, or an empty PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite'}"
        return
    from conftest import _postgres_or_skip

    url = _postgres_or_skip()
    admin = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        connection.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
    separator = "&" if "?" in url else "?"
    yield f"{url}{separator}options=-csearch_path%3D{SCHEMA}"
    with admin.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
    admin.dispose()


def _tables(connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names()) - {"alembic_version"}


def test_upgrade_matches_the_models_and_downgrade_empties(empty_database_url):
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
            assert differences == [], differences
            assert _tables(connection) == set(db.metadata.tables)
            checks = sa.inspect(connection).get_check_constraints("devices")
            assert {check["name"] for check in checks} >= {
                "ck_devices_status",
                "ck_devices_condition",
            }
        downgrade(revision="base")
        with db.engine.connect() as connection:
            assert _tables(connection) == set()
        db.engine.dispose()
