"""stored sentences become what they say: a message and its values, said again in the
language of whoever reads them (tracker.i18n.kept / said). What is stored today is read
back against the catalogues (English, French, Arabic) and converted where recognised; a
text that matches no message of ours (a server's answer) stays as it is, shown as written.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06

"""

import json
import re
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from babel.messages.pofile import read_po

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

CATALOGUES = Path(__file__).resolve().parents[2] / "tracker" / "translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
LOGGED = {
    "logged (no SMTP server set)": "Written to the server's log only: no e-mail server is "
    "set up yet.",
    "logged (no SMS gateway set)": "Written to the server's log only: no SMS gateway is set "
    "up yet.",
}
CHUNK = 1000


def _pattern(text: str) -> re.Pattern | None:
    parts, names, last = [], set(), 0
    for match in PLACEHOLDER.finditer(text):
        if match.group(1) in names:  # the same value twice: no named group twice
            return None
        names.add(match.group(1))
        parts += [re.escape(text[last : match.start()]), f"(?P<{match.group(1)}>.+?)"]
        last = match.end()
    parts.append(re.escape(text[last:]))
    return re.compile("".join(parts).replace("%%", "%") + r"\Z", re.S)


class Recogniser:
    """Which message of ours a stored text is, in any of the three languages."""

    def __init__(self):
        self.plain: dict[str, dict] = {}  # a text with no values: found by itself
        self.patterns: list[tuple[re.Pattern, dict]] = []
        for language in ("en", "fr", "ar"):
            path = CATALOGUES / language / "LC_MESSAGES" / "messages.po"
            with path.open("rb") as po:
                catalogue = read_po(po, locale=language)
            for message in catalogue:
                if not message.id:
                    continue
                if isinstance(message.id, tuple):
                    singular, plural = message.id
                    strings = message.string if isinstance(message.string, tuple) else ()
                    forms = [f for f in (*strings, singular, plural) if f]
                    kept = {"m": singular, "p": plural}
                else:
                    forms = [message.string or message.id, message.id]
                    kept = {"m": message.id}
                for form in dict.fromkeys(forms):
                    if "%(" not in form:
                        self.plain.setdefault(form, kept)
                    elif (pattern := _pattern(form)) is not None:
                        self.patterns.append((pattern, kept))

    def kept(self, text):
        if not isinstance(text, str) or not text or text.startswith('{"m"'):
            return None
        if text in LOGGED:
            return {"m": LOGGED[text]}
        if text in self.plain:
            return dict(self.plain[text])
        for pattern, kept in self.patterns:
            match = pattern.match(text)
            if match is None:
                continue
            values = match.groupdict()
            found = dict(kept)
            if "p" in found:
                number = values.pop("num", None)
                if number is None or not number.isdigit():
                    continue
                found["n"] = int(number)
            if values:
                found["v"] = values
            return found
        return None


def _as_text(kept: dict, limit: int) -> str | None:
    text = json.dumps(kept, ensure_ascii=False)
    return text if len(text) <= limit else None


def _texts(bind, recogniser, table: str, column: str, where: str, limit: int) -> None:
    last = 0
    while True:
        rows = bind.execute(
            sa.text(
                f"SELECT id, {column} FROM {table} WHERE id > :last AND {where} "  # noqa: S608  (this file's own table names)
                f"ORDER BY id LIMIT {CHUNK}"
            ),
            {"last": last},
        ).all()
        if not rows:
            return
        for row_id, text in rows:
            kept = recogniser.kept(text)
            stored = _as_text(kept, limit) if kept else None
            if stored is not None:
                bind.execute(
                    sa.text(f"UPDATE {table} SET {column} = :stored WHERE id = :id"),  # noqa: S608  (this file's own table names)
                    {"stored": stored, "id": row_id},
                )
        last = rows[-1][0]


def _json_lists(bind, recogniser, table: str, column: str, key: str) -> None:
    last = 0
    while True:
        rows = bind.execute(
            sa.text(
                f"SELECT id, {column} FROM {table} WHERE id > :last "  # noqa: S608  (this file's own table names)
                f"AND {column} IS NOT NULL ORDER BY id LIMIT {CHUNK}"
            ),
            {"last": last},
        ).all()
        if not rows:
            return
        for row_id, entries in rows:
            entries = json.loads(entries) if isinstance(entries, str) else entries
            if not entries:
                continue
            changed = False
            for entry in entries:
                kept = recogniser.kept(entry.get(key)) if isinstance(entry, dict) else None
                if kept:
                    entry[key], changed = kept, True
            if changed:
                bind.execute(
                    sa.text(f"UPDATE {table} SET {column} = :stored WHERE id = :id"),  # noqa: S608  (this file's own table names)
                    {"stored": json.dumps(entries, ensure_ascii=False), "id": row_id},
                )
        last = rows[-1][0]


def upgrade():
    bind = op.get_bind()
    recogniser = Recogniser()
    # A scan's or an action's refusal, replayed to a resend; what the workers said.
    _texts(bind, recogniser, "sync_actions", "message", "outcome = 'rejected'", 500)
    _texts(bind, recogniser, "jobs", "failure", "failure <> ''", 100_000)
    _texts(bind, recogniser, "import_batches", "failure", "failure <> ''", 100_000)
    _texts(bind, recogniser, "message_attempts", "detail", "detail LIKE 'logged (%'", 500)
    _texts(bind, recogniser, "outbox_messages", "last_error", "last_error <> ''", 500)
    # The codes refused on a delivery, and an import's problems, each with its reason.
    _json_lists(bind, recogniser, "deliveries", "unexpected", "reason")
    _json_lists(bind, recogniser, "import_batches", "errors", "reason")


def downgrade():
    """Kept messages read as they are (in English, with their values) by older code."""
    bind = op.get_bind()

    def english(kept: dict) -> str:
        values = {k: english(v) if isinstance(v, dict) else v for k, v in kept.get("v", {}).items()}
        text = kept["p"] if "p" in kept and kept.get("n") != 1 else kept["m"]
        try:
            return text % {"num": kept.get("n"), **values}
        except (KeyError, TypeError, ValueError):
            return text

    for table, column in (
        ("sync_actions", "message"),
        ("jobs", "failure"),
        ("import_batches", "failure"),
        ("message_attempts", "detail"),
        ("outbox_messages", "last_error"),
    ):
        rows = bind.execute(
            sa.text(f"SELECT id, {column} FROM {table} WHERE {column} LIKE '{{\"m\"%'")  # noqa: S608  (this file's own table names)
        ).all()
        for row_id, text in rows:
            try:
                plain = english(json.loads(text))
            except ValueError:
                continue
            bind.execute(
                sa.text(f"UPDATE {table} SET {column} = :plain WHERE id = :id"),  # noqa: S608  (this file's own table names)
                {
                    "plain": plain[:500]
                    if column in ("message", "detail", "last_error")
                    else plain,
                    "id": row_id,
                },
            )
