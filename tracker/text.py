"""Text from users and from files: what may be stored, and what a workbook can hold.

A control character (other than tab and newline) in a name is a mistake or an attack: it
breaks XML workbooks and terminals. Forms, the API and imports refuse it naming the field;
writers of files drop whatever XML cannot hold, so old values in the append-only history
always export.
"""

import re

from tracker.errors import ValidationFailed
from tracker.i18n import gettext as _

# C0 controls but tab (9), newline (10) and carriage return (13, which a browser sends
# inside a textarea's line ends), DEL, and the C1 controls.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# What XML 1.0 cannot hold at all (openpyxl refuses to write it): C0 controls but tab, newline
# and CR, lone surrogates and the two non-characters U+FFFE and U+FFFF.
NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def has_control_characters(value: str) -> bool:
    return bool(CONTROL_CHARACTERS.search(value))


def refuse_control_characters(value: str, field: str, what: str | None = None) -> str:
    """`value` unchanged, or ValidationFailed naming the field when it holds a control
    character (tab and newline are allowed)."""
    if CONTROL_CHARACTERS.search(value):
        raise ValidationFailed(
            _(
                "%(field)s contains a control character; remove it and try again.",
                field=what or field,
            ),
            field=field,
            reason=_("contains a control character"),
        )
    return value


def xml_safe(value):
    """A cell value a workbook can hold: strings lose what XML cannot carry."""
    if isinstance(value, str) and NOT_IN_XML.search(value):
        return NOT_IN_XML.sub("", value)
    return value
