"""The one rule that ties device moves to deliveries: registered with the devices' bulk
moves (`when_devices_move`), so devices never import deliveries."""

import sqlalchemy as sa

from tracker.deliveries.models import ACTIVE_ITEM_STATUSES, DeliveryItem
from tracker.devices.bulk import when_devices_move
from tracker.extensions import db

# States on the road to a school: a device in one of them keeps its place on a delivery.
ON_THE_WAY = frozenset({"reserved", "in_transit", "delivered"})


@when_devices_move
def leave_deliveries(device_ids, target: str) -> None:
    """A device that leaves the road to its school (back to stock, faulty, lost) leaves the
    delivery it was waiting on, so nobody packs or expects it any more. `device_ids` is a
    list of ids or a select of them."""
    if target in ON_THE_WAY or (isinstance(device_ids, list) and not device_ids):
        return
    db.session.execute(
        sa.update(DeliveryItem)
        .where(
            DeliveryItem.device_id.in_(device_ids),
            DeliveryItem.status.in_(ACTIVE_ITEM_STATUSES),
        )
        .values(status="removed", discrepancy=target)
        .execution_options(synchronize_session=False)
    )
