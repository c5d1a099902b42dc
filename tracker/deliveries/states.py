"""A delivery's states and what can be done to it in each (who may: the permissions).

planned -> packed -> dispatched -> delivered | partially_delivered | failed, and cancelled
before dispatch.
"""

from tracker.auth.models import User
from tracker.auth.permissions import role_can, rule_for
from tracker.deliveries.models import HANDED_OVER, UNDER_WAY, Delivery
from tracker.deliveries.words import status_text
from tracker.errors import IllegalTransition
from tracker.i18n import gettext as _


def may_act(user: User, delivery: Delivery) -> bool:
    """Whether `user` may scan and hand over this delivery (managers only read)."""
    return role_can(user.role, "deliveries.create") or (
        role_can(user.role, "deliveries.assigned") and delivery.assigned_to_id == user.id
    )


# What can be done to a delivery: the states it must be in. Who may do it is the
# permissions' `deliveries.<action>`, and only whoever `may_act` on it (the office, or its
# own agent). The services check the states here; `can(user, "deliveries.pack", delivery)`
# asks both.
DELIVERY_STATES = {
    "pack": ("planned",),
    "finish_packing": ("planned",),
    "dispatch": ("packed",),
    "cancel": ("planned", "packed"),
    "edit": UNDER_WAY,
    "print_labels": ("planned", "packed"),
    "scan_at_school": ("dispatched",),
    "hand_over": ("dispatched",),
    "resend_code": ("dispatched",),
    "report": ("dispatched",),
    "fail": ("dispatched",),
    "take_offline": UNDER_WAY,
    "correct": HANDED_OVER,
}
WAITING_FOR_OFFICE = ("planned", "packed")


def allowed_actions(user: User, delivery: Delivery) -> set[str]:
    """What `user` may do to `delivery` now; `await_packing` when the office has yet to pack
    and dispatch it (and the user is not the office)."""
    acting = may_act(user, delivery)
    allowed = {
        action
        for action, states in DELIVERY_STATES.items()
        if acting and delivery.status in states and role_can(user.role, f"deliveries.{action}")
    }
    if delivery.status in WAITING_FOR_OFFICE and not role_can(user.role, "deliveries.pack"):
        allowed.add("await_packing")
    return allowed


def require_action(delivery: Delivery, action: str, doing: str) -> None:
    """Refuse `action` unless the delivery is in a state the table allows it from."""
    require(delivery, DELIVERY_STATES[action], doing)


def require(delivery: Delivery, states: tuple[str, ...], doing: str) -> None:
    if delivery.status not in states:
        raise IllegalTransition(
            _(
                "%(ref)s cannot be %(doing)s: it is %(state)s.",
                ref=delivery.reference,
                doing=doing,
                state=status_text(delivery.status),
            )
        )


rule_for(Delivery, allowed_actions)
