"""Device rules: identifiers, registration, edits and the whole state machine."""

import itertools

import pytest
import sqlalchemy as sa

from tracker.devices import identity
from tracker.devices.codes import find_device_by_code
from tracker.devices.models import STATUSES, Device, DeviceEvent
from tracker.devices.services import (
    move_device,
    register_device,
    update_device,
)
from tracker.devices.states import MOVES
from tracker.errors import Conflict, IllegalTransition, ValidationFailed
from tracker.extensions import db


def events_of(device) -> list[DeviceEvent]:
    return list(
        db.session.scalars(
            sa.select(DeviceEvent)
            .where(DeviceEvent.device_id == device.id)
            .order_by(DeviceEvent.id)
        )
    )


# --- identifiers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given, expected",
    [
        ("490154203237518", "490154203237518"),
        ("49-015420-323751-8", "490154203237518"),
        ("4901 5420 3237 518", "490154203237518"),
        (490154203237518, "490154203237518"),
        (4.90154203237518e14, "490154203237518"),
        ("", None),
        (None, None),
    ],
)
def test_imei_is_cleaned_to_15_digits(given, expected):
    assert identity.clean_imei(given) == expected


@pytest.mark.parametrize(
    "given, reason",
    [
        ("490154203237519", "check digit"),
        ("49015420323751", "15 digits"),
        ("4901542032375X8", "15 digits"),
    ],
)
def test_bad_imei_is_refused_with_the_reason(app, given, reason):
    with pytest.raises(ValidationFailed) as refused:
        identity.clean_imei(given)
    assert reason in str(refused.value) and refused.value.field == "imei"


def test_serial_is_trimmed_and_kept_as_written(app):
    assert identity.clean_serial("  agr9x 20c1 ") == "agr9x20c1"
    assert identity.clean_serial(" R52-Nx0a ") == "R52-Nx0a"
    with pytest.raises(ValidationFailed, match="Serial number is required"):
        identity.clean_serial("   ")
    with pytest.raises(ValidationFailed, match="not valid"):
        identity.clean_serial("a;b")


def test_asset_tag_typed_any_way_is_recognised():
    assert identity.asset_tag_candidates("tab42")[0] == "TAB-00042"
    assert identity.asset_tag_candidates("TAB-00042")[0] == "TAB-00042"
    assert identity.asset_tag_candidates(" tab 042 ")[0] == "TAB-00042"


# --- registration ----------------------------------------------------------------------------


def test_registration_gives_sequential_tags_unique_tokens_and_an_event(app, create_device):
    first, second = create_device(), create_device()
    assert (first.asset_tag, second.asset_tag) == ("TAB-00001", "TAB-00002")
    assert first.qr_token != second.qr_token
    assert len(first.qr_token) >= 22  # 128 random bits in URL-safe base64
    assert first.status == "in_stock"
    [event] = events_of(first)
    assert (event.type, event.to_status) == ("registered", "in_stock")


def test_a_serial_is_kept_as_written_and_compared_whatever_its_case(app, create_device):
    device = create_device(serial="R52n-x0Ab")
    assert (device.serial, device.serial_key) == ("R52n-x0Ab", "R52N-X0AB")
    assert find_device_by_code("r52N-X0ab") == device
    assert find_device_by_code(" R52N-X0AB ") == device
    with pytest.raises(ValidationFailed, match="already registered on TAB-00001"):
        create_device(serial="r52n-x0ab")
    # Edited, the key follows: the old spelling names nothing, the new one (any case) does.
    update_device(device.id, expected_version=device.version, actor=None, serial="Zz-900")
    assert (device.serial, device.serial_key) == ("Zz-900", "ZZ-900")
    assert find_device_by_code("zz-900") == device
    assert find_device_by_code("R52N-X0AB") is None


def test_asset_tags_are_never_reused(app, create_device):
    device = create_device()
    # Free its tag as a deletion would (events cannot be deleted: the log is append-only).
    device.asset_tag = "GONE-1"
    db.session.commit()
    assert create_device().asset_tag == "TAB-00002"


def test_duplicate_serial_or_imei_is_refused_naming_the_holder(app, create_device):
    device = create_device(serial="ABC123", imei="490154203237518")
    with pytest.raises(ValidationFailed, match="already registered on TAB-00001") as refused:
        register_device(donation_id=device.donation_id, serial="abc123", actor=None)
    assert refused.value.field == "serial"
    with pytest.raises(ValidationFailed, match="IMEI '490154203237518' is already registered"):
        register_device(
            donation_id=device.donation_id, serial="OTHER1", imei="49 015420 323751 8", actor=None
        )


def test_database_refuses_a_duplicate_serial_even_without_the_service(app, create_device):
    device = create_device(serial="DUP123")
    db.session.add(
        Device(asset_tag="X-1", qr_token="t" * 22, serial="DUP123", donation_id=device.donation_id)
    )
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_database_refuses_an_unknown_status(app, create_device):
    device = create_device()
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(sa.update(Device).where(Device.id == device.id).values(status="sold"))
    db.session.rollback()


def test_unknown_donation_is_refused(app):
    with pytest.raises(ValidationFailed, match="Choose the donation"):
        register_device(donation_id=999, serial="ABC123", actor=None)


# --- edits -----------------------------------------------------------------------------------


def test_edit_records_before_and_after(app, create_device, create_user):
    user = create_user()
    device = create_device()
    update_device(
        device.id, expected_version=device.version, actor=user, model="T10 Pro", notes="box 3"
    )
    db.session.commit()
    event = events_of(device)[-1]
    assert event.type == "edited" and event.actor_id == user.id
    assert event.details["changes"]["model"] == ["MatePad T10", "T10 Pro"]


def test_stale_edit_is_refused_and_the_first_change_survives(app, create_device):
    device = create_device()
    version_seen_by_both = device.version
    update_device(device.id, expected_version=version_seen_by_both, actor=None, model="First")
    db.session.commit()
    with pytest.raises(Conflict, match="changed by someone else"):
        update_device(device.id, expected_version=version_seen_by_both, actor=None, model="Second")
    db.session.rollback()
    assert db.session.get(Device, device.id).model == "First"


def test_status_cannot_be_edited_directly(app, create_device):
    device = create_device()
    with pytest.raises(ValidationFailed, match="cannot be edited: status"):
        update_device(device.id, expected_version=device.version, actor=None, status="delivered")


# --- the state machine -----------------------------------------------------------------------

# The shortest path of moves from in_stock to each state.
PATH_TO = {
    "in_stock": [],
    "reserved": ["reserved"],
    "in_transit": ["reserved", "dispatched"],
    "delivered": ["reserved", "dispatched", "delivered"],
    "on_loan": ["reserved", "dispatched", "delivered", "lent"],
    "returned": ["reserved", "dispatched", "delivered", "returned"],
    "faulty": ["reported_faulty"],
    "lost": ["reported_lost"],
}
LEGAL = {
    ("in_stock", "reserved"),
    ("reserved", "released"),
    ("reserved", "dispatched"),
    ("in_transit", "recalled"),
    ("in_transit", "delivered"),
    ("delivered", "returned"),
    ("returned", "restocked"),
    ("faulty", "repaired"),
    ("lost", "found"),
    # Lent by the school to a pupil or teacher, and brought back.
    ("delivered", "lent"),
    ("on_loan", "loan_returned"),
    # Repairs: back at its school, or a tablet from stock sent to replace another.
    ("faulty", "back_from_repair"),
    ("in_stock", "replacement_for"),
    ("delivered", "transferred_out"),
    # Stock moved between depots: scanned out of one, scanned in at the other.
    ("in_stock", "sent_to_depot"),
    ("in_transit", "received_at_depot"),
    *((state, "reported_faulty") for state in STATUSES if state != "faulty"),
    *((state, "reported_lost") for state in STATUSES if state != "lost"),
    # A confirmed hand-over corrected by the office.
    *((state, "corrected_delivered") for state in ("lost", "faulty", "reserved")),
    *((state, "corrected_refused") for state in ("delivered", "lost", "faulty")),
}
EXPECTED_TARGET = {
    "reserved": "reserved",
    "released": "in_stock",
    "dispatched": "in_transit",
    "recalled": "reserved",
    "delivered": "delivered",
    "returned": "returned",
    "restocked": "in_stock",
    "reported_faulty": "faulty",
    "repaired": "in_stock",
    "reported_lost": "lost",
    "found": "in_stock",
    "corrected_delivered": "delivered",
    "corrected_refused": "reserved",
    "lent": "on_loan",
    "loan_returned": "delivered",
    "back_from_repair": "delivered",
    "replacement_for": "delivered",
    "transferred_out": "in_transit",
    "sent_to_depot": "in_transit",
    "received_at_depot": "in_stock",
}


def bring_to(device, state, school, actor):
    for move in PATH_TO[state]:
        move_device(device, move, actor, school=school)
    db.session.commit()
    assert device.status == state


@pytest.mark.parametrize("state, move", sorted(itertools.product(STATUSES, MOVES)))
def test_every_move_from_every_state(app, create_device, create_school, create_user, state, move):
    user, school, device = create_user(), create_school(), create_device()
    bring_to(device, state, school, user)
    events_before = len(events_of(device))
    if (state, move) in LEGAL:
        event = move_device(device, move, user, school=school, note="why")
        db.session.commit()
        assert device.status == EXPECTED_TARGET[move]
        assert (event.type, event.from_status, event.to_status) == (move, state, device.status)
        assert event.actor_id == user.id and event.details["note"] == "why"
        assert len(events_of(device)) == events_before + 1
    else:
        with pytest.raises(IllegalTransition) as refused:
            move_device(device, move, user, school=school)
        db.session.rollback()
        assert device.asset_tag in str(refused.value)
        assert "cannot be" in str(refused.value)
        assert db.session.get(Device, device.id).status == state
        assert len(events_of(device)) == events_before


def test_moves_table_is_exactly_the_designed_machine():
    declared = {(state, move) for move, (sources, _) in MOVES.items() for state in sources}
    assert declared == LEGAL


def test_refusal_says_what_would_be_allowed(app, create_device):
    device = create_device()
    with pytest.raises(IllegalTransition) as refused:
        move_device(device, "delivered", None)
    assert str(refused.value) == (
        "TAB-00001 cannot be delivered: it is in stock. This is only possible when the device "
        "is in transit."
    )


def test_reservation_keeps_the_school_and_release_clears_it(app, create_device, create_school):
    device, school = create_device(), create_school()
    move_device(device, "reserved", None, school=school)
    assert device.school_id == school.id
    move_device(device, "released", None)
    assert device.school_id is None and device.allocation_id is None


def test_reserving_needs_a_school(app, create_device):
    with pytest.raises(ValidationFailed, match="Choose the school"):
        move_device(create_device(), "reserved", None)


# --- the code box ----------------------------------------------------------------------------


def test_any_code_finds_the_device(app, create_device):
    device = create_device(serial="AGR9X20C14000013", imei="490154203237518")
    create_device()
    codes = [
        f"https://tracker.example.org/d/{device.qr_token}",
        device.qr_token,
        "TAB-00001",
        "tab00001",
        "tab-1",
        "agr9x20c14000013",
        "49-015420-323751-8",
    ]
    for code in codes:
        assert find_device_by_code(code) == device, code
    assert find_device_by_code("nothing-like-it") is None
    assert find_device_by_code("") is None


def test_the_imei_check_digit_in_every_script():
    """The Luhn check sums bytes for speed; it must still refuse every single mistyped
    digit and read Arabic-Indic digits by their value."""
    from tracker.demo.loader import luhn_digit
    from tracker.devices.identity import luhn_ok

    arabic = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    for n in range(300):
        good = f"35{n * 7919:012d}"
        good += luhn_digit(good)
        assert luhn_ok(good) and luhn_ok(good.translate(arabic))
        for position in range(15):
            digit = (int(good[position]) + 1 + n % 9) % 10
            mistyped = good[:position] + str(digit) + good[position + 1 :]
            assert not luhn_ok(mistyped), mistyped
