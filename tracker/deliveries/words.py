"""Words people read for delivery states, item outcomes and reasons for missing tablets."""

from tracker.i18n import lazy_gettext as _l

DELIVERY_STATUS_LABELS = {
    "planned": _l("Planned"),
    "packed": _l("Packed"),
    "dispatched": _l("On the road"),
    "delivered": _l("Delivered"),
    "partially_delivered": _l("Partly delivered"),
    "failed": _l("Failed"),
    "cancelled": _l("Cancelled"),
}
ITEM_STATUS_LABELS = {
    "expected": _l("To pack"),
    "packed": _l("In the box"),
    "scanned": _l("Scanned at the school"),
    "delivered": _l("Delivered"),
    "missing": _l("Missing from the box"),
    "damaged": _l("Damaged"),
    "refused": _l("Refused by the school"),
    "removed": _l("Taken off"),
}
# Why a tablet on the delivery was not handed over (the hand-over asks one per tablet).
MISSING_REASON_LABELS = {
    "missing": _l("Missing from the box"),
    "damaged": _l("Damaged"),
    "refused": _l("Refused by the school"),
}


# Why a line left its delivery, when its state does not say it already.
DISCREPANCY_LABELS = {"failed": _l("the delivery failed"), **MISSING_REASON_LABELS}


def discrepancy_text(status: str, discrepancy: str | None) -> str:
    """The words for a line's discrepancy (a code), or "" when its state says it all; text
    typed by a person (older rows) is shown as it is."""
    if not discrepancy or discrepancy == status or status == "delivered":
        return ""
    return str(DISCREPANCY_LABELS.get(discrepancy, discrepancy))


def status_text(status: str) -> str:
    return str(DELIVERY_STATUS_LABELS.get(status, status)).lower()
