"""What can be done to a count in each of its states (registered with the permissions, so
pages ask `can(user, "counts.close", count)`)."""

from tracker.auth.models import User
from tracker.auth.permissions import role_can, rule_for
from tracker.counts.models import Count

COUNT_ACTIONS = {
    "scan": ("open",),
    "accept_sighting": ("open",),
    "close": ("open",),
    "confirm": ("closing",),
    "keep_open": ("closing",),
}


def allowed_actions(user: User, count: Count) -> set[str]:
    allowed = {
        action
        for action, states in COUNT_ACTIONS.items()
        if count.status in states and role_can(user.role, f"counts.{action}")
    }
    if "confirm" in allowed and count.close_asked_by_id == user.id:
        allowed.discard("confirm")  # another person confirms
    return allowed


rule_for(Count, allowed_actions)
