"""The answer to a scan, at the office's packing table or at the school: the counts the
screens show, and why a tablet cannot be taken, in words."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa

from tracker.deliveries.models import ACTIVE_ITEM_STATUSES, Delivery, DeliveryItem
from tracker.devices.codes import code_refusal
from tracker.devices.models import Device
from tracker.devices.states import STATUS_LABELS
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import school_name


@dataclass
class ScanResult:
    """The answer to one scan: shown at once on the phone or the packing screen."""

    ok: bool
    message: str
    kind: str  # packed | scanned | again | refused
    asset_tag: str = ""
    device_id: int | None = None
    counts: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {
            "ok": self.ok,
            "kind": self.kind,
            "message": self.message,
            "asset_tag": self.asset_tag,
            "device_id": self.device_id,
            "counts": self.counts,
        }


def counts(delivery: Delivery, statuses: Iterable[str] | None = None) -> dict:
    """Expected, packed, scanned, missing and unexpected, as the scan screens show them.

    `statuses`: those of the delivery's lines, when the caller has them already (its page),
    instead of asking the database."""
    if statuses is not None:
        by_status = Counter(statuses)
    else:
        by_status = dict(
            db.session.execute(
                sa.select(DeliveryItem.status, sa.func.count())
                .where(DeliveryItem.delivery_id == delivery.id)
                .group_by(DeliveryItem.status)
            ).all()
        )
    expected = sum(n for status, n in by_status.items() if status != "removed")
    scanned = by_status.get("scanned", 0) + by_status.get("delivered", 0)
    packed = expected if delivery.status not in ("planned",) else by_status.get("packed", 0)
    return {
        "expected": expected,
        "packed": packed,
        "scanned": scanned,
        "missing": expected - scanned,
        "unexpected": len(delivery.unexpected or []),
    }


def delivery_item(delivery: Delivery, device: Device) -> DeliveryItem | None:
    """The device's line on the delivery, unless it was taken off."""
    return db.session.scalar(
        sa.select(DeliveryItem).where(
            DeliveryItem.delivery_id == delivery.id,
            DeliveryItem.device_id == device.id,
            DeliveryItem.status != "removed",
        )
    )


def why_not_here(delivery: Delivery, device: Device) -> str:
    """Why a device that is not on this delivery cannot be taken for it, in words."""
    tag = device.asset_tag
    if device.status == "delivered":
        school = school_name(device.school) if device.school else "?"
        return _("%(tag)s was already delivered, to %(school)s.", tag=tag, school=school)
    if device.school_id and device.school_id != delivery.school_id:
        if device.status in ("reserved", "in_transit"):
            return _(
                "%(tag)s is reserved for another school: %(school)s.",
                tag=tag,
                school=school_name(device.school),
            )
        # At a school already, and then lent, faulty or lost there: what it is, and where.
        return _(
            "%(tag)s is %(state)s, at %(school)s: it is not for this delivery.",
            tag=tag,
            state=str(STATUS_LABELS[device.status]).lower(),
            school=school_name(device.school),
        )
    other = db.session.scalar(
        sa.select(DeliveryItem.delivery_id).where(
            DeliveryItem.device_id == device.id,
            DeliveryItem.status.in_(ACTIVE_ITEM_STATUSES),
            DeliveryItem.delivery_id != delivery.id,
        )
    )
    if other is not None:
        return _("%(tag)s is on another delivery, DEL-%(n)05d.", tag=tag, n=other)
    return _(
        "%(tag)s is not in this delivery (it is %(state)s).",
        tag=tag,
        state=str(STATUS_LABELS[device.status]).lower(),
    )


def unknown_code(code: str) -> str:
    """Why a code names no tablet: asked of the devices' one home for codes."""
    return code_refusal(code)
