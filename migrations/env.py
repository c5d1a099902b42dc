"""Alembic environment, run through Flask-Migrate (`tracker db upgrade`) with the app's engine."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from tracker.database import UTCDateTime, built_on

config = context.config
if config.config_file_name:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db


def render_item(type_, obj, autogen_context):
    """Write our column types as plain SQLAlchemy types, so migrations never import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def include_object(item, _name, _type, reflected, _compare_to):
    """An index the models build on one database only is compared on that one only; the
    job queue's own tables (huey_*, made by huey itself) are not the app's schema."""
    if _type == "table" and reflected and _name.startswith("huey_"):
        return False
    return reflected or built_on(item, target_db.engine.dialect.name)


def run_migrations_offline():
    context.configure(
        url=str(target_db.engine.url),
        target_metadata=target_db.metadata,
        literal_binds=True,
        render_item=render_item,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def skip_empty(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", skip_empty)
    conf_args.setdefault("render_item", render_item)
    conf_args.setdefault("compare_type", True)
    conf_args.setdefault("include_object", include_object)
    with target_db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_db.metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()
        if connection.dialect.name == "sqlite":
            # What the migrations wrote goes into the database file and the write-ahead log
            # is given back: a new programme's first upgrade leaves no megabytes of log on a
            # small disk.
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
