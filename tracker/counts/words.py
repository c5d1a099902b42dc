"""The words for the counts' codes, in the reader's language."""

from tracker.i18n import lazy_gettext as _l

SCOPE_LABELS = {
    "school": _l("One school"),
    "province": _l("A province"),
    "region": _l("A region"),
    "programme": _l("The whole programme"),
    "depot": _l("A depot"),
}
COUNT_STATE_LABELS = {
    "open": _l("Open"),
    "closing": _l("Waiting for a manager to close it"),
    "closed": _l("Closed"),
}
