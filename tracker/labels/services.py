"""Which devices get labels, and the URL each QR code carries."""

import sqlalchemy as sa

from tracker.devices.identity import device_url
from tracker.devices.models import Device
from tracker.devices.queries import DeviceFilters
from tracker.donations.models import Donation, Donor
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.labels.sheets import LAYOUTS, Label, Layout


def choose_layout(name: str | None) -> Layout:
    if not name:
        return LAYOUTS["a4-3x7"]
    if name not in LAYOUTS:
        raise ValidationFailed(
            _(
                "Unknown label layout '%(name)s'; choose one of: %(names)s.",
                name=name,
                names=", ".join(LAYOUTS),
            ),
            field="layout",
        )
    return LAYOUTS[name]


def labels_for(filters: DeviceFilters | None = None, device_ids: list[int] | None = None):
    """The labels for hand-picked devices, or for every device matching `filters`.

    In asset-tag order, so the sheets come out in the order the tablets are shelved.
    """
    query = (
        sa.select(Device.asset_tag, Device.qr_token, Device.model, Donor.name)
        .join(Donation, Device.donation_id == Donation.id)
        .join(Donor, Donation.donor_id == Donor.id)
        .order_by(Device.asset_tag)
    )
    if device_ids:
        query = query.where(Device.id.in_(device_ids))
    if filters is not None:  # (its reach too: a tablet picked out of reach is not printed)
        query = query.where(*filters.conditions())
    rows = db.session.execute(query).all()
    return [
        Label(
            payload=device_url(token), asset_tag=tag, line="\n".join(filter(None, (model, donor)))
        )
        for tag, token, model, donor in rows
    ]
