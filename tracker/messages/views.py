"""My messages (which kinds one gets) and the outbox (what was sent, to whom, what failed)."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tracker.auth.permissions import requires
from tracker.figures import figure
from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.messages import services
from tracker.messages.models import CHANNELS, MESSAGE_STATES
from tracker.transaction import transaction
from tracker.web import labeller, template_helpers

bp = Blueprint("messages", __name__)
STATE_LABELS = {
    "queued": _l("waiting"),
    "sending": _l("being sent"),
    "sent": _l("sent"),
    "failed": _l("failed"),
}
CHANNEL_LABELS = {"email": _l("e-mail"), "sms": _l("SMS")}
assert set(STATE_LABELS) == set(MESSAGE_STATES) and set(CHANNEL_LABELS) == set(CHANNELS)
template_helpers(
    message_state_label=labeller(STATE_LABELS),
    message_channel_label=labeller(CHANNEL_LABELS),
    message_kind_label=lambda kind: services.KINDS[kind].label if kind in services.KINDS else kind,
    message_only_logged=services.only_logged,
)


@bp.route("/account/messages", methods=["GET", "POST"])
@requires("messages.choose")
def mine():
    if request.method == "POST":
        mine = {kind.name for kind in services.kinds_for(current_user)}
        wanted = {kind for kind in request.form.getlist("kind") if kind in mine}
        with transaction():
            services.set_wanted(current_user, wanted)
        flash(_("Saved: you get the messages ticked."), "success")
        return redirect(url_for("messages.mine"))
    off = services.opted_out(current_user.id)
    kinds = [
        (kind, kind.name not in off, services.programme_sends(kind.name))
        for kind in services.kinds_for(current_user)
    ]
    return render_template("messages/mine.html", kinds=kinds)


@bp.route("/admin/messages")
@requires("messages.outbox")
def outbox():
    # A regional office reads what was sent to its schools' staff and to itself.
    messages = services.outbox(people=figure("people_in_reach"))
    attempts = services.attempts_of([message.id for message in messages])
    return render_template("messages/outbox.html", messages=messages, attempts=attempts)
