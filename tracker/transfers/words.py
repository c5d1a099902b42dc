"""The words for the transfers' codes, in the reader's language."""

from tracker.i18n import lazy_gettext as _l

TRANSFER_STATE_LABELS = {
    "proposed": _l("Proposed"),
    "submitted": _l("Waiting for approval"),
    "approved": _l("Approved: to scan out at the first school"),
    "on_the_way": _l("On its way"),
    "cancelled": _l("Cancelled"),
}
REASON_LABELS = {"surplus": _l("Tablets idle for a year"), "by_hand": _l("By hand")}
