"""The figures managers watch, each in one aggregate query whatever the programme's size.

Progress is counted at three levels — regions, the provinces of a region, the schools of a
province — from the same three queries (schools, allocations, devices), grouped by the
level's key. The dashboard stays within eleven SQL statements (a test counts them).
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from tracker.allocations.models import Allocation, AllocationPlan
from tracker.allocations.queries import plans_clause
from tracker.counts.models import Count, CountLine
from tracker.counts.queries import counts_clause
from tracker.deliveries.models import SCHOOL_CONFIRMED, Delivery, DeliveryItem
from tracker.devices.models import Device, DeviceEvent
from tracker.devices.states import HANDED_OVER
from tracker.donations.models import Donation
from tracker.extensions import db
from tracker.loans.models import Loan
from tracker.repairs.models import RepairCase
from tracker.repairs.services import cases_clause
from tracker.schools.models import School
from tracker.schools.places import place_name
from tracker.schools.reach import WHOLE, Reach
from tracker.timezone import at_local, local_today

ACTIVE_PLANS = ("approved", "partially_fulfilled", "fulfilled", "closed")
WEEKS = 12
CONFIRMED_ROW = "_school_confirmed"  # not a device state: the union's second part
COUNTED_ROW, SEEN_ROW = "_counted", "_seen"  # the last count's lines, and those found


@dataclass
class Progress:
    """One row of the drill-down: a region, a province or a school, and its figures."""

    key: str
    label: str
    schools: int = 0
    need: int = 0
    allocated: int = 0
    states: dict = field(default_factory=dict)
    school: School | None = None
    reached: int = 0  # distinct pupils and teachers lent a tablet
    school_confirmed: int = 0  # tablets handed over whose receipt the school confirmed
    counted: int = 0  # tablets the last closed count expected at the row's schools
    seen: int = 0  # of which it found

    @property
    def in_repair(self) -> int:
        return self.states.get("faulty", 0)

    @property
    def lost(self) -> int:
        return self.states.get("lost", 0)

    @property
    def seen_percent(self) -> float | None:
        """The share of what the last count expected here that it found (None: not
        counted)."""
        return round(100 * self.seen / self.counted, 1) if self.counted else None

    @property
    def on_loan(self) -> int:
        return self.states.get("on_loan", 0)

    @property
    def delivered(self) -> int:
        return sum(self.states.get(state, 0) for state in HANDED_OVER)

    @property
    def reserved(self) -> int:
        return self.states.get("reserved", 0)

    @property
    def in_transit(self) -> int:
        return self.states.get("in_transit", 0)

    @property
    def outstanding(self) -> int:
        return max(self.allocated - self.delivered, 0)

    @property
    def percent(self) -> float:
        return round(100 * self.delivered / self.allocated, 1) if self.allocated else 0.0

    @property
    def confirmed_percent(self) -> float:
        """The share of the tablets at the row's schools whose receipt the school itself
        confirmed (at most 100: a tablet moved since still counts where it was received)."""
        if not self.delivered:
            return 0.0
        return min(100.0, round(100 * self.school_confirmed / self.delivered, 1))


def _level(region: str, province: str, reach: Reach):
    """The column rows are grouped by, and the filter, for the level asked (the schools in
    `reach` only)."""
    mine = [] if reach.whole else [reach.school_rows_clause()]
    if region and province:
        return School.id, [School.region == region, School.province == province, *mine]
    if region:
        return School.province, [School.region == region, *mine]
    return School.region, mine


def progress(region: str = "", province: str = "", reach: Reach = WHOLE) -> list[Progress]:
    """Regions; or the provinces of `region`; or the schools of `province` (3 queries), of
    the schools in `reach`."""
    key, where = _level(region, province, reach)
    rows: dict = {}
    # Pupils and teachers lent a tablet at the row's schools, asked with the schools.
    lent_at = sa.orm.aliased(School)
    reached = (
        sa.select(sa.func.count(sa.distinct(Loan.borrower_id)))
        .join(lent_at, lent_at.id == Loan.school_id)
        .where(getattr(lent_at, key.key) == key)
        .correlate(School)
        .scalar_subquery()
    )
    school_query = sa.select(
        key, sa.func.count(), sa.func.coalesce(sa.func.sum(School.need), 0), reached
    ).group_by(key)
    if region and province:
        school_query = sa.select(School, reached).where(*where).order_by(School.code)
        for school, lent in db.session.execute(school_query):
            rows[school.id] = Progress(
                str(school.id), school.name_fr, 1, school.need, school=school, reached=lent
            )
    else:
        for value, schools, need, lent in db.session.execute(school_query.where(*where)):
            rows[value] = Progress(
                value or "", place_name(value) or "—", schools, need, reached=lent
            )
    allocated = (
        sa.select(key, sa.func.coalesce(sa.func.sum(Allocation.quantity), 0))
        .join(School, School.id == Allocation.school_id)
        .join(AllocationPlan, AllocationPlan.id == Allocation.plan_id)
        .where(AllocationPlan.status.in_(ACTIVE_PLANS), *where)
        .group_by(key)
    )
    for value, quantity in db.session.execute(allocated):
        if value in rows:
            rows[value].allocated = quantity
    devices = (
        sa.select(key, Device.status, sa.func.count())
        .join(School, School.id == Device.school_id)
        .where(*where)
        .group_by(key, Device.status)
    )
    # With them, in the same statement, the tablets handed over whose receipt the school
    # confirmed: read through the partial index of such lines (deliveries/models.py), never
    # the whole of delivery_items.
    confirmed = (
        sa.select(key, sa.literal(CONFIRMED_ROW), sa.func.count())
        .select_from(DeliveryItem)
        .join(Delivery, Delivery.id == DeliveryItem.delivery_id)
        .join(School, School.id == Delivery.school_id)
        .where(SCHOOL_CONFIRMED, *where)
        .group_by(key)
    )
    # And what the last closed count (in reach) expected and found at the row's schools.
    last = (
        sa.select(Count.id)
        .where(Count.status == "closed", counts_clause(reach))
        .order_by(Count.closed_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    counted, seen = (
        sa.select(key, sa.literal(marker), sa.func.count())
        .select_from(CountLine)
        .join(School, School.id == CountLine.school_id)
        .where(CountLine.count_id == last, *found, *where)
        .group_by(key)
        for marker, found in ((COUNTED_ROW, ()), (SEEN_ROW, (CountLine.status == "found",)))
    )
    for value, status, count in db.session.execute(sa.union_all(devices, confirmed, counted, seen)):
        if value not in rows:
            continue
        if status == CONFIRMED_ROW:
            rows[value].school_confirmed = count
        elif status == COUNTED_ROW:
            rows[value].counted = count
        elif status == SEEN_ROW:
            rows[value].seen = count
        else:
            rows[value].states[status] = count
    if region and province:
        return list(rows.values())
    return sorted(rows.values(), key=lambda row: row.label)


def donations_with_counts(reach: Reach = WHOLE):
    """Every donation with its devices in `reach` per state (2 queries); also the overall
    totals."""
    donations = db.session.scalars(
        sa.select(Donation)
        .options(sa.orm.joinedload(Donation.donor))
        .order_by(Donation.received_on.desc())
    ).all()
    per_donation: dict[int, dict[str, int]] = {}
    totals: dict[str, int] = {}
    for donation_id, status, count in db.session.execute(
        sa.select(Device.donation_id, Device.status, sa.func.count())
        .where(reach.devices_clause(Device.school_id, Device.depot_id))
        .group_by(Device.donation_id, Device.status)
    ):
        per_donation.setdefault(donation_id, {})[status] = count
        totals[status] = totals.get(status, 0) + count
    return donations, per_donation, totals


def active_plans(reach: Reach = WHOLE):
    """Approved plans in `reach` with what they allocate and what has reached schools (1
    query)."""
    allocated = (
        sa.select(sa.func.coalesce(sa.func.sum(Allocation.quantity), 0))
        .where(Allocation.plan_id == AllocationPlan.id)
        .scalar_subquery()
    )
    delivered = (
        sa.select(sa.func.count())
        .select_from(Device)
        .join(Allocation, Allocation.id == Device.allocation_id)
        .where(Allocation.plan_id == AllocationPlan.id, Device.status.in_(HANDED_OVER))
        .scalar_subquery()
    )
    return db.session.execute(
        sa.select(AllocationPlan, allocated, delivered)
        .where(
            AllocationPlan.status.in_(("approved", "partially_fulfilled", "fulfilled")),
            plans_clause(reach),
        )
        .order_by(AllocationPlan.id.desc())
        .limit(20)
    ).all()


@dataclass
class Week:
    start: date
    delivered: int


def delivered_by_week(weeks: int = WEEKS, reach: Reach = WHOLE) -> list[Week]:
    """Tablets handed over per week (Monday to Sunday) at schools in `reach`, for the last
    `weeks` weeks."""
    today = local_today()
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    since = at_local(first)
    day = sa.func.date(DeviceEvent.occurred_at)
    counts = [0] * weeks
    for value, count in db.session.execute(
        sa.select(day, sa.func.count())
        .where(
            DeviceEvent.type == "delivered",
            DeviceEvent.occurred_at >= since,
            reach.schools_clause(DeviceEvent.school_id),
        )
        .group_by(day)
    ):
        when = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        index = (when - first).days // 7
        if 0 <= index < weeks:
            counts[index] += count
    return [Week(first + timedelta(weeks=n), counts[n]) for n in range(weeks)]


def school_points(reach: Reach = WHOLE) -> list[dict]:
    """Schools in `reach` that have a position, with allocated and delivered tablets (3
    queries)."""
    allocated = dict(
        db.session.execute(
            sa.select(Allocation.school_id, sa.func.sum(Allocation.quantity))
            .join(AllocationPlan, AllocationPlan.id == Allocation.plan_id)
            .where(
                AllocationPlan.status.in_(ACTIVE_PLANS), reach.schools_clause(Allocation.school_id)
            )
            .group_by(Allocation.school_id)
        ).all()
    )
    delivered = dict(
        db.session.execute(
            sa.select(Device.school_id, sa.func.count())
            .where(
                Device.status.in_(HANDED_OVER),
                Device.school_id.is_not(None),
                reach.schools_clause(Device.school_id),
            )
            .group_by(Device.school_id)
        ).all()
    )
    rows = db.session.execute(
        sa.select(
            School.id,
            School.code,
            School.name_fr,
            School.name_ar,
            School.latitude,
            School.longitude,
        ).where(
            School.latitude.is_not(None), School.longitude.is_not(None), reach.school_rows_clause()
        )
    )
    points = []
    for school_id, code, name_fr, name_ar, latitude, longitude in rows:
        given, done = allocated.get(school_id, 0) or 0, delivered.get(school_id, 0)
        points.append(
            {
                "id": school_id,
                "code": code,
                "name": name_fr,
                "name_ar": name_ar,
                "lat": latitude,
                "lon": longitude,
                "allocated": given,
                "delivered": done,
                "percent": round(100 * done / given) if given else None,
            }
        )
    return points


@dataclass
class LastCount:
    id: int
    name: str
    expected: int


@dataclass
class AfterTheGate:
    """What became of the tablets handed over: lent, at school, in repair, lost, and seen
    at the last count."""

    reached: int = 0  # distinct pupils and teachers ever lent a tablet
    on_loan: int = 0
    at_school: int = 0
    in_repair: int = 0
    lost: int = 0
    last_count: LastCount | None = None
    last_count_found: int = 0

    @property
    def last_count_percent(self) -> float:
        expected = self.last_count.expected if self.last_count else 0
        return round(100 * self.last_count_found / expected, 1) if expected else 0.0


def after_the_gate(
    totals: dict[str, int], regions: list[Progress], reach: Reach = WHOLE
) -> AfterTheGate:
    """The dashboard's figures after the hand-over (one statement), with `totals` the
    tablets by state and `regions` the progress rows it already has: a borrower is of one
    school, so the regions' pupils reached add up to the programme's."""
    last = (
        (
            sa.select(Count.id)
            .where(Count.status == "closed", counts_clause(reach))
            .order_by(Count.closed_at.desc())
        )
        .limit(1)
        .scalar_subquery()
    )
    in_repair, count_id, name, expected, missing = db.session.execute(
        sa.select(
            sa.select(sa.func.count())
            .select_from(RepairCase)
            .where(RepairCase.closed_at.is_(None), cases_clause(reach))
            .scalar_subquery(),
            last,
            *(
                sa.select(column).where(Count.id == last).scalar_subquery()
                for column in (Count.name, Count.expected, Count.missing)
            ),
        )
    ).one()
    return AfterTheGate(
        reached=sum(row.reached for row in regions),
        on_loan=totals.get("on_loan", 0),
        at_school=totals.get("delivered", 0),
        in_repair=in_repair,
        lost=totals.get("lost", 0),
        last_count=LastCount(count_id, name, expected) if count_id else None,
        last_count_found=(expected - missing) if count_id else 0,
    )
