"""The allocation spreadsheet managers send to donors and ministries.

Three sheets: By school, By region (summed from the school rows, so they add up, with a
total row) and Devices. One plan, or every approved plan together.
"""

from collections import defaultdict
from pathlib import Path

import sqlalchemy as sa

from tracker.allocations.models import Allocation, AllocationPlan
from tracker.deliveries.models import Delivery, DeliveryItem
from tracker.devices.models import Device, DeviceEvent
from tracker.devices.states import STATUS_LABELS
from tracker.donations.models import Donation
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.jobs.services import expect
from tracker.schools.models import School
from tracker.schools.services import name_as_read
from tracker.spreadsheets.writer import ExportColumn, columns, new_workbook, save, write_sheet

LATER = sa.orm.aliased(DeliveryItem)  # a tablet's other hand-overs, to keep its last
ACTIVE = ("approved", "partially_fulfilled", "fulfilled", "closed")
# Every row adds up: allocated = reserved + on the road + handed over + faulty + lost + not
# yet reserved; outstanding is what is still to hand over.
FIGURES = (
    "need",
    "allocated",
    "reserved",
    "dispatched",
    "delivered",
    "faulty",
    "lost",
    "outstanding",
)

# Counts of tablets, each header in the plural ("Livrées" beside "Réservées", not "Livrée").
FIGURE_COLUMNS = [
    ExportColumn(_l("Need"), 8, "number"),
    ExportColumn(_l("Allocated"), 10, "number"),
    ExportColumn(_l("Tablets reserved"), 10, "number"),
    ExportColumn(_l("Tablets on the road"), 10, "number"),
    ExportColumn(_l("Tablets handed over"), 10, "number"),
    ExportColumn(_l("Tablets faulty"), 10, "number"),
    ExportColumn(_l("Tablets lost"), 10, "number"),
    ExportColumn(_l("Outstanding"), 11, "number"),
    ExportColumn(_l("% delivered"), 11, "number"),
]
SCHOOL_COLUMNS = [
    ExportColumn(_l("Region"), 24),
    ExportColumn(_l("Province"), 18),
    ExportColumn(_l("Commune"), 16),
    ExportColumn(_l("School code"), 12),
    ExportColumn(_l("School"), 36),
    ExportColumn(_l("School (Arabic)"), 30),
    *FIGURE_COLUMNS,
    ExportColumn(_l("Last delivery"), 14, "datetime"),
]
REGION_COLUMNS = [
    ExportColumn(_l("Region"), 24),
    ExportColumn(_l("Province"), 18),
    ExportColumn(_l("Schools"), 9, "number"),
    *FIGURE_COLUMNS,
]
DEVICE_COLUMNS = columns(
    "asset_tag",
    "serial",
    "imei",
    "model",
    "donation",
    "school_code",
    "school",
    "state",
    "delivered_on",
    "received_by",
)


def _percent(delivered: int, allocated: int):
    return round(delivered / allocated, 4) if allocated else None


def export_allocations(out: Path, plan_id: int | None = None) -> dict[str, int]:
    """Write the workbook; returns the total figures (for the command line's summary)."""
    if plan_id is not None:
        plan_filter = Allocation.plan_id == plan_id
    else:
        plan_filter = Allocation.plan_id.in_(
            sa.select(AllocationPlan.id).where(AllocationPlan.status.in_(ACTIVE))
        )
    allocated = dict(
        db.session.execute(
            sa.select(Allocation.school_id, sa.func.sum(Allocation.quantity))
            .where(plan_filter)
            .group_by(Allocation.school_id)
        ).all()
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for school_id, status, count in db.session.execute(
        sa.select(Allocation.school_id, Device.status, sa.func.count())
        .join(Allocation, Allocation.id == Device.allocation_id)
        .where(plan_filter)
        .group_by(Allocation.school_id, Device.status)
    ):
        counts[school_id][status] = count
    last = dict(
        db.session.execute(
            sa.select(Allocation.school_id, sa.func.max(DeviceEvent.occurred_at))
            .join(Device, Device.id == DeviceEvent.device_id)
            .join(Allocation, Allocation.id == Device.allocation_id)
            .where(plan_filter, DeviceEvent.type == "delivered")
            .group_by(Allocation.school_id)
        ).all()
    )
    schools = db.session.scalars(
        sa.select(School)
        .where(School.id.in_(list(allocated)))
        .order_by(School.region, School.province, School.code)
    ).all()

    school_rows, regions = [], defaultdict(lambda: defaultdict(int))
    for school in schools:
        got = counts.get(school.id, {})
        figures = {
            "need": school.need,
            "allocated": int(allocated[school.id] or 0),
            "reserved": got.get("reserved", 0),
            "dispatched": got.get("in_transit", 0),
            "delivered": got.get("delivered", 0),
            "faulty": got.get("faulty", 0),
            "lost": got.get("lost", 0),
        }
        figures["outstanding"] = figures["allocated"] - figures["delivered"]
        school_rows.append(
            (
                school.region,
                school.province,
                school.commune,
                school.code,
                school.name_fr,
                school.name_ar,
                *(figures[key] for key in FIGURES),
                _percent(figures["delivered"], figures["allocated"]),
                last.get(school.id),
            )
        )
        region = regions[(school.region, school.province)]
        region["schools"] += 1
        for key in FIGURES:
            region[key] += figures[key]
    region_rows = [
        (
            region,
            province,
            sums["schools"],
            *(sums[key] for key in FIGURES),
            _percent(sums["delivered"], sums["allocated"]),
        )
        for (region, province), sums in sorted(regions.items())
    ]
    total = {key: sum(s[key] for s in regions.values()) for key in ("schools", *FIGURES)}
    region_rows.append(
        (
            _("Total"),
            "",
            total["schools"],
            *(total[key] for key in FIGURES),
            _percent(total["delivered"], total["allocated"]),
        )
    )

    # Rows to write, for a job's progress: the schools, the regions, and each tablet.
    devices = sum(sum(by_state.values()) for by_state in counts.values())
    expect(len(school_rows) + len(region_rows) + devices)
    states = {key: str(label) for key, label in STATUS_LABELS.items()}
    device_query = (
        sa.select(
            Device.asset_tag,
            Device.serial,
            Device.imei,
            Device.model,
            Donation.reference,
            School.code,
            name_as_read(),
            Device.status,
            Delivery.delivered_at,
            Delivery.recipient_name,
        )
        .join(Allocation, Allocation.id == Device.allocation_id)
        .join(Donation, Donation.id == Device.donation_id)
        # Where the tablet is now (a tablet moved to another school is there), else the
        # school it is allocated to.
        .join(School, School.id == sa.func.coalesce(Device.school_id, Allocation.school_id))
        # Its last hand-over, found by the tablet (an index), not by reading every
        # delivered item of the programme first: a tablet handed over twice (moved from
        # one school to another) is one row, where it is now.
        .outerjoin(
            DeliveryItem,
            sa.and_(
                DeliveryItem.device_id == Device.id,
                DeliveryItem.status == "delivered",
                DeliveryItem.delivery_id
                == sa.select(sa.func.max(LATER.delivery_id))
                .where(LATER.device_id == Device.id, LATER.status == "delivered")
                .correlate(Device)
                .scalar_subquery(),
            ),
        )
        .outerjoin(Delivery, Delivery.id == DeliveryItem.delivery_id)
        .where(plan_filter)
        .order_by(School.code, Device.asset_tag)
        .execution_options(yield_per=5000)
    )
    devices = ((*row[:7], states[row[7]], *row[8:]) for row in db.session.execute(device_query))
    workbook = new_workbook()
    write_sheet(workbook, _("By school"), SCHOOL_COLUMNS, school_rows, percent_columns=(14,))
    write_sheet(workbook, _("By region"), REGION_COLUMNS, region_rows, percent_columns=(11,))
    write_sheet(workbook, _("Devices"), DEVICE_COLUMNS, devices)
    save(workbook, out)
    return total
