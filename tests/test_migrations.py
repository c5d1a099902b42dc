"""The Alembic migrations build exactly the schema the models describe, and undo it."""

import json
from types import SimpleNamespace

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

    from flask_babel import force_locale

    from tracker.devices.models import DeviceEvent
    from tracker.devices.states import event_note

    app = make_app(empty_database_url)
    with app.app_context():
        upgrade(revision="0010")
        # As revision 0010 holds them (today's model has later columns).
        db.session.execute(
            sa.text(
                "INSERT INTO donors (id, name, country, contact, created_at)"
                " VALUES (1, 'Donor', '', '', '2026-01-01 00:00:00')"
            )
        )
        db.session.execute(
            sa.text(
                "INSERT INTO donations (id, reference, title, donor_id, received_on,"
                " quantity_promised, notes, created_at) VALUES (1, 'DON-1', '', 1,"
                " '2020-01-01', 3, '', '2026-01-01 00:00:00')"
            )
        )
        donation = SimpleNamespace(id=1)
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


def test_stored_sentences_become_what_they_say_and_are_read_in_the_readers_language(
    empty_database_url,
):
    """Before 0028 a refusal, an import's problem or the outbox's note was stored as the
    sentence, in the language of whoever caused it; after it each is a message and its
    values, read by each reader in their own language. A server's own answer stays as it is."""
    from flask_babel import force_locale

    from tracker.api.models import SyncAction
    from tracker.deliveries.models import Delivery
    from tracker.i18n import said
    from tracker.messages.models import MessageAttempt

    app = make_app(empty_database_url)
    with app.app_context():
        upgrade(revision="0027")
        # 0028 changes no column: today's services write the rows as 0027 held them.
        from tracker.messages.models import OutboxMessage

        # (A user as 0027 held it: 0031 added their areas.)
        db.session.execute(
            sa.text(
                "INSERT INTO users (id, email, name, role, password_hash, active,"
                " session_version, created_at) VALUES (1, 'old@example.org', '', 'admin',"
                " 'x', true, 1, '2026-01-01 00:00:00')"
            )
        )
        user = SimpleNamespace(id=1)
        # (A school as 0027 held it: 0030 added columns the model now writes.)
        db.session.execute(
            sa.text(
                "INSERT INTO schools (id, code, name_fr, name_ar, region, province, commune,"
                " address, contact_name, contact_phone, contact_email, contact_language,"
                " enrolment, need, created_at, updated_at) VALUES (1, 'S1', 'École', '', 'R',"
                " 'P', '', '', '', '', '', 'fr', 0, 0, '2026-01-01 00:00:00',"
                " '2026-01-01 00:00:00')"
            )
        )
        school = SimpleNamespace(id=1)
        unexpected = [{"code": "ZZZ", "reason": "Aucune tablette n'a le code ZZZ."}]
        # (A delivery as 0027 held it: 0031 added the depot it left from.)
        db.session.execute(
            sa.text(
                "INSERT INTO deliveries (id, school_id, status, created_at, recipient_name,"
                " recipient_role, notes, handover_via, code_sealed, code_hash, code_salt,"
                " code_tries, handover_confirmation, no_code_reason, failure_reason,"
                " receipt_refused, unexpected) VALUES (1, :school, 'dispatched',"
                " '2026-01-01 00:00:00', '', '', '', '', '', '', '', 0, '', '', '', '',"
                " :unexpected)"
            ),
            {"school": school.id, "unexpected": json.dumps(unexpected)},
        )
        db.session.add(
            SyncAction(
                id=1,
                client_id="c1",
                user_id=user.id,
                type="scan",
                outcome="rejected",
                message="Aucune tablette n'a le code ABC.",
            )
        )
        message = OutboxMessage(
            kind="x", channel="email", recipient="a@b.c", language="fr", body="b", state="sent"
        )
        db.session.add(message)
        db.session.flush()
        db.session.add(
            MessageAttempt(
                id=1, message_id=message.id, ok=True, detail="logged (no SMTP server set)"
            )
        )
        db.session.add(
            MessageAttempt(id=2, message_id=message.id, ok=False, detail="550 mailbox unavailable")
        )
        db.session.commit()
        upgrade()
        db.session.expire_all()
        with app.test_request_context(), force_locale("ar"):
            reason = db.session.get(Delivery, 1).unexpected[0]["reason"]
            assert said(reason) == "لا توجد لوحة بالرمز ZZZ."
            assert said(db.session.get(SyncAction, 1).message) == "لا توجد لوحة بالرمز ABC."
            logged, answer = (said(db.session.get(MessageAttempt, n).detail) for n in (1, 2))
            assert "SMTP" not in logged and "logged" not in logged
            assert answer == "550 mailbox unavailable"
        with app.test_request_context(), force_locale("en"):
            assert said(db.session.get(SyncAction, 1).message) == "No tablet has the code ABC."
        db.session.remove()
        # Undone, older code reads the English sentence.
        downgrade(revision="0027")
        assert db.session.get(SyncAction, 1).message == "No tablet has the code ABC."
        for model in (MessageAttempt, OutboxMessage, SyncAction, Delivery):
            db.session.execute(sa.delete(model))
        db.session.commit()
        db.session.remove()
        downgrade(revision="base")
        db.engine.dispose()
