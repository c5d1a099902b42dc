"""The school's signed receipt: what checking one costs, what it adds to a sync, and how
big its QR is.

    .venv/bin/python scripts/bench_receipts.py               # 5 rounds, 100 deliveries
    .venv/bin/python scripts/bench_receipts.py --rounds 9 --deliveries 100

1. One signature check on the server (`receipts.verify_signature`: the key read from its
   DER form and ECDSA P-256 verified by `cryptography`), against the floor of the same
   loop doing one SHA-256 of the receipt: microseconds per check, and the ratio.
2. A sync of 500 actions: 100 deliveries of 4 tablets, each 4 scans and a hand-over; one
   side's hand-overs carry a receipt signed by the school's phone, the other's none. Each
   round builds both databases (SQLite, not timed) and times the two requests in turn, the
   order alternating, so the machine's drift falls on both. The ratio with/without.
3. The QR of a receipt (error correction M, alphanumeric), for a whole delivery received
   and for the worst case of every tenth tablet missing: version and modules.

Exit 3 when a check costs 1 ms or more, the sync with receipts more than 1.2x the one
without, or a whole-delivery receipt's QR is past version 10 (docs/performance.md).
"""

import argparse
import base64
import datetime
import hashlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
MISSED = 3


def _app(folder: Path):
    from tracker import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite'}",
            "WTF_CSRF_ENABLED": False,
            # Messages and jobs wait in the queue (no worker here): the request's own work
            # is measured, not the proof-of-delivery PDFs the outbox makes when it sends.
            "JOBS_MODE": "workers",
            "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
            "BABEL_DEFAULT_LOCALE": "en",
        }
    )


def _side(deliveries_n: int, signed: bool):
    """A database with `deliveries_n` dispatched deliveries of 4 tablets, a school user with
    a phone key at each school, and the 500-action batch the agent's phone would send."""
    from receipt_signer import Phone

    from conftest import signature_data_url
    from tracker.allocations import services as plans
    from tracker.auth.services import create_user
    from tracker.auth.tokens import create_token
    from tracker.database import utcnow
    from tracker.deliveries import receipts
    from tracker.deliveries import services as deliveries
    from tracker.devices.services import register_devices
    from tracker.donations.services import create_donation
    from tracker.extensions import db
    from tracker.schools.models import SchoolStaff
    from tracker.schools.services import create_school

    app = _app(Path(tempfile.mkdtemp(prefix="bench-receipts-")))
    tablets = 4 * deliveries_n
    with app.app_context():
        db.create_all()
        coordinator = create_user("c@bench.test", "coordinator", "x" * 12, check_strength=False)
        manager = create_user("m@bench.test", "manager", "x" * 12, check_strength=False)
        agent = create_user("f@bench.test", "field", "x" * 12, check_strength=False)
        head = create_user("s@bench.test", "school", "x" * 12, check_strength=False)
        donation = create_donation(
            reference="B-1",
            donor_name="Bench",
            received_on=datetime.date(2026, 1, 1),
            quantity=tablets,
        )
        register_devices(
            [
                {"serial": f"BENCH{n:06d}", "model": "T10", "donation_id": donation.id}
                for n in range(tablets)
            ],
            actor=coordinator,
            details={"source": "bench"},
        )
        schools = [
            create_school(
                code=f"S{n}", name_fr=f"École {n}", region="Rabat", province="Rabat", need=4
            )
            for n in range(deliveries_n)
        ]
        for school in schools:
            db.session.add(SchoolStaff(user_id=head.id, school_id=school.id))
        phone = Phone()
        phone.key_id = receipts.register_key(head, phone.public_key).id
        plan = plans.create_plan(name="Bench", donation_id=donation.id, actor=coordinator)
        plans.propose_plan(
            plan.id, total=tablets, school_ids=[s.id for s in schools], actor=coordinator
        )
        plans.submit_plan(plan.id, coordinator)
        plans.approve_plan(plan.id, manager)
        made = deliveries.create_deliveries(
            plan.id,
            actor=coordinator,
            assigned_to_id=agent.id,
            planned_on=None,
            school_ids=[s.id for s in schools],
        )
        actions = []
        signature = signature_data_url()
        for delivery in made:
            tags = [item.device.asset_tag for item in delivery.items]
            for tag in tags:
                deliveries.pack_scan(delivery.id, tag, coordinator)
            deliveries.finish_packing(delivery.id, coordinator)
            deliveries.dispatch(delivery.id, coordinator)
            actions += [
                {
                    "type": "scan",
                    "id": f"scan-{delivery.id}-{n}",
                    "delivery_id": delivery.id,
                    "code": tag,
                }
                for n, tag in enumerate(tags)
            ]
            handover = {
                "type": "handover",
                "id": f"handover-{delivery.id}",
                "delivery_id": delivery.id,
                "recipient_name": "Mme Naima",
                "recipient_role": "Directrice",
                "signature": signature,
                "no_code_reason": "bench",
            }
            if signed:
                handover["school_receipt"] = phone.receipt(delivery.id, len(tags), utcnow())
            actions.append(handover)
        _record, secret = create_token(agent, "bench")
        db.session.commit()
    return app, {"Authorization": f"Bearer {secret}"}, actions


def _time(app, headers, actions) -> tuple[float, int]:
    import sqlalchemy as sa

    from tracker.extensions import db

    seen = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda *_a: seen.append(1))
    client = app.test_client()
    started = time.perf_counter()
    answer = client.post("/api/v1/sync", headers=headers, json={"actions": actions})
    seconds = time.perf_counter() - started
    results = answer.get_json()["results"]
    assert len(results) == len(actions) and all(
        r["status"] == "applied" and not r.get("warning") for r in results
    ), [r for r in results if r["status"] != "applied" or r.get("warning")][:3]
    return seconds, len(seen)


def signature_check(loops: int = 2000) -> tuple[float, float]:
    """Microseconds per check, and per SHA-256 of the same text (the floor)."""
    from receipt_signer import Phone

    import tracker.models  # noqa: F401  (every model known, for the mapper)
    from tracker.deliveries.models import PhoneKey
    from tracker.deliveries.receipts import read_receipt, verify_signature

    phone = Phone()
    key = PhoneKey(id=1, public_key=base64.b64decode(phone.public_key))
    text = phone.receipt(12345, 200, datetime.datetime.now(datetime.UTC), key_id=1)
    claim = read_receipt(text)
    checks, floors = [], []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(loops):
            assert verify_signature(key, claim)
        checks.append((time.perf_counter() - started) / loops)
        started = time.perf_counter()
        for _ in range(loops):
            hashlib.sha256(claim.signed_part).digest()
        floors.append((time.perf_counter() - started) / loops)
    return statistics.median(checks) * 1e6, statistics.median(floors) * 1e6


def qr_sizes() -> list[tuple[str, int, int, int]]:
    """(case, characters, version, modules) of receipts' QR codes at level M."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M
    from receipt_signer import Phone

    phone = Phone()
    now = datetime.datetime.now(datetime.UTC)
    cases = [
        ("200 tablets, all received", phone.receipt(99999, 200, now, key_id=9999)),
        ("500 tablets, all received", phone.receipt(99999, 500, now, key_id=9999)),
        (
            "200 tablets, every tenth missing",
            phone.receipt(99999, 200, now, missing=range(0, 200, 10), key_id=9999),
        ),
    ]
    sizes = []
    for name, text in cases:
        code = qrcode.QRCode(error_correction=ERROR_CORRECT_M)
        code.add_data(text)
        code.make(fit=True)
        sizes.append((name, len(text), code.version, 17 + 4 * code.version))
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--deliveries", type=int, default=100)
    args = parser.parse_args()

    check_us, floor_us = signature_check()
    print(f"signature check: {check_us:.1f} µs (SHA-256 floor {floor_us:.2f} µs)")
    sizes = qr_sizes()
    for name, chars, version, modules in sizes:
        print(f"QR of a receipt, {name}: {chars} characters, version {version} ({modules} modules)")

    with_receipts, without, ratios, statements = [], [], [], {}
    for n in range(args.rounds):
        plain = _side(args.deliveries, signed=False)
        signed = _side(args.deliveries, signed=True)
        order = [(plain, without, "without"), (signed, with_receipts, "with")]
        for (app, headers, actions), kept, name in order if n % 2 == 0 else reversed(order):
            with app.app_context():
                seconds, statements[name] = _time(app, headers, actions)
                kept.append(seconds)
        ratios.append(with_receipts[-1] / without[-1])
        print(
            f"round {n + 1}: without {without[-1]:.3f} s, with {with_receipts[-1]:.3f} s "
            f"({ratios[-1]:.2f}x)"
        )
    # Paired: each round's two requests ran side by side, so the drift falls on both.
    ratio = statistics.median(ratios)
    print(
        f"sync of {5 * args.deliveries} actions: without {statistics.median(without):.3f} s "
        f"({statements['without']} statements), with signed receipts "
        f"{statistics.median(with_receipts):.3f} s ({statements['with']} statements); "
        f"median of the rounds' ratios {ratio:.2f}x"
    )
    whole = sizes[0][2]
    return MISSED if check_us >= 1000 or ratio > 1.2 or whole > 10 else 0


if __name__ == "__main__":
    sys.exit(main())
