"""Device states and the legal moves between them (DESIGN.md, "Device states")."""

import contextlib
from datetime import date

from tracker.devices.models import STATUSES
from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.timezone import format_day

STATUS_LABELS = {
    "in_stock": _l("In stock"),
    "reserved": _l("Reserved"),
    "in_transit": _l("In transit"),
    "delivered": _l("Delivered"),
    "on_loan": _l("On loan"),
    "returned": _l("Returned"),
    "faulty": _l("Faulty"),
    "lost": _l("Lost"),
}

CONDITION_LABELS = {
    "new": _l("New"),
    "good": _l("Good"),
    "fair": _l("Fair"),
    "damaged": _l("Damaged"),
}

EVENT_LABELS = {
    "registered": _l("Registered"),
    "tagged": _l("Tagged"),
    "label_replaced": _l("Label replaced"),
    "reserved": _l("Reserved for a school"),
    "released": _l("Reservation released"),
    "packed": _l("Packed"),
    "unpacked": _l("Taken out of a delivery"),
    "dispatched": _l("Dispatched"),
    "recalled": _l("Brought back from transit"),
    "scanned": _l("Scanned"),
    "delivered": _l("Delivered"),
    "on_loan": _l("On loan"),
    "returned": _l("Returned by the school"),
    "restocked": _l("Back in stock"),
    "reported_faulty": _l("Reported faulty"),
    "repaired": _l("Repaired"),
    "reported_lost": _l("Reported lost"),
    "found": _l("Found"),
    "edited": _l("Edited"),
    "corrected_delivered": _l("Hand-over corrected: delivered"),
    "corrected_refused": _l("Hand-over corrected: not received, back to its school's reservation"),
    "lent": _l("Lent to a borrower"),
    "loan_returned": _l("Brought back by its borrower"),
    "counted": _l("Found at a count"),
    "back_from_repair": _l("Back from repair, at its school"),
    "replacement_for": _l("Sent to a school to replace a tablet"),
    "replaced_by": _l("Replaced by another tablet"),
    "transferred_out": _l("Scanned out of its school, on its way to another"),
    "opening": _l("Recorded when the programme moved in"),
    "sent_to_depot": _l("Sent to another depot"),
    "received_at_depot": _l("Received at a depot"),
}

# The events that mean someone had the tablet in hand: they set its `last_seen_at`.
SIGHTINGS = frozenset(
    {
        "registered",
        "tagged",
        "label_replaced",
        "packed",
        "scanned",
        "delivered",
        "returned",
        "restocked",
        "repaired",
        "found",
        "corrected_delivered",
        "lent",
        "loan_returned",
        "counted",
        "back_from_repair",
        "replacement_for",
        "transferred_out",
        "sent_to_depot",
        "received_at_depot",
    }
)

# Why the tracker itself moved a tablet: stored as these codes in the event's details
# ("reason"), and put in words when read, in the reader's language (never the actor's).
EVENT_REASONS = {
    "missing": _l("missing at the hand-over"),
    "damaged": _l("damaged at the hand-over"),
    "refused": _l("refused by the school"),
    "plan_cancelled": _l("plan cancelled"),
    "plan_closed": _l("plan closed"),
    "quantity_lowered": _l("plan quantity lowered"),
    "swapped_out": _l("swapped out"),
    "handover_corrected": _l("hand-over corrected"),
    "missing_at_count": _l("not found at a count"),
    "missing_at_depot": _l("not found when its move reached the depot"),
}


def event_note(details: dict | None) -> str:
    """What an event's line says beside its type: the reason in words, then the person's note
    (for a tablet recorded when the programme moved in: since when, received by whom, the
    state the list gave)."""
    details = details or {}
    reason = EVENT_REASONS.get(details.get("reason") or "")
    opening = []
    if since := details.get("since"):
        with contextlib.suppress(ValueError):
            opening.append(
                _("at its school since %(day)s", day=format_day(date.fromisoformat(since)))
            )
    if received := details.get("received_by"):
        opening.append(_("received by %(name)s", name=received))
    if state := OPENING_STATE_LABELS.get(details.get("state") or ""):
        opening.append(str(state))
    return " — ".join(str(part) for part in (reason, *opening, details.get("note")) if part)


# The state an opening balance gave where the tracker records another (a loan's borrower is
# named at the school's desk; a tablet in repair is faulty with its case).
OPENING_STATE_LABELS = {
    "on_loan": _l("on loan when the programme moved in"),
    "in_repair": _l("in repair when the programme moved in"),
}
_EVERY = frozenset(STATUSES)
# Handed over to its school: there, or lent from it to a pupil or teacher. What a plan,
# a school's progress and a count take as delivered.
HANDED_OVER = ("delivered", "on_loan")

# event type -> (states it may start from, state it leads to)
MOVES: dict[str, tuple[frozenset[str], str]] = {
    "reserved": (frozenset({"in_stock"}), "reserved"),
    "released": (frozenset({"reserved"}), "in_stock"),
    "dispatched": (frozenset({"reserved"}), "in_transit"),
    "recalled": (frozenset({"in_transit"}), "reserved"),
    "delivered": (frozenset({"in_transit"}), "delivered"),
    "returned": (frozenset({"delivered"}), "returned"),
    "restocked": (frozenset({"returned"}), "in_stock"),
    "reported_faulty": (_EVERY - {"faulty"}, "faulty"),
    "repaired": (frozenset({"faulty"}), "in_stock"),
    "reported_lost": (_EVERY - {"lost"}, "lost"),
    "found": (frozenset({"lost"}), "in_stock"),
    # A confirmed hand-over corrected by the office (deliveries.handover.correct_handover):
    # new events, the earlier ones stay.
    "corrected_delivered": (frozenset({"lost", "faulty", "reserved"}), "delivered"),
    "corrected_refused": (frozenset({"delivered", "lost", "faulty"}), "reserved"),
    # Lent by the school to a pupil or teacher (tracker.loans), and back at the school.
    "lent": (frozenset({"delivered"}), "on_loan"),
    "loan_returned": (frozenset({"on_loan"}), "delivered"),
    # Repairs (tracker.repairs): repaired, back at the school it broke at; or a tablet from
    # stock sent to a school in place of one beyond repair.
    "back_from_repair": (frozenset({"faulty"}), "delivered"),
    "replacement_for": (frozenset({"in_stock"}), "delivered"),
    # A transfer (tracker.transfers): scanned out of its school, on the road to the next.
    "transferred_out": (frozenset({"delivered"}), "in_transit"),
    # Stock moved between depots (tracker.deliveries.moves): scanned out, scanned in.
    "sent_to_depot": (frozenset({"in_stock"}), "in_transit"),
    "received_at_depot": (frozenset({"in_transit"}), "in_stock"),
}


def moves_from(status: str) -> list[str]:
    """The event types that may happen to a device in `status`, in a stable order."""
    return [event for event, (sources, _target) in MOVES.items() if status in sources]


def clears_placement(event_type: str, before: str) -> bool:
    """Whether a move takes a device off its school and allocation.

    Back on the shelf, or out of a reservation that another device must now fill.
    """
    _sources, target = MOVES[event_type]
    return target == "in_stock" or (before == "reserved" and target in ("faulty", "lost"))
