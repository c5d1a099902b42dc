"""Deliveries: planned from a plan, packed by scan, dispatched, handed over at the school."""

import io
from datetime import date

import pytest
import sqlalchemy as sa
from PIL import Image

from conftest import signature_data_url
from tracker.allocations.models import AllocationPlan
from tracker.deliveries import handover, scans, services, states
from tracker.deliveries.media import clean_photo
from tracker.deliveries.models import Delivery, DeliveryItem
from tracker.devices.models import Device, DeviceEvent
from tracker.devices.services import move_device
from tracker.errors import IllegalTransition, NotFound, ValidationFailed
from tracker.extensions import db


def plan_deliveries(s, **options):
    made = services.create_deliveries(
        s["plan"].id,
        actor=s["coordinator"],
        assigned_to_id=s["agent"].id,
        planned_on=date(2026, 11, 23),
        **options,
    )
    db.session.commit()
    return {d.school_id: d for d in made}


def packed_and_dispatched(s, school="school_a"):
    delivery = plan_deliveries(s)[s[school].id]
    for device in s["a_devices" if school == "school_a" else "b_devices"]:
        assert services.pack_scan(delivery.id, device.asset_tag, s["coordinator"]).ok
    services.finish_packing(delivery.id, s["coordinator"])
    services.dispatch(delivery.id, s["coordinator"])
    db.session.commit()
    return delivery


def statuses(devices):
    return [db.session.get(Device, d.id).status for d in devices]


def test_one_delivery_per_school_with_its_reserved_tablets(app, delivery_setting):
    s = delivery_setting
    made = plan_deliveries(s)
    a = made[s["school_a"].id]
    assert a.status == "planned" and a.assigned_to_id == s["agent"].id
    assert [i.device_id for i in a.items] == [d.id for d in s["a_devices"]]
    assert len(made[s["school_b"].id].items) == 2
    # Nothing is left waiting, so a second round has nothing to take.
    with pytest.raises(ValidationFailed, match="No reserved tablet"):
        plan_deliveries(s)


def test_part_of_a_school_and_only_field_agents(app, delivery_setting):
    s = delivery_setting
    made = plan_deliveries(s, school_ids=[s["school_a"].id], at_most=2)
    assert list(made) == [s["school_a"].id]
    assert len(made[s["school_a"].id].items) == 2
    with pytest.raises(ValidationFailed, match="field agent"):
        services.create_deliveries(
            s["plan"].id, actor=None, assigned_to_id=s["manager"].id, planned_on=None
        )


def test_a_device_is_on_one_delivery_under_way_at_most_in_the_database(app, delivery_setting):
    s = delivery_setting
    a = plan_deliveries(s)[s["school_a"].id]
    other = Delivery(school_id=s["school_a"].id, status="planned")
    db.session.add(other)
    db.session.flush()
    db.session.add(DeliveryItem(delivery_id=other.id, device_id=a.items[0].device_id))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_packing_scans_take_the_schools_tablets_and_refuse_others_with_the_reason(
    app, delivery_setting
):
    s = delivery_setting
    made = plan_deliveries(s, at_most=2)
    a = made[s["school_a"].id]
    first, _second, third = s["a_devices"]
    result = services.pack_scan(a.id, first.asset_tag, s["coordinator"])
    assert (result.ok, result.kind, result.counts["packed"]) == (True, "packed", 1)
    again = services.pack_scan(a.id, first.serial, s["coordinator"])
    assert (again.ok, again.kind) == (True, "again")
    assert "already in the box" in again.message
    # Reserved for this school but not listed: taken into the box.
    extra = services.pack_scan(a.id, third.qr_token, s["coordinator"])
    assert extra.ok and extra.counts["expected"] == 3
    wrong_school = services.pack_scan(a.id, s["b_devices"][0].asset_tag, s["coordinator"])
    assert not wrong_school.ok
    assert "reserved for another school: École Ibn Sina" in wrong_school.message
    in_stock = services.pack_scan(a.id, s["stock"][0].asset_tag, s["coordinator"])
    assert "not in this delivery (it is in stock)" in in_stock.message
    # A tablet at another school that broke there is said to be faulty there, not reserved.
    broken = s["b_devices"][1]
    broken.status = "faulty"
    db.session.flush()
    faulty = services.pack_scan(a.id, broken.asset_tag, s["coordinator"])
    assert not faulty.ok
    assert faulty.message == (
        f"{broken.asset_tag} is faulty, at École Ibn Sina: it is not for this delivery."
    )
    broken.status = "reserved"
    db.session.flush()
    unknown = services.pack_scan(a.id, "TAB-99999", s["coordinator"])
    assert unknown.message == "No tablet has the code TAB-99999."
    db.session.commit()
    events = db.session.scalars(
        sa.select(DeviceEvent).where(DeviceEvent.type == "packed").order_by(DeviceEvent.id)
    ).all()
    assert [(e.device_id, e.delivery_id) for e in events] == [(first.id, a.id), (third.id, a.id)]


def test_finish_packing_drops_unscanned_and_dispatch_puts_tablets_in_transit(app, delivery_setting):
    s = delivery_setting
    a = plan_deliveries(s)[s["school_a"].id]
    with pytest.raises(ValidationFailed, match="at least one"):
        services.finish_packing(a.id, s["coordinator"])
    services.pack_scan(a.id, s["a_devices"][0].asset_tag, s["coordinator"])
    services.pack_scan(a.id, s["a_devices"][1].asset_tag, s["coordinator"])
    services.finish_packing(a.id, s["coordinator"])
    with pytest.raises(IllegalTransition, match="cannot be packed: it is packed"):
        services.pack_scan(a.id, s["a_devices"][2].asset_tag, s["coordinator"])
    services.dispatch(a.id, s["coordinator"])
    db.session.commit()
    assert statuses(s["a_devices"]) == ["in_transit", "in_transit", "reserved"]
    dispatched = db.session.scalars(
        sa.select(DeviceEvent.delivery_id).where(DeviceEvent.type == "dispatched")
    ).all()
    assert dispatched == [a.id, a.id]
    # The one left behind waits for the next delivery (school B's are on theirs).
    assert services.waiting_devices(s["plan"].id) == {s["school_a"].id: [s["a_devices"][2].id]}


def test_scans_at_the_school_say_why_a_tablet_is_refused(app, delivery_setting):
    s = delivery_setting
    a = packed_and_dispatched(s)
    tick = handover.field_scan(a.id, s["a_devices"][0].asset_tag, s["agent"])
    assert (tick.ok, tick.kind, tick.counts["scanned"], tick.counts["missing"]) == (
        True,
        "scanned",
        1,
        2,
    )
    again = handover.field_scan(a.id, s["a_devices"][0].asset_tag, s["agent"])
    assert again.ok and "already scanned" in again.message
    other = handover.field_scan(a.id, s["b_devices"][0].asset_tag, s["agent"])
    assert not other.ok and "reserved for another school" in other.message
    unknown = handover.field_scan(a.id, "nonsense", s["agent"])
    assert not unknown.ok and unknown.counts["unexpected"] == 2
    handover.field_scan(a.id, "nonsense", s["agent"])  # counted once
    db.session.commit()
    assert scans.counts(db.session.get(Delivery, a.id))["unexpected"] == 2


def test_handover_delivers_the_scanned_and_needs_a_reason_for_the_rest(app, delivery_setting):
    s = delivery_setting
    a = packed_and_dispatched(s)
    one, two, three = s["a_devices"]
    handover.field_scan(a.id, one.asset_tag, s["agent"])
    handover.field_scan(a.id, two.imei, s["agent"])
    db.session.commit()
    details = {
        "actor": s["agent"],
        "recipient_name": "Mme Fatima Zahra",
        "recipient_role": "Directrice",
        "signature": signature_data_url(),
        "latitude": 33.59,
        "longitude": -7.61,
        "accuracy": 12,
    }
    with pytest.raises(ValidationFailed, match=f"Say why {three.asset_tag} was not handed over"):
        handover.confirm_handover(a.id, **details)
    db.session.rollback()
    with pytest.raises(ValidationFailed, match="sign on the screen"):
        handover.confirm_handover(
            a.id, **{**details, "signature": signature_data_url(blank=True)}, reasons={}
        )
    db.session.rollback()
    handover.confirm_handover(a.id, **details, reasons={three.id: "damaged"})
    db.session.commit()
    delivery = db.session.get(Delivery, a.id)
    assert delivery.status == "partially_delivered"
    assert delivery.recipient_name == "Mme Fatima Zahra" and delivery.latitude == 33.59
    assert Image.open(io.BytesIO(delivery.signature_png)).format == "PNG"
    assert statuses(s["a_devices"]) == ["delivered", "delivered", "faulty"]
    delivered = db.session.scalars(
        sa.select(DeviceEvent).where(DeviceEvent.type == "delivered").order_by(DeviceEvent.id)
    ).all()
    assert [(e.device_id, e.delivery_id, e.details["recipient"]) for e in delivered] == [
        (one.id, a.id, "Mme Fatima Zahra"),
        (two.id, a.id, "Mme Fatima Zahra"),
    ]
    assert db.session.get(AllocationPlan, s["plan"].id).status == "partially_fulfilled"
    with pytest.raises(IllegalTransition, match="it is partly delivered"):
        handover.field_scan(a.id, one.asset_tag, s["agent"])


def test_all_scanned_is_delivered_and_refused_tablets_come_back_reserved(app, delivery_setting):
    s = delivery_setting
    b = packed_and_dispatched(s, "school_b")
    first, second = s["b_devices"]
    handover.field_scan(b.id, first.asset_tag, s["agent"])
    handover.confirm_handover(
        b.id,
        actor=s["agent"],
        recipient_name="M. Karim",
        recipient_role="Directeur",
        signature=signature_data_url(),
        reasons={second.id: "refused"},
    )
    db.session.commit()
    assert statuses(s["b_devices"]) == ["delivered", "reserved"]
    # The refused one can go out again on a new delivery.
    assert services.waiting_devices(s["plan"].id)[s["school_b"].id] == [second.id]


def test_a_failed_delivery_brings_its_tablets_back(app, delivery_setting):
    s = delivery_setting
    a = packed_and_dispatched(s)
    with pytest.raises(ValidationFailed, match="Say why"):
        handover.fail_delivery(a.id, s["agent"], " ")
    handover.fail_delivery(a.id, s["agent"], "École fermée (grève)")
    db.session.commit()
    assert statuses(s["a_devices"]) == ["reserved"] * 3
    assert db.session.get(Delivery, a.id).status == "failed"


def test_a_device_reported_faulty_before_dispatch_leaves_its_delivery(app, delivery_setting):
    s = delivery_setting
    a = plan_deliveries(s)[s["school_a"].id]
    device = db.session.get(Device, s["a_devices"][0].id)
    move_device(device, "reported_faulty", s["coordinator"])
    db.session.commit()
    items = {i.device_id: i.status for i in db.session.get(Delivery, a.id).items}
    assert items[device.id] == "removed"
    result = services.pack_scan(a.id, device.asset_tag, s["coordinator"])
    assert not result.ok and "it is faulty" in result.message


def test_cancel_before_dispatch_keeps_the_tablets_reserved(app, delivery_setting):
    s = delivery_setting
    a = plan_deliveries(s)[s["school_a"].id]
    services.pack_scan(a.id, s["a_devices"][0].asset_tag, s["coordinator"])
    services.cancel_delivery(a.id, s["coordinator"], "road closed")
    db.session.commit()
    assert statuses(s["a_devices"]) == ["reserved"] * 3
    assert db.session.scalar(sa.select(sa.func.count()).where(DeviceEvent.type == "unpacked"))
    assert len(services.waiting_devices(s["plan"].id)[s["school_a"].id]) == 3


def test_an_agent_sees_only_their_deliveries(app, delivery_setting):
    s = delivery_setting
    a = plan_deliveries(s)[s["school_a"].id]
    assert services.delivery_for(s["agent"], a.id).id == a.id
    assert services.delivery_for(s["manager"], a.id).id == a.id
    with pytest.raises(NotFound):
        services.delivery_for(s["other_agent"], a.id)
    assert not states.may_act(s["manager"], a)
    assert states.may_act(s["agent"], a) and not states.may_act(s["other_agent"], a)


def test_photos_are_re_encoded_without_metadata_and_size_capped(app):
    image = Image.new("RGB", (4000, 3000), "skyblue")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x010E] = "Lat 33.59 Lon -7.61"  # ImageDescription
    exif[0x0112] = 6  # Orientation: rotated; the cleaned photo is turned upright
    raw = io.BytesIO()
    image.save(raw, "JPEG", exif=exif)
    cleaned = Image.open(io.BytesIO(clean_photo(raw.getvalue())))
    assert cleaned.format == "JPEG" and cleaned.size == (1200, 1600)
    assert not cleaned.getexif()
    with pytest.raises(ValidationFailed, match="could not be read"):
        clean_photo(b"GIF89a not really")
    with pytest.raises(ValidationFailed, match="larger than 12 MB"):
        clean_photo(b"\xff" * (12 * 1024 * 1024 + 1))
