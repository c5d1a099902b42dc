"""Words people read for plan states and plan history."""

from tracker.i18n import lazy_gettext as _l

PLAN_STATUS_LABELS = {
    "draft": _l("Draft"),
    "submitted": _l("Awaiting approval"),
    "approved": _l("Approved"),
    "partially_fulfilled": _l("Partly delivered"),
    "fulfilled": _l("Delivered"),
    "closed": _l("Closed"),
    "cancelled": _l("Cancelled"),
}
PLAN_ACTION_LABELS = {
    "created": _l("Created"),
    "proposed": _l("Proposal made"),
    "edited": _l("Quantities edited"),
    "submitted": _l("Submitted for approval"),
    "sent_back": _l("Sent back for changes"),
    "approved": _l("Approved; tablets reserved"),
    "quantity_changed": _l("Quantity changed"),
    "partially_fulfilled": _l("First tablets delivered"),
    "fulfilled": _l("Every tablet delivered"),
    "cancelled": _l("Cancelled; tablets back in stock"),
    "closed": _l("Closed"),
}
