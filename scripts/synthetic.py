"""A realistic data set at any scale, written in bulk: schools over 12 regions, three
donations, devices with their registration events, an approved national plan, and a
delivery per school of it in every state (planned, packed, dispatched, delivered, partly
delivered) with its events.

    .venv/bin/python scripts/synthetic.py --schools 25000 --devices 1500000 \
        [--database-url postgresql://postgres@127.0.0.1:5432/bench]

Without --database-url it writes a SQLite file in a new temporary folder and prints where.
The benchmarks import `generate` to build their data the same way.
"""

import argparse
import os
import random
import secrets
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

PASSWORD = "bench"  # noqa: S105  (synthetic accounts on a throw-away database)
BATCH = 50_000


def make_app(database_url: str):
    from tracker import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
            "WTF_CSRF_ENABLED": False,
            "BABEL_DEFAULT_LOCALE": "en",
        }
    )


def generate(schools: int, devices: int, *, seed: int = 2020) -> dict:
    """Fill the current app's (empty, created) database; returns what was made."""
    import sqlalchemy as sa

    from tracker.allocations import services as plans
    from tracker.allocations.models import AllocationPlan
    from tracker.auth.services import create_user
    from tracker.database import utcnow
    from tracker.deliveries import services as deliveries
    from tracker.deliveries.models import Delivery, DeliveryItem
    from tracker.devices.models import Device, DeviceEvent
    from tracker.dialects import refresh_statistics
    from tracker.donations.services import create_donation
    from tracker.extensions import db
    from tracker.schools.models import School
    from tracker.timezone import local_today

    rng = random.Random(seed)
    now = utcnow()
    coordinator = create_user(
        "coordinator@bench.test", "coordinator", PASSWORD, check_strength=False
    )
    manager = create_user("manager@bench.test", "manager", PASSWORD, check_strength=False)
    agent = create_user("field@bench.test", "field", PASSWORD, check_strength=False)
    shares = [devices // 2, devices // 3, devices - devices // 2 - devices // 3]
    donation_ids = [
        create_donation(
            reference=f"BENCH-{n + 1}",
            donor_name=f"Donor {n + 1}",
            received_on=date(2020, 12, 28) + timedelta(days=90 * n),
            quantity=share,
        ).id
        for n, share in enumerate(shares)
    ]
    from tracker.devices.depots import central_depot

    central = central_depot().id  # where stock is held (0031)
    for start in range(0, schools, BATCH):
        db.session.execute(
            sa.insert(School),
            [
                {
                    "code": f"S{n:06d}",
                    "name_fr": f"École {n}",
                    "name_ar": f"مدرسة {n}",
                    "region": f"Région {n % 12}",
                    "province": f"Province {n % 75}",
                    "commune": f"Commune {n % 1500}",
                    "need": rng.randint(5, 120),
                    "enrolment": rng.randint(50, 2000),
                    "latitude": 28 + rng.random() * 8,
                    "longitude": -13 + rng.random() * 11,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(start, min(start + BATCH, schools))
            ],
        )
    owner = [i for i, share in enumerate(shares) for _ in range(share)]
    for start in range(0, devices, BATCH):
        db.session.execute(
            sa.insert(Device),
            [
                {
                    "asset_tag": f"TAB-{n + 1:07d}",
                    "qr_token": secrets.token_urlsafe(16),
                    "serial": f"SN{n:09d}",
                    "imei": None,
                    "model": "MatePad T10",
                    "donation_id": donation_ids[owner[n]],
                    "status": "in_stock",
                    "depot_id": central,
                    "condition": "new",
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(start, min(start + BATCH, devices))
            ],
        )
    db.session.execute(
        sa.insert(DeviceEvent).from_select(
            ["device_id", "type", "occurred_at", "to_status", "details"],
            sa.select(
                Device.id,
                sa.literal("registered"),
                sa.literal(now, DeviceEvent.occurred_at.type),
                sa.literal("in_stock"),
                sa.literal({}, sa.JSON()),
            ),
        )
    )
    db.session.commit()
    # Loaded in bulk, as a restore is: the planner gets its figures before anything reads.
    refresh_statistics(School.__table__, Device.__table__, DeviceEvent.__table__)

    # A national plan over the first donation, then a delivery per school in every state.
    plan = plans.create_plan(name="National", donation_id=donation_ids[0], actor=coordinator)
    school_ids = list(db.session.scalars(sa.select(School.id)))
    plans.propose_plan(plan.id, total=shares[0] * 2 // 3, school_ids=school_ids, actor=coordinator)
    plans.submit_plan(plan.id, coordinator)
    plans.approve_plan(plan.id, manager)
    db.session.commit()
    deliveries.create_deliveries(
        plan.id, actor=coordinator, assigned_to_id=agent.id, planned_on=local_today()
    )
    db.session.commit()
    state = Delivery.id % 5  # 0 planned, 1 packed, 2 dispatched, 3 delivered, 4 partly
    items_of = sa.select(DeliveryItem.device_id).join(
        Delivery, Delivery.id == DeliveryItem.delivery_id
    )

    def events(kind: str, before: str, after: str, where) -> None:
        db.session.execute(
            sa.insert(DeviceEvent).from_select(
                ["device_id", "type", "occurred_at", "from_status", "to_status", "details"],
                sa.select(
                    DeliveryItem.device_id,
                    sa.literal(kind),
                    sa.literal(now, DeviceEvent.occurred_at.type),
                    sa.literal(before),
                    sa.literal(after),
                    sa.literal({}, sa.JSON()),
                )
                .join(Delivery, Delivery.id == DeliveryItem.delivery_id)
                .where(where),
            )
        )

    on_road = state.in_((1, 2, 3, 4))
    db.session.execute(
        sa.update(DeliveryItem)
        .where(DeliveryItem.delivery_id.in_(sa.select(Delivery.id).where(on_road)))
        .values(status="packed", packed_at=now)
    )
    db.session.execute(sa.update(Delivery).where(on_road).values(status="packed", packed_at=now))
    gone = state.in_((2, 3, 4))
    events("dispatched", "reserved", "in_transit", gone)
    db.session.execute(
        sa.update(Device)
        .where(Device.id.in_(items_of.where(gone)))
        .values(status="in_transit", version=Device.version + 1)
    )
    db.session.execute(
        sa.update(Delivery).where(gone).values(status="dispatched", dispatched_at=now)
    )
    handed = state.in_((3, 4))
    events("delivered", "in_transit", "delivered", handed)
    db.session.execute(
        sa.update(Device)
        .where(Device.id.in_(items_of.where(handed)))
        .values(status="delivered", version=Device.version + 1)
    )
    db.session.execute(
        sa.update(DeliveryItem)
        .where(DeliveryItem.delivery_id.in_(sa.select(Delivery.id).where(handed)))
        .values(status="delivered")
    )
    db.session.execute(
        sa.update(Delivery)
        .where(handed)
        .values(
            status=sa.case((state == 3, "delivered"), else_="partially_delivered"),
            delivered_at=now,
            recipient_name="Directeur",
            recipient_role="Directeur",
            handover_via="manifest",
        )
    )
    plan = db.session.get(AllocationPlan, plan.id)
    plan.status = "partially_fulfilled"
    refresh_statistics(
        Device.__table__, DeviceEvent.__table__, Delivery.__table__, DeliveryItem.__table__
    )
    db.session.commit()
    return {
        "schools": schools,
        "devices": devices,
        "donations": donation_ids,
        "plan": plan.id,
        "deliveries": db.session.scalar(sa.select(sa.func.count()).select_from(Delivery)),
        "events": db.session.scalar(sa.select(sa.func.count()).select_from(DeviceEvent)),
        "users": {"coordinator": coordinator.email, "manager": manager.email, "field": agent.email},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=25_000)
    parser.add_argument("--devices", type=int, default=1_500_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tracker-synthetic-"))
    os.environ.setdefault("TRACKER_INSTANCE_PATH", str(folder))
    url = args.database_url or f"sqlite:///{folder / 'synthetic.sqlite'}"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    app = make_app(url)
    from tracker.extensions import db

    started = time.perf_counter()
    with app.app_context():
        db.drop_all()
        db.create_all()
        made = generate(args.schools, args.devices)
    print(
        f"{made['schools']} schools, {made['devices']} devices, {made['deliveries']} "
        f"deliveries, {made['events']} events in {time.perf_counter() - started:.0f} s "
        f"-> {url.split('@')[-1]} (sign in as {made['users']['manager']} / {PASSWORD})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
