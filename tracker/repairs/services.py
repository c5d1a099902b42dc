"""Repair rules: a case opens behind every tablet reported faulty (from the desk, a
hand-over, a field report or a count), is followed through the repairer, and closes as
repaired (back at its school, or in stock), replaced (a tablet from stock takes the old
one's school, and its loan) or beyond repair. Each step is an event of the tablet.
"""

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask import current_app

from tracker.auth.models import User
from tracker.auth.permissions import check
from tracker.database import utcnow
from tracker.deliveries.media import clean_photo
from tracker.devices.bulk import when_devices_move
from tracker.devices.codes import code_refusal, resolve_code
from tracker.devices.models import Device
from tracker.devices.services import move_device, record_event
from tracker.devices.states import HANDED_OVER, STATUS_LABELS
from tracker.errors import Conflict, NotFound, ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.loans.services import continue_loan, tablet_at, when_back_damaged
from tracker.repairs.models import MAX_PHOTOS, OUTCOMES, RepairCase, RepairPhoto
from tracker.repairs.words import OUTCOME_LABELS
from tracker.schools.models import School
from tracker.schools.reach import WHOLE, Reach, codes_read_by, reachable
from tracker.schools.staff import school_in_reach
from tracker.text import refuse_control_characters
from tracker.timezone import local_today

IN_USE = HANDED_OVER  # a warranty that ends matters for these


@when_devices_move
def follow_faults(device_ids, target: str) -> None:
    """A tablet reported faulty gets its open case (one, whatever the path); one that leaves
    the faulty state another way (repaired at the desk, a corrected hand-over) ends it."""
    if isinstance(device_ids, list) and not device_ids:
        return
    now = utcnow()
    open_case = sa.select(RepairCase.device_id).where(RepairCase.closed_at.is_(None))
    if target == "faulty":
        warranty = sa.case((Device.warranty_until >= local_today(), sa.true()), else_=sa.false())
        db.session.execute(
            sa.insert(RepairCase.__table__).from_select(
                [
                    "device_id",
                    "school_id",
                    "opened_at",
                    "fault",
                    "under_warranty",
                    "warranty_claim",
                    "repairer",
                    "repairer_ref",
                ],
                sa.select(
                    Device.id,
                    Device.school_id,
                    sa.literal(now, RepairCase.opened_at.type),
                    sa.literal(""),
                    warranty,
                    sa.false(),
                    sa.literal(""),
                    sa.literal(""),
                ).where(Device.id.in_(device_ids), Device.id.not_in(open_case)),
            )
        )
        return
    db.session.execute(
        sa.update(RepairCase)
        .where(RepairCase.device_id.in_(device_ids), RepairCase.closed_at.is_(None))
        .values(
            closed_at=now,
            outcome="repaired"
            if target in ("in_stock", "delivered", "reserved")
            else "beyond_repair",
        )
        .execution_options(synchronize_session=False)
    )


def get_case(case_id: int) -> RepairCase:
    case = db.session.get(RepairCase, case_id)
    if case is None:
        raise NotFound(_("No repair case with number %(id)s.", id=case_id))
    return case


def cases(which: str = "open", reach: Reach = WHOLE):
    """A select of repair cases in `reach`: the open ones (the oldest first) or the closed
    ones."""
    query = (
        sa.select(RepairCase)
        .options(sa.orm.joinedload(RepairCase.device), sa.orm.joinedload(RepairCase.school))
        .where(cases_clause(reach))
    )
    if which == "closed":
        return query.where(RepairCase.closed_at.is_not(None)).order_by(RepairCase.closed_at.desc())
    return query.where(RepairCase.closed_at.is_(None)).order_by(RepairCase.opened_at)


def cases_of(device_id: int) -> list[RepairCase]:
    return list(
        db.session.scalars(
            sa.select(RepairCase)
            .where(RepairCase.device_id == device_id)
            .order_by(RepairCase.id.desc())
        )
    )


def _text(value, field: str, limit: int) -> str:
    text = " ".join(str(value or "").split()) if limit <= 200 else str(value or "").strip()
    if len(text) > limit:
        raise ValidationFailed(_("At most %(n)s characters.", n=limit), field=field)
    return refuse_control_characters(text, field)


def _cost(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        cost = Decimal(str(value).replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        raise ValidationFailed(
            _("'%(value)s' is not an amount.", value=value), field="cost"
        ) from None
    if cost < 0 or cost >= Decimal("100000000"):
        raise ValidationFailed(_("'%(value)s' is not an amount.", value=value), field="cost")
    return cost.quantize(Decimal("0.01"))


def update_case(
    actor: User | None,
    case_id: int,
    *,
    fault: str = "",
    warranty_claim: bool = False,
    repairer: str = "",
    repairer_ref: str = "",
    sent_on: date | None = None,
    returned_on: date | None = None,
    cost=None,
) -> RepairCase:
    """What is known of the repair: the fault, the claim, the repairer and their reference,
    the dates it left and came back, and the cost."""
    check(actor, "repairs.write")
    case = get_case(case_id)
    if sent_on and returned_on and returned_on < sent_on:
        raise ValidationFailed(
            _("It came back before it left: check the dates."), field="returned_on"
        )
    case.fault = _text(fault, "fault", 2000)
    case.warranty_claim = bool(warranty_claim)
    case.repairer = _text(repairer, "repairer", 120)
    case.repairer_ref = _text(repairer_ref, "repairer_ref", 64)
    case.sent_on, case.returned_on = sent_on, returned_on
    case.cost = _cost(cost)
    db.session.flush()
    return case


def report_fault(
    actor: User | None, school_id: int, code: str, fault: str, photo: bytes | str | None = None
) -> RepairCase:
    """The school reports a tablet it holds (at the school or lent) faulty: what is wrong and
    a photo, which open its repair case for the office (a lent one leaves its loan, and its
    borrower gets the replacement)."""
    check(actor, "repairs.report")
    school = school_in_reach(actor, school_id)
    return _report(actor, tablet_at(school, code, actor), fault, photo)


@when_back_damaged
def _report(
    actor: User | None, device: Device, fault: str, photo: bytes | str | None
) -> RepairCase:
    """Report `device` faulty with what is wrong: the move opens the case, which keeps the
    words, who said them and the photo."""
    if device.status == "faulty":
        raise ValidationFailed(
            _("%(tag)s is already reported faulty: its repair case is open.", tag=device.asset_tag),
            field="code",
        )
    if device.status not in HANDED_OVER:
        raise ValidationFailed(
            _(
                "%(tag)s is %(state)s: only a tablet the school has can be reported faulty here.",
                tag=device.asset_tag,
                state=str(STATUS_LABELS[device.status]).lower(),
            ),
            field="code",
        )
    fault = _text(fault, "fault", 2000)
    if not fault:
        raise ValidationFailed(
            _("Say what is wrong with the tablet: the repair case opens with it."), field="fault"
        )
    jpeg = clean_photo(photo) if photo else None
    move_device(device, "reported_faulty", actor, note=fault)
    case = db.session.scalar(
        sa.select(RepairCase).where(
            RepairCase.device_id == device.id, RepairCase.closed_at.is_(None)
        )
    )
    case.fault = fault
    case.opened_by_id = actor.id if actor else None
    if jpeg is not None:
        db.session.add(
            RepairPhoto(case_id=case.id, jpeg=jpeg, added_by_id=actor.id if actor else None)
        )
    db.session.flush()
    return case


def add_photo(actor: User | None, case_id: int, data: bytes) -> RepairPhoto:
    check(actor, "repairs.write")
    case = get_case(case_id)
    kept = db.session.scalar(
        sa.select(sa.func.count()).select_from(RepairPhoto).where(RepairPhoto.case_id == case.id)
    )
    if kept >= MAX_PHOTOS:
        raise ValidationFailed(_("At most %(n)s photos a case.", n=MAX_PHOTOS), field="photo")
    photo = RepairPhoto(
        case_id=case.id, jpeg=clean_photo(data), added_by_id=actor.id if actor else None
    )
    db.session.add(photo)
    db.session.flush()
    return photo


def photos_of(case_id: int) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(RepairPhoto.id).where(RepairPhoto.case_id == case_id).order_by(RepairPhoto.id)
        )
    )


def _other_outcomes(chosen: str) -> str:
    """The outcomes other than `chosen`, in the reader's words ("repaired or beyond repair")."""
    words = [str(OUTCOME_LABELS[code]).lower() for code in OUTCOMES if code != chosen]
    return _("%(one)s or %(other)s", one=words[0], other=words[1])


def close_case(
    actor: User | None, case_id: int, outcome: str, replacement_code: str = ""
) -> RepairCase:
    """End a case: repaired (back at the school it broke at, or in stock), replaced by a
    tablet from stock (which takes the old one's school and loan), or beyond repair."""
    check(actor, "repairs.write")
    case = get_case(case_id)
    if case.closed_at is not None:
        raise Conflict(_("This case is closed already."))
    if outcome not in OUTCOMES:
        raise ValidationFailed(_("Choose how the repair ended."), field="outcome")
    device = db.session.get(Device, case.device_id)
    if device.status != "faulty":
        raise Conflict(_("%(tag)s is no longer faulty: look at its history.", tag=device.asset_tag))
    # The school it is at, or was at when it broke (a hand-over's damaged tablet left it).
    school_id = device.school_id or case.school_id
    school = db.session.get(School, school_id) if school_id else None
    new = None
    if outcome == "replaced":
        if not replacement_code.strip():
            raise ValidationFailed(
                _(
                    "Replaced by which tablet? Scan or type the code of the tablet from stock "
                    "that takes its place, or choose another outcome: %(others)s.",
                    others=_other_outcomes("replaced"),
                ),
                field="replacement",
            )
        resolved = resolve_code(replacement_code, codes_read_by(actor))
        new = resolved.device
        if new is None:
            raise ValidationFailed(code_refusal(replacement_code, resolved), field="replacement")
        if new.id == device.id:
            raise ValidationFailed(_("A tablet cannot replace itself."), field="replacement")
        if school is None:
            raise ValidationFailed(
                _(
                    "%(tag)s was at no school: nothing to replace there. Choose another "
                    "outcome: %(others)s.",
                    tag=device.asset_tag,
                    others=_other_outcomes("replaced"),
                ),
                field="replacement",
            )
    case.outcome, case.closed_at = outcome, utcnow()
    case.closed_by_id = actor.id if actor else None
    db.session.flush()  # closed first: the move below must not close it again
    if outcome == "repaired":
        if school is not None:
            move_device(device, "back_from_repair", actor, case=case.id)
        else:
            move_device(device, "repaired", actor, case=case.id)
    elif outcome == "replaced":
        move_device(
            new, "replacement_for", actor, school=school, replaces=device.asset_tag, case=case.id
        )
        record_event(device, "replaced_by", actor, replacement=new.asset_tag, case=case.id)
        device.school_id = device.allocation_id = None
        case.replacement_id = new.id
        continue_loan(actor, device.id, new)
    db.session.flush()
    return case


# --- What is warned of -------------------------------------------------------------------


def open_too_long():
    """A select of (case, device) open longer than REPAIR_ALERT_DAYS, the oldest first."""
    before = utcnow() - timedelta(days=current_app.config["REPAIR_ALERT_DAYS"])
    return (
        sa.select(RepairCase, Device.asset_tag)
        .join(Device, Device.id == RepairCase.device_id)
        .where(RepairCase.closed_at.is_(None), RepairCase.opened_at < before)
        .order_by(RepairCase.opened_at)
    )


def warranties_ending():
    """A select of (school id, tablets, the first end) for tablets in use whose warranty
    ends within WARRANTY_ALERT_DAYS, by school."""
    today = local_today()
    until = today + timedelta(days=current_app.config["WARRANTY_ALERT_DAYS"])
    return (
        sa.select(
            Device.school_id,
            sa.func.count(Device.id).label("tablets"),
            sa.func.min(Device.warranty_until).label("since"),
        )
        .where(
            Device.status.in_(IN_USE),
            Device.warranty_until >= today,
            Device.warranty_until <= until,
        )
        .group_by(Device.school_id)
    )


def cases_clause(reach):
    """A repair case is in reach when its tablet's school is (or, with none, its tablet)."""
    if reach.whole:
        return sa.true()
    return sa.or_(
        reach.schools_clause(RepairCase.school_id),
        sa.and_(
            RepairCase.school_id.is_(None),
            RepairCase.device_id.in_(
                sa.select(Device.id).where(reach.devices_clause(Device.school_id, Device.depot_id))
            ),
        ),
    )


def _case_reached(reach, case_id: int) -> bool:
    found = sa.select(RepairCase.id).where(RepairCase.id == case_id, cases_clause(reach))
    return db.session.scalar(found) is not None


reachable("case_id", _case_reached, lambda id_: _("No repair case with number %(id)s.", id=id_))
