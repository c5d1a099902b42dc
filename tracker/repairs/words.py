"""The words for the repairs' codes, in the reader's language."""

from tracker.i18n import lazy_gettext as _l

OUTCOME_LABELS = {
    "repaired": _l("Repaired"),
    "replaced": _l("Replaced by another tablet"),
    "beyond_repair": _l("Beyond repair"),
}
