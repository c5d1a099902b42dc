"""The Alembic migrations build exactly the schema the models describe, and undo it."""

import json

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


def test_reasons_stored_as_words_become_codes_read_in_every_language(empty_database_url):
    """Before 0011 the tracker wrote a reason in the actor's language ("Endommagée", "تالفة");
    after it, the history holds the code and each reader sees their own words. A person's
    own note stays as it was."""
    from datetime import date

    from flask_babel import force_locale

    from tracker.devices.models import DeviceEvent
    from tracker.devices.states import event_note
    from tracker.donations.services import create_donation

    app = make_app(empty_database_url)
    with app.app_context():
        upgrade(revision="0010")
        donation = create_donation(
            reference="DON-1", donor_name="Donor", received_on=date(2020, 1, 1), quantity=3
        )
        words = {"SN1": "Endommagée", "SN2": "تالفة", "SN3": "Screen cracked"}
        # As the tracker of revision 0010 wrote them (today's services write later columns).
        for n, (serial, note) in enumerate(words.items(), start=1):
            db.session.execute(
                sa.text(
                    "INSERT INTO devices (id, asset_tag, qr_token, serial, model, donation_id,"
                    " status, condition, notes, version, created_at, updated_at) VALUES (:n,"
                    " :tag, :token, :serial, '', :donation, 'faulty', 'new', '', 2,"
                    " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                ),
                {
                    "n": n,
                    "tag": f"TAB-{n:05d}",
                    "token": f"t{n}",
                    "serial": serial,
                    "donation": donation.id,
                },
            )
            db.session.execute(
                sa.text(
                    "INSERT INTO device_events (device_id, type, occurred_at, from_status,"
                    " to_status, details) VALUES (:n, 'reported_faulty', '2026-01-01 00:00:00',"
                    " 'in_stock', 'faulty', :details)"
                ),
                {"n": n, "details": json.dumps({"note": note})},
            )
        db.session.commit()
        upgrade()
        rows = db.session.scalars(
            sa.select(DeviceEvent)
            .where(DeviceEvent.type == "reported_faulty")
            .order_by(DeviceEvent.device_id)
        ).all()
        assert [row.details.get("reason") for row in rows] == ["damaged", "damaged", None]
        assert [row.details.get("note") for row in rows] == [None, None, "Screen cracked"]
        with app.test_request_context(), force_locale("en"):
            assert event_note(rows[1].details) == "damaged at the hand-over"
        with app.test_request_context(), force_locale("ar"):
            assert event_note(rows[2].details) == "Screen cracked"
        db.session.remove()
        downgrade(revision="base")
        db.engine.dispose()
