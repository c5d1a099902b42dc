"""The upload form."""

from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from tracker.forms import Form
from tracker.i18n import lazy_gettext as _l

# What an import read, as its list of imports names it.
KIND_LABELS = {
    "devices": _l("Devices"),
    "schools": _l("Schools"),
    "manifest": _l("Filled manifests"),
}
KIND_CHOICES = [
    SelectChoice("devices", _l("Devices (a donor's packing list)")),
    SelectChoice("schools", _l("Schools (the ministry's list)")),
    SelectChoice("manifest", _l("Filled delivery manifest (received yes/no)")),
]


class ImportForm(Form):
    kind = SelectField(_l("What the file lists"), choices=KIND_CHOICES)
    donation_id = SelectField(
        _l("Donation the devices belong to"), coerce=int, validators=[Optional()]
    )
    file = FileField(_l("Spreadsheet (.xlsx, .ods, .xls or .csv)"), validators=[FileRequired()])
