"""A plan's states and what can be done to it in each (who may: the permissions).

draft -> submitted -> approved -> (partially) fulfilled -> closed; cancelled from any state
before fulfilled.
"""

from tracker.allocations.models import AllocationPlan
from tracker.allocations.words import PLAN_STATUS_LABELS
from tracker.auth.models import User
from tracker.auth.permissions import role_can, rule_for
from tracker.errors import IllegalTransition
from tracker.i18n import gettext as _

CANCELLABLE = ("draft", "submitted", "approved", "partially_fulfilled")
CHANGEABLE = ("approved", "partially_fulfilled")
CLOSABLE = ("fulfilled", "partially_fulfilled")
PROGRESSING = ("approved", "partially_fulfilled")
# What can be done to a plan: the states it must be in. Who may do it is the
# permissions' `plans.<action>`; `can(user, "plans.approve", plan)` asks both.
PLAN_STATES = {
    "edit": ("draft",),
    "submit": ("draft",),
    "approve": ("submitted",),
    "send_back": ("submitted",),
    "change": CHANGEABLE,
    "plan_deliveries": PROGRESSING,
    "see_deliveries": ("approved", "partially_fulfilled", "fulfilled", "closed"),
    "close": CLOSABLE,
    "cancel": CANCELLABLE,
}


def allowed_actions(user: User, plan: AllocationPlan) -> set[str]:
    """What `user` may do to `plan` now. Whoever submitted a plan may not approve it:
    `await_other_approver` says so instead."""
    allowed = {
        action
        for action, states in PLAN_STATES.items()
        if plan.status in states and role_can(user.role, f"plans.{action}")
    }
    if "approve" in allowed and plan.submitted_by_id == user.id:
        allowed.discard("approve")
        allowed.add("await_other_approver")
    return allowed


def require_action(plan: AllocationPlan, action: str, doing: str) -> None:
    """Refuse `action` unless the plan is in a state the table allows it from."""
    _require(plan, PLAN_STATES[action], doing)


def _require(plan: AllocationPlan, states: tuple[str, ...], doing: str) -> None:
    if plan.status not in states:
        raise IllegalTransition(
            _(
                "The plan “%(name)s” is %(state)s: it cannot be %(doing)s.",
                name=plan.name,
                state=str(PLAN_STATUS_LABELS.get(plan.status, plan.status)).lower(),
                doing=doing,
            )
        )


rule_for(AllocationPlan, allowed_actions)
