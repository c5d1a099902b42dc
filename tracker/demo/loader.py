"""Load the demonstration data set: the founding ICESCO donation, 40 schools, one user a role.

Idempotent: every object is looked up by its natural key first, so running it twice adds
nothing. Deterministic: the same seed gives the same serials, IMEIs and schools.
"""

import base64
import io
import random
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import openpyxl
import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from PIL import Image, ImageDraw

from tracker.allocations import services as plans
from tracker.allocations.models import AllocationPlan
from tracker.auth import services as users
from tracker.auth.models import User
from tracker.counts import services as counts
from tracker.counts.models import Count, CountLine, CountStockLine
from tracker.database import utcnow
from tracker.deliveries import handover, moves, receipts
from tracker.deliveries import services as deliveries
from tracker.deliveries.models import Delivery, PhoneKey
from tracker.demo.data import CONTACTS, ENROLMENT, REGIONS, SCHOOL_NAMES
from tracker.devices import depots
from tracker.devices import services as devices
from tracker.devices.models import Device, DeviceEvent
from tracker.donations import donors
from tracker.donations import services as donations
from tracker.donations.models import Donation
from tracker.extensions import db
from tracker.jobs.services import run_in_place
from tracker.loans import services as loans
from tracker.loans.models import Borrower
from tracker.repairs import services as repairs
from tracker.repairs.models import RepairCase
from tracker.schools.models import Depot, School, SchoolStaff
from tracker.spreadsheets.import_devices import DeviceImporter
from tracker.spreadsheets.import_schools import SchoolImporter
from tracker.spreadsheets.importers import record_batch, run_import
from tracker.timezone import local_today
from tracker.transfers import services as transfers
from tracker.transfers.models import Transfer

REFERENCE = "ICESCO-HW-2020"
DONOR = "Huawei Technologies Morocco"
TABLETS = 200
SCHOOLS = 40
PASSWORD = "demo"  # noqa: S105  (the documented demo password)
DEMO_USERS = [
    ("admin@demo.test", "admin", "Amina Admin"),
    ("coordinator@demo.test", "coordinator", "Karim Coordinateur"),
    ("field@demo.test", "field", "Said Terrain"),
    ("manager@demo.test", "manager", "Leila Manager"),
    ("school@demo.test", "school", "Fatima Directrice"),
]
STREETS = ["Al Amal", "Hassan II", "Mohammed V", "Al Massira", "Ibn Sina"]
MODEL = "Huawei MatePad T10 (AGR-L09)"
# Every third tablet of the list: the longest model name a donor's list holds.
LONG_MODEL = "Samsung Galaxy Tab A7 Lite LTE 32 Go (SM-T225NZAAMWD) — édition Éducation"
HUAWEI_TAC = "86781504"  # type allocation code: the first 8 digits of the IMEI


@dataclass
class DemoSummary:
    created: dict = field(default_factory=dict)

    def count(self, what: str, n: int = 1) -> None:
        self.created[what] = self.created.get(what, 0) + n


def luhn_digit(body: str) -> str:
    total = 0
    for position, char in enumerate(reversed(body)):
        number = int(char)
        if position % 2 == 0:
            number *= 2
            if number > 9:
                number -= 9
        total += number
    return str((10 - total % 10) % 10)


def demo_imei(n: int) -> str:
    body = f"{HUAWEI_TAC}{100000 + n * 37:06d}"
    return body + luhn_digit(body)


def demo_serial(n: int) -> str:
    return f"AGR9X20C{14000000 + n * 13:08d}"


def load_demo(as_of: date | None = None) -> DemoSummary:
    """Add whatever part of the demonstration data is missing. The caller commits.

    With `as_of`, the founding donation is told as a programme moving in would tell it:
    its tablets were handed over on that day, so they are loaded as an opening balance
    (each at its school since then, received by its head), and what followed — loans, a
    count, repairs — happens on them; no plan or delivery is invented."""
    summary = DemoSummary()
    accounts = _users(summary)
    coordinator = accounts["coordinator"]
    donation = _donation(summary)
    _schools(summary, coordinator)
    if as_of is not None and not db.session.scalar(sa.select(Device.id).limit(1)):
        _opening_balance(summary, donation, coordinator, as_of)
    _devices(summary, donation, coordinator)
    if as_of is None or db.session.scalar(sa.select(AllocationPlan.id).limit(1)):
        _plans(summary, donation, accounts)
        _deliveries(summary, accounts)
    _school_staff(accounts)
    _receipts(summary, accounts)
    _loans(summary, accounts)
    _counts(summary, accounts)
    _repairs(summary, accounts)
    _transfers(summary, accounts)
    _offices(summary, accounts)
    _donors(summary, donation)
    return summary


# The founding donor's own reader, and a second donor whose donation they never see.
DONOR_USER = ("donor@demo.test", "Karim Huawei Maroc")
OTHER_DONOR, OTHER_REFERENCE, OTHER_TABLETS = "Fondation Atlas pour l'éducation", "FAE-2025-01", 12


def _donors(summary: DemoSummary, donation: Donation) -> None:
    """Huawei's own reader (donor@demo.test), its donation's figures open to the public,
    and a second donation, of another donor, registered in stock: invisible to them."""
    email, name = DONOR_USER
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is None:
        db.session.add(
            User(
                email=email,
                name=name,
                role="donor",
                donor_id=donation.donor_id,
                password_hash=users.hash_password(PASSWORD),
            )
        )
        summary.count("users")
    if donation.public_key is None:
        donors.set_open_figures(None, donation.id, open_=True)
    if db.session.scalar(sa.select(Donation.id).where(Donation.reference == OTHER_REFERENCE)):
        return
    other = donations.create_donation(
        reference=OTHER_REFERENCE,
        donor_name=OTHER_DONOR,
        received_on=date(2025, 9, 1),
        quantity=OTHER_TABLETS,
        title="Tablettes pour les écoles rurales de l'Oriental",
    )
    summary.count("donations")
    for n in range(OTHER_TABLETS):
        devices.register_device(
            donation_id=other.id,
            serial=f"FAE25{n:06d}",
            imei=None,
            model="Lenovo Tab M10 (TB-X306X)",
            actor=None,
        )
        summary.count("devices")


SOUSS, ORIENTAL = "Souss-Massa", "L'Oriental"
# Two regional offices (their coordinator and manager), each seeing its region only.
OFFICE_USERS = [
    ("souss.coordinator@demo.test", "coordinator", "Youssef Coordinateur Souss", SOUSS),
    ("souss.manager@demo.test", "manager", "Hanane Manager Souss", SOUSS),
    ("oriental.coordinator@demo.test", "coordinator", "Omar Coordinateur Oriental", ORIENTAL),
    ("oriental.manager@demo.test", "manager", "Salma Manager Oriental", ORIENTAL),
]
REGIONAL_DEPOT = "DEP-SM"
MOVED, ON_THE_WAY = 8, 4  # tablets the Agadir depot received, and those still coming
REGIONAL_PLAN = "Souss-Massa — dépôt d'Agadir"


def _offices(summary: DemoSummary, accounts: dict[str, User]) -> None:
    """Souss-Massa's and L'Oriental's offices; the Agadir depot, stocked from the central
    warehouse by a move the national office sent and Souss-Massa's coordinator received
    (and a second still on the way); a plan of Souss-Massa drawing on its depot, awaiting
    its own manager's approval; and the Agadir depot's count, open, half of it scanned."""
    offices = {}
    for email, role, name, region in OFFICE_USERS:
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user is None:
            user = users.create_user(email, role, PASSWORD, name, check_strength=False)
            user.areas = [[region, ""]]
            summary.count("users")
        offices[email.split("@")[0]] = user
    if db.session.scalar(sa.select(Depot.id).where(Depot.code == REGIONAL_DEPOT)) is not None:
        return
    depot = depots.create_depot(
        code=REGIONAL_DEPOT,
        name="Dépôt régional d'Agadir",
        region=SOUSS,
        address="Zone industrielle Tassila, Agadir",
        actor=accounts["coordinator"],
    )
    summary.count("depots")
    central, sender = depots.central_depot(), accounts["coordinator"]
    stock = list(
        db.session.scalars(
            sa.select(Device.asset_tag)
            .where(
                Device.status == "in_stock",
                Device.school_id.is_(None),
                Device.depot_id == central.id,
            )
            .order_by(Device.asset_tag.desc())
            .limit(MOVED + ON_THE_WAY)
        )
    )
    if len(stock) < 2:
        return
    receiver = offices["souss.coordinator"]
    arrived = len(stock) * MOVED // (MOVED + ON_THE_WAY)
    for tags, received in ((stock[:arrived], True), (stock[arrived:], False)):
        move = moves.create_move(
            from_depot_id=central.id,
            to_depot_id=depot.id,
            actor=sender,
            notes="Camion du lundi : réassort du dépôt d'Agadir.",
        )
        for tag in tags:
            moves.pack(move.id, tag, sender)
        moves.send(move.id, sender)
        if received:
            for tag in tags:
                moves.receive(move.id, tag, receiver)
        summary.count("depot moves")
    souss_schools = list(
        db.session.scalars(sa.select(School.id).where(School.region == SOUSS).order_by(School.code))
    )
    if souss_schools and db.session.scalar(sa.select(AllocationPlan.id).limit(1)):
        # (A programme that moved in has no plan: none is invented for it.)
        plan = plans.create_plan(
            name=REGIONAL_PLAN, donation_id=None, actor=receiver, depot_id=depot.id
        )
        plans.propose_plan(plan.id, total=arrived, school_ids=souss_schools, actor=receiver)
        plans.submit_plan(plan.id, receiver)
        summary.count("plans")
    today = local_today()
    count = counts.open_count(
        receiver,
        name="Inventaire du dépôt d'Agadir",
        scope="depot",
        scope_value=REGIONAL_DEPOT,
        starts_on=today,
        ends_on=today + timedelta(days=7),
    )
    shelf = db.session.scalars(
        sa.select(Device.asset_tag)
        .join(CountStockLine, CountStockLine.device_id == Device.id)
        .where(CountStockLine.count_id == count.id)
        .order_by(Device.asset_tag)
    ).all()
    for tag in shelf[: len(shelf) // 2]:
        counts.depot_scan(receiver, count.id, tag, condition="new")
    summary.count("counts")


def _transfers(summary: DemoSummary, accounts: dict[str, User]) -> None:
    """A tablet moved from the school handed over in part to a school that had none,
    approved by the manager, scanned out and handed over by the field agent."""
    if db.session.scalar(sa.select(Transfer.id).limit(1)):
        return
    coordinator, manager, agent = accounts["coordinator"], accounts["manager"], accounts["field"]
    origin = db.session.scalar(
        sa.select(Delivery.school_id).where(Delivery.status == "partially_delivered")
    )
    given = sa.select(Device.school_id).where(Device.school_id.is_not(None))
    destination = db.session.scalar(
        sa.select(School.id).where(School.need > 0, School.id.not_in(given)).order_by(School.code)
    )
    tablet = db.session.scalar(
        sa.select(Device.asset_tag)
        .where(Device.school_id == origin, Device.status == "delivered")
        .order_by(Device.asset_tag)
    )
    if origin is None or destination is None or tablet is None:
        return
    transfer = transfers.create_transfer(
        coordinator, origin, destination, 1, "Classe fermée : la tablette sert mieux ailleurs."
    )
    transfers.submit(coordinator, transfer.id)
    transfers.approve(manager, transfer.id)
    transfers.assign(coordinator, transfer.id, agent.id)
    transfers.scan_out(agent, transfer.id, tablet)
    # The receiving school got its code when the first tablet left the first school.
    code = getattr(db.session.get(Delivery, transfer.delivery_id), "sent_code", None)
    transfers.leave(agent, transfer.id)
    handover.field_scan(transfer.delivery_id, tablet, agent)
    school = db.session.get(School, destination)
    handover.confirm_handover(
        transfer.delivery_id,
        actor=agent,
        recipient_name=school.contact_name or "Directeur",
        recipient_role="Directeur de l'établissement",
        signature=demo_signature(transfer.id + 50),
        latitude=school.latitude,
        longitude=school.longitude,
        accuracy=15,
        reasons={},
        notes="",
        school_code=code,
        no_code_reason="" if code else "L'école n'a pas de téléphone.",
    )
    summary.count("transfers")


def _repairs(summary: DemoSummary, accounts: dict[str, User]) -> None:
    """The tablet found damaged at a hand-over went to the repairer and was replaced from
    stock; the one brought back worn from a loan waits at the repairer, under warranty."""
    if db.session.scalar(sa.select(RepairCase.id).where(RepairCase.closed_at.is_not(None))):
        return
    coordinator = accounts["coordinator"]
    today = local_today()
    damaged = db.session.scalar(
        sa.select(RepairCase)
        .where(RepairCase.closed_at.is_(None), RepairCase.school_id.is_not(None))
        .order_by(RepairCase.id)
    )
    spare = db.session.scalar(
        sa.select(Device.asset_tag)
        .where(Device.status == "in_stock")
        .order_by(Device.asset_tag.desc())
    )
    if damaged is not None and spare is not None:
        repairs.update_case(
            coordinator,
            damaged.id,
            fault="Écran fissuré à l'ouverture du carton.",
            warranty_claim=True,
            repairer="Huawei Service Center Casablanca",
            repairer_ref="RMA-2026-0142",
            sent_on=today - timedelta(days=20),
            returned_on=today - timedelta(days=6),
            cost="0",
        )
        repairs.close_case(coordinator, damaged.id, "replaced", spare)
        summary.count("repairs")
    head_school = _head_school()
    worn = db.session.scalar(
        sa.select(Device)
        .where(Device.school_id == head_school, Device.status == "delivered")
        .order_by(Device.asset_tag)
    )
    if worn is not None:
        worn.warranty_until = today + timedelta(days=400)
        # The head teacher reported it from her school's page, with a photo.
        case = repairs.report_fault(
            accounts["school"],
            head_school,
            worn.asset_tag,
            "La batterie ne charge plus.",
            _fault_photo(),
        )
        repairs.update_case(
            coordinator,
            case.id,
            fault="La batterie ne charge plus.",
            warranty_claim=True,
            repairer="Huawei Service Center Casablanca",
            repairer_ref="RMA-2026-0187",
            sent_on=today - timedelta(days=3),
        )
        summary.count("repairs")


def _fault_photo() -> bytes:
    """A picture of a tablet whose battery shows empty, drawn here (no file to ship)."""
    image = Image.new("RGB", (480, 320), (236, 239, 241))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((60, 40, 420, 280), 18, fill=(38, 50, 56))
    draw.rectangle((170, 130, 290, 190), outline=(255, 255, 255), width=6)
    draw.rectangle((290, 148, 304, 172), fill=(255, 255, 255))
    draw.rectangle((180, 140, 196, 180), fill=(211, 47, 47))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _counts(summary: DemoSummary, accounts: dict[str, User]) -> None:
    """Last week's count at the school handed over in part, closed with a tablet missing;
    and this year's count at the head teacher's school, open, for them to scan."""
    if db.session.scalar(sa.select(Count.id).limit(1)):
        return
    coordinator, manager = accounts["coordinator"], accounts["manager"]
    today = local_today()
    partial = db.session.scalar(
        sa.select(Delivery.school_id).where(Delivery.status == "partially_delivered")
    )
    if partial is not None:
        count = counts.open_count(
            coordinator,
            name="Contrôle après livraison",
            scope="school",
            scope_value=str(partial),
            starts_on=today - timedelta(days=7),
            ends_on=today,
        )
        tags = db.session.scalars(
            sa.select(Device.asset_tag)
            .join(CountLine, CountLine.device_id == Device.id)
            .where(CountLine.count_id == count.id)
            .order_by(Device.asset_tag)
        ).all()
        for tag in tags[:-1]:  # the last one is not found
            counts.count_scan(accounts["field"], count.id, partial, tag, condition="good")
        counts.ask_to_close(coordinator, count.id)
        counts.confirm_close(manager, count.id)
        summary.count("counts")
    head_school = _head_school()
    if head_school is not None:
        counts.open_count(
            coordinator,
            name="Inventaire de fin d'année",
            scope="school",
            scope_value=str(head_school),
            starts_on=today,
            ends_on=today + timedelta(days=14),
        )
        summary.count("counts")


DEMO_BORROWERS = [
    ("J130021456", "pupil", "Yasmine El Amrani", "6A", "Nadia El Amrani", "+212 661 234 501"),
    ("J130021457", "pupil", "Adam Benjelloun", "6A", "Rachid Benjelloun", "+212 661 234 502"),
    ("J130021458", "pupil", "Salma Ouazzani", "6B", "Khadija Ouazzani", "+212 661 234 503"),
    ("J130021459", "pupil", "Ilyas Tazi", "6B", "Mohamed Tazi", "+212 661 234 504"),
    ("J130021460", "pupil", "Hiba Chraibi", "5A", "Samira Chraibi", "+212 661 234 505"),
    ("ENS-01", "teacher", "Mme Naima Berrada", "", "", ""),
]


def _loans(summary: DemoSummary, accounts: dict[str, User]) -> None:
    """A year on at the school handed over: its class list, tablets lent (one brought back,
    one overdue, most signed on the screen)."""
    head = accounts["school"]
    school_id = _head_school()
    if school_id is None or db.session.scalar(
        sa.select(Borrower.id).where(Borrower.school_id == school_id).limit(1)
    ):
        return
    keys = ("code", "kind", "name", "class_name", "guardian_name", "guardian_phone")
    rows = [loans.clean_borrower(dict(zip(keys, row, strict=True))) for row in DEMO_BORROWERS]
    loans.save_class_list(school_id, rows)
    summary.count("borrowers", len(rows))
    tablets = db.session.scalars(
        sa.select(Device.asset_tag)
        .where(Device.school_id == school_id, Device.status == "delivered")
        .order_by(Device.asset_tag)
    ).all()
    lent = []
    for number, (tag, row) in enumerate(zip(tablets, DEMO_BORROWERS, strict=False)):
        loan = loans.lend(
            head,
            school_id,
            tag,
            row[0],
            accessories="Chargeur, housse",
            signed_by=row[4] or row[2] if number != 2 else "",
            signature=demo_signature(100 + number) if number != 2 else None,
        )
        lent.append(loan)
        summary.count("loans")
    if lent:
        loans.take_back(
            head, school_id, lent[0].device.asset_tag, condition="fair", accessories="Chargeur"
        )
    if len(lent) > 1:
        # Lent last spring, due back before the holidays, and still out.
        lent[1].due_on = local_today() - timedelta(days=12)
    db.session.flush()


def _head_school() -> int | None:
    """The head teacher's own school: the one whose delivery was handed over (or, in a
    programme that moved in, the one that held the most tablets at the opening)."""
    handed = db.session.scalar(
        sa.select(Delivery.school_id).where(Delivery.status == "delivered").order_by(Delivery.id)
    )
    if handed is not None:
        return handed
    return db.session.scalar(
        sa.select(DeviceEvent.school_id)
        .where(DeviceEvent.type == "opening", DeviceEvent.school_id.is_not(None))
        .group_by(DeviceEvent.school_id)
        .order_by(sa.func.count().desc(), DeviceEvent.school_id)
        .limit(1)
    )


def _opening_balance(summary: DemoSummary, donation: Donation, actor: User, as_of: date):
    """The founding donation as a programme moving in lists it: every tablet at the school
    it was handed to on `as_of`, by the head who received it; three broken since, one
    lost, ten still in the store."""
    schools = db.session.execute(
        sa.select(School.code, School.contact_name, School.need).order_by(School.code)
    ).all()
    places = [code for code, _name, need in schools for _n in range(min(need, 12))]
    heads = {code: name for code, name, _need in schools}
    table = [
        ["ICESCO — parc de tablettes au " + as_of.strftime("%d/%m/%Y")],
        [],
        ["N° de série", "IMEI", "Marque", "Modèle", "N° d'inventaire", "Fin de garantie"]
        + ["École", "Statut", "Depuis", "Reçu par"],
    ]
    for n in range(1, TABLETS + 1):
        code = places[(n - 1) % len(places)] if n <= TABLETS - 10 else ""
        state = "en stock" if not code else "livré"
        if n in (17, 88, 143):
            state = "en panne"
        elif n == 120:
            state = "perdu"
        table.append(
            [
                demo_serial(n),
                demo_imei(n),
                "Huawei",
                LONG_MODEL if n % 3 == 0 else MODEL,
                f"HW-ICESCO-{n:04d}",
                date(2022, 12, 31),
                code,
                state,
                as_of.strftime("%d/%m/%Y") if code else "",
                heads.get(code, "") if code else "",
            ]
        )
    report = _import_workbook(
        DeviceImporter(donation_id=donation.id, actor=actor, filename="parc-ouverture.xlsx"),
        "parc-ouverture.xlsx",
        table,
        actor,
        donation.id,
    )
    summary.count("devices", report.new)


def _school_staff(accounts: dict[str, User]) -> None:
    """The head teacher of the school whose delivery was handed over sees it as theirs; she
    also runs the satellite school (a school group, common in the countryside) whose box
    is on the road today, so she reads its delivery code on *My school* and a demo user can
    finish that hand-over with it (as field@demo.test)."""
    handed = _head_school()
    on_the_road = db.session.scalar(
        sa.select(Delivery.school_id)
        .where(Delivery.status == "dispatched", Delivery.planned_on == local_today())
        .order_by(Delivery.id)
    )
    user = accounts["school"]
    # She has run both schools for years: staff long before any box left.
    since = utcnow() - timedelta(days=400)
    for school_id in (handed, on_the_road):
        if school_id is not None and db.session.get(SchoolStaff, (user.id, school_id)) is None:
            db.session.add(SchoolStaff(user_id=user.id, school_id=school_id, added_at=since))
    db.session.flush()


# The school signs for what it receives: three more hand-overs of the first plan, each at a
# school the head teacher runs, confirmed by the school in each way.
DEMO_RECEIPTS = ("signed", "account", "differs")


def _receipts(summary: DemoSummary, accounts: dict[str, User]) -> None:
    """The head teacher's phone key, and hand-overs confirmed by a receipt signed on it,
    from her account, and one where her receipt and the agent's hand-over differ (an alert).
    The school's code and the agent's signature alone are the deliveries above."""
    head, agent, coordinator = accounts["school"], accounts["field"], accounts["coordinator"]
    if db.session.scalar(sa.select(PhoneKey.id).where(PhoneKey.user_id == head.id).limit(1)):
        return
    plan = db.session.scalar(sa.select(AllocationPlan).where(AllocationPlan.name == FIRST_PLAN))
    if plan is None or plan.status not in ("approved", "partially_fulfilled"):
        return
    phone = ec.generate_private_key(ec.SECP256R1())  # her phone's: only it signs
    public = phone.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key = receipts.register_key(head, base64.b64encode(public).decode(), "Android · démo")
    today = local_today()
    since = utcnow() - timedelta(days=400)
    for kind, school_id in zip(DEMO_RECEIPTS, deliveries.waiting_devices(plan.id), strict=False):
        db.session.add(SchoolStaff(user_id=head.id, school_id=school_id, added_at=since))
        (delivery,) = deliveries.create_deliveries(
            plan.id,
            actor=coordinator,
            assigned_to_id=agent.id,
            planned_on=today - timedelta(days=5),
            school_ids=[school_id],
        )
        summary.count("deliveries")
        tags = [item.device.asset_tag for item in delivery.items]
        for tag in tags:
            deliveries.pack_scan(delivery.id, tag, coordinator)
        deliveries.finish_packing(delivery.id, coordinator)
        deliveries.dispatch(delivery.id, coordinator)
        for tag in tags:
            handover.field_scan(delivery.id, tag, agent)
        listed = receipts.listed(delivery)
        signed = ""
        if kind == "signed":
            body = f"TR1.{delivery.id}.{int(utcnow().timestamp())}.{key.id}.{len(listed)}.."
            der = phone.sign(body.encode(), ec.ECDSA(hashes.SHA256()))
            r, s_ = utils.decode_dss_signature(der)
            raw = r.to_bytes(32, "big") + s_.to_bytes(32, "big")
            signed = f"{body}.{base64.b32encode(raw).decode().rstrip('=')}"
        else:
            # From her account, before the agent's phone synced; in the last, one tablet
            # she did not find in the box.
            kept = listed[:-1] if kind == "differs" else listed
            receipts.confirm_receipt(head, delivery.id, received={item.device_id for item in kept})
        school = db.session.get(School, school_id)
        handover.confirm_handover(
            delivery.id,
            actor=agent,
            recipient_name=school.contact_name or "Directeur",
            recipient_role="Directeur de l'établissement",
            signature=demo_signature(delivery.id),
            latitude=school.latitude,
            longitude=school.longitude,
            accuracy=15,
            no_code_reason="La directrice a confirmé sur son téléphone.",
            school_receipt=signed,
            handed_over_at=datetime.combine(today - timedelta(days=5), time(11, 0), tzinfo=UTC),
        )
    db.session.flush()


FIRST_PLAN = "ICESCO 2020 — first distribution"
SECOND_PLAN = "ICESCO 2020 — second round"


def _plans(summary: DemoSummary, donation: Donation, accounts: dict[str, User]) -> None:
    """An approved plan holding tablets for most schools, and one awaiting approval."""
    names = set(db.session.scalars(sa.select(AllocationPlan.name)))
    codes = [row["code"] for row in school_rows()]
    ids = dict(db.session.execute(sa.select(School.code, School.id)).all())
    coordinator, manager = accounts["coordinator"], accounts["manager"]
    if FIRST_PLAN not in names:
        plan = plans.create_plan(
            name=FIRST_PLAN,
            donation_id=donation.id,
            actor=coordinator,
            notes="Shared by need, at least 2 tablets a school.",
        )
        plans.propose_plan(
            plan.id,
            total=150,
            school_ids=[ids[c] for c in codes[:30]],
            actor=coordinator,
            minimum=2,
        )
        plans.submit_plan(plan.id, coordinator)
        plans.approve_plan(plan.id, manager)
        summary.count("plans")
    if SECOND_PLAN not in names:
        plan = plans.create_plan(name=SECOND_PLAN, donation_id=donation.id, actor=coordinator)
        plans.propose_plan(
            plan.id,
            total=40,
            school_ids=[ids[c] for c in codes[30:]],
            actor=coordinator,
            basis="enrolment",
        )
        plans.submit_plan(plan.id, coordinator)
        summary.count("plans")


def demo_signature(seed: int) -> bytes:
    """A scribbled signature, as a signature pad would send it."""
    rng = random.Random(seed)
    image = Image.new("RGBA", (480, 180), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    points = [(30 + i * 42, 90 + rng.randint(-55, 55)) for i in range(11)]
    pen.line(points, fill="black", width=4, joint="curve")
    pen.line([(60, 140), (420, 128)], fill="black", width=3)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


# (state the demo delivery is left in, days from today it is planned for)
DEMO_DELIVERIES = [
    ("planned", 1),
    ("planned", 0),
    ("packed", 0),
    ("dispatched", 0),
    ("dispatched", -2),
    ("delivered", -1),
    ("partially_delivered", -3),
]


def _deliveries(summary: DemoSummary, accounts: dict[str, User]) -> None:
    """Deliveries of the first plan for the field agent, one in each state of the journey."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(Delivery)):
        return
    plan = db.session.scalar(sa.select(AllocationPlan).where(AllocationPlan.name == FIRST_PLAN))
    if plan is None or plan.status not in ("approved", "partially_fulfilled"):
        return
    coordinator, agent = accounts["coordinator"], accounts["field"]
    today = local_today()
    waiting = list(deliveries.waiting_devices(plan.id))
    # The school with the longest name is handed over, so its name is on every paper.
    names = dict(db.session.execute(sa.select(School.id, School.name_fr)).all())
    longest = max(waiting, key=lambda school_id: len(names[school_id]))
    waiting.remove(longest)
    waiting.insert([state for state, _days in DEMO_DELIVERIES].index("delivered"), longest)
    for (state, days), school_id in zip(DEMO_DELIVERIES, waiting, strict=False):
        (delivery,) = deliveries.create_deliveries(
            plan.id,
            actor=coordinator,
            assigned_to_id=agent.id,
            planned_on=today + timedelta(days=days),
            school_ids=[school_id],
        )
        summary.count("deliveries")
        if state == "planned":
            continue
        tags = [item.device.asset_tag for item in delivery.items]
        for tag in tags:
            deliveries.pack_scan(delivery.id, tag, coordinator)
        deliveries.finish_packing(delivery.id, coordinator)
        if state == "packed":
            continue
        code = deliveries.dispatch(delivery.id, coordinator).sent_code
        if state == "dispatched":
            continue
        handed = tags if state == "delivered" else tags[:-1]
        for tag in handed:
            handover.field_scan(delivery.id, tag, agent)
        school = db.session.get(School, school_id)
        handover.confirm_handover(
            delivery.id,
            actor=agent,
            recipient_name=school.contact_name or "Directeur",
            recipient_role="Directeur de l'établissement",
            signature=demo_signature(delivery.id),
            latitude=school.latitude,
            longitude=school.longitude,
            accuracy=15,
            reasons={delivery.items[-1].device_id: "damaged"} if handed != tags else {},
            notes="Écran fissuré à l'ouverture du carton." if handed != tags else "",
            # The school gives its code; where a tablet is missing, the head teacher had
            # left the phone at home: handed over without it, and why.
            school_code=code if handed == tags else None,
            no_code_reason="" if handed == tags else "Le directeur n'avait pas son téléphone.",
            handed_over_at=datetime.combine(today + timedelta(days=days), time(10, 30), tzinfo=UTC),
        )


def _users(summary: DemoSummary) -> dict[str, User]:
    accounts = {}
    for email, role, name in DEMO_USERS:
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user is None:
            user = users.create_user(email, role, PASSWORD, name, check_strength=False)
            summary.count("users")
        accounts[role] = user
    return accounts


def _donation(summary: DemoSummary) -> Donation:
    donation = db.session.scalar(sa.select(Donation).where(Donation.reference == REFERENCE))
    if donation is None:
        donation = donations.create_donation(
            reference=REFERENCE,
            donor_name=DONOR,
            received_on=date(2020, 12, 28),
            quantity=TABLETS,
            title="ICESCO grant agreement, 28 December 2020",
            notes="200 Huawei tablets granted to ICESCO in Rabat for distance learning "
            "in Moroccan schools.",
        )
        summary.count("donations")
    return donation


def school_rows(count: int = SCHOOLS) -> list[dict]:
    """The demo schools as field dictionaries, spread over all 12 regions."""
    rng = random.Random(2020)
    rows = []
    for i in range(count):
        region, _region_ar, provinces = REGIONS[i % len(REGIONS)]
        province, lat, lon = provinces[(i // len(REGIONS)) % len(provinces)]
        name_fr, name_ar, kind = SCHOOL_NAMES[i % len(SCHOOL_NAMES)]
        low, high = ENROLMENT[kind]
        enrolment = rng.randrange(low, high, 10)
        rows.append(
            {
                "code": f"{(i % len(REGIONS)) + 1:02d}{1000 + i * 7:04d}{'ABCDEFGHJK'[i % 10]}",
                "name_fr": f"{name_fr} — {province}",
                "name_ar": name_ar,
                "region": region,
                "province": province,
                "commune": province.split("-")[0],
                "address": f"{rng.randint(1, 120)} rue {rng.choice(STREETS)}",
                "latitude": round(lat + rng.uniform(-0.12, 0.12), 5),
                "longitude": round(lon + rng.uniform(-0.12, 0.12), 5),
                "contact_name": CONTACTS[i % len(CONTACTS)],
                "contact_phone": "+212 6" + " ".join(str(rng.randint(10, 99)) for _ in range(4)),
                # Where the school hears of its deliveries: every third school in Arabic.
                "contact_email": f"ecole{i + 1:02d}@ecoles.demo.test",
                "contact_language": "ar" if i % 3 == 0 else "fr",
                "enrolment": enrolment,
                "need": max(5, round(enrolment * rng.uniform(0.02, 0.06))),
                # As the ministry's list writes them (GRESA: Primaire, Collège, Lycée).
                "cycle": {"primary": "Primaire", "middle": "Collège", "high": "Lycée"}[kind],
                "milieu": "Rural" if "communautaire" in name_fr or i % 3 == 1 else "Urbain",
            }
        )
    return rows


def _schools(summary: DemoSummary, actor: User) -> None:
    """The ministry's list of schools, imported as a coordinator would upload it."""
    rows = school_rows()
    existing = set(db.session.scalars(sa.select(School.code)))
    if all(row["code"] in existing for row in rows):
        return
    headers = [
        "Code établissement",
        "Nom de l'établissement",
        "Nom arabe",
        "Région",
        "Province",
        "Commune",
        "Adresse",
        "Latitude",
        "Longitude",
        "Directeur",
        "Téléphone",
        "Courriel",
        "Langue",
        "Effectif",
        "Besoin",
        "Cycle",
        "Milieu",
    ]
    keys = [
        "code",
        "name_fr",
        "name_ar",
        "region",
        "province",
        "commune",
        "address",
        "latitude",
        "longitude",
        "contact_name",
        "contact_phone",
        "contact_email",
        "contact_language",
        "enrolment",
        "need",
        "cycle",
        "milieu",
    ]
    table = [["Ministère de l'Éducation nationale — établissements bénéficiaires"], [], headers] + [
        [row[key] for key in keys] for row in rows
    ]
    report = _import_workbook(
        SchoolImporter(), "etablissements-beneficiaires.xlsx", table, actor, None
    )
    summary.count("schools", report.new)


def _import_workbook(
    importer, filename: str, table: list[list], actor: User, donation_id: int | None
):
    """Write `table` as a workbook and import it through the same engine as an upload."""
    folder = Path(tempfile.mkdtemp(prefix="tracker-demo-"))
    path = folder / filename
    try:
        workbook = openpyxl.Workbook()
        for row in table:
            workbook.active.append(row)
        workbook.save(path)
        report = run_import(importer, path, filename, commit=True)
        if not report.committed:
            raise RuntimeError("demo import refused: " + "; ".join(map(str, report.problems)))
        record_batch(report, user_id=actor.id, donation_id=donation_id)
        return report
    finally:
        path.unlink(missing_ok=True)
        folder.rmdir()


def _devices(summary: DemoSummary, donation: Donation, actor: User) -> None:
    """The donor's packing list, imported; then a little history on a few tablets."""
    existing = set(
        db.session.scalars(sa.select(Device.serial).where(Device.donation_id == donation.id))
    )
    missing = [n for n in range(1, TABLETS + 1) if demo_serial(n) not in existing]
    if not missing:
        return
    table = [
        ["Huawei Technologies Morocco — packing list, ICESCO grant (28/12/2020)"],
        [],
        ["N° de série", "IMEI", "Marque", "Modèle", "N° d'inventaire", "Livré le"]
        + ["Fin de garantie", "Carton"],
    ]
    table += [
        [
            demo_serial(n),
            demo_imei(n),
            "Huawei",
            LONG_MODEL if n % 3 == 0 else MODEL,
            f"HW-ICESCO-{n:04d}",
            "28/12/2020",
            date(2022, 12, 31),
            (n - 1) // 20 + 1,
        ]
        for n in missing
    ]
    report = _import_workbook(
        DeviceImporter(donation_id=donation.id, actor=actor, filename="packing-list.xlsx"),
        "packing-list.xlsx",
        table,
        actor,
        donation.id,
    )
    summary.count("devices", report.new)
    by_serial = {
        device.serial: device
        for device in db.session.scalars(sa.select(Device).where(Device.donation_id == donation.id))
    }
    for n in missing:
        device = by_serial[demo_serial(n)]
        # A little history so the timeline and the dashboard show more than "in stock".
        if n in (17, 88, 143):
            devices.move_device(
                device, "reported_faulty", actor, note="Screen cracked on arrival (carton crushed)"
            )
        elif n == 120:
            devices.move_device(device, "reported_lost", actor, note="Missing from carton 6")
        elif n == 5:
            # Its first label was torn while unpacking: the old code now says "replaced".
            devices.replace_label(device.id, actor, note="Label torn while unpacking")


def first_download() -> None:
    """The coordinator finds the first plan's allocation workbook in My downloads, made by
    the same job a worker runs."""
    coordinator = db.session.scalar(sa.select(User).where(User.email == DEMO_USERS[1][0]))
    plan_id = db.session.scalar(sa.select(sa.func.min(AllocationPlan.id)))
    if coordinator is None or plan_id is None:
        return
    run_in_place(
        "exports.allocations",
        {"query": "", "plan_id": plan_id},
        user=coordinator,
        title=f"allocations-plan-{plan_id}.xlsx",
    )
