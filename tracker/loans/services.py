"""Loan rules: a school's borrowers, lending a tablet, taking it back, the agreement's
signature, overdue loans, and erasing names once the retention period ran out.

Every function takes the acting user and the school it acts for, asks `schools.staff`
whether the user may see that school, changes the rows and writes the tablet's event in
the caller's transaction; none commits. A refusal raises a DomainError naming the code,
the field or the value.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from tracker.auth.models import User
from tracker.auth.permissions import check
from tracker.database import utcnow
from tracker.deliveries.media import clean_photo, clean_signature
from tracker.devices.bulk import when_devices_move
from tracker.devices.codes import code_refusal, resolve_code
from tracker.devices.custody import may_change
from tracker.devices.models import Device
from tracker.devices.services import move_device
from tracker.errors import Conflict, NotFound, ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.jobs.queue import periodic
from tracker.jobs.services import work_context
from tracker.loans.models import LOAN_CONDITIONS, Borrower, Loan
from tracker.schools.models import School
from tracker.schools.reach import codes_read_by, reachable
from tracker.schools.staff import school_in_reach
from tracker.text import refuse_control_characters
from tracker.timezone import at_local, local_today
from tracker.transaction import transaction

MAX_BORROWERS_SHOWN = 50  # a page of the borrowers list
MAX_CLASS_LIST = 5000  # rows of one class list (a large school has 3,000 pupils)
# What a borrower is, field by field: the only personal data kept (law 09-08, minimal).
BORROWER_FIELDS = ("code", "kind", "name", "class_name", "guardian_name", "guardian_phone")
LIMITS = {
    "code": 40,
    "name": 120,
    "class_name": 40,
    "guardian_name": 120,
    "guardian_phone": 40,
}
PHONE = re.compile(r"^\+?[0-9 ().-]{6,40}$")


def _labels() -> dict[str, str]:
    return {
        "code": _("Borrower's code"),
        "kind": _("Pupil or teacher"),
        "name": _("Name"),
        "class_name": _("Class"),
        "guardian_name": _("Guardian's name"),
        "guardian_phone": _("Guardian's phone"),
    }


# --- The school's borrowers -------------------------------------------------------------


def clean_borrower(values: dict) -> dict:
    """A borrower's fields, cleaned and checked (the form's, the API's, a class list's row):
    a code and a name always; a guardian only for a pupil."""
    labels = _labels()
    clean = {}
    for key in BORROWER_FIELDS:
        text = " ".join(str(values.get(key) or "").split())
        if key in LIMITS and len(text) > LIMITS[key]:
            raise ValidationFailed(
                _("%(label)s: at most %(n)s characters.", label=labels[key], n=LIMITS[key]),
                field=key,
            )
        clean[key] = refuse_control_characters(text, key, labels[key])
    clean["code"] = clean["code"].upper()
    clean["kind"] = _kind(clean["kind"])
    for key in ("code", "name"):
        if not clean[key]:
            raise ValidationFailed(_("%(label)s is required.", label=labels[key]), field=key)
    if clean["guardian_phone"] and not PHONE.match(clean["guardian_phone"]):
        raise ValidationFailed(
            _("'%(value)s' is not a phone number.", value=clean["guardian_phone"]),
            field="guardian_phone",
        )
    if clean["kind"] == "teacher":
        clean["guardian_name"] = clean["guardian_phone"] = ""
    return clean


KIND_WORDS = {
    "pupil": ("pupil", "student", "élève", "eleve", "تلميذ", "تلميذة", "p"),
    "teacher": ("teacher", "enseignant", "enseignante", "professeur", "أستاذ", "أستاذة", "t"),
}


def _kind(text: str) -> str:
    word = text.strip().lower()
    if not word:
        return "pupil"
    for kind, words in KIND_WORDS.items():
        if word == kind or word in words:
            return kind
    raise ValidationFailed(
        _("'%(value)s' is neither a pupil nor a teacher.", value=text), field="kind"
    )


def borrowers_of(school_id: int, q: str = "", class_name: str = ""):
    """A select of the school's borrowers (not erased), by class then name."""
    query = sa.select(Borrower).where(Borrower.school_id == school_id, Borrower.erased_at.is_(None))
    if class_name:
        query = query.where(Borrower.class_name == class_name)
    text = " ".join(q.split())
    if text:
        query = query.where(
            sa.or_(
                Borrower.code == text.upper(),
                sa.func.lower(Borrower.name).contains(text.lower(), autoescape=True),
            )
        )
    return query.order_by(Borrower.class_name, Borrower.name, Borrower.id)


def classes_of(school_id: int) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(Borrower.class_name)
            .where(Borrower.school_id == school_id, Borrower.erased_at.is_(None))
            .where(Borrower.class_name != "")
            .distinct()
            .order_by(Borrower.class_name)
        )
    )


def get_borrower(actor: User | None, borrower_id: int) -> Borrower:
    """The borrower, if `actor` may see their school's borrowers."""
    check(actor, "borrowers.read")
    borrower = db.session.get(Borrower, borrower_id)
    if borrower is None or borrower.erased_at is not None or not _at_school(actor, borrower):
        raise NotFound(_("No borrower with number %(id)s.", id=borrower_id))
    return borrower


def _borrower_by_code(school_id: int, code: str) -> Borrower | None:
    return db.session.scalar(
        sa.select(Borrower).where(
            Borrower.school_id == school_id,
            Borrower.code == " ".join(code.split()).upper(),
            Borrower.erased_at.is_(None),
        )
    )


def add_borrower(actor: User | None, school_id: int, **values) -> Borrower:
    check(actor, "borrowers.write")
    school = school_in_reach(actor, school_id)
    clean = clean_borrower(values)
    if _borrower_by_code(school.id, clean["code"]) is not None:
        raise ValidationFailed(
            _("The code %(code)s is already a borrower of this school.", code=clean["code"]),
            field="code",
        )
    borrower = Borrower(school_id=school.id, **clean)
    db.session.add(borrower)
    db.session.flush()
    return borrower


def update_borrower(actor: User | None, borrower_id: int, **values) -> Borrower:
    check(actor, "borrowers.write")
    borrower = get_borrower(actor, borrower_id)
    clean = clean_borrower(values)
    other = _borrower_by_code(borrower.school_id, clean["code"])
    if other is not None and other.id != borrower.id:
        raise ValidationFailed(
            _("The code %(code)s is already a borrower of this school.", code=clean["code"]),
            field="code",
        )
    for key, value in clean.items():
        setattr(borrower, key, value)
    db.session.flush()
    return borrower


def save_class_list(school_id: int, rows: list[dict]) -> tuple[int, int, int]:
    """Write a class list's checked rows (`clean_borrower` each): a known code updates its
    borrower, a new one is added. Gives (new, updated, unchanged). The importer
    (spreadsheets) reads and checks the file, and asks this to write it."""
    if len(rows) > MAX_CLASS_LIST:
        raise ValidationFailed(_("At most %(n)s rows in one class list.", n=MAX_CLASS_LIST))
    codes = [row["code"] for row in rows]
    known = {
        borrower.code: borrower
        for borrower in db.session.scalars(
            sa.select(Borrower).where(
                Borrower.school_id == school_id,
                Borrower.code.in_(codes),
                Borrower.erased_at.is_(None),
            )
        )
    }
    new = updated = unchanged = 0
    for row in rows:
        borrower = known.get(row["code"])
        if borrower is None:
            db.session.add(Borrower(school_id=school_id, **row))
            new += 1
            continue
        # An empty cell means "not given": it never erases what the school entered.
        changes = {
            key: value
            for key, value in row.items()
            if value and key != "code" and getattr(borrower, key) != value
        }
        for key, value in changes.items():
            setattr(borrower, key, value)
        updated += bool(changes)
        unchanged += not changes
    db.session.flush()
    return new, updated, unchanged


# --- Lending and taking back -------------------------------------------------------------


def default_due_on(today: date | None = None) -> date:
    """The end of the school year (LOAN_DUE_ON, "MM-DD"), the next one from today."""
    today = today or local_today()
    month, day = (int(part) for part in current_app.config["LOAN_DUE_ON"].split("-"))
    due = date(today.year, month, day)
    return due if due > today else date(today.year + 1, month, day)


def _condition(value: str | None, field: str) -> str:
    value = (value or "good").strip()
    if value not in LOAN_CONDITIONS:
        raise ValidationFailed(
            _(
                "Condition '%(value)s' is not one of: %(allowed)s.",
                value=value,
                allowed=", ".join(LOAN_CONDITIONS),
            ),
            field=field,
        )
    return value


def _short(value: str | None, field: str, limit: int = 200) -> str:
    text = " ".join(str(value or "").split())
    if len(text) > limit:
        raise ValidationFailed(_("At most %(n)s characters.", n=limit), field=field)
    return refuse_control_characters(text, field)


def tablet_at(school: School, code: str, actor: User | None) -> Device:
    """The tablet a scanned code names, if this school holds it and `actor` may change it
    there (devices/custody.py)."""
    resolved = resolve_code(code, codes_read_by(actor))
    device = resolved.device
    if device is None:
        raise ValidationFailed(code_refusal(code, resolved), field="code")
    if device.school_id != school.id or not may_change(actor, device, at_school=school.id):
        raise ValidationFailed(
            _("%(tag)s is not a tablet of this school.", tag=device.asset_tag), field="code"
        )
    return device


def open_loan_of(device_id: int) -> Loan | None:
    return db.session.scalar(
        sa.select(Loan).where(Loan.device_id == device_id, Loan.ended_at.is_(None))
    )


def lend(
    actor: User | None,
    school_id: int,
    code: str,
    borrower_code: str,
    *,
    due_on: date | None = None,
    condition: str = "good",
    accessories: str = "",
    signed_by: str = "",
    signature: str | bytes | None = None,
    paper: bytes | None = None,
    new_borrower: dict | None = None,
) -> Loan:
    """Lend the school's tablet named by `code` to its borrower `borrower_code` (added from
    `new_borrower` when the school does not know the code yet). The tablet goes on loan;
    one tablet per borrower at a time."""
    check(actor, "loans.lend")
    school = school_in_reach(actor, school_id)
    device = tablet_at(school, code, actor)
    borrower_code = " ".join((borrower_code or "").split()).upper()
    if not borrower_code:
        raise ValidationFailed(_("Scan or type the borrower's code."), field="borrower_code")
    borrower = _borrower_by_code(school.id, borrower_code)
    if borrower is None:
        if not (new_borrower or {}).get("name"):
            raise ValidationFailed(
                _(
                    "No borrower of this school has the code %(code)s: give their name to "
                    "add them.",
                    code=borrower_code,
                ),
                field="borrower_code",
            )
        borrower = add_borrower(actor, school.id, **{**new_borrower, "code": borrower_code})
    held = db.session.scalar(
        sa.select(Device.asset_tag)
        .join(Loan, Loan.device_id == Device.id)
        .where(Loan.borrower_id == borrower.id, Loan.ended_at.is_(None))
    )
    if held:
        raise ValidationFailed(
            _(
                "%(name)s already has %(tag)s: take it back first.",
                name=borrower.name,
                tag=held,
            ),
            field="borrower_code",
        )
    today = local_today()
    due_on = due_on or default_due_on(today)
    if due_on <= today:
        raise ValidationFailed(_("The return date must be after today."), field="due_on")
    loan = Loan(
        device_id=device.id,
        borrower_id=borrower.id,
        school_id=school.id,
        due_on=due_on,
        agreement_version=current_app.config["LOAN_AGREEMENT_VERSION"],
        condition_out=_condition(condition, "condition"),
        accessories_out=_short(accessories, "accessories"),
        lent_by_id=actor.id if actor else None,
        accessories_back="",
    )
    # The move refuses a tablet that is not at the school now (on loan, faulty, lost…).
    move_device(device, "lent", actor, borrower=borrower.id, due_on=due_on.isoformat())
    db.session.add(loan)
    if signature or paper:
        _sign(loan, signed_by, signature, paper)
    db.session.flush()
    return loan


# What else happens to a tablet brought back damaged: the repairs feature registers the
# opening of its case here, so loans never imports the feature above it.
_WHEN_BACK_DAMAGED: list = []


def when_back_damaged(hook):
    """Register `hook(actor, device, fault, photo)`, run when a tablet comes back damaged."""
    _WHEN_BACK_DAMAGED.append(hook)
    return hook


def take_back(
    actor: User | None,
    school_id: int,
    code: str,
    *,
    condition: str,
    accessories: str = "",
    fault: str = "",
    photo: bytes | str | None = None,
) -> Loan:
    """The borrower brings the tablet back: the loan ends, the tablet is at the school again;
    one brought back damaged is reported faulty there and then, with what is wrong (and a
    photo), which opens its repair case."""
    check(actor, "loans.lend")
    school = school_in_reach(actor, school_id)
    device = tablet_at(school, code, actor)
    loan = open_loan_of(device.id)
    if loan is None:
        raise ValidationFailed(
            _("%(tag)s is not on loan: nothing to take back.", tag=device.asset_tag),
            field="code",
        )
    move_device(device, "loan_returned", actor, borrower=loan.borrower_id, loan=loan.id)
    loan.ended_at, loan.ended_as = utcnow(), "returned"
    loan.condition_back = _condition(condition, "condition")
    loan.accessories_back = _short(accessories, "accessories")
    loan.received_by_id = actor.id if actor else None
    db.session.flush()
    if loan.condition_back == "damaged":
        for hook in _WHEN_BACK_DAMAGED:
            hook(actor, device, fault, photo)
    return loan


@when_devices_move
def end_loans(device_ids, target: str) -> None:
    """A tablet reported lost or faulty while lent leaves its loan, which says so."""
    if target not in ("lost", "faulty") or (isinstance(device_ids, list) and not device_ids):
        return
    db.session.execute(
        sa.update(Loan)
        .where(Loan.device_id.in_(device_ids), Loan.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_as=target)
        .execution_options(synchronize_session=False)
    )


def continue_loan(actor: User | None, old_device_id: int, new: Device) -> Loan | None:
    """A tablet that broke while lent is replaced: its borrower keeps the loan, now of the
    new tablet (same due day, agreement and signature), when they have no other tablet.
    Gives the new loan, or None when the old tablet was not lent when it broke."""
    last = db.session.scalar(
        sa.select(Loan).where(Loan.device_id == old_device_id).order_by(Loan.id.desc()).limit(1)
    )
    if last is None or last.ended_as != "faulty":
        return None
    if db.session.scalar(
        sa.select(Loan.id).where(Loan.borrower_id == last.borrower_id, Loan.ended_at.is_(None))
    ):
        return None
    loan = Loan(
        device_id=new.id,
        borrower_id=last.borrower_id,
        school_id=last.school_id,
        due_on=last.due_on,
        agreement_version=last.agreement_version,
        condition_out="good",
        accessories_out=last.accessories_out,
        lent_by_id=actor.id if actor else None,
        signed_by=last.signed_by,
        signature_png=last.signature_png,
        paper_jpeg=last.paper_jpeg,
        signed_at=last.signed_at,
        accessories_back="",
    )
    move_device(new, "lent", actor, borrower=last.borrower_id, replaces_loan=last.id)
    db.session.add(loan)
    db.session.flush()
    return loan


def get_loan(actor: User | None, loan_id: int) -> Loan:
    check(actor, "borrowers.read")
    loan = db.session.get(Loan, loan_id)
    if loan is None or not _at_school(actor, loan):  # another's: as if there were none
        raise NotFound(_("No loan with number %(id)s.", id=loan_id))
    return loan


def _at_school(actor: User | None, thing) -> bool:
    """Whether the school of a borrower or a loan is one `actor` sees."""
    try:
        school_in_reach(actor, thing.school_id)
    except NotFound:
        return False
    return True


def _sign(loan: Loan, signed_by: str, signature, paper) -> None:
    signed_by = _short(signed_by, "signed_by", 120)
    if not signed_by:
        raise ValidationFailed(
            _("Write the name of the guardian or teacher who signs."), field="signed_by"
        )
    loan.signed_by = signed_by
    if signature:
        loan.signature_png = clean_signature(signature)
    if paper:
        loan.paper_jpeg = clean_photo(paper)
    loan.signed_at = utcnow()


def sign_loan(actor: User | None, loan_id: int, signed_by: str, signature=None, paper=None) -> Loan:
    """The agreement signed: drawn on the screen, or a photo of the signed paper."""
    check(actor, "loans.lend")
    loan = get_loan(actor, loan_id)
    if loan.ended_at is not None:
        raise Conflict(_("This loan has ended: its agreement can no longer be signed."))
    if not signature and not paper:
        raise ValidationFailed(
            _("Sign on the screen, or take a photo of the signed paper."), field="signature"
        )
    _sign(loan, signed_by, signature, paper)
    db.session.flush()
    return loan


# --- What a school's loans add up to -----------------------------------------------------


def loans_of(school_id: int, which: str = "open"):
    """A select of the school's loans with their tablet and borrower: open (the overdue
    first), overdue, or ended (the latest first)."""
    query = (
        sa.select(Loan)
        .options(sa.orm.joinedload(Loan.device), sa.orm.joinedload(Loan.borrower))
        .where(Loan.school_id == school_id)
    )
    if which == "ended":
        return query.where(Loan.ended_at.is_not(None)).order_by(Loan.ended_at.desc())
    query = query.where(Loan.ended_at.is_(None))
    if which == "overdue":
        query = query.where(Loan.due_on < local_today())
    return query.order_by(Loan.due_on, Loan.id)


def is_overdue(loan: Loan, today: date | None = None) -> bool:
    """Still out after the day it was due back."""
    return loan.ended_at is None and loan.due_on < (today or local_today())


def loans_of_borrower(borrower_id: int):
    """A select of a borrower's loans, the latest first."""
    return (
        sa.select(Loan)
        .options(sa.orm.joinedload(Loan.device))
        .where(Loan.borrower_id == borrower_id)
        .order_by(Loan.lent_at.desc())
        .limit(100)
    )


@dataclass
class LoanCounts:
    open: int = 0
    overdue: int = 0
    unsigned: int = 0
    returned: int = 0
    borrowers: int = 0  # distinct people ever lent a tablet


def loan_counts(school_id: int | None = None) -> LoanCounts:
    """How many loans are open, overdue, unsigned, and how many people were reached (one
    query; the whole programme when no school is given). Counts, never names."""
    today = local_today()
    open_ = Loan.ended_at.is_(None)
    query = sa.select(
        sa.func.count().filter(open_),
        sa.func.count().filter(open_, Loan.due_on < today),
        sa.func.count().filter(open_, Loan.signed_at.is_(None)),
        sa.func.count().filter(Loan.ended_as == "returned"),
        sa.func.count(sa.distinct(Loan.borrower_id)),
    )
    if school_id is not None:
        query = query.where(Loan.school_id == school_id)
    return LoanCounts(*db.session.execute(query).one())


def overdue_by_school():
    """A select of (school id, open loans past their day, the oldest day), by school."""
    return (
        sa.select(
            Loan.school_id,
            sa.func.count(Loan.id).label("loans"),
            sa.func.min(Loan.due_on).label("since"),
        )
        .where(Loan.ended_at.is_(None), Loan.due_on < local_today())
        .group_by(Loan.school_id)
    )


# --- Retention ---------------------------------------------------------------------------


def erase_expired(now: datetime | None = None) -> int:
    """Erase the names, codes, guardians and signatures of borrowers whose last loan ended
    LOAN_RETENTION_YEARS ago (or who were never lent anything in that time); the loans stay,
    anonymised, so the counts do. Gives the number of borrowers erased."""
    now = now or utcnow()
    cutoff = now - timedelta(days=round(365.25 * current_app.config["LOAN_RETENTION_YEARS"]))
    still_lent = sa.select(Loan.borrower_id).where(Loan.ended_at.is_(None))
    recent = sa.select(Loan.borrower_id).where(Loan.ended_at >= cutoff)
    expired = list(
        db.session.scalars(
            sa.select(Borrower.id).where(
                Borrower.erased_at.is_(None),
                Borrower.created_at < cutoff,
                Borrower.id.not_in(still_lent),
                Borrower.id.not_in(recent),
            )
        )
    )
    for start in range(0, len(expired), 500):
        ids = expired[start : start + 500]
        db.session.execute(
            sa.update(Borrower)
            .where(Borrower.id.in_(ids))
            .values(
                code=sa.literal("~") + sa.cast(Borrower.id, sa.String),
                name="",
                guardian_name="",
                guardian_phone="",
                erased_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            sa.update(Loan)
            .where(Loan.borrower_id.in_(ids))
            .values(signed_by="", signature_png=None, paper_jpeg=None)
            .execution_options(synchronize_session=False)
        )
    return len(expired)


@periodic("loans.erase_expired", minute="20", hour="1")  # every night, 02:20 in Morocco
def erase_expired_nightly() -> int:
    with work_context(), transaction():
        return erase_expired()


def record_opening_loans(loans: list[dict], *, actor: User | None) -> int:
    """The loans an opening balance lists (a programme moving in): each tablet, already
    recorded on loan at its school, is lent to its borrower since the day the list gives —
    the school's borrower of that code, or one added with the name and class the list
    gives. Unsigned (the agreement is signed at the school's desk), due at the end of the
    school year. `loans`: {"device_id", "school_id", "borrower": clean_borrower's fields,
    "since": a day or None}. A borrower who already holds a tablet is refused; the caller
    checked the list itself (one tablet per borrower). Gives the number of loans."""
    if not loans:
        return 0
    schools = {loan["school_id"] for loan in loans}
    known = {
        (borrower.school_id, borrower.code): borrower
        for borrower in db.session.scalars(
            sa.select(Borrower).where(Borrower.school_id.in_(schools), Borrower.erased_at.is_(None))
        )
    }
    holding = set(
        db.session.scalars(
            sa.select(Loan.borrower_id).where(Loan.school_id.in_(schools), Loan.ended_at.is_(None))
        )
    )
    for loan in loans:
        key = (loan["school_id"], loan["borrower"]["code"])
        borrower = known.get(key)
        if borrower is None:
            borrower = known[key] = Borrower(school_id=loan["school_id"], **loan["borrower"])
            db.session.add(borrower)
        elif borrower.id in holding:
            raise ValidationFailed(
                _(
                    "%(name)s already has a tablet: take it back first.",
                    name=borrower.name,
                ),
                field="borrower",
            )
    db.session.flush()
    due_on = default_due_on(local_today())
    version = current_app.config["LOAN_AGREEMENT_VERSION"]
    now = utcnow()
    for loan in loans:
        borrower = known[(loan["school_id"], loan["borrower"]["code"])]
        db.session.add(
            Loan(
                device_id=loan["device_id"],
                borrower_id=borrower.id,
                school_id=loan["school_id"],
                lent_at=at_local(loan["since"]) if loan.get("since") else now,
                due_on=due_on,
                agreement_version=version,
                condition_out="good",
                lent_by_id=actor.id if actor else None,
            )
        )
    db.session.flush()
    return len(loans)


def _borrower_reached(reach, borrower_id: int) -> bool:
    found = sa.select(Borrower.id).where(
        Borrower.id == borrower_id, reach.schools_clause(Borrower.school_id)
    )
    return db.session.scalar(found) is not None


def _loan_reached(reach, loan_id: int) -> bool:
    found = sa.select(Loan.id).where(Loan.id == loan_id, reach.schools_clause(Loan.school_id))
    return db.session.scalar(found) is not None


reachable(
    "borrower_id", _borrower_reached, lambda id_: _("No borrower with number %(id)s.", id=id_)
)
reachable("loan_id", _loan_reached, lambda id_: _("No loan with number %(id)s.", id=id_))
