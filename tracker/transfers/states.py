"""What can be done to a transfer now (registered with the permissions, so pages ask
`can(user, "transfers.approve", transfer)`)."""

from tracker.auth.models import User
from tracker.auth.permissions import role_can, rule_for
from tracker.transfers.models import Transfer

ACTIONS = {
    "submit": ("proposed",),
    "approve": ("submitted",),
    "cancel": ("proposed", "submitted", "approved"),
    "scan_out": ("approved",),
}


def allowed_actions(user: User, transfer: Transfer) -> set[str]:
    allowed = {
        action
        for action, states in ACTIONS.items()
        if transfer.status in states and role_can(user.role, f"transfers.{action}")
    }
    if transfer.submitted_by_id == user.id:
        allowed.discard("approve")  # another person approves
    if transfer.delivery_id is not None:
        allowed.discard("cancel")  # its tablets are on their way: hand them over
    if not role_can(user.role, "deliveries.read_all") and transfer.assigned_to_id != user.id:
        allowed.discard("scan_out")  # a field agent carries out their own transfers only
    open_to_assign = transfer.status in ("proposed", "submitted", "approved") or (
        transfer.delivery is not None and transfer.delivery.status == "dispatched"
    )
    if open_to_assign and role_can(user.role, "transfers.assign"):
        allowed.add("assign")
    return allowed


rule_for(Transfer, allowed_actions)
