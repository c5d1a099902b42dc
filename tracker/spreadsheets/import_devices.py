"""Device rows: a donor's packing list becomes device records in a donation."""

import re
from datetime import date, datetime

import sqlalchemy as sa

from tracker.auth.models import User
from tracker.devices import identity
from tracker.devices.models import Device
from tracker.devices.services import register_devices, update_device
from tracker.devices.states import HANDED_OVER
from tracker.dialects import any_of
from tracker.donations.models import Donation
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.loans.services import clean_borrower, record_opening_loans
from tracker.schools.reach import reach_of
from tracker.spreadsheets.headers import Column
from tracker.spreadsheets.importers import (
    Problem,
    RowImporter,
    add_months,
    as_date,
    as_text,
    cell,
    cells,
)
from tracker.spreadsheets.opening import Places
from tracker.text import has_control_characters

DEVICE_COLUMNS = (
    Column(
        "serial",
        (
            "serial",
            "serial number",
            "serial no",
            "s/n",
            "sn",
            "numéro de série",
            "n° de série",
            "no de série",
            "num série",
            "numéro série",
            "série",
            "الرقم التسلسلي",
            "رقم التسلسل",
            "الرقم التسلسلي للجهاز",
        ),
        required=True,
        label=_l("Serial number"),
    ),
    Column(
        "imei",
        ("imei", "imei 1", "imei1", "numéro imei", "n° imei", "رقم imei", "رقم الهوية الدولية"),
        label=_l("IMEI"),
    ),
    Column(
        "model",
        (
            "model",
            "model name",
            "device model",
            "part name",
            "part",
            "modèle",
            "modele",
            "nom du modèle",
            "type",
            "الطراز",
            "النموذج",
            "الموديل",
        ),
        label=_l("Model"),
    ),
    Column(
        "condition", ("condition", "état", "etat", "état physique", "الحالة"), label=_l("Condition")
    ),
    Column(
        "notes",
        (
            "notes",
            "note",
            "remarks",
            "comments",
            "remarques",
            "commentaire",
            "commentaires",
            "observations",
            "description",
            "ملاحظات",
        ),
        label=_l("Notes"),
    ),
    Column(
        "imei2",
        (
            "imei 2",
            "imei2",
            "second imei",
            "imei sim 2",
            "deuxième imei",
            "imei secondaire",
            "رقم imei 2",
            "imei الثاني",
        ),
        label=_l("Second IMEI"),
    ),
    Column(
        "brand",
        ("brand", "make", "manufacturer", "marque", "fabricant", "العلامة التجارية", "الماركة"),
        label=_l("Brand"),
    ),
    Column(
        "donor_ref",
        (
            "inventory number",
            "asset number",
            "donor reference",
            "donor ref",
            "donor asset tag",
            "asset tag",
            "asset id",
            "numéro d'inventaire",
            "n° inventaire",
            "inventaire",
            "référence donateur",
            "réf donateur",
            "رقم الجرد",
            "مرجع المانح",
        ),
        label=_l("Donor's inventory number"),
    ),
    Column(
        "donor_delivered_on",
        (
            "delivery date",
            "delivered on",
            "date delivered",
            "date de livraison",
            "livré le",
            "date livraison",
            "تاريخ التسليم",
            "تاريخ الاستلام",
        ),
        label=_l("Delivered by the donor on"),
    ),
    Column(
        "warranty_until",
        (
            "warranty end",
            "warranty until",
            "warranty expiry",
            "end of warranty",
            "warranty end date",
            "warranty expires",
            "warranty expiration",
            "warranty expiration date",
            "expiry date",
            "expiration date",
            "fin de garantie",
            "date de fin de garantie",
            "garantie jusqu'au",
            "نهاية الضمان",
            "تاريخ انتهاء الضمان",
        ),
        label=_l("Warranty until"),
    ),
    Column(
        "donation",
        (
            "donation",
            "donation reference",
            "don",
            "référence du don",
            "reference don",
            "convention",
            "التبرع",
            "مرجع التبرع",
        ),
        label=_l("Donation"),
    ),
    # An opening balance: where the tablet is now, in what state, since when, received by
    # whom (Snipe-IT's Location and Status, Shelf's location, InvenTree's Location Name).
    Column(
        "place",
        (
            "school",
            "school code",
            "location",
            "location name",
            "école",
            "établissement",
            "code école",
            "code établissement",
            "emplacement",
            "lieu",
            "affectation",
            "المؤسسة",
            "المدرسة",
            "رمز المؤسسة",
            "الموقع",
        ),
        label=_l("School"),
    ),
    Column(
        "state",
        ("state", "status", "statut", "status label", "situation", "الوضعية", "الوضع"),
        label=_l("State"),
    ),
    Column(
        "since",
        (
            "at school since",
            "since",
            "hand-over date",
            "handover date",
            "handed over on",
            "checkout date",
            "last checkout",
            "checked out",
            "date de remise",
            "remis le",
            "date d'affectation",
            "affecté le",
            "depuis",
            "تاريخ التسليم للمؤسسة",
            "تاريخ الإسناد",
        ),
        label=_l("At the school since"),
    ),
    Column(
        "received_by",
        (
            "received by",
            "recipient",
            "checked out to",
            "assigned to",
            "custody",
            "custodian",
            "reçu par",
            "réceptionné par",
            "réceptionnaire",
            "المستلم",
        ),
        label=_l("Received by"),
    ),
    # Snipe-IT: a Model Number when no model name is given; a warranty as a purchase date
    # and months. Shelf: an asset's title; its kit and category go into the notes.
    Column(
        "model_number",
        (
            "model number",
            "model no",
            "model no.",
            "model n°",
            "numéro de modèle",
            "référence du modèle",
        ),
        label=_l("Model number"),
        exact=True,
    ),
    Column("title", ("title", "asset name", "item name", "nom de l'actif"), label=_l("Title")),
    Column(
        "purchase_date",
        ("purchase date", "purchased", "date d'achat", "acheté le", "تاريخ الشراء"),
        label=_l("Purchase date"),
    ),
    Column(
        "warranty_months",
        (
            "warranty months",
            "warranty (months)",
            "warranty",
            "garantie (mois)",
            "mois de garantie",
            "مدة الضمان بالأشهر",
        ),
        label=_l("Warranty (months)"),
        exact=True,
    ),
    # A tablet on loan at opening: to whom (the school's borrower of that code, or one added).
    Column(
        "borrower",
        (
            "borrower",
            "borrower name",
            "lent to",
            "emprunteur",
            "nom de l'emprunteur",
            "prêté à",
            "المستعير",
            "اسم المستعير",
        ),
        label=_l("Borrower"),
    ),
    Column(
        "borrower_code",
        ("borrower code", "pupil code", "code élève", "code de l'élève", "رمز التلميذ"),
        label=_l("Borrower's code"),
    ),
    Column(
        "class_name",
        ("class", "classe", "groupe", "القسم", "الفصل"),
        label=_l("Class"),
    ),
    Column("kit", ("kit",), label=_l("Kit")),
    Column("category", ("category", "catégorie", "الفئة"), label=_l("Category")),
)
OPENING_COLUMNS = ("place", "state", "since", "received_by")
LOAN_COLUMNS = ("borrower", "borrower_code", "class_name")
EXTRA_COLUMNS = ("model_number", "title", "purchase_date", "warranty_months", "kit", "category")
CONDITION_WORDS = {
    "new": ("new", "neuf", "neuve", "جديد"),
    "good": ("good", "bon", "bon état", "جيد"),
    "fair": ("fair", "moyen", "passable", "usagé", "متوسط"),
    "damaged": ("damaged", "endommagé", "abîmé", "cassé", "broken", "تالف"),
}
_CONDITIONS = {
    identity_word.casefold(): key
    for key, words in CONDITION_WORDS.items()
    for identity_word in words
}
COMPARED = (
    "imei",
    "imei2",
    "model",
    "condition",
    "notes",
    "brand",
    "donor_ref",
    "donor_delivered_on",
    "warranty_until",
)
REASON_SAME_SERIAL = _l("same serial as row %(row)s")


CLEANED = ("serial", "imei", "model", "notes", "condition", "donation")
# Text as `as_text` leaves it and with no control character: words of printable characters
# (none of them a space of another kind) separated by single spaces.
PLAIN_TEXT = re.compile(r"[^\s\x00-\x1f\x7f-\x9f]+(?: [^\s\x00-\x1f\x7f-\x9f]+)*")
DONOR_COLUMNS = ("imei2", "brand", "donor_ref", "donor_delivered_on", "warranty_until")


class DeviceImporter(RowImporter):
    kind = "devices"
    columns = DEVICE_COLUMNS

    def __init__(self, *, donation_id: int | None, actor: User | None, filename: str):
        self.default_donation_id = donation_id
        self.actor = actor
        self.reach = reach_of(actor)  # a file's rows stay within the importer's offices
        self.filename = filename
        super().__init__()
        self.donations: dict[str, int | None] = {}
        self.donor_columns: bool | None = None  # does the file have any (known at its header)
        self.quick_positions: tuple | None = None  # where _quick finds its cells, if it may
        self.places: Places | None = None  # an opening balance's places (known at its header)
        self.chosen_places: dict[str, int] = {}  # places the user said are a school
        self.loan_columns = False
        self.extra_columns: bool = False

    def _donation_id(self, reference: str) -> int | None:
        key = reference.casefold()
        if key not in self.donations:
            self.donations[key] = db.session.scalar(
                sa.select(Donation.id).where(sa.func.lower(Donation.reference) == key)
            )
        return self.donations[key]

    @staticmethod
    def _problem(row, header, key: str, reason: str) -> Problem:
        return Problem(
            row.number,
            header.headers.get(key, ""),
            as_text(cell(row, header, key)),
            reason,
            header.positions.get(key),
        )

    def _clean(self, row, header) -> tuple[dict, list[Problem]]:
        problems = []

        def problem(key, raw, reason):
            problems.append(
                Problem(
                    row.number,
                    header.headers.get(key, ""),
                    as_text(raw),
                    reason,
                    header.positions.get(key),
                )
            )

        raw_serial, raw_imei, model, notes, condition, reference = cells(row, header, CLEANED)
        values = {}
        try:
            values["serial"] = identity.clean_serial(as_text(raw_serial))
        except ValidationFailed as error:
            problem("serial", raw_serial, error.reason)
        # An empty cell means "not given": it never erases what the tracker already knows.
        if raw_imei is not None:
            try:
                if (imei := identity.clean_imei(raw_imei)) is not None:
                    values["imei"] = imei
            except ValidationFailed as error:
                problem("imei", raw_imei, error.reason)
        if model is not None and (text := as_text(model)):
            if has_control_characters(text):
                problem("model", text, _("contains a control character"))
            values["model"] = text[:120]
        if notes is not None and (text := as_text(notes)):
            if has_control_characters(text):
                problem("notes", text, _("contains a control character"))
            values["notes"] = text[:1000]
        if self.donor_columns:
            self._clean_donor_columns(row, header, values, problem)
        if self.extra_columns:
            self._clean_extra_columns(row, header, values, problem)
        if self.places is not None:
            self._clean_opening(row, header, values, problem)
        if condition is not None and (raw := as_text(condition)):
            if (known := _CONDITIONS.get(raw.casefold())) is not None:
                values["condition"] = known
            else:
                problem(
                    "condition",
                    raw,
                    _(
                        "the condition must be one of: new, good, fair, "
                        "damaged (or neuf, bon, moyen, endommagé)"
                    ),
                )
        reference = as_text(reference) if reference is not None else ""
        donation_id = self._donation_id(reference) if reference else self.default_donation_id
        if reference and donation_id is None:
            problem("donation", reference, _("no donation has this reference"))
        elif donation_id is None:
            problems.append(
                Problem(
                    row.number,
                    "",
                    "",
                    _("no donation: choose one for the import or add a Donation column"),
                )
            )
        values["donation_id"] = donation_id
        return values, problems

    @staticmethod
    def _clean_donor_columns(row, header, values: dict, problem) -> None:
        """What a packing list adds beside the serial: a second IMEI, brand, the donor's
        inventory number, delivery and warranty dates."""
        raw_imei2, brand, donor_ref, delivered, warranty = cells(row, header, DONOR_COLUMNS)
        try:
            if (imei2 := identity.clean_imei(raw_imei2, field="imei2")) is not None:
                if imei2 == values.get("imei"):
                    problem("imei2", raw_imei2, _("the same as the first IMEI"))
                values["imei2"] = imei2
        except ValidationFailed as error:
            problem("imei2", raw_imei2, error.reason)
        for key, raw, limit in (("brand", brand, 60), ("donor_ref", donor_ref, 64)):
            if text := as_text(raw):
                if has_control_characters(text):
                    problem(key, text, _("contains a control character"))
                values[key] = text[:limit]
        for key, raw in (("donor_delivered_on", delivered), ("warranty_until", warranty)):
            try:
                if (day := as_date(raw)) is not None:
                    values[key] = day
            except ValueError as error:
                problem(key, raw, str(error))

    def _clean_extra_columns(self, row, header, values: dict, problem) -> None:
        """What other tools write: a model number or a title when no model is given, a
        warranty as a purchase date and months, a kit and a category (into the notes)."""
        number, title, bought, months, kit, category = cells(row, header, EXTRA_COLUMNS)
        if "model" not in values:
            for key, raw in (("model_number", number),):
                if raw in (None, ""):
                    continue
                if identity.rounded_number(raw):
                    problem(
                        key,
                        raw,
                        _(
                            "stored as a rounded number (%(value)s): its last digits are "
                            "lost; format the column as text and type them again",
                            value=as_text(raw),
                        ),
                    )
                elif text := as_text(raw):
                    if has_control_characters(text):
                        problem(key, text, _("contains a control character"))
                    values["model"] = text[:120]
                    break
        # A Shelf asset's title, kit and category: kept in its notes as the file says them.
        extra = [
            f"{header.headers[key]}: {text}"
            for key, raw in (("title", title), ("kit", kit), ("category", category))
            if (text := as_text(raw)) and not has_control_characters(text)
        ][:3]
        if extra:
            values["notes"] = " · ".join([values.get("notes", ""), *extra]).strip(" ·")[:1000]
        if "warranty_until" in values or months in (None, ""):
            return
        try:
            day = as_date(bought)
        except ValueError as error:
            problem("purchase_date", bought, str(error))
            return
        count = as_text(months)
        if not count.isdigit() or not 0 <= int(count) <= 240:
            problem("warranty_months", months, _("not a number of months (0 to 240)"))
        elif day is None:
            problem("purchase_date", bought, _("the warranty's months need the purchase date"))
        else:
            values["warranty_until"] = add_months(day, int(count))

    def _clean_opening(self, row, header, values: dict, problem) -> None:
        """Where the tablet is now (an opening balance), read by `Places`."""
        place, state, since_raw, received = cells(row, header, OPENING_COLUMNS)
        try:
            since = as_date(since_raw)
        except ValueError as error:
            problem("since", since_raw, str(error))
            return
        values.update(self.places.read(row.number, state, place, since, problem))
        if self.loan_columns:
            self._clean_loan(row, header, values, problem)
        if text := as_text(received):
            if has_control_characters(text):
                problem("received_by", text, _("contains a control character"))
            values["received_by"] = text[:120]

    def _quick_opening(self, row, header, values: dict) -> bool:
        """An opening balance's common row, without a call per cell: a (state, place) pair
        already worked out, a day cell, plain text. False when `_clean` must decide."""
        cells_at, width = row.values, len(row.values)
        place_at, state_at, since_at, received_at = self.opening_at
        place = cells_at[place_at] if place_at is not None and place_at < width else None
        state = cells_at[state_at] if state_at is not None and state_at < width else None
        since = cells_at[since_at] if since_at is not None and since_at < width else None
        received = (
            cells_at[received_at] if received_at is not None and received_at < width else None
        )
        resolved, refused = self.places.resolve(state, place)
        if refused is not None:
            return False
        if type(since) is datetime:
            since = since.date()
        if since is not None and (type(since) is not date or since > self.places.today):
            return False
        if received is not None and (
            type(received) is not str or not PLAIN_TEXT.fullmatch(received)
        ):
            return False
        values.update(resolved)
        if since is not None:
            values["since"] = since
        if received:
            values["received_by"] = received[:120]
        return True

    def _clean_loan(self, row, header, values: dict, problem) -> None:
        """A tablet on loan and its borrower: the school's borrower of that code, or one the
        list adds (its code, else one made from the tablet's serial)."""
        name, code, class_name = (as_text(raw) for raw in cells(row, header, LOAN_COLUMNS))
        if not (name or code):
            return
        if values.get("state") != "on_loan":
            if values:  # (a row whose state was refused says so already)
                problem(
                    "borrower" if name else "borrower_code",
                    name or code,
                    _("a borrower is given, but the tablet is not on loan"),
                )
            return
        serial = values.get("serial") or ""
        try:
            values["borrower"] = clean_borrower(
                {
                    "code": code or f"OUV-{serial}",
                    "name": name or code,
                    "class_name": class_name,
                    "kind": "",
                }
            )
        except ValidationFailed as error:
            key = {"code": "borrower_code", "class_name": "class_name"}.get(error.field, "borrower")
            problem(key, name or code, error.reason)
            return
        values["status"] = "on_loan"
        del values["state"]

    def header_warnings(self, header) -> list[dict]:
        self._look_at(header)
        return []

    def _look_at(self, header) -> None:
        """What the header says this file holds, decided once."""
        if self.donor_columns is not None:
            return
        positions = header.positions
        self.donor_columns = any(key in positions for key in DONOR_COLUMNS)
        self.extra_columns = any(key in positions for key in EXTRA_COLUMNS)
        if any(key in positions for key in OPENING_COLUMNS):
            self.places = Places(self.chosen_places, self.reach)
            self.opening_at = tuple(positions.get(key) for key in OPENING_COLUMNS)
        self.loan_columns = any(key in positions for key in LOAN_COLUMNS)
        quick = self.default_donation_id is not None and not self.donor_columns
        quick = quick and not self.extra_columns and not self.loan_columns
        if quick and "donation" not in positions:
            self.quick_positions = (
                positions["serial"],
                *(positions.get(key) for key in ("imei", "model", "notes", "condition")),
            )

    def finish(self, report, write: bool) -> None:
        if self.places is not None:
            report.places = self.places.summary()

    def _quick(self, row) -> dict | None:
        """The common row, cleaned without a call per cell: a serial already upper-case, an
        IMEI of 15 plain digits (or a number), plain text, a known condition, no donation
        or donor column. None when any cell needs `_clean`, which then decides; for every
        row it takes, `_quick` gives what `_clean` would."""
        values, width = row.values, len(row.values)
        serial_at, imei_at, model_at, notes_at, condition_at = self.quick_positions
        serial = values[serial_at] if serial_at < width else None
        if type(serial) is not str or not identity.SERIAL_OK.match(serial):
            return None
        clean = {"serial": serial, "donation_id": self.default_donation_id}
        imei = values[imei_at] if imei_at is not None and imei_at < width else None
        if imei is not None:
            if type(imei) is int:
                imei = str(imei)
            if type(imei) is not str or len(imei) != 15 or not (imei.isascii() and imei.isdigit()):
                return None
            if not imei.isascii() or not identity.luhn_ok(imei):
                return None
            clean["imei"] = imei
        for key, at, limit in (("model", model_at, 120), ("notes", notes_at, 1000)):
            text = values[at] if at is not None and at < width else None
            if text is not None:
                if type(text) is not str or not PLAIN_TEXT.fullmatch(text):
                    return None
                clean[key] = text[:limit]
        condition = (
            values[condition_at] if condition_at is not None and condition_at < width else None
        )
        if condition is not None:
            if (
                type(condition) is not str
                or (known := _CONDITIONS.get(condition.casefold())) is None
            ):
                return None
            clean["condition"] = known
        return clean

    def process(self, rows, header, report, write):
        self._look_at(header)
        if self.quick_positions:
            cleaned = []
            opening = self.places is not None
            for row in rows:
                values = self._quick(row)
                if values and opening and not self._quick_opening(row, header, values):
                    values = None
                cleaned.append((row, values, []) if values else (row, *self._clean(row, header)))
        else:
            cleaned = [(row, *self._clean(row, header)) for row in rows]
        # Duplicates inside the file, against the first row that had the value.
        serials = self.repeats(
            "serial",
            [
                (row.number, v["serial"].upper() if "serial" in v else None)
                for row, v, _p in cleaned
            ],
        )
        # One IMEI names one tablet, whichever of its two columns it is in.
        imeis = self.repeats("imei", [(row.number, v.get("imei")) for row, v, _p in cleaned])
        imeis2 = self.repeats("imei", [(row.number, v.get("imei2")) for row, v, _p in cleaned])
        # One tablet per borrower at a time.
        lenders = (
            self.repeats(
                "borrower",
                [
                    (row.number, f"{v['school_id']}:{v['borrower']['code']}")
                    if "borrower" in v
                    else (row.number, None)
                    for row, v, _p in cleaned
                ],
            )
            if self.loan_columns
            else {}
        )
        parsed = []
        for row, values, problems in cleaned:
            if row.number in lenders:
                key = "borrower_code" if "borrower_code" in header.positions else "borrower"
                problems.append(
                    self._problem(
                        row,
                        header,
                        key,
                        _(
                            "the same borrower as row %(row)s: one tablet each",
                            row=lenders[row.number],
                        ),
                    )
                )
            if row.number in serials:
                problems.append(
                    self._problem(
                        row,
                        header,
                        "serial",
                        str(REASON_SAME_SERIAL % {"row": serials[row.number]}),
                    )
                )
            for key, repeated in (("imei", imeis), ("imei2", imeis2)):
                if row.number in repeated:
                    problems.append(
                        self._problem(
                            row,
                            header,
                            key,
                            _("same IMEI as row %(row)s", row=repeated[row.number]),
                        )
                    )
            if problems:
                report.rejected_rows += 1
                for problem in problems:
                    report.add_problem(problem)
            else:
                parsed.append((row, values))
        # A serial is one tablet whatever its case: compared by its key, kept as written.
        serials = [values["serial"].upper() for _row, values in parsed]
        existing = (
            {
                device.serial_key: device
                for device in db.session.scalars(
                    sa.select(Device).where(any_of(Device.serial_key, serials))
                )
            }
            if serials
            else {}
        )
        imeis = [
            imei
            for _row, values in parsed
            for imei in (values.get("imei"), values.get("imei2"))
            if imei
        ]
        imei_holders = {}
        if imeis:
            for device in db.session.scalars(
                sa.select(Device).where(
                    sa.or_(any_of(Device.imei, imeis), any_of(Device.imei2, imeis))
                )
            ):
                imei_holders[device.imei] = device
                if device.imei2:
                    imei_holders[device.imei2] = device
        donation_refs = dict(db.session.execute(sa.select(Donation.id, Donation.reference)).all())
        to_insert, to_update = [], []
        for row, values in parsed:
            device = existing.get(values["serial"].upper())
            holder, imei_key = None, "imei"
            for key in ("imei", "imei2"):
                found = imei_holders.get(values.get(key))
                if found is not None and found.serial_key != values["serial"].upper():
                    holder, imei_key = found, key
                    break
            reason = None
            outside = next(
                (
                    key
                    for key, one in (("serial", device), (imei_key, holder))
                    if one is not None and not self.reach.covers_device(one.school_id, one.depot_id)
                ),
                None,
            )
            if outside is not None:
                reason = (outside, _("a tablet outside your part of the programme has it"))
            elif device is not None and device.donation_id != values["donation_id"]:
                reason = (
                    "serial",
                    _(
                        "already registered on %(tag)s in donation %(ref)s",
                        tag=device.asset_tag,
                        ref=donation_refs.get(device.donation_id, "?"),
                    ),
                )
            elif (
                device is not None
                and "status" in values
                and (
                    "delivered" if device.status in HANDED_OVER else device.status,
                    device.school_id,
                )
                != (
                    "delivered" if values["status"] in HANDED_OVER else values["status"],
                    values["school_id"],
                )
            ):
                reason = (
                    "place" if "place" in header.positions else "state",
                    _(
                        "%(tag)s is already in the tracker, elsewhere: it moves by deliveries, "
                        "transfers or its own page, not by an opening balance",
                        tag=device.asset_tag,
                    ),
                )
            elif holder is not None:
                reason = (
                    imei_key,
                    _(
                        "already registered on %(tag)s (serial %(serial)s)",
                        tag=holder.asset_tag,
                        serial=holder.serial,
                    ),
                )
            if reason:
                key, text = reason
                report.rejected_rows += 1
                report.add_problem(
                    Problem(
                        row.number,
                        header.headers.get(key, ""),
                        as_text(cell(row, header, key)),
                        text,
                        header.positions.get(key),
                    )
                )
            elif device is None:
                to_insert.append(values)
                if self.places is not None:
                    self.places.count(values)
                    if "condition" not in values and values["status"] != "in_stock":
                        values["condition"] = "good"  # used since, unless the list says
            else:
                changes = {
                    key: values[key]
                    for key in COMPARED
                    if key in values and getattr(device, key) != values[key]
                }
                if changes:
                    to_update.append((device, changes))
                else:
                    report.unchanged += 1
        report.new += len(to_insert)
        report.updated += len(to_update)
        if write and report.ok:
            register_devices(
                to_insert,
                actor=self.actor,
                details={"import": self.filename},
                opening=self.places is not None,
            )
            record_opening_loans(
                [
                    {
                        "device_id": values["device_id"],
                        "school_id": values["school_id"],
                        "borrower": values["borrower"],
                        "since": values.get("since"),
                    }
                    for values in to_insert
                    if "borrower" in values
                ],
                actor=self.actor,
            )
            for device, changes in to_update:
                update_device(
                    device.id, expected_version=device.version, actor=self.actor, **changes
                )
