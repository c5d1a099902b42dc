"""What a donation became, as its donor reads it: progress, pupils and teachers reached
(counts only), schools reached by region and on the map, the hand-overs and how each was
proved, and the alerts about its tablets (lost, in repair, not seen for long).

One call, `donor_view`, asks a fixed number of statements whatever the donation's size;
the donor's own page and the national office's look at it (what the donor sees) ask the
same. Nothing here reads a borrower, a guardian, a phone, a signature or a photo: the
statements never select them.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from tracker.counts.models import Count, CountLine
from tracker.database import utcnow
from tracker.deliveries.models import Delivery, DeliveryItem, SchoolReceipt
from tracker.deliveries.receipts import proof_column
from tracker.devices.models import Device
from tracker.devices.states import HANDED_OVER
from tracker.donations.models import Donation
from tracker.errors import NotFound
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.loans.models import Borrower, Loan
from tracker.schools.models import School
from tracker.schools.places import place_name
from tracker.schools.services import name_as_read

LISTED = 20  # hand-overs and alerts a page lists, newest first (the report has them all)


@dataclass
class RegionRow:
    region: str
    label: str
    schools: int
    tablets: int


@dataclass
class HandOver:
    id: int
    reference: str
    school: str
    delivered_at: datetime | None
    tablets: int
    proof: str  # a code of deliveries.receipts.PROOFS


@dataclass
class TabletAlert:
    asset_tag: str
    school: str
    since: datetime | None


@dataclass
class UnseenSchool:
    school: str
    tablets: int
    since: datetime | None


@dataclass
class LastCount:
    name: str
    expected: int
    found: int

    @property
    def percent(self) -> float:
        return round(100 * self.found / self.expected, 1) if self.expected else 0.0


@dataclass
class DonorView:
    donation: Donation
    states: dict = field(default_factory=dict)
    pupils: int = 0
    teachers: int = 0
    regions: list = field(default_factory=list)
    last_count: LastCount | None = None
    hand_overs: list = field(default_factory=list)
    lost: list = field(default_factory=list)
    faulty: list = field(default_factory=list)
    unseen: list = field(default_factory=list)
    unseen_days: int = 0

    @property
    def registered(self) -> int:
        return sum(self.states.values())

    @property
    def delivered(self) -> int:
        """Handed over to a school: there, or lent from it."""
        return sum(self.states.get(state, 0) for state in HANDED_OVER)

    @property
    def at_school(self) -> int:
        return self.states.get("delivered", 0)

    @property
    def on_loan(self) -> int:
        return self.states.get("on_loan", 0)

    @property
    def in_repair(self) -> int:
        return self.states.get("faulty", 0)

    @property
    def not_yet_at_school(self) -> int:
        """In stock, reserved for a school, on the road, or back from a school in stock."""
        return sum(
            self.states.get(s, 0) for s in ("in_stock", "reserved", "in_transit", "returned")
        )

    @property
    def lost_total(self) -> int:
        return self.states.get("lost", 0)

    @property
    def delivered_percent(self) -> float:
        return round(100 * self.delivered / self.registered, 1) if self.registered else 0.0

    @property
    def schools_reached(self) -> int:
        return sum(row.schools for row in self.regions)


def states_of(donation_id: int) -> dict[str, int]:
    return dict(
        db.session.execute(
            sa.select(Device.status, sa.func.count())
            .where(Device.donation_id == donation_id)
            .group_by(Device.status)
        ).all()
    )


def regions_of(donation_id: int) -> list[RegionRow]:
    """The regions the donation's tablets reached: schools and tablets handed over there."""
    rows = db.session.execute(
        sa.select(School.region, sa.func.count(sa.distinct(School.id)), sa.func.count())
        .select_from(Device)
        .join(School, School.id == Device.school_id)
        .where(Device.donation_id == donation_id, Device.status.in_(HANDED_OVER))
        .group_by(School.region)
    )
    regions = [
        RegionRow(region or "", place_name(region) or "—", schools, tablets)
        for region, schools, tablets in rows
    ]
    return sorted(regions, key=lambda row: row.label)


def last_count_of(donation_id: int) -> LastCount | None:
    """The programme's last closed count of schools, as far as it concerned the donation's
    tablets: how many it expected, how many it found (one statement)."""
    last = (
        sa.select(Count.id)
        .where(Count.status == "closed", Count.scope != "depot")
        .order_by(Count.closed_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    row = db.session.execute(
        sa.select(Count.name, sa.func.count(), sa.func.count().filter(CountLine.status == "found"))
        .join(CountLine, CountLine.count_id == Count.id)
        .join(Device, Device.id == CountLine.device_id)
        .where(Count.id == last, Device.donation_id == donation_id)
        .group_by(Count.id, Count.name)
    ).first()
    return LastCount(*row) if row else None


def _reached(donation_id: int) -> dict[str, int]:
    """Distinct pupils and teachers ever lent one of the donation's tablets (a number)."""
    return dict(
        db.session.execute(
            sa.select(Borrower.kind, sa.func.count(sa.distinct(Loan.borrower_id)))
            .select_from(Loan)
            .join(Device, Device.id == Loan.device_id)
            .join(Borrower, Borrower.id == Loan.borrower_id)
            .where(Device.donation_id == donation_id)
            .group_by(Borrower.kind)
        ).all()
    )


def _hand_overs(donation_id: int) -> list[HandOver]:
    """The latest hand-overs that carried the donation's tablets, with their proof's kind
    (never who signed, nor the signature)."""
    handed = (
        sa.select(DeliveryItem.delivery_id, sa.func.count().label("tablets"))
        .join(Device, Device.id == DeliveryItem.device_id)
        .where(DeliveryItem.status == "delivered", Device.donation_id == donation_id)
        .group_by(DeliveryItem.delivery_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(
            Delivery.id,
            School.code,
            name_as_read(),
            Delivery.delivered_at,
            handed.c.tablets,
            proof_column(),
        )
        .join(handed, handed.c.delivery_id == Delivery.id)
        .join(School, School.id == Delivery.school_id)
        .outerjoin(SchoolReceipt, SchoolReceipt.delivery_id == Delivery.id)
        .order_by(Delivery.delivered_at.desc(), Delivery.id.desc())
        .limit(LISTED)
    )
    return [
        HandOver(delivery_id, f"DEL-{delivery_id:05d}", f"{code} {name}", when, tablets, proof)
        for delivery_id, code, name, when, tablets, proof in rows
    ]


def hand_over_of(donation_id: int, delivery_id: int) -> Delivery:
    """A hand-over that gave the donation's tablets to a school (any other, of another
    donation or not handed over, is as if none)."""
    carried = db.session.scalar(
        sa.select(DeliveryItem.delivery_id)
        .join(Device, Device.id == DeliveryItem.device_id)
        .where(
            DeliveryItem.delivery_id == delivery_id,
            DeliveryItem.status == "delivered",
            Device.donation_id == donation_id,
        )
        .limit(1)
    )
    if carried is None:
        raise NotFound(_("No delivery with number %(id)s.", id=delivery_id))
    return db.session.get(Delivery, delivery_id)


def _tablets_in(donation_id: int, status: str) -> list[TabletAlert]:
    """The donation's tablets in `status`, latest first, with the school they were at."""
    rows = db.session.execute(
        sa.select(Device.asset_tag, School.code, name_as_read(), Device.updated_at)
        .outerjoin(School, School.id == Device.school_id)
        .where(Device.donation_id == donation_id, Device.status == status)
        .order_by(Device.updated_at.desc(), Device.id.desc())
        .limit(LISTED)
    )
    return [
        TabletAlert(tag, f"{code} {name}" if code else "", since) for tag, code, name, since in rows
    ]


def _unseen(donation_id: int, before: datetime) -> list[UnseenSchool]:
    """Schools where the donation's tablets handed over were not seen since `before`."""
    rows = db.session.execute(
        sa.select(School.code, name_as_read(), sa.func.count(), sa.func.min(Device.last_seen_at))
        .select_from(Device)
        .join(School, School.id == Device.school_id)
        .where(
            Device.donation_id == donation_id,
            Device.status == "delivered",
            Device.last_seen_at < before,
        )
        .group_by(School.id, School.code, name_as_read())
        .order_by(sa.func.min(Device.last_seen_at))
        .limit(LISTED)
    )
    return [UnseenSchool(f"{code} {name}", n, since) for code, name, n, since in rows]


def donor_view(donation: Donation) -> DonorView:
    """Everything the donor's page shows of `donation` (nine statements, whatever its
    size)."""
    days = current_app.config["ALERT_UNSEEN_DAYS"]
    states = states_of(donation.id)
    reached = _reached(donation.id)
    return DonorView(
        donation=donation,
        states=states,
        pupils=reached.get("pupil", 0),
        teachers=reached.get("teacher", 0),
        regions=regions_of(donation.id),
        last_count=last_count_of(donation.id),
        hand_overs=_hand_overs(donation.id),
        lost=_tablets_in(donation.id, "lost") if states.get("lost") else [],
        faulty=_tablets_in(donation.id, "faulty") if states.get("faulty") else [],
        unseen=_unseen(donation.id, utcnow() - timedelta(days=days)),
        unseen_days=days,
    )


def donations_summary(donor_id: int) -> list[DonorView]:
    """A donor's donations, each with its tablets by state (two statements)."""
    donations = db.session.scalars(
        sa.select(Donation)
        .where(Donation.donor_id == donor_id)
        .order_by(Donation.received_on.desc(), Donation.id.desc())
    ).all()
    states: dict[int, dict[str, int]] = {donation.id: {} for donation in donations}
    if donations:
        for donation_id, status, count in db.session.execute(
            sa.select(Device.donation_id, Device.status, sa.func.count())
            .where(Device.donation_id.in_(list(states)))
            .group_by(Device.donation_id, Device.status)
        ):
            states[donation_id][status] = count
    return [DonorView(donation=donation, states=states[donation.id]) for donation in donations]


def school_points(donation_id: int) -> list[dict]:
    """The schools the donation's tablets reached that have a place on the map, with how
    many are there (one statement)."""
    rows = db.session.execute(
        sa.select(
            School.id,
            School.code,
            School.name_fr,
            School.name_ar,
            School.latitude,
            School.longitude,
            sa.func.count(),
        )
        .select_from(Device)
        .join(School, School.id == Device.school_id)
        .where(
            Device.donation_id == donation_id,
            Device.status.in_(HANDED_OVER),
            School.latitude.is_not(None),
            School.longitude.is_not(None),
        )
        .group_by(
            School.id,
            School.code,
            School.name_fr,
            School.name_ar,
            School.latitude,
            School.longitude,
        )
    )
    return [
        {
            "id": school_id,
            "code": code,
            "name": name_fr,
            "name_ar": name_ar,
            "lat": lat,
            "lon": lon,
            "allocated": None,  # (the map says how many are there, not of how many)
            "delivered": n,
            "percent": 100,
        }
        for school_id, code, name_fr, name_ar, lat, lon, n in rows
    ]
