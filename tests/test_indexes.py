"""Every lookup a scan or a page makes has an index to use (EXPLAIN on both databases).

On PostgreSQL sequential scans are switched off for the check, so the plan shows whether an
index *can* serve the query, whatever the (tiny) test tables would otherwise favour.
"""

import pytest
import sqlalchemy as sa

from tracker.deliveries.models import Delivery, DeliveryItem
from tracker.devices.models import Device, DeviceEvent
from tracker.extensions import db
from tracker.schools.models import School

QUERIES = {
    "QR token (a scan)": sa.select(Device.id).where(Device.qr_token == "x"),
    "asset tag (code box)": sa.select(Device.id).where(Device.asset_tag == "TAB-00001"),
    "serial (code box)": sa.select(Device.id).where(Device.serial == "SN1"),
    "IMEI (code box)": sa.select(Device.id).where(Device.imei == "490154203237518"),
    "device list, keyset page": sa.select(Device.id)
    .where(Device.asset_tag > "TAB-00050")
    .order_by(Device.asset_tag)
    .limit(50),
    "device list by state": sa.select(Device.id)
    .where(Device.status == "reserved", Device.asset_tag > "TAB-00050")
    .order_by(Device.asset_tag)
    .limit(50),
    "a device's history": sa.select(DeviceEvent.id)
    .where(DeviceEvent.device_id == 1)
    .order_by(DeviceEvent.id.desc()),
    "history by school, keyset": sa.select(DeviceEvent.id)
    .where(DeviceEvent.school_id == 1, DeviceEvent.id < 1000)
    .order_by(DeviceEvent.id.desc())
    .limit(50),
    "an agent's deliveries": sa.select(Delivery.id).where(Delivery.assigned_to_id == 1),
    "a delivery's items": sa.select(DeliveryItem.id).where(DeliveryItem.delivery_id == 1),
    "the delivery holding a device": sa.select(DeliveryItem.delivery_id).where(
        DeliveryItem.device_id == 1
    ),
    "school by code": sa.select(School.id).where(School.code == "S1"),
}


@pytest.mark.parametrize("what", list(QUERIES))
def test_the_lookup_uses_an_index(app, what):
    connection = db.session.connection()
    statement = QUERIES[what].compile(connection, compile_kwargs={"literal_binds": True})
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = " ".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}"))
        assert "Index" in plan, plan
    else:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}").all()
        plan = " | ".join(row[-1] for row in rows)
        assert "USING" in plan and "INDEX" in plan.upper(), plan
        assert not any(row[-1].startswith("SCAN ") and "INDEX" not in row[-1] for row in rows), plan
