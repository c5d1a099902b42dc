"""What a manager must be warned about, worked out from the data each time (no alert
table to keep in step): late deliveries, boxes on the road too long, tablets scanned at a
school that is not theirs or seen at two schools, tablets reported faulty or lost, and
approved plans not yet delivered, and loans to pupils past their day."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app, url_for

from tracker.allocations.models import Allocation, AllocationPlan
from tracker.allocations.queries import plans_clause
from tracker.auth.models import User
from tracker.dashboard.models import ALERT_STATES, AlertNote
from tracker.database import utcnow
from tracker.deliveries import receipts
from tracker.deliveries.codes import CONFIRMATIONS, NOT_CONFIRMED
from tracker.deliveries.models import HANDED_OVER as DELIVERY_HANDED_OVER
from tracker.deliveries.models import UNDER_WAY, Delivery, DeliveryItem, SchoolReceipt
from tracker.devices.models import Device, DeviceEvent
from tracker.devices.states import HANDED_OVER, event_note
from tracker.errors import NotFound, ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.i18n import ngettext, said
from tracker.loans.services import overdue_by_school
from tracker.repairs.models import RepairCase
from tracker.repairs.services import cases_clause, open_too_long, warranties_ending
from tracker.schools.models import School, SchoolStaff
from tracker.schools.reach import WHOLE, Reach, reach_of, reaches

RECENT_REPORTS = timedelta(days=30)
KINDS = {
    "overdue": _l("Deliveries past their planned day"),
    "unconfirmed": _l("On the road, not confirmed"),
    "not_confirmed": _l("Hand-overs the school's code did not confirm"),
    "receipt_differs": _l("The school's receipt differs from the hand-over"),
    "receipt_missing": _l("Hand-overs the school has not confirmed"),
    "wrong_school": _l("Scanned at a school that is not theirs"),
    "two_schools": _l("Seen at two schools"),
    "faulty_lost": _l("Reported faulty or lost (30 days)"),
    "plans_waiting": _l("Approved plans not yet delivered"),
    "unseen": _l("Schools with tablets nobody has seen for long"),
    "loans_overdue": _l("Schools with loans past their day"),
    "warranty_ending": _l("Schools whose tablets' warranty ends soon"),
    "repairs_open": _l("Repairs open too long"),
}


# What each kind of alert is about, as the URL checks name it (tracker.schools.reach).
SUBJECTS = {
    "plans_waiting": "plan_id",
    "unseen": "school_id",
    "loans_overdue": "school_id",
    "warranty_ending": "school_id",
    "repairs_open": "case_id",
}


@dataclass
class Alert:
    kind: str
    when: datetime | date | None
    title: str
    detail: str
    url: str
    subject: int = 0  # what it is about: the delivery, the event or the plan
    note: AlertNote | None = None  # acknowledged, with who and what they said


def _resolved(kind: str):
    """The subjects of `kind` someone resolved: they leave the list and the count."""
    return sa.select(AlertNote.subject).where(AlertNote.kind == kind, AlertNote.state == "resolved")


def note_alert(kind: str, subject: int, state: str, note: str, actor) -> AlertNote:
    """Acknowledge an alert (seen, being dealt with) or resolve it; resolving says how."""
    if kind not in KINDS or state not in ALERT_STATES:
        raise ValidationFailed(_("No such alert."))
    reach = reach_of(actor)
    if not reach.whole:  # another office's alert: as if there were none
        if kind == "faulty_lost":
            device_id = db.session.scalar(
                sa.select(DeviceEvent.device_id).where(DeviceEvent.id == subject)
            )
            found = device_id is not None and reaches(reach, "device_id", device_id)
        else:
            found = reaches(reach, SUBJECTS.get(kind, "delivery_id"), subject)
        if not found:
            raise NotFound(_("No such alert."))
    note = " ".join((note or "").split())[:500]
    if state == "resolved" and not note:
        raise ValidationFailed(_("Say how the alert was resolved."), field="note")
    kept = db.session.scalar(
        sa.select(AlertNote).where(AlertNote.kind == kind, AlertNote.subject == subject)
    )
    if kept is None:
        kept = AlertNote(kind=kind, subject=subject)
        db.session.add(kept)
    kept.state, kept.note, kept.at = state, note, utcnow()
    kept.actor_id = actor.id if actor else None
    db.session.flush()
    return kept


def _unconfirmed_before() -> datetime:
    days = current_app.config.get("ALERT_UNCONFIRMED_DAYS", 3)
    return utcnow() - timedelta(days=days)


def _unseen_before() -> datetime:
    return utcnow() - timedelta(days=current_app.config["ALERT_UNSEEN_DAYS"])


def _unseen():
    """Delivered tablets not in anyone's hands since ALERT_UNSEEN_DAYS (no scan, count,
    loan or return), by school: each school once, its tablets counted."""
    return (
        sa.select(
            Device.school_id,
            sa.func.count(Device.id).label("tablets"),
            sa.func.min(Device.last_seen_at).label("since"),
        )
        .where(Device.status == "delivered", Device.last_seen_at < _unseen_before())
        .group_by(Device.school_id)
    )


def _waiting_plans():
    delivered = (
        sa.select(sa.func.count())
        .select_from(Device)
        .join(Allocation, Allocation.id == Device.allocation_id)
        .where(Allocation.plan_id == AllocationPlan.id, Device.status.in_(HANDED_OVER))
        .scalar_subquery()
    )
    allocated = (
        sa.select(sa.func.coalesce(sa.func.sum(Allocation.quantity), 0))
        .where(Allocation.plan_id == AllocationPlan.id)
        .scalar_subquery()
    )
    return (
        sa.select(AllocationPlan, allocated.label("allocated"), delivered.label("delivered"))
        .where(AllocationPlan.status.in_(("approved", "partially_fulfilled")))
        .order_by(AllocationPlan.approved_at)
    )


def _receipt_missing():
    """Hand-overs older than RECEIPT_DAYS to schools with staff accounts, which the school
    has not confirmed."""
    since = utcnow() - timedelta(days=current_app.config["RECEIPT_DAYS"])
    has_staff = (
        sa.select(SchoolStaff.school_id)
        .join(User, User.id == SchoolStaff.user_id)
        .where(SchoolStaff.school_id == Delivery.school_id, User.active)
        .exists()
    )
    confirmed = sa.select(SchoolReceipt.id).where(SchoolReceipt.delivery_id == Delivery.id).exists()
    return sa.select(Delivery.id).where(
        Delivery.status.in_(DELIVERY_HANDED_OVER),
        Delivery.delivered_at < since,
        has_staff,
        ~confirmed,
    )


def _count(query) -> sa.ScalarSelect:
    return sa.select(sa.func.count()).select_from(query.subquery()).scalar_subquery()


def _stray_scans(reach: Reach = WHOLE) -> dict[str, list]:
    """Scans of known tablets at a delivery in `reach` that is not theirs, split in two
    kinds."""
    found: dict[str, list] = {"wrong_school": [], "two_schools": []}
    rows = db.session.execute(
        sa.select(Delivery.id, Delivery.school_id, Delivery.unexpected, Delivery.dispatched_at)
        .where(
            sa.cast(Delivery.unexpected, sa.Text) != "[]", reach.schools_clause(Delivery.school_id)
        )
        .order_by(Delivery.id.desc())
        .limit(500)
    )
    for delivery_id, school_id, entries, dispatched_at in rows:
        for entry in entries or []:
            if not entry.get("device_id"):
                continue
            kind = "two_schools" if entry.get("status") == "delivered" else "wrong_school"
            if kind == "wrong_school" and entry.get("school_id") in (None, school_id):
                continue
            found[kind].append((delivery_id, entry, dispatched_at))
    return found


def _devices_in(reach: Reach):
    return sa.select(Device.id).where(reach.devices_clause(Device.school_id, Device.depot_id))


def alert_counts(today: date, reach: Reach = WHOLE) -> dict[str, int]:
    """How many of each kind in `reach` (2 queries)."""
    delivery_in_reach = reach.schools_clause(Delivery.school_id)
    overdue = sa.select(Delivery.id).where(
        delivery_in_reach,
        Delivery.status.in_(UNDER_WAY),
        Delivery.planned_on < today,
        Delivery.id.not_in(_resolved("overdue")),
    )
    unconfirmed = sa.select(Delivery.id).where(
        delivery_in_reach,
        Delivery.status == "dispatched",
        Delivery.dispatched_at < _unconfirmed_before(),
        Delivery.id.not_in(_resolved("unconfirmed")),
    )
    not_confirmed = sa.select(Delivery.id).where(
        delivery_in_reach,
        Delivery.handover_confirmation.in_(NOT_CONFIRMED),
        Delivery.id.not_in(_resolved("not_confirmed")),
    )
    reports = sa.select(DeviceEvent.id).where(
        DeviceEvent.type.in_(("reported_faulty", "reported_lost")),
        DeviceEvent.occurred_at >= utcnow() - RECENT_REPORTS,
        DeviceEvent.id.not_in(_resolved("faulty_lost")),
    )
    if not reach.whole:
        reports = reports.where(DeviceEvent.device_id.in_(_devices_in(reach)))
    plans = _waiting_plans().where(plans_clause(reach)).subquery()
    waiting = sa.select(plans.c.id).where(
        plans.c.allocated > plans.c.delivered, plans.c.id.not_in(_resolved("plans_waiting"))
    )
    unseen = _unseen().subquery()
    unseen_schools = sa.select(unseen.c.school_id).where(
        unseen.c.school_id.not_in(_resolved("unseen")), reach.schools_clause(unseen.c.school_id)
    )
    late_loans = overdue_by_school().subquery()
    late_loan_schools = sa.select(late_loans.c.school_id).where(
        late_loans.c.school_id.not_in(_resolved("loans_overdue")),
        reach.schools_clause(late_loans.c.school_id),
    )
    ending = warranties_ending().subquery()
    ending_schools = sa.select(ending.c.school_id).where(
        ending.c.school_id.not_in(_resolved("warranty_ending")),
        reach.schools_clause(ending.c.school_id),
    )
    long_repairs = (
        open_too_long()
        .with_only_columns(RepairCase.id)
        .where(RepairCase.id.not_in(_resolved("repairs_open")), cases_clause(reach))
    )
    counts = db.session.execute(
        sa.select(
            _count(overdue),
            _count(unconfirmed),
            _count(reports),
            _count(waiting),
            _count(unseen_schools),
            _count(late_loan_schools),
            _count(ending_schools),
            _count(long_repairs),
            _count(not_confirmed),
            _count(
                sa.select(SchoolReceipt.delivery_id)
                .join(Delivery, Delivery.id == SchoolReceipt.delivery_id)
                .where(
                    delivery_in_reach,
                    SchoolReceipt.matched == "differs",
                    SchoolReceipt.delivery_id.not_in(_resolved("receipt_differs")),
                )
            ),
            _count(
                _receipt_missing().where(
                    Delivery.id.not_in(_resolved("receipt_missing")), delivery_in_reach
                )
            ),
        )
    ).one()
    stray = _stray_scans(reach)
    left = {}
    for kind, entries in stray.items():
        resolved = set(db.session.scalars(_resolved(kind))) if entries else set()
        left[kind] = sum(1 for delivery_id, _entry, _at in entries if delivery_id not in resolved)
    return {
        "overdue": counts[0],
        "unconfirmed": counts[1],
        "not_confirmed": counts[8],
        "receipt_differs": counts[9],
        "receipt_missing": counts[10],
        "wrong_school": left["wrong_school"],
        "two_schools": left["two_schools"],
        "faulty_lost": counts[2],
        "plans_waiting": counts[3],
        "unseen": counts[4],
        "loans_overdue": counts[5],
        "warranty_ending": counts[6],
        "repairs_open": counts[7],
    }


def alerts(kind: str, today: date, limit: int = 200, reach: Reach = WHOLE) -> list[Alert]:
    """The alerts of one kind in `reach`, the most urgent first, each with what was said of
    it; resolved ones left out."""
    found = _alerts(kind, today, limit, reach)
    notes = {
        note.subject: note
        for note in db.session.scalars(
            sa.select(AlertNote)
            .options(sa.orm.joinedload(AlertNote.actor))
            .where(AlertNote.kind == kind, AlertNote.subject.in_([a.subject for a in found]))
        )
    }
    kept = []
    for alert in found:
        alert.note = notes.get(alert.subject)
        if alert.note is None or alert.note.state != "resolved":
            kept.append(alert)
    return kept


def _alerts(kind: str, today: date, limit: int, reach: Reach) -> list[Alert]:
    delivery_in_reach = reach.schools_clause(Delivery.school_id)
    if kind in ("overdue", "unconfirmed"):
        query = (
            sa.select(Delivery).options(sa.orm.joinedload(Delivery.school)).where(delivery_in_reach)
        )
        if kind == "overdue":
            query = query.where(
                Delivery.status.in_(UNDER_WAY), Delivery.planned_on < today
            ).order_by(Delivery.planned_on)
        else:
            query = query.where(
                Delivery.status == "dispatched", Delivery.dispatched_at < _unconfirmed_before()
            ).order_by(Delivery.dispatched_at)
        return [
            Alert(
                kind,
                d.planned_on if kind == "overdue" else d.dispatched_at,
                f"{d.reference} · {d.school.code} {d.school.name_fr}",
                d.status,
                url_for("deliveries.detail", delivery_id=d.id),
                d.id,
            )
            for d in db.session.scalars(query.limit(limit))
        ]
    if kind == "not_confirmed":
        query = (
            sa.select(Delivery)
            .options(sa.orm.joinedload(Delivery.school))
            .where(Delivery.handover_confirmation.in_(NOT_CONFIRMED), delivery_in_reach)
            .order_by(Delivery.delivered_at.desc())
        )
        return [
            Alert(
                kind,
                d.delivered_at,
                f"{d.reference} · {d.school.code} {d.school.name_fr}",
                str(CONFIRMATIONS[d.handover_confirmation]),
                url_for("deliveries.detail", delivery_id=d.id),
                d.id,
            )
            for d in db.session.scalars(query.limit(limit))
        ]
    if kind == "receipt_differs":
        query = (
            sa.select(Delivery)
            .join(SchoolReceipt, SchoolReceipt.delivery_id == Delivery.id)
            .options(
                sa.orm.joinedload(Delivery.school),
                sa.orm.selectinload(Delivery.items).joinedload(DeliveryItem.device),
            )
            .where(SchoolReceipt.matched == "differs", delivery_in_reach)
            .order_by(SchoolReceipt.recorded_at.desc())
        )
        return [
            Alert(
                kind,
                d.receipt.recorded_at,
                f"{d.reference} · {d.school.code} {d.school.name_fr}",
                "; ".join(receipts.difference_text(one) for one in receipts.differences(d)),
                url_for("deliveries.detail", delivery_id=d.id),
                d.id,
            )
            for d in db.session.scalars(query.limit(limit))
        ]
    if kind == "receipt_missing":
        query = (
            sa.select(Delivery)
            .options(sa.orm.joinedload(Delivery.school))
            .where(Delivery.id.in_(_receipt_missing()), delivery_in_reach)
            .order_by(Delivery.delivered_at)
        )
        return [
            Alert(
                kind,
                d.delivered_at,
                f"{d.reference} · {d.school.code} {d.school.name_fr}",
                str(receipts.PROOFS[receipts.proof_of(d)]),
                url_for("deliveries.detail", delivery_id=d.id),
                d.id,
            )
            for d in db.session.scalars(query.limit(limit))
        ]
    if kind in ("wrong_school", "two_schools"):
        stray = _stray_scans(reach)[kind][:limit]
        schools = dict(
            db.session.execute(
                sa.select(Delivery.id, School.code + " " + School.name_fr)
                .join(School, School.id == Delivery.school_id)
                .where(Delivery.id.in_({delivery_id for delivery_id, _e, _d in stray}))
            ).all()
        )
        return [
            Alert(
                kind,
                dispatched_at,
                f"DEL-{delivery_id:05d} · {schools.get(delivery_id, '')} · {entry.get('code', '')}",
                said(entry.get("reason", "")),
                url_for("deliveries.detail", delivery_id=delivery_id),
                delivery_id,
            )
            for delivery_id, entry, dispatched_at in stray
        ]
    if kind == "faulty_lost":
        rows = db.session.execute(
            sa.select(DeviceEvent, Device.asset_tag, School.code, School.name_fr)
            .join(Device, Device.id == DeviceEvent.device_id)
            .outerjoin(School, School.id == DeviceEvent.school_id)
            .where(
                DeviceEvent.type.in_(("reported_faulty", "reported_lost")),
                DeviceEvent.occurred_at >= utcnow() - RECENT_REPORTS,
                reach.devices_clause(Device.school_id, Device.depot_id),
            )
            .order_by(DeviceEvent.id.desc())
            .limit(limit)
        )
        return [
            Alert(
                kind,
                event.occurred_at,
                " · ".join(part for part in (tag, code and f"{code} {school}") if part),
                event_note(event.details) or event.type,
                url_for("devices.detail", device_id=event.device_id),
                event.id,
            )
            for event, tag, code, school in rows
        ]
    if kind == "unseen":
        unseen = _unseen().subquery()
        rows = db.session.execute(
            sa.select(School, unseen.c.tablets, unseen.c.since)
            .join(unseen, unseen.c.school_id == School.id)
            .where(reach.school_rows_clause())
            .order_by(unseen.c.since)
            .limit(limit)
        )
        return [
            Alert(
                kind,
                since,
                f"{school.code} {school.name_fr}",
                ngettext(
                    "%(num)s tablet delivered here and not seen since",
                    "%(num)s tablets delivered here and not seen since",
                    tablets,
                ),
                url_for("devices.index", school=school.id, status="delivered"),
                school.id,
            )
            for school, tablets, since in rows
        ]
    if kind == "loans_overdue":
        late = overdue_by_school().subquery()
        rows = db.session.execute(
            sa.select(School, late.c.loans, late.c.since)
            .join(late, late.c.school_id == School.id)
            .where(reach.school_rows_clause())
            .order_by(late.c.since)
            .limit(limit)
        )
        return [
            Alert(
                kind,
                since,
                f"{school.code} {school.name_fr}",
                ngettext(
                    "%(num)s tablet lent and not brought back on its day",
                    "%(num)s tablets lent and not brought back on their day",
                    loans,
                ),
                url_for("schools.detail", school_id=school.id) + "#loans",
                school.id,
            )
            for school, loans, since in rows
        ]
    if kind == "warranty_ending":
        ending = warranties_ending().subquery()
        rows = db.session.execute(
            sa.select(School, ending.c.tablets, ending.c.since)
            .join(ending, ending.c.school_id == School.id)
            .where(reach.school_rows_clause())
            .order_by(ending.c.since)
            .limit(limit)
        )
        return [
            Alert(
                kind,
                since,
                f"{school.code} {school.name_fr}",
                ngettext(
                    "%(num)s tablet in use whose warranty ends from this day",
                    "%(num)s tablets in use whose warranty ends from this day",
                    tablets,
                ),
                url_for("devices.index", school=school.id),
                school.id,
            )
            for school, tablets, since in rows
        ]
    if kind == "repairs_open":
        return [
            Alert(
                kind,
                case.opened_at,
                tag,
                case.repairer or _("no repairer yet"),
                url_for("repairs.detail", case_id=case.id),
                case.id,
            )
            for case, tag in db.session.execute(
                open_too_long().where(cases_clause(reach)).limit(limit)
            )
        ]
    if kind == "plans_waiting":
        return [
            Alert(
                kind,
                plan.approved_at,
                plan.name,
                f"{delivered} / {allocated}",
                url_for("plans.detail", plan_id=plan.id),
                plan.id,
            )
            for plan, allocated, delivered in db.session.execute(
                _waiting_plans().where(plans_clause(reach)).limit(limit)
            )
            if delivered < allocated
        ]
    return []
