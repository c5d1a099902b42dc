"""The exports managers take away: devices, schools and the device history."""

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from tracker.auth.models import User
from tracker.devices.identity import device_url
from tracker.devices.models import Device, DeviceEvent
from tracker.devices.queries import DeviceFilters
from tracker.devices.states import (
    CONDITION_LABELS,
    EVENT_LABELS,
    HANDED_OVER,
    STATUS_LABELS,
    event_note,
)
from tracker.donations.models import Donation, Donor
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.schools.models import School
from tracker.schools.reach import WHOLE, Reach
from tracker.schools.services import name_as_read, search_schools
from tracker.schools.words import CYCLE_LABELS, SETTING_LABELS
from tracker.spreadsheets.writer import ExportColumn, columns, new_workbook, save, write_sheet

STREAM = 5000  # rows fetched from the database at a time


def _one_sheet(path: Path, title: str, columns: list[ExportColumn], rows) -> int:
    workbook = new_workbook()
    count = write_sheet(workbook, title, columns, rows)
    save(workbook, path)
    return count


DEVICE_COLUMNS = [
    *columns("asset_tag", "serial", "imei", "model", "donation"),
    ExportColumn(_l("Donor"), 26),
    *columns("state"),
    ExportColumn(_l("Condition"), 10),
    *columns("school_code", "school"),
    ExportColumn(_l("Registered on"), 18, "datetime"),
    ExportColumn(_l("QR link"), 48),
    ExportColumn(_l("Second IMEI"), 18),
    ExportColumn(_l("Brand"), 14),
    ExportColumn(_l("Donor's inventory number"), 20),
    ExportColumn(_l("Delivered by the donor on"), 14, "date"),
    ExportColumn(_l("Warranty until"), 14, "date"),
    ExportColumn(_l("Last seen"), 18, "datetime"),
]


def export_devices(path: Path, filters: DeviceFilters | None = None) -> int:
    """Every device matching `filters` (all rows, not one page), in asset-tag order."""
    query = (
        sa.select(
            Device.asset_tag,
            Device.serial,
            Device.imei,
            Device.model,
            Donation.reference,
            Donor.name,
            Device.status,
            Device.condition,
            School.code,
            name_as_read(),
            Device.created_at,
            Device.qr_token,
            Device.imei2,
            Device.brand,
            Device.donor_ref,
            Device.donor_delivered_on,
            Device.warranty_until,
            Device.last_seen_at,
        )
        .join(Donation, Device.donation_id == Donation.id)
        .join(Donor, Donation.donor_id == Donor.id)
        .outerjoin(School, Device.school_id == School.id)
        .where(*(filters or DeviceFilters()).conditions())
        .order_by(Device.asset_tag)
        .execution_options(yield_per=STREAM)
    )
    states = {key: str(label) for key, label in STATUS_LABELS.items()}
    conditions = {key: str(label) for key, label in CONDITION_LABELS.items()}
    rows = (
        (
            tag,
            serial,
            imei,
            model,
            reference,
            donor,
            states[status],
            conditions[condition],
            code,
            school,
            created,
            device_url(token),
            *rest,
        )
        for (
            tag,
            serial,
            imei,
            model,
            reference,
            donor,
            status,
            condition,
            code,
            school,
            created,
            token,
            *rest,
        ) in db.session.execute(query)
    )
    return _one_sheet(path, _("Devices"), DEVICE_COLUMNS, rows)


SCHOOL_COLUMNS = [
    ExportColumn(_l("School code"), 12),
    ExportColumn(_l("Name (French)"), 40),
    ExportColumn(_l("Name (Arabic)"), 36),
    ExportColumn(_l("Region"), 24),
    ExportColumn(_l("Province"), 20),
    ExportColumn(_l("Commune"), 18),
    ExportColumn(_l("Cycle"), 14),
    ExportColumn(_l("Setting (urban or rural)"), 12),
    ExportColumn(_l("Address"), 30),
    ExportColumn(_l("Latitude"), 11, "number"),
    ExportColumn(_l("Longitude"), 11, "number"),
    ExportColumn(_l("Contact person"), 22),
    ExportColumn(_l("Contact phone"), 18),
    ExportColumn(_l("Pupils enrolled"), 10, "number"),
    ExportColumn(_l("Tablets needed"), 10, "number"),
    ExportColumn(_l("Reserved"), 10, "number"),
    ExportColumn(_l("In transit"), 10, "number"),
    ExportColumn(_l("Delivered"), 10, "number"),
]


def export_schools(
    path: Path, q: str = "", region: str = "", province: str = "", reach: Reach = WHOLE
) -> int:
    """Schools matching the list's search and filters, with their tablets by state."""
    counts = (
        sa.select(
            Device.school_id,
            *(
                sa.func.count().filter(Device.status == state).label(state)
                for state in ("reserved", "in_transit")
            ),
            sa.func.count().filter(Device.status.in_(HANDED_OVER)).label("delivered"),
        )
        .where(Device.school_id.is_not(None))
        .group_by(Device.school_id)
        .subquery()
    )
    listed = search_schools(q, region, province, reach).subquery()
    school = aliased(School, listed)
    query = (
        sa.select(
            school.code,
            school.name_fr,
            school.name_ar,
            school.region,
            school.province,
            school.commune,
            school.cycle,
            school.milieu,
            school.address,
            school.latitude,
            school.longitude,
            school.contact_name,
            school.contact_phone,
            school.enrolment,
            school.need,
            sa.func.coalesce(counts.c.reserved, 0),
            sa.func.coalesce(counts.c.in_transit, 0),
            sa.func.coalesce(counts.c.delivered, 0),
        )
        .outerjoin(counts, counts.c.school_id == school.id)
        .order_by(school.region, school.province, school.code)
        .execution_options(yield_per=STREAM)
    )
    cycles = {code: str(label) for code, label in CYCLE_LABELS.items()}
    settings = {code: str(label) for code, label in SETTING_LABELS.items()}
    rows = (
        (*row[:6], cycles.get(row[6], ""), settings.get(row[7], ""), *row[8:])
        for row in db.session.execute(query)
    )
    return _one_sheet(path, _("Schools"), SCHOOL_COLUMNS, rows)


HISTORY_COLUMNS = [
    ExportColumn(_l("Time"), 18, "datetime"),
    ExportColumn(_l("Asset tag"), 12),
    ExportColumn(_l("Serial number"), 20),
    ExportColumn(_l("Event"), 24),
    ExportColumn(_l("From"), 12),
    ExportColumn(_l("To"), 12),
    ExportColumn(_l("School code"), 12),
    ExportColumn(_l("By"), 28),
    ExportColumn(_l("Note"), 40),
]


def export_history(path: Path, device_id: int | None = None, history_filter=None) -> int:
    """The device event log, oldest first: one device's, those a filter of the history
    browser picks, or everyone's."""
    event_school = aliased(School)
    query = (
        sa.select(
            DeviceEvent.occurred_at,
            Device.asset_tag,
            Device.serial,
            DeviceEvent.type,
            DeviceEvent.from_status,
            DeviceEvent.to_status,
            event_school.code,
            User.email,
            DeviceEvent.details,
        )
        .join(Device, DeviceEvent.device_id == Device.id)
        .outerjoin(event_school, DeviceEvent.school_id == event_school.id)
        .outerjoin(User, DeviceEvent.actor_id == User.id)
        .order_by(DeviceEvent.id)
        .execution_options(yield_per=STREAM)
    )
    if device_id is not None:
        query = query.where(DeviceEvent.device_id == device_id)
    if history_filter is not None:
        query = query.where(*history_filter.conditions())
    states = {key: str(label) for key, label in STATUS_LABELS.items()}
    events = {key: str(label) for key, label in EVENT_LABELS.items()}

    def note(details: dict) -> str:
        if details.get("changes"):
            return "; ".join(
                f"{key}: {before} → {after}" for key, (before, after) in details["changes"].items()
            )
        return event_note(details)

    rows = (
        (
            when,
            tag,
            serial,
            events.get(kind, kind),
            states.get(before, before),
            states.get(after, after),
            code,
            email or "system",
            note(details or {}),
        )
        for when, tag, serial, kind, before, after, code, email, details in db.session.execute(
            query
        )
    )
    return _one_sheet(path, _("History"), HISTORY_COLUMNS, rows)
