"""The words for the loans' codes, in the reader's language."""

from tracker.i18n import lazy_gettext as _l

KIND_LABELS = {"pupil": _l("Pupil"), "teacher": _l("Teacher")}
CONDITION_LABELS = {"good": _l("Good"), "fair": _l("Fair"), "damaged": _l("Damaged")}
ENDING_LABELS = {
    "returned": _l("Brought back"),
    "lost": _l("Reported lost while lent"),
    "faulty": _l("Reported faulty while lent"),
}
