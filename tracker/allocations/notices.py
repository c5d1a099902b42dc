"""What the approvers are told of a plan: that one waits for them (tracker/messages)."""

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from tracker.allocations.models import AllocationPlan
from tracker.allocations.queries import plans_clause
from tracker.auth.permissions import users_who_may
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.i18n import ngettext
from tracker.messages.services import message_kind, queue_message
from tracker.schools.reach import reach_of

PLAN_SUBMITTED = message_kind("plan_submitted", _l("A plan waits for my approval"), "plans.approve")


def plan_submitted(plan, tablets: int, schools: int) -> None:
    """Every approver but its submitter (four eyes): its name, its size, its page."""
    link = f"{current_app.config['BASE_URL']}/plans/{plan.id}"
    for user in users_who_may("plans.approve"):
        if user.id == plan.submitted_by_id:
            continue
        found = sa.select(AllocationPlan.id).where(
            AllocationPlan.id == plan.id, plans_clause(reach_of(user))
        )
        if db.session.scalar(found) is None:
            continue  # approval follows the office: another region's manager is not asked
        language = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
        with force_locale(language):
            body = ngettext(
                "The plan “%(name)s” gives %(num)s tablet to %(schools)s schools and waits "
                "for your approval:",
                "The plan “%(name)s” gives %(num)s tablets to %(schools)s schools and waits "
                "for your approval:",
                tablets,
                name=plan.name,
                schools=schools,
            )
            queue_message(
                PLAN_SUBMITTED,
                channel="email",
                recipient=user.email,
                user=user,
                language=language,
                subject=_("A plan waits for your approval: %(name)s", name=plan.name),
                body=f"{body}\n{link}",
            )
