"""Each morning, the office hears of the deliveries past their planned day (tracker/messages).

One e-mail per coordinator (and admin) who has not turned it off, in their language,
listing the first 30 with their page's address; nothing is sent on a morning with none.
"""

from datetime import datetime, time

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from tracker.auth.permissions import users_who_may
from tracker.dashboard.alerts import alert_counts, alerts
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.i18n import ngettext
from tracker.jobs.queue import periodic
from tracker.jobs.services import work_context
from tracker.messages.models import OutboxMessage
from tracker.messages.services import message_kind, queue_message
from tracker.schools.reach import reach_of
from tracker.timezone import local_today, programme_zone
from tracker.transaction import transaction

OVERDUE_DIGEST = message_kind(
    "overdue_digest",
    _l("Each morning: the deliveries past their planned day"),
    "plans.plan_deliveries",
)
LISTED = 30


def _sent_today(today) -> bool:
    """Whether this morning's digest is already in the outbox (the programme's day)."""
    since = datetime.combine(today, time.min, tzinfo=programme_zone())
    return (
        db.session.scalar(
            sa.select(OutboxMessage.id)
            .where(OutboxMessage.kind == OVERDUE_DIGEST, OutboxMessage.created_at >= since)
            .limit(1)
        )
        is not None
    )


@periodic("messages.overdue_digest", minute="0", hour="6")  # 07:00 in Morocco (UTC+1)
def send_overdue_digest() -> int:
    """Queue the morning's digest; the number of e-mails queued."""
    today = local_today()
    queued = 0
    with work_context(), transaction():
        if _sent_today(today):
            return 0  # every worker's scheduler asks; the first one sends
        if not alert_counts(today)["overdue"]:
            return 0
        base = current_app.config["BASE_URL"]
        seen: dict = {}  # each office's figures, asked once per reach
        for user in users_who_may("plans.plan_deliveries"):
            reach = reach_of(user)  # each hears of their own part of the programme
            if reach not in seen:
                seen[reach] = (
                    alert_counts(today, reach)["overdue"],
                    alerts("overdue", today, limit=LISTED, reach=reach),
                )
            total, late = seen[reach]
            if not total:
                continue
            language = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
            with force_locale(language):
                lines = [
                    ngettext(
                        "%(num)s delivery is past its planned day:",
                        "%(num)s deliveries are past their planned day:",
                        total,
                    ),
                    "",
                    *(f"- {alert.title} ({alert.when}) {base}{alert.url}" for alert in late),
                ]
                if total > len(late):
                    lines.append(
                        _(
                            "…and %(n)s more: %(url)s",
                            n=total - len(late),
                            url=f"{base}/alerts?kind=overdue",
                        )
                    )
                message = queue_message(
                    OVERDUE_DIGEST,
                    channel="email",
                    recipient=user.email,
                    user=user,
                    language=language,
                    subject=_("Deliveries past their planned day: %(n)s", n=total),
                    body="\n".join(lines),
                )
                queued += message is not None
    return queued
