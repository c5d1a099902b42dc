"""Each month, each donor's people hear what their donations became: one e-mail per
donation, in the reader's language, its figures in a few lines, the donor report's PDF
summary attached (made when the message leaves), and the link to the live page. Each of
them turns it off on *My messages*; the programme may turn it off for everyone
(TRACKER_MESSAGES_OFF=donor_monthly).
"""

from datetime import datetime, time

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import force_locale

from tracker.auth.models import User
from tracker.auth.permissions import users_who_may
from tracker.donations import donors
from tracker.donations.models import Donation
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.jobs.queue import periodic
from tracker.jobs.services import work_context
from tracker.messages.models import OutboxMessage
from tracker.messages.services import attachment_maker, message_kind, queue_message
from tracker.reports.donor import donor_pdf
from tracker.reports.donor_view import DonorView, states_of
from tracker.timezone import local_today, programme_zone
from tracker.transaction import transaction

DONOR_MONTHLY = message_kind(
    "donor_monthly", _l("Each month: what our donated tablets became"), "donor.home"
)


@attachment_maker("donor_summary")
def donor_summary(donation_id: int, language: str) -> tuple[str, str, bytes]:
    donation = db.session.get(Donation, donation_id)
    with force_locale(language):
        pdf = donor_pdf(donation_id, people=False)  # the donor's own copy: no one named
        return f"{donation.reference}-report.pdf", "application/pdf", pdf


def _sent_this_month(today) -> bool:
    """Whether this month's letters are in the outbox already (the programme's month)."""
    since = datetime.combine(today.replace(day=1), time.min, tzinfo=programme_zone())
    found = sa.select(OutboxMessage.id).where(
        OutboxMessage.kind == DONOR_MONTHLY, OutboxMessage.created_at >= since
    )
    return db.session.scalar(found.limit(1)) is not None


def letter(user: User, donation: Donation, states: dict[str, int]) -> tuple[str, str]:
    """The subject and the body of one donation's letter, in the reader's language."""
    view = DonorView(donation=donation, states=states)
    link = current_app.config["BASE_URL"] + url_for("donors.donation", donation_id=donation.id)
    subject = _("%(ref)s: what your tablets became this month", ref=donation.reference)
    body = "\n".join(
        [
            _("Donation %(ref)s of %(donor)s.", ref=donation.reference, donor=donation.donor.name),
            "",
            _("Tablets registered: %(n)s", n=view.registered),
            _("Handed over to schools: %(n)s", n=view.delivered),
            _("Lent to pupils and teachers now: %(n)s", n=view.on_loan),
            _("In repair: %(n)s", n=view.in_repair),
            _("Lost: %(n)s", n=view.lost_total),
            "",
            _("The report is attached; the live figures are here: %(link)s", link=link),
            _("To stop these letters, sign in and open My messages."),
        ]
    )
    return subject, body


@periodic("messages.donor_monthly", minute="0", hour="6", day="1")  # 07:00 in Morocco
def send_donor_letters(force: bool = False) -> int:
    """Queue this month's letters (once a month: every worker's scheduler asks, the first
    sends; `force` sends again, from the command line); the number queued."""
    queued = 0
    with work_context(), transaction():
        if not force and _sent_this_month(local_today()):
            return 0
        # Only who opened their account: a link never used may have gone to a wrong address.
        people = donors.readers(
            [user for user in users_who_may("donor.home") if user.donor_id is not None]
        )
        donations: dict[int, list[Donation]] = {}
        for user in people:
            if user.donor_id not in donations:
                donations[user.donor_id] = list(
                    db.session.scalars(
                        sa.select(Donation)
                        .where(Donation.donor_id == user.donor_id)
                        .order_by(Donation.id)
                    )
                )
        figures = {d.id: states_of(d.id) for found in donations.values() for d in found}
        for user in people:
            language = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
            for donation in donations[user.donor_id]:
                with force_locale(language):
                    subject, body = letter(user, donation, figures[donation.id])
                message = queue_message(
                    DONOR_MONTHLY,
                    channel="email",
                    recipient=user.email,
                    user=user,
                    language=language,
                    subject=subject,
                    body=body,
                    attachment="donor_summary",
                    attachment_ref=donation.id,
                )
                queued += message is not None
    return queued
