"""codes, not words: the reasons the tracker wrote into device events in the actor's language
("Endommagée", "تالفة", "plan annulé") become codes, put in words when read

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

The history is append-only (a PostgreSQL trigger refuses UPDATE on device_events). This
one-time rewrite of words the tracker itself wrote, never a person's note, lifts the
trigger for its own transaction and puts it back.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Every word the tracker stored for a reason, in English, French and Arabic, and its code.
WORDS = {
    "missing": ("Missing from the box", "Absente du carton", "مفقودة من الصندوق"),
    "damaged": ("Damaged", "Endommagée", "تالفة"),
    "refused": ("Refused by the school", "Refusée par l'école", "رفضتها المدرسة"),
    "plan_cancelled": ("plan cancelled", "plan annulé", "أُلغيت الخطة"),
    "plan_closed": ("plan closed", "plan clôturé", "الخطة مغلقة"),
    "quantity_lowered": ("plan quantity lowered", "quantité du plan réduite", "خُفّضت كمية الخطة"),
    "swapped_out": ("swapped out", "remplacée", "استُبدلت"),
}
CODES = {word: code for code, words in WORDS.items() for word in words}
TYPES = ("released", "reported_faulty", "reported_lost", "recalled")
BATCH = 1000

events = sa.table(
    "device_events",
    sa.column("id", sa.Integer),
    sa.column("type", sa.String),
    sa.column("details", sa.JSON),
)


def upgrade():
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    if postgresql:
        op.execute("ALTER TABLE device_events DISABLE TRIGGER device_events_append_only")
    last = 0
    while True:
        rows = bind.execute(
            sa.select(events.c.id, events.c.details)
            .where(
                events.c.id > last,
                events.c.type.in_(TYPES),
                sa.cast(events.c.details, sa.Text).like('%"note"%'),
            )
            .order_by(events.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        last = rows[-1].id
        for event_id, details in rows:
            code = CODES.get((details or {}).get("note"))
            if code and "reason" not in details:
                kept = {key: value for key, value in details.items() if key != "note"}
                bind.execute(
                    sa.update(events)
                    .where(events.c.id == event_id)
                    .values(details={**kept, "reason": code})
                )
    if postgresql:
        op.execute("ALTER TABLE device_events ENABLE TRIGGER device_events_append_only")


def downgrade():
    """The codes stay: they read in every language, and the words were one person's."""
