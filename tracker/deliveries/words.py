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


def status_text(status: str) -> str:
    return str(DELIVERY_STATUS_LABELS.get(status, status)).lower()
