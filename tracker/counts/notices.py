"""What the approvers are told of a count: that its closing waits for them (tracker/messages).

The office asks to close a count; a manager, not whoever asked, confirms what is missing.
Each manager who reaches the count hears of it, so the second pair of eyes knows it is
wanted (a count's closing is in reach only when all its schools, or its depot, are).
"""

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from tracker.auth.permissions import users_who_may
from tracker.counts.models import Count
from tracker.counts.queries import counts_clause
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.i18n import ngettext
from tracker.messages.services import message_kind, queue_message
from tracker.schools.reach import reach_of

COUNT_CLOSING = message_kind(
    "count_closing", _l("A count's closing waits for my confirmation"), "counts.confirm"
)


def closing_asked(count: Count, not_seen: int) -> int:
    """Every approver who reaches the count but whoever asked: its name, how many tablets
    would be reported lost, its page. How many were told."""
    link = f"{current_app.config['BASE_URL']}/counts/{count.id}"
    told = 0
    for user in users_who_may("counts.confirm"):
        if user.id == count.close_asked_by_id:
            continue
        found = sa.select(Count.id).where(Count.id == count.id, counts_clause(reach_of(user)))
        if db.session.scalar(found) is None:
            continue  # approval follows the office: another region's manager is not asked
        language = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
        with force_locale(language):
            body = ngettext(
                "The count “%(name)s” is done and waits for you to close it: %(num)s tablet "
                "not seen would be reported lost.",
                "The count “%(name)s” is done and waits for you to close it: %(num)s tablets "
                "not seen would be reported lost.",
                not_seen,
                name=count.name,
            )
            message = queue_message(
                COUNT_CLOSING,
                channel="email",
                recipient=user.email,
                user=user,
                language=language,
                subject=_("A count waits for you to close it: %(name)s", name=count.name),
                body=f"{body}\n{link}",
            )
        told += message is not None
    return told
