"""School rows: the ministry's school list becomes schools; a known code updates its school."""

import re

import sqlalchemy as sa

from tracker.database import utcnow
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.schools.models import School
from tracker.schools.reach import WHOLE, Reach
from tracker.schools.services import (
    FIELDS,
    PlaceSpellings,
    need_from_enrolment,
    normalise_school_fields,
)
from tracker.spreadsheets.headers import Column
from tracker.spreadsheets.importers import Problem, RowImporter, as_text, cell

ARABIC = re.compile(r"[\u0600-\u06ff]")

SCHOOL_COLUMNS = (
    Column(
        "code",
        (
            "code",
            "school code",
            "code établissement",
            "code etablissement",
            "code école",
            "code ecole",
            "code gresa",
            "gresa",
            "code de l'établissement",
            "code massar",
            "رمز المؤسسة",
            "رمز المدرسة",
            "الرمز",
        ),
        required=True,
        label=_l("School code"),
    ),
    Column(
        "name_fr",
        (
            "name",
            "school name",
            "name (french)",
            "nom",
            "nom de l'établissement",
            "nom établissement",
            "établissement",
            "nom fr",
            "nom (français)",
            "nom français",
            "libellé établissement",
            "libellé",
            "libellé de l'établissement",
        ),
        required=True,
        label=_l("Name (French)"),
    ),
    Column(
        "name_ar",
        (
            "arabic name",
            "name (arabic)",
            "nom arabe",
            "nom (arabe)",
            "nom ar",
            "اسم المؤسسة",
            "اسم المدرسة",
            "الاسم",
        ),
        label=_l("Name (Arabic)"),
    ),
    Column(
        "region",
        (
            "region",
            "région",
            "code région",
            "code de la région",
            "aref",
            "académie",
            "académie régionale",
            "الجهة",
            "الأكاديمية",
        ),
        required=True,
        label=_l("Region"),
    ),
    Column(
        "province",
        (
            "province",
            "préfecture",
            "province/préfecture",
            "direction provinciale",
            "dp",
            "direction",
            "délégation",
            "الإقليم",
            "العمالة",
            "الإقليم/العمالة",
            "المديرية الإقليمية",
            "المديرية",
        ),
        label=_l("Province"),
    ),
    Column("commune", ("commune", "municipality", "الجماعة"), label=_l("Commune")),
    Column("address", ("address", "adresse", "العنوان"), label=_l("Address")),
    Column("latitude", ("latitude", "lat", "خط العرض"), label=_l("Latitude")),
    Column("longitude", ("longitude", "lon", "lng", "long", "خط الطول"), label=_l("Longitude")),
    Column(
        "contact_name",
        (
            "contact",
            "contact person",
            "contact name",
            "directeur",
            "directrice",
            "responsable",
            "personne de contact",
            "المدير",
            "المسؤول",
        ),
        label=_l("Contact person"),
    ),
    Column(
        "contact_phone",
        ("phone", "telephone", "téléphone", "tél", "tel", "contact phone", "الهاتف"),
        label=_l("Contact phone"),
    ),
    Column(
        "contact_email",
        ("email", "e-mail", "mail", "courriel", "adresse électronique", "البريد الإلكتروني"),
        label=_l("Contact e-mail"),
    ),
    Column(
        "contact_language",
        ("language", "langue", "langue des messages", "اللغة"),
        label=_l("Language of the school's messages"),
    ),
    Column(
        "enrolment",
        (
            "enrolment",
            "enrollment",
            "pupils",
            "students",
            "effectif",
            "effectifs",
            "nombre d'élèves",
            "élèves",
            "عدد التلاميذ",
            "التلاميذ",
        ),
        label=_l("Pupils enrolled"),
    ),
    Column(
        "need",
        (
            "need",
            "tablets needed",
            "besoin",
            "besoins",
            "besoin en tablettes",
            "tablettes demandées",
            "الحاجة",
            "عدد اللوحات المطلوبة",
        ),
        label=_l("Tablets needed"),
    ),
    Column(
        "cycle",
        (
            "cycle",
            "cycle d'enseignement",
            "ordre d'enseignement",
            "niveau",
            "type d'établissement",
            "السلك",
            "سلك التعليم",
        ),
        label=_l("Cycle"),
    ),
    Column(
        "milieu",
        ("milieu", "setting", "area", "urbain/rural", "zone", "الوسط"),
        label=_l("Setting (urban or rural)"),
    ),
)


class SchoolImporter(RowImporter):
    kind = "schools"
    columns = SCHOOL_COLUMNS

    def __init__(self, *, pupils_per_tablet: int | None = None, reach: Reach = WHOLE):
        super().__init__()
        self.reach = reach  # a regional office's list: rows of its regions only
        # A list without a need column: set each need from the pupils, when asked to.
        self.pupils_per_tablet = pupils_per_tablet
        self.spellings = PlaceSpellings()

    def _as_stored(self, raw: dict, french: dict[str, str]) -> None:
        """A region or province in Arabic as the list stores it (in French, as the ministry
        writes it), or as an existing school spells it; a name in Arabic letters in the
        French name's column is the Arabic name."""
        for key in ("region", "province"):
            value = raw.get(key)
            if isinstance(value, str) and value.strip():
                raw[key] = self.spellings(key, value)
        name = raw.get("name_fr")
        if isinstance(name, str) and ARABIC.search(name) and not as_text(raw.get("name_ar")):
            # (A school the tracker knows keeps its French name.)
            raw["name_ar"] = name
            raw["name_fr"] = french.get(as_text(raw.get("code")).upper())

    def header_warnings(self, header):
        if "need" in header.positions:
            return []
        return [{"code": "no_need", "enrolment": "enrolment" in header.positions}]

    def process(self, rows, header, report, write):
        checked = []
        from_pupils = self.pupils_per_tablet and "need" not in header.positions
        raws = [{key: cell(row, header, key) for key in FIELDS} for row in rows]
        codes = [as_text(raw["code"]).upper() for raw in raws if raw.get("code") is not None]
        french = dict(
            db.session.execute(
                sa.select(School.code, School.name_fr).where(School.code.in_(codes))
            ).all()
        )
        for row, raw in zip(rows, raws, strict=True):
            self._as_stored(raw, french)
            try:
                values = normalise_school_fields(raw)
                if from_pupils and values.get("enrolment") is not None:
                    values["need"] = raw["need"] = need_from_enrolment(
                        values["enrolment"], self.pupils_per_tablet
                    )
                if not self.reach.covers(values.get("region", ""), values.get("province", "")):
                    place = values.get("province") or values.get("region")
                    raise ValidationFailed(
                        _("%(place)s is not in your part of the programme.", place=place),
                        field="province" if values.get("province") else "region",
                    )
            except ValidationFailed as error:
                key = error.field or ""
                report.rejected_rows += 1
                report.add_problem(
                    Problem(
                        row.number,
                        header.headers.get(key, ""),
                        as_text(raw.get(key)),
                        error.reason,
                        header.positions.get(key),
                    )
                )
                continue
            checked.append((row, raw, values))
        # Duplicates inside the file, against the first row that had the code.
        repeats = self.repeats(
            "code", [(row.number, values["code"]) for row, _r, values in checked]
        )
        parsed = []
        for row, raw, values in checked:
            if row.number in repeats:
                report.rejected_rows += 1
                report.add_problem(
                    Problem(
                        row.number,
                        header.headers["code"],
                        as_text(raw["code"]),
                        _("same school code as row %(row)s", row=repeats[row.number]),
                        header.positions["code"],
                    )
                )
                continue
            # An empty cell means "not given": it never erases what the tracker knows.
            given = {key for key, value in raw.items() if as_text(value)}
            parsed.append((values, given, row.number))
        codes = [values["code"] for values, _given, _number in parsed]
        existing = (
            {
                school.code: school
                for school in db.session.scalars(sa.select(School).where(School.code.in_(codes)))
            }
            if codes
            else {}
        )
        to_insert, to_update = [], []
        for values, given, number in parsed:
            school = existing.get(values["code"])
            if school is not None and not self.reach.covers_school(school):
                report.rejected_rows += 1
                report.add_problem(
                    Problem(
                        number,
                        header.headers["code"],
                        values["code"],
                        _("a school outside your part of the programme has this code"),
                        header.positions["code"],
                    )
                )
                continue
            if school is None:
                to_insert.append(values)
                continue
            changes = {
                key: values[key]
                for key in FIELDS
                if key in given and getattr(school, key) != values[key]
            }
            if changes:
                to_update.append((school, changes))
            else:
                report.unchanged += 1
        report.new += len(to_insert)
        report.updated += len(to_update)
        if write and report.ok:
            now = utcnow()
            if to_insert:
                db.session.execute(
                    sa.insert(School),
                    [{**values, "created_at": now, "updated_at": now} for values in to_insert],
                )
            for school, changes in to_update:
                for key, value in changes.items():
                    setattr(school, key, value)
            db.session.flush()
