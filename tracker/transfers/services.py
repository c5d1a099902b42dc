"""Transfer rules: proposing where tablets sit idle and where they are missing, the same
four-eyes approval as a plan, and carrying it out as a delivery that starts at a school —
scanned out at the first school, handed over at the second with the same proof.

The donation stays with each tablet (only its school changes), so the donor report follows
it. None of these commits.
"""

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from tracker.auth.models import User
from tracker.auth.permissions import check, role_can
from tracker.database import utcnow
from tracker.deliveries import codes
from tracker.deliveries.models import Delivery, DeliveryItem
from tracker.devices.codes import code_refusal, resolve_code
from tracker.devices.custody import may_change
from tracker.devices.models import Device
from tracker.devices.services import move_device
from tracker.devices.states import HANDED_OVER
from tracker.errors import Conflict, NotFound, ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.loans.models import Loan
from tracker.schools.models import School
from tracker.schools.reach import WHOLE, Reach, codes_read_by, reach_of, reachable
from tracker.schools.staff import school_in_reach
from tracker.text import refuse_control_characters
from tracker.transfers.models import Transfer

IDLE_DAYS = 365  # a tablet at a school not lent for a year is idle there
OPEN_STATES = ("proposed", "submitted", "approved")
MAX_PROPOSED = 200


def get_transfer(transfer_id: int) -> Transfer:
    transfer = db.session.get(Transfer, transfer_id)
    if transfer is None:
        raise NotFound(_("No transfer with number %(id)s.", id=transfer_id))
    return transfer


def transfer_for(user: User | None, transfer_id: int) -> Transfer:
    """The transfer, if `user` may see it: the office and readers every one, a field agent
    the ones assigned to them; any other looks like it does not exist."""
    transfer = get_transfer(transfer_id)
    if user is None or role_can(user.role, "deliveries.read_all"):
        return transfer
    if transfer.assigned_to_id != user.id:
        raise NotFound(_("No transfer with number %(id)s.", id=transfer_id))
    return transfer


def assign(actor: User | None, transfer_id: int, agent_id: int | None) -> Transfer:
    """Give the transfer to a field agent (or to nobody): they alone carry it out, and its
    delivery, once it exists, is theirs."""
    check(actor, "transfers.assign")
    transfer = get_transfer(transfer_id)
    _require(transfer, (*OPEN_STATES, "on_the_way"), _("assigned"))
    if transfer.delivery is not None and transfer.delivery.status != "dispatched":
        raise Conflict(_("%(ref)s is handed over already.", ref=transfer.delivery.reference))
    agent = db.session.get(User, agent_id) if agent_id else None
    if agent_id and (
        agent is None
        or not agent.active
        or not role_can(agent.role, "deliveries.assigned")
        or not reach_of(agent).covers_school_id(transfer.from_school_id)
        or not reach_of(agent).covers_school_id(transfer.to_school_id)
    ):
        raise ValidationFailed(_("Choose an active field agent."), field="assigned_to_id")
    transfer.assigned_to_id = agent.id if agent else None
    if transfer.delivery is not None and transfer.delivery.status == "dispatched":
        transfer.delivery.assigned_to_id = transfer.assigned_to_id
    db.session.flush()
    return transfer


def transfers(which: str = "open", user: User | None = None):
    """The open (or finished) transfers `user` may see."""
    query = sa.select(Transfer).options(
        sa.orm.joinedload(Transfer.from_school),
        sa.orm.joinedload(Transfer.to_school),
        sa.orm.joinedload(Transfer.delivery),
    )
    if user is not None and not role_can(user.role, "deliveries.read_all"):
        query = query.where(Transfer.assigned_to_id == user.id)
    query = query.where(transfers_clause(reach_of(user)))
    if which == "open":
        return query.where(Transfer.status.in_(OPEN_STATES)).order_by(Transfer.id)
    return query.where(Transfer.status.not_in(OPEN_STATES)).order_by(Transfer.id.desc())


def _require(transfer: Transfer, states: tuple[str, ...], doing: str) -> None:
    if transfer.status not in states:
        raise Conflict(_("%(ref)s cannot be %(doing)s now.", ref=transfer.reference, doing=doing))


def create_transfer(
    actor: User | None, from_school_id: int, to_school_id: int, quantity: int, note: str = ""
) -> Transfer:
    """A transfer proposed by hand."""
    check(actor, "transfers.create")
    origin = school_in_reach(actor, from_school_id)
    destination = school_in_reach(actor, to_school_id)
    if origin.id == destination.id:
        raise ValidationFailed(_("Choose two different schools."), field="to_school_id")
    if not quantity or quantity < 1:
        raise ValidationFailed(_("Move at least one tablet."), field="quantity")
    held = idle_at([origin.id]).get(origin.id, 0)
    if quantity > held:
        raise ValidationFailed(
            _(
                "%(school)s has %(n)s tablets not lent for a year: it cannot give %(q)s.",
                school=origin.name_fr,
                n=held,
                q=quantity,
            ),
            field="quantity",
        )
    transfer = Transfer(
        from_school_id=origin.id,
        to_school_id=destination.id,
        quantity=quantity,
        status="proposed",
        reason="by_hand",
        note=refuse_control_characters(" ".join((note or "").split())[:300], "note"),
        created_by_id=actor.id if actor else None,
    )
    db.session.add(transfer)
    db.session.flush()
    return transfer


def _idle():
    """Tablets handed over, at their school, with no loan in the last IDLE_DAYS days."""
    since = utcnow() - timedelta(days=IDLE_DAYS)
    recent = sa.select(Loan.device_id).where(
        sa.or_(Loan.ended_at.is_(None), Loan.ended_at >= since)
    )
    return sa.and_(Device.status == "delivered", Device.id.not_in(recent))


def idle_at(school_ids: list[int] | None = None) -> dict[int, int]:
    query = (
        sa.select(Device.school_id, sa.func.count())
        .where(_idle(), Device.school_id.is_not(None))
        .group_by(Device.school_id)
    )
    if school_ids is not None:
        query = query.where(Device.school_id.in_(school_ids))
    return dict(db.session.execute(query).all())


@dataclass
class Gap:
    school: School
    tablets: int  # idle beyond the need (a surplus), or short of the need


def surpluses_and_needs(reach: Reach = WHOLE) -> tuple[list[Gap], list[Gap]]:
    """Schools in `reach` with idle tablets beyond their need, and schools short of theirs
    (tablets handed over, on their way or reserved count as theirs)."""
    held = dict(
        db.session.execute(
            sa.select(Device.school_id, sa.func.count())
            .where(Device.status.in_(("reserved", "in_transit", *HANDED_OVER)))
            .group_by(Device.school_id)
        ).all()
    )
    idle = idle_at()
    schools = {
        school.id: school
        for school in db.session.scalars(
            sa.select(School).where(
                School.id.in_(set(held) | set(idle)) | (School.need > 0),
                reach.school_rows_clause(),
            )
        )
    }
    surplus, short = [], []
    for school in schools.values():
        extra = min(idle.get(school.id, 0), held.get(school.id, 0) - school.need)
        if extra > 0:
            surplus.append(Gap(school, extra))
        missing = school.need - held.get(school.id, 0)
        if missing > 0:
            short.append(Gap(school, missing))
    return surplus, short


def why_none_proposed(reach: Reach = WHOLE) -> str:
    """Why proposing from idle tablets made nothing, in the reader's words: no school with
    idle tablets to spare, none short of its need, or none of the two in reach of the other
    (the same province or region) without a transfer already open between them."""
    surplus, short = surpluses_and_needs(reach)
    if not surplus:
        return _(
            "No transfer to propose: no school has tablets idle beyond its need (handed over "
            "and not lent for %(n)s days).",
            n=IDLE_DAYS,
        )
    if not short:
        return _("No transfer to propose: no school is short of its need.")
    return _(
        "No transfer to propose: no school short of its need is in the province or region of "
        "a school with idle tablets, or a transfer between them is already open."
    )


def propose_transfers(actor: User | None) -> list[Transfer]:
    """Transfers proposed from the surpluses to the needs: the same province first, then
    the same region; never between schools a transfer already links."""
    check(actor, "transfers.create")
    surplus, short = surpluses_and_needs(reach_of(actor))
    taken = {
        (a, b)
        for a, b in db.session.execute(
            sa.select(Transfer.from_school_id, Transfer.to_school_id).where(
                Transfer.status.in_(OPEN_STATES)
            )
        )
    }
    made = []
    for level in ("province", "region"):
        for need in short:
            for give in surplus:
                if len(made) >= MAX_PROPOSED or need.tablets <= 0:
                    break
                if give.tablets <= 0 or (give.school.id, need.school.id) in taken:
                    continue
                if getattr(give.school, level) != getattr(need.school, level):
                    continue
                quantity = min(give.tablets, need.tablets)
                transfer = Transfer(
                    from_school_id=give.school.id,
                    to_school_id=need.school.id,
                    quantity=quantity,
                    status="proposed",
                    reason="surplus",
                    created_by_id=actor.id if actor else None,
                )
                db.session.add(transfer)
                made.append(transfer)
                taken.add((give.school.id, need.school.id))
                give.tablets -= quantity
                need.tablets -= quantity
    db.session.flush()
    return made


def submit(actor: User | None, transfer_id: int) -> Transfer:
    check(actor, "transfers.submit")
    transfer = get_transfer(transfer_id)
    _require(transfer, ("proposed",), _("submitted"))
    transfer.status = "submitted"
    transfer.submitted_by_id = actor.id if actor else None
    transfer.submitted_at = utcnow()
    db.session.flush()
    return transfer


def approve(actor: User | None, transfer_id: int) -> Transfer:
    """The four-eyes step: a manager who did not submit it."""
    check(actor, "transfers.approve")
    transfer = get_transfer(transfer_id)
    _require(transfer, ("submitted",), _("approved"))
    if actor is not None and transfer.submitted_by_id == actor.id:
        raise Conflict(_("Another person approves what you submitted."))
    transfer.status = "approved"
    transfer.approved_by_id = actor.id if actor else None
    transfer.approved_at = utcnow()
    db.session.flush()
    return transfer


def cancel(actor: User | None, transfer_id: int) -> Transfer:
    check(actor, "transfers.cancel")
    transfer = get_transfer(transfer_id)
    _require(transfer, OPEN_STATES, _("cancelled"))
    if transfer.delivery_id is not None:
        raise Conflict(
            _(
                "Tablets are scanned out for %(ref)s already: hand them over.",
                ref=transfer.reference,
            )
        )
    transfer.status = "cancelled"
    db.session.flush()
    return transfer


def scanned_out(transfer: Transfer) -> int:
    if transfer.delivery_id is None:
        return 0
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(DeliveryItem)
        .where(DeliveryItem.delivery_id == transfer.delivery_id)
    )


def scan_out(actor: User | None, transfer_id: int, code: str) -> Device:
    """At the first school: a tablet of it (not lent) goes on the transfer's delivery, on
    its way to the second school."""
    check(actor, "transfers.scan_out")
    transfer = transfer_for(actor, transfer_id)
    _require(transfer, ("approved",), _("scanned out"))
    resolved = resolve_code(code, codes_read_by(actor))
    device = resolved.device
    if device is None:
        raise ValidationFailed(code_refusal(code, resolved), field="code")
    carrying = actor is not None and transfer.assigned_to_id == actor.id
    if device.school_id != transfer.from_school_id or not (
        carrying or may_change(actor, device, at_school=transfer.from_school_id)
    ):
        raise ValidationFailed(
            _(
                "%(tag)s is not a tablet of %(school)s.",
                tag=device.asset_tag,
                school=transfer.from_school.name_fr,
            ),
            field="code",
        )
    if device.status == "on_loan":
        raise ValidationFailed(
            _("%(tag)s is lent: take it back from its borrower first.", tag=device.asset_tag),
            field="code",
        )
    if transfer.delivery is not None and transfer.delivery.status != "dispatched":
        raise Conflict(_("%(ref)s is handed over already.", ref=transfer.delivery.reference))
    if scanned_out(transfer) >= transfer.quantity:
        raise ValidationFailed(
            _(
                "%(ref)s moves %(n)s tablets: they are all scanned out.",
                ref=transfer.reference,
                n=transfer.quantity,
            ),
            field="code",
        )
    if transfer.delivery_id is None:
        # On the road from its first tablet: a box that starts at a school is never packed
        # or cancelled at the office (its tablets would be left nowhere).
        now = utcnow()
        delivery = Delivery(
            school_id=transfer.to_school_id,
            plan_id=None,
            assigned_to_id=transfer.assigned_to_id,
            status="dispatched",
            packed_at=now,
            dispatched_at=now,
            created_by_id=actor.id if actor else None,
        )
        db.session.add(delivery)
        db.session.flush()
        transfer.delivery_id = delivery.id
        # On the road from here: the receiving school gets its code now, as at any
        # dispatch, so no hand-over at the second school goes without the school's word
        # (kept on the object for the caller in this process: the demo, tests).
        delivery.sent_code = codes.send_code(delivery, actor)
    destination = db.session.get(School, transfer.to_school_id)
    move_device(
        device,
        "transferred_out",
        actor,
        school=destination,
        allocation_id=device.allocation_id,  # it stays its plan's and its donation's
        transfer=transfer.reference,
        delivery_id=transfer.delivery_id,
        school_id=transfer.from_school_id,
    )
    db.session.add(
        DeliveryItem(
            delivery_id=transfer.delivery_id,
            device_id=device.id,
            status="packed",
            packed_at=utcnow(),
        )
    )
    db.session.flush()
    return device


def leave(actor: User | None, transfer_id: int) -> Transfer:
    """The tablets scanned out leave the first school: the transfer is on its way, its
    delivery handed over at the second school like any other."""
    check(actor, "transfers.scan_out")
    transfer = transfer_for(actor, transfer_id)
    _require(transfer, ("approved",), _("sent"))
    if not scanned_out(transfer):
        raise ValidationFailed(_("Scan out the tablets first."))
    delivery = db.session.get(Delivery, transfer.delivery_id)
    if delivery.status != "dispatched":
        raise Conflict(_("%(ref)s is handed over already.", ref=delivery.reference))
    transfer.status = "on_the_way"
    db.session.flush()
    return transfer


def transfers_clause(reach):
    """A transfer is in reach when both its schools are."""
    return sa.and_(
        reach.schools_clause(Transfer.from_school_id), reach.schools_clause(Transfer.to_school_id)
    )


def _transfer_reached(reach, transfer_id: int) -> bool:
    found = sa.select(Transfer.id).where(Transfer.id == transfer_id, transfers_clause(reach))
    return db.session.scalar(found) is not None


reachable(
    "transfer_id", _transfer_reached, lambda id_: _("No transfer with number %(id)s.", id=id_)
)
