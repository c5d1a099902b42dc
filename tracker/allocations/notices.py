"""What the approvers are told of a plan: that one waits for them (tracker/messages)."""

from flask import current_app
from flask_babel import force_locale

from tracker.auth.permissions import users_who_may
from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.i18n import ngettext
from tracker.messages.services import message_kind, queue_message

PLAN_SUBMITTED = message_kind("plan_submitted", _l("A plan waits for my approval"), "plans.approve")


def plan_submitted(plan, tablets: int, schools: int) -> None:
    """Every approver but its submitter (four eyes): its name, its size, its page."""
    link = f"{current_app.config['BASE_URL']}/plans/{plan.id}"
    for user in users_who_may("plans.approve"):
        if user.id == plan.submitted_by_id:
            continue
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
