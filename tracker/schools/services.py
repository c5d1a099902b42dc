"""School rules: a unique national code, a French name, a region, sane numbers."""

import re
import unicodedata

import sqlalchemy as sa
from flask_babel import get_locale
from rapidfuzz import fuzz, process

from tracker.errors import NotFound, ValidationFailed
from tracker.extensions import db
from tracker.i18n import RTL
from tracker.i18n import gettext as _
from tracker.schools.models import CYCLES, SETTINGS, School
from tracker.schools.places import french_place, places_named
from tracker.schools.reach import WHOLE, Reach
from tracker.schools.words import CYCLES_READ, SETTINGS_READ, fold
from tracker.text import refuse_control_characters

TEXT_FIELDS = (
    "code",
    "name_fr",
    "name_ar",
    "region",
    "province",
    "commune",
    "address",
    "contact_name",
    "contact_phone",
    "contact_email",
    "contact_language",
)
FIELDS = TEXT_FIELDS + ("latitude", "longitude", "enrolment", "need", "cycle", "milieu")


EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
LANGUAGES = {
    "": "fr",
    "fr": "fr",
    "français": "fr",
    "francais": "fr",
    "french": "fr",
    "ar": "ar",
    "arabe": "ar",
    "arabic": "ar",
    "العربية": "ar",
}


def _language(value: str) -> str:
    """The language of the school's messages: fr (also when not given) or ar."""
    language = LANGUAGES.get(value.strip().lower())
    if language is None:
        raise ValidationFailed(
            _("Language '%(value)s': write fr or ar.", value=value),
            field="contact_language",
            reason=_("the language is fr or ar"),
        )
    return language


def _number(value, field: str, label: str, kind, low, high):
    if value is None or value == "":
        return None
    if isinstance(value, str):
        # "1 200", "33,58" (French decimal comma), non-breaking spaces from spreadsheets.
        value = value.replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
        value = value.replace(",", ".")
    try:
        number = kind(float(value)) if kind is int else kind(value)
        if kind is int and float(value) != number:
            raise ValueError
    except (TypeError, ValueError):
        raise ValidationFailed(
            _("%(label)s '%(value)s' is not a number.", label=label, value=value),
            field=field,
            reason=_("not a whole number") if kind is int else _("not a number"),
        ) from None
    if not low <= number <= high:
        raise ValidationFailed(
            _(
                "%(label)s %(value)s must be between %(low)s and %(high)s.",
                label=label,
                value=value,
                low=low,
                high=high,
            ),
            field=field,
            reason=_("must be between %(low)s and %(high)s", low=low, high=high),
        )
    return number


def need_from_enrolment(enrolment: int, pupils_per_tablet: int) -> int:
    """A school's need when the ministry gives only its pupils: one tablet for every
    `pupils_per_tablet` pupils, rounded up (a school of 5 pupils needs one)."""
    if pupils_per_tablet < 1:
        raise ValidationFailed(_("Give at least one pupil per tablet."), field="pupils_per_tablet")
    return -(-enrolment // pupils_per_tablet)


def normalise_school_fields(values: dict) -> dict:
    """Check and tidy school fields without looking at the database.

    Raises ValidationFailed naming the first bad field. Codes given as numbers lose ".0".
    """
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValidationFailed(_("Unknown school fields: %(f)s.", f=", ".join(sorted(unknown))))

    def text(key):
        value = values.get(key)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return " ".join(str(value if value is not None else "").split())

    clean = {key: text(key) for key in TEXT_FIELDS}
    for key in TEXT_FIELDS:
        refuse_control_characters(clean[key], key)
    clean["code"] = clean["code"].upper()
    if not clean["code"]:
        raise ValidationFailed(
            _("School code is required."), field="code", reason=_("the school code is missing")
        )
    if not clean["name_fr"]:
        raise ValidationFailed(
            _("The school's French name is required."),
            field="name_fr",
            reason=_("the French name is missing"),
        )
    if not clean["region"]:
        raise ValidationFailed(
            _("Region is required."), field="region", reason=_("the region is missing")
        )
    for key, limit in (
        ("code", 30),
        ("name_fr", 200),
        ("name_ar", 200),
        ("region", 100),
        ("province", 100),
        ("commune", 100),
        ("address", 300),
        ("contact_name", 120),
        ("contact_phone", 40),
        ("contact_email", 254),
    ):
        if len(clean[key]) > limit:
            raise ValidationFailed(
                _("%(field)s is longer than %(n)s characters.", field=key, n=limit),
                field=key,
                reason=_("longer than %(n)s characters", n=limit),
            )
    clean["contact_language"] = _language(clean["contact_language"])
    if clean["contact_email"] and not EMAIL.fullmatch(clean["contact_email"]):
        raise ValidationFailed(
            _("'%(value)s' is not an e-mail address.", value=clean["contact_email"]),
            field="contact_email",
            reason=_("not an e-mail address"),
        )
    clean["latitude"] = _number(values.get("latitude"), "latitude", _("Latitude"), float, -90, 90)
    clean["longitude"] = _number(
        values.get("longitude"), "longitude", _("Longitude"), float, -180, 180
    )
    clean["enrolment"] = (
        _number(values.get("enrolment"), "enrolment", _("Enrolment"), int, 0, 1_000_000) or 0
    )
    clean["need"] = _number(values.get("need"), "need", _("Need"), int, 0, 1_000_000) or 0
    clean["cycle"] = _word(values.get("cycle"), CYCLES_READ, CYCLES, "cycle")
    clean["milieu"] = _word(values.get("milieu"), SETTINGS_READ, SETTINGS, "milieu")
    return {key: clean[key] for key in FIELDS}


def _word(value, read: dict, codes: tuple, field: str) -> str:
    """A cycle or a setting from its code or as a list writes it; "" when not given."""
    if value is None or not str(value).strip():
        return ""
    if str(value) in codes:
        return str(value)
    code = read.get(fold(value))
    if code is None:
        reason = (
            _("the cycle must be primaire, collège or lycée (or primary, middle, secondary)")
            if field == "cycle"
            else _("the setting must be urbain or rural")
        )
        raise ValidationFailed(
            _("%(value)s: %(reason)s.", value=str(value)[:60], reason=reason),
            field=field,
            reason=reason,
        )
    return code


def clean_school_fields(values: dict, exclude_id: int | None = None) -> dict:
    """Normalise school fields and check the code is not another school's."""
    clean = normalise_school_fields(values)
    taken = sa.select(School.id).where(School.code == clean["code"])
    if exclude_id is not None:
        taken = taken.where(School.id != exclude_id)
    if db.session.scalar(taken) is not None:
        raise ValidationFailed(
            _("School code '%(code)s' is already used by another school.", code=clean["code"]),
            field="code",
        )
    return clean


def create_school(reach: Reach = WHOLE, **values) -> School:
    """A school, in a region (and province) `reach` holds."""
    school = School(**clean_school_fields(values))
    _within(reach, school)
    db.session.add(school)
    db.session.flush()
    return school


def update_school(school_id: int, reach: Reach = WHOLE, **values) -> School:
    """A school changed; a regional office cannot move it out of its part of the
    programme."""
    school = get_school(school_id)
    for key, value in clean_school_fields(values, exclude_id=school.id).items():
        setattr(school, key, value)
    _within(reach, school)
    db.session.flush()
    return school


def _within(reach: Reach, school: School) -> None:
    if not reach.covers(school.region, school.province):
        raise ValidationFailed(
            _(
                "%(place)s is not in your part of the programme.",
                place=school.province or school.region,
            ),
            field="province" if school.province else "region",
        )


def get_school(school_id: int) -> School:
    school = db.session.get(School, school_id)
    if school is None:
        raise NotFound(_("No school with id %(id)s.", id=school_id))
    return school


_NOT_ALNUM = re.compile(r"[\W_]+")


def _place_key(name: str) -> str:
    """A place's name without case, accents, dashes or spaces: "souss massa", "Souss-Massa"
    and "SOUSS–MASSA" are one region."""
    # (What is not a letter or a digit goes, the accents NFKD set apart with it.)
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKD", name.casefold()))


def name_as_read():
    """The school's name as the reader reads it, as a column of a query: the Arabic name for
    an Arabic reader where the list has one (i18n.school_name, for a workbook's rows)."""
    if str(get_locale() or "") in RTL:
        # No bound value in it: PostgreSQL matches it in a GROUP BY by its text.
        return sa.func.coalesce(
            sa.func.nullif(School.name_ar, sa.literal_column("''")), School.name_fr
        )
    return School.name_fr


def place_names() -> dict[str, list[str]]:
    """The regions, provinces and communes the school list holds, for forms to offer as
    the user types (lists, not lazy results a template might leave half read)."""
    return {
        key: db.session.scalars(
            sa.select(column).distinct().where(column.is_not(None)).order_by(column)
        ).all()
        for key, column in (
            ("regions", School.region),
            ("provinces", School.province),
            ("communes", School.commune),
        )
    }


def spelled_as_stored(column, value: str) -> str:
    """The region or province as the school list spells it, for a value typed in any case,
    with or without accents and dashes ("souss massa" is "Souss-Massa"): read from the
    (region, province) index, so the list's own filter can then use it."""
    value = " ".join((value or "").split())
    if not value:
        return ""
    names = db.session.scalars(sa.select(column).distinct().where(column.is_not(None)))
    wanted = _place_key(value)
    return next((name for name in names if _place_key(name) == wanted), value)


class PlaceSpellings:
    """`spelled_as_stored` for many rows (a school list's): the regions and provinces the
    list stores are read once; a name typed in any case, with or without accents and
    dashes, or in Arabic (the reference data's), is the stored one."""

    COLUMNS = {"region": School.region, "province": School.province}

    def __init__(self):
        self.known: dict[str, dict[str, str]] | None = None

    def __call__(self, key: str, value: str) -> str:
        if self.known is None:
            self.known = {
                name: {
                    _place_key(stored): stored
                    for stored in db.session.scalars(sa.select(column).distinct())
                    if stored
                }
                for name, column in self.COLUMNS.items()
            }
        french = french_place(value)
        return self.known[key].get(_place_key(french or value), french or value)


def search_schools(q: str = "", region: str = "", province: str = "", reach: Reach = WHOLE):
    """A select of schools in `reach` matching a code/name search and region/province
    filters."""
    query = sa.select(School)
    if not reach.whole:
        query = query.where(reach.school_rows_clause())
    if region:
        query = query.where(School.region == spelled_as_stored(School.region, region))
    if province:
        query = query.where(School.province == spelled_as_stored(School.province, province))
    text = " ".join(q.split())
    if text:
        lower = text.lower()
        matches = [
            School.code == text.upper(),
            sa.func.lower(School.name_fr).contains(lower, autoescape=True),
            School.name_ar.contains(text, autoescape=True),
            sa.func.lower(School.commune).contains(lower, autoescape=True),
        ]
        places = places_named(text)  # an Arabic place name: its schools
        if places:
            matches += [School.region.in_(places), School.province.in_(places)]
        query = query.where(sa.or_(*matches))
    return query.order_by(School.region, School.province, School.code)


def regions_and_provinces(reach: Reach = WHOLE) -> dict[str, list[str]]:
    """Regions with their provinces in `reach`, as the filters offer them."""
    rows = db.session.execute(
        sa.select(School.region, School.province)
        .where(reach.school_rows_clause())
        .distinct()
        .order_by(School.region, School.province)
    )
    result: dict[str, list[str]] = {}
    for region, province in rows:
        result.setdefault(region, [])
        if province:
            result[region].append(province)
    return result


class SchoolFinder:
    """Schools named as a list from elsewhere names them: by code, or by name in French or
    Arabic whatever the case, accents, dashes and spaces. Read once (one statement, every
    school's code and names), then each place costs a dictionary look-up."""

    def __init__(self, reach: Reach = WHOLE):
        self.by_code: dict[str, int] = {}
        self.by_name: dict[str, int | None] = {}  # None: two schools share the name
        self.every_name: dict[str, int] = {}  # each name to one of its schools
        self.shared: dict[str, list[str]] = {}  # a shared name: its schools' codes
        self.keys: list[str] | None = None
        self.schools: dict[int, tuple] = {}
        rows = db.session.execute(
            sa.select(School.id, School.code, School.name_fr, School.name_ar).where(
                reach.school_rows_clause()
            )
        )
        for school_id, code, name_fr, name_ar in rows:
            self.by_code["".join(code.split()).upper()] = school_id
            self.schools[school_id] = (code, name_fr, name_ar)
            for name in {_place_key(name_fr), _place_key(name_ar or "")} - {""}:
                known = self.by_name.get(name, school_id)
                if known is not None and known != school_id:
                    self.shared[name] = [self.schools[known][0]]
                if known != school_id:
                    self.shared[name].append(code)
                self.by_name[name] = school_id if known == school_id else None
                self.every_name.setdefault(name, school_id)
        self.closest_cache: dict[str, int | None] = {}

    def find(self, place: str) -> tuple[int | None, bool]:
        """The school `place` names, and whether the name is shared by several schools."""
        text = " ".join(str(place).split())
        school_id = self.by_code.get("".join(text.split()).upper())
        if school_id is not None:
            return school_id, False
        key = _place_key(text)
        if key not in self.by_name:
            # A name with its code beside it ("Lycée Al Qods 04103C"): the code says it.
            codes = {self.by_code.get(word.upper()) for word in text.split()} - {None}
            return (codes.pop(), False) if len(codes) == 1 else (None, False)
        school_id = self.by_name[key]
        return school_id, school_id is None

    def closest(self, place: str) -> int | None:
        """The school whose name is nearest `place` (for a place nothing matched; a name
        several schools share gives one of them)."""
        key = _place_key(place)
        if key not in self.closest_cache:
            if self.keys is None:
                self.keys = list(self.every_name)
            found = process.extractOne(
                key, self.keys, scorer=fuzz.ratio, processor=None, score_cutoff=60
            )
            self.closest_cache[key] = self.every_name[found[0]] if found else None
        return self.closest_cache[key]

    def sharing(self, place: str) -> list[str]:
        """The codes of the schools that share the name `place` (at most five)."""
        return sorted(self.shared.get(_place_key(place), []))[:5]

    def label(self, school_id: int) -> str:
        code, name, _name_ar = self.schools[school_id]
        return f"{name} ({code})"
