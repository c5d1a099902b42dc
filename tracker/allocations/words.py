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
# Why a proposal gave no tablet at all (nothing_shared_because), as the plan page says it.
NOTHING_SHARED = {
    "no_school": _l("No school matches the plan's choice."),
    "nothing_asked": _l("The plan asks for no tablet."),
    "no_stock": _l(
        "No tablet is in stock for this plan (its donation has none left): register tablets "
        "or choose another donation."
    ),
    "no_need": _l(
        "None of the chosen schools has a need recorded (every need is 0): import the school "
        "list with a need column, set the needs from the pupils when importing it, or share "
        "by pupils."
    ),
    "no_need_or_pupils": _l(
        "None of the chosen schools has a need or pupils recorded: import the school list "
        "with a need or an enrolment column."
    ),
}
