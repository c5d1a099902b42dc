"""Device rules: registration, edits, and every move of the state machine.

Each function changes the device and writes its DeviceEvent in the caller's transaction;
none commits. A refused move raises a DomainError whose text is shown to the user.
"""

import json
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm.exc import StaleDataError

from tracker.auth.models import User
from tracker.database import utcnow
from tracker.devices import bulk, identity
from tracker.devices.depots import depot_for
from tracker.devices.models import CONDITIONS, Device, DeviceEvent, RetiredQrToken, serial_key
from tracker.devices.states import (
    EVENT_LABELS,
    MOVES,
    SIGHTINGS,
    STATUS_LABELS,
    clears_placement,
)
from tracker.dialects import any_of, insert_rows, next_ids
from tracker.donations.models import Donation
from tracker.errors import Conflict, IllegalTransition, NotFound, ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.schools.models import School
from tracker.schools.reach import WHOLE, Reach, my_reach, reach_of
from tracker.text import refuse_control_characters
from tracker.timezone import at_local
from tracker.transaction import explains_lost_races, touching

EDITABLE_FIELDS = (
    "serial",
    "imei",
    "imei2",
    "model",
    "brand",
    "donor_ref",
    "donor_delivered_on",
    "warranty_until",
    "condition",
    "notes",
    "donation_id",
)
# What a packing list may add beside the serial; kept as given (see Device).
DONOR_FIELDS = ("imei2", "brand", "donor_ref", "donor_delivered_on", "warranty_until")


def record_event(
    device: Device,
    event_type: str,
    actor: User | None,
    *,
    from_status: str | None = None,
    to_status: str | None = None,
    client_time: datetime | None = None,
    **details,
) -> DeviceEvent:
    """Append one line to a device's history (the only way events are written); an event
    that means the tablet was in someone's hands says when it was last seen."""
    event = DeviceEvent(
        device=device,
        type=event_type,
        actor_id=actor.id if actor else None,
        from_status=from_status,
        to_status=to_status,
        school_id=details.pop("school_id", device.school_id),
        delivery_id=details.pop("delivery_id", None),
        latitude=details.pop("latitude", None),
        longitude=details.pop("longitude", None),
        client_time=client_time,
        details=details,
    )
    db.session.add(event)
    if event_type in SIGHTINGS:
        seen(device)
    return event


def seen(device: Device) -> None:
    """Someone has the tablet in hand now (a scan, a hand-over, a return)."""
    device.last_seen_at = utcnow()


def get_device(device_id: int, *options) -> Device:
    """The device, or NotFound; `options` are loader options (what its page shows with it)."""
    device = db.session.get(Device, device_id, options=options)
    if device is None:
        raise NotFound(_("No device with id %(id)s.", id=device_id))
    return device


def _check_condition(condition: str) -> str:
    if condition not in CONDITIONS:
        raise ValidationFailed(
            _(
                "Condition '%(value)s' is not one of: %(allowed)s.",
                value=condition,
                allowed=", ".join(CONDITIONS),
            ),
            field="condition",
        )
    return condition


def _check_unique(
    column, value, device_id: int | None, field: str, label: str, *, matching: bool = False
) -> None:
    """No other device holds `value` in `column` (with `matching`, `column` is the whole
    condition)."""
    if value is None:
        return
    query = sa.select(Device.asset_tag, Device.school_id, Device.depot_id).where(
        column if matching else column == value
    )
    if device_id is not None:
        query = query.where(Device.id != device_id)
    found = db.session.execute(query).first()
    holder = found[0] if found else None
    if found and not my_reach().covers_device(found[1], found[2]):
        raise ValidationFailed(  # (which tablet of another office holds it is not said)
            _("%(label)s '%(value)s' is already registered.", label=label, value=value),
            field=field,
        )
    if holder:
        raise ValidationFailed(
            _(
                "%(label)s '%(value)s' is already registered on %(tag)s.",
                label=label,
                value=value,
                tag=holder,
            ),
            field=field,
        )


def _clean_donor_fields(given: dict) -> dict:
    """The packing list's extra fields of a form or an API call, cleaned; unknown keys
    refused."""
    unknown = set(given) - set(DONOR_FIELDS)
    if unknown:
        raise ValidationFailed(_("These fields cannot be edited: %(f)s.", f=", ".join(unknown)))
    clean = {}
    if "imei2" in given:
        clean["imei2"] = identity.clean_imei(given["imei2"], field="imei2")
    for key, label, limit in (
        ("brand", _("Brand"), 60),
        ("donor_ref", _("Donor's inventory number"), 64),
    ):
        if key in given:
            text = " ".join(str(given[key] or "").split())
            if len(text) > limit:
                raise ValidationFailed(
                    _("%(label)s: at most %(n)s characters.", label=label, n=limit), field=key
                )
            clean[key] = refuse_control_characters(text, key, label)
    for key in ("donor_delivered_on", "warranty_until"):
        if key in given:
            clean[key] = given[key] or None
    return clean


def _check_imeis(imei, imei2, device_id: int | None) -> None:
    """An IMEI names one tablet: neither may be another tablet's first or second IMEI, and
    a tablet's two differ."""
    if imei is not None and imei == imei2:
        raise ValidationFailed(
            _("The second IMEI '%(value)s' is the same as the first.", value=imei2),
            field="imei2",
        )
    for field, value, label in (("imei", imei, "IMEI"), ("imei2", imei2, _("Second IMEI"))):
        if value is not None:
            either = sa.or_(Device.imei == value, Device.imei2 == value)
            _check_unique(either, value, device_id, field, label, matching=True)


def register_device(
    *,
    donation_id: int,
    serial: str,
    imei=None,
    model: str = "",
    condition: str = "new",
    notes: str = "",
    actor: User | None,
    depot_id: int | None = None,
    **donor,
) -> Device:
    """Register one tablet from the form: clean and check it, then `register_devices`.
    `donor` holds what the packing list adds (DONOR_FIELDS)."""
    if db.session.get(Donation, donation_id) is None:
        raise ValidationFailed(_("Choose the donation this tablet came with."), field="donation_id")
    serial = identity.clean_serial(serial)
    imei = identity.clean_imei(imei)
    extra = _clean_donor_fields(donor)
    _check_unique(Device.serial_key, serial_key(serial), None, "serial", _("Serial number"))
    _check_imeis(imei, extra.get("imei2"), None)
    values = {
        "serial": serial,
        "imei": imei,
        "model": refuse_control_characters(model.strip(), "model", _("Model")),
        "condition": _check_condition(condition),
        "notes": refuse_control_characters(notes.strip(), "notes", _("Notes")),
        "donation_id": donation_id,
        **extra,
    }
    (tag,) = register_devices([values], actor=actor, details={"source": "form"}, depot_id=depot_id)
    return db.session.scalars(sa.select(Device).where(Device.asset_tag == tag)).one()


OPENING_STATES = ("in_stock", "delivered", "on_loan", "faulty", "lost")


def register_devices(
    rows: list[dict],
    *,
    actor: User | None,
    details: dict,
    opening: bool = False,
    depot_id: int | None = None,
) -> list[str]:
    """Register tablets whose values are already clean and checked (the form's one, or an
    import's thousands): each gets the next asset tag, a QR token, the state in stock and
    its "registered" event. A few statements whatever the number; gives the asset tags.

    With `opening`, the rows are an opening balance: each says where its tablet is now
    (`status`, one of OPENING_STATES, its `school_id`), since when (`since`, a day) and who
    received it (`received_by`); each tablet is recorded there with one event "recorded at
    opening" on that day, and no plan or delivery is invented for it. Each row is given its
    tablet's id (`device_id`), for what the caller records beside it (a loan).

    Every tablet is put at a depot: `depot_id` if the actor reaches it, else theirs
    (`depots.depot_for`); its event names it."""
    if not rows:
        return []
    depot = depot_for(actor, depot_id)
    details = {**details, "depot": depot.code}
    prefix = current_app.config["ASSET_TAG_PREFIX"]
    numbers = identity.allocate_numbers("asset_tag", len(rows))
    now = utcnow()
    days: dict = {None: now}
    for values in rows:
        if (since := values.get("since")) not in days:
            days[since] = _day_start(since)
    devices = [
        {
            "asset_tag": identity.format_asset_tag(prefix, number),
            "qr_token": identity.new_qr_token(),
            "serial": values["serial"],
            "serial_key": values["serial"].upper(),  # (a clean serial has no space)
            "imei": values.get("imei"),
            "model": values.get("model", ""),
            "condition": values.get("condition", "new"),
            "notes": values.get("notes", ""),
            "donation_id": values["donation_id"],
            "status": values.get("status", "in_stock"),
            "school_id": values.get("school_id"),
            "depot_id": depot.id,
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "last_seen_at": days[values.get("since")],
        }
        for values, number in zip(rows, numbers, strict=True)
    ]
    if opening:  # its events point to each tablet: their ids, known before they are written
        for values, device, device_id in zip(
            rows, devices, next_ids(Device.__table__, len(devices)), strict=True
        ):
            device["id"] = values["device_id"] = device_id
    # The packing list's extra fields, when it had any (else the columns' defaults stand):
    # every row names the same columns.
    donor = frozenset(DONOR_FIELDS)
    if any(not donor.isdisjoint(values) for values in rows):
        blank = {"imei2": None, "brand": "", "donor_ref": ""}
        for device, values in zip(devices, rows, strict=True):
            for key in DONOR_FIELDS:
                device[key] = values.get(key, blank.get(key))
    insert_rows(Device.__table__, devices)
    tags = [device["asset_tag"] for device in devices]
    if opening:
        _record_opening(rows, devices, actor=actor, details=details, days=days)
        return tags
    # One INSERT ... SELECT writes every new device's "registered" event: no ids need to
    # come back to Python (SQLite would send a RETURNING insert one row at a time).
    bulk.insert_events(
        Device.id,
        event_type="registered",
        occurred_at=now,
        actor=actor,
        to_status="in_stock",
        details=details,
        where=any_of(Device.asset_tag, tags),
    )
    return tags


def _day_start(day: date | None) -> datetime | None:
    """The start of a day in the programme's time, as stored (UTC)."""
    return at_local(day) if day is not None else None


def _record_opening(
    rows: list[dict], devices: list[dict], *, actor, details: dict, days: dict
) -> None:
    """Each tablet of an opening balance gets its one event, on the day it was there since
    (or now), naming the file, the importer and who received it; faulty ones get their
    repair case (`moved`)."""
    actor_id = actor.id if actor else None
    # Each event's details as JSON text, its file's part written once.
    common = json.dumps(details)[:-1]
    common = common + ", " if len(common) > 1 else common
    events = []
    for values, device in zip(rows, devices, strict=True):
        extra = {}
        since = values.get("since")
        if since:
            extra["since"] = since.isoformat()
        if received := values.get("received_by"):
            extra["received_by"] = received
        if state := values.get("state"):
            extra["state"] = state
        events.append(
            {
                "device_id": device["id"],
                "type": "opening",
                "occurred_at": days[since],
                "client_time": None,
                "actor_id": actor_id,
                "from_status": None,
                "to_status": device["status"],
                "school_id": device["school_id"],
                "delivery_id": None,
                "latitude": None,
                "longitude": None,
                "details": common + json.dumps(extra)[1:] if extra else json.dumps(details),
            }
        )
    insert_rows(DeviceEvent.__table__, events, written=("details",))
    faulty = [device["id"] for device in devices if device["status"] == "faulty"]
    if faulty:
        bulk.moved(faulty, "faulty")


MAX_SELECTION = 200  # tablets moved by one tick-and-apply (a page shows 50)


def move_selection(device_ids: list[int], event_type: str, actor: User | None, note: str = ""):
    """The same move for every ticked tablet, by the rules of one (`move_device`): all of
    them, or none when one may not make it (the refusal names that tablet)."""
    ids = list(dict.fromkeys(device_ids))
    if not ids:
        raise ValidationFailed(_("Tick the tablets first."))
    if len(ids) > MAX_SELECTION:
        raise ValidationFailed(_("At most %(n)s tablets at once.", n=MAX_SELECTION))
    devices = db.session.scalars(
        sa.select(Device).where(Device.id.in_(ids)).order_by(Device.asset_tag)
    ).all()
    for device in devices:
        move_device(device, event_type, actor, note=note)
    return devices


def update_device(device_id: int, *, expected_version: int, actor: User | None, **changes):
    """Edit a device's descriptive fields; the state only changes through the moves below.

    `expected_version` is the version the user's form was built from: if someone saved in
    between, the edit is refused rather than silently overwriting their change.
    """
    device = get_device(device_id)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(_("These fields cannot be edited: %(f)s.", f=", ".join(unknown)))
    if device.version != expected_version:
        raise Conflict(_stale_message(device))
    if "serial" in changes:
        changes["serial"] = identity.clean_serial(changes["serial"])
        changes["serial_key"] = serial_key(changes["serial"])
        _check_unique(
            Device.serial_key, changes["serial_key"], device.id, "serial", _("Serial number")
        )
    if "imei" in changes:
        changes["imei"] = identity.clean_imei(changes["imei"])
    changes.update(_clean_donor_fields({k: v for k, v in changes.items() if k in DONOR_FIELDS}))
    if "imei" in changes or "imei2" in changes:
        _check_imeis(
            changes.get("imei", device.imei),
            changes.get("imei2", device.imei2),
            device.id,
        )
    if "condition" in changes:
        _check_condition(changes["condition"])
    if "donation_id" in changes and db.session.get(Donation, changes["donation_id"]) is None:
        raise ValidationFailed(_("Choose the donation this tablet came with."), field="donation_id")
    for key in ("model", "notes"):
        if key in changes:
            changes[key] = refuse_control_characters((changes[key] or "").strip(), key)
    changed = {key: value for key, value in changes.items() if getattr(device, key) != value}
    if not changed:
        return device
    diff = {
        key: [_plain(getattr(device, key)), _plain(value)]
        for key, value in changed.items()
        if key != "serial_key"  # (the serial's own change says it)
    }
    for key, value in changed.items():
        setattr(device, key, value)
    record_event(device, "edited", actor, changes=diff)
    try:
        db.session.flush()
    except StaleDataError as error:
        raise Conflict(_stale_message(device)) from error
    return device


def _plain(value):
    """A value as the history's JSON keeps it (a date as 2027-06-30)."""
    return value.isoformat() if isinstance(value, date) else value


def _stale_message(device: Device) -> str:
    return _(
        "%(tag)s was changed by someone else while you were editing. "
        "Reload the page to see their change, then edit again.",
        tag=device.asset_tag,
    )


def move_device(
    device: Device,
    event_type: str,
    actor: User | None,
    *,
    school: School | None = None,
    allocation_id: int | None = None,
    client_time: datetime | None = None,
    expected_version: int | None = None,
    **details,
) -> DeviceEvent:
    """Apply one move of the state machine, or refuse it with the reason.

    `expected_version`, when given, is the version the user saw: if the device changed
    since, the move is refused rather than made on a state they did not see. Writes the new
    state and exactly one event; the caller commits.
    """
    if expected_version is not None and expected_version != device.version:
        raise Conflict(
            _(
                "%(tag)s changed since you opened the page; look again and retry.",
                tag=device.asset_tag,
            )
        )
    if event_type not in MOVES:
        raise ValueError(f"unknown device move {event_type!r}")
    touching("device", device.id)
    sources, target = MOVES[event_type]
    before = device.status
    if before not in sources:
        allowed = ", ".join(str(STATUS_LABELS[state]).lower() for state in sorted(sources))
        raise IllegalTransition(
            _(
                "%(tag)s cannot be %(move)s: it is %(state)s. This is only possible when "
                "the device is %(allowed)s.",
                tag=device.asset_tag,
                move=_move_verb(event_type),
                state=str(STATUS_LABELS[before]).lower(),
                allowed=allowed,
            )
        )
    if event_type in ("reserved", "replacement_for", "transferred_out"):
        if school is None:
            raise ValidationFailed(_("Choose the school the device is reserved for."))
        device.school_id = school.id
        device.allocation_id = allocation_id
    elif clears_placement(event_type, before):
        # Back on the shelf, or out of a reservation that another device must now fill.
        device.school_id = None
        device.allocation_id = None
    device.status = target
    bulk.moved([device.id], target)
    event = record_event(
        device,
        event_type,
        actor,
        from_status=before,
        to_status=target,
        client_time=client_time,
        **details,
    )
    try:
        db.session.flush()
    except StaleDataError as error:
        raise Conflict(
            _(
                "%(tag)s was changed by someone else at the same moment; try again.",
                tag=device.asset_tag,
            )
        ) from error
    return event


def _move_verb(event_type: str) -> str:
    verbs = {
        "reserved": _("reserved"),
        "released": _("released from its reservation"),
        "dispatched": _("dispatched"),
        "recalled": _("brought back from transit"),
        "delivered": _("delivered"),
        "returned": _("returned"),
        "restocked": _("put back in stock"),
        "reported_faulty": _("reported faulty"),
        "repaired": _("marked repaired"),
        "reported_lost": _("reported lost"),
        "found": _("marked found"),
        "corrected_delivered": _("corrected to delivered"),
        "corrected_refused": _("corrected to not received"),
        "lent": _("lent"),
        "loan_returned": _("brought back from a loan"),
        "back_from_repair": _("brought back from repair"),
        "replacement_for": _("sent to replace a tablet"),
        "transferred_out": _("scanned out for a transfer"),
        "sent_to_depot": _("sent to another depot"),
        "received_at_depot": _("received at a depot"),
    }
    return verbs[event_type]


def replace_label(device_id: int, actor: User | None, note: str = "") -> Device:
    """Give a device a new QR token (its label was lost or copied); the old one is retired.

    The retired token keeps answering, with "this label was replaced", so a stale label
    found later is recognised rather than taken for an unknown code.
    """
    device = get_device(device_id)
    old = device.qr_token
    db.session.add(
        RetiredQrToken(token=old, device_id=device.id, retired_by_id=actor.id if actor else None)
    )
    device.qr_token = identity.new_qr_token()
    record_event(device, "label_replaced", actor, note=note.strip(), retired_token=old[:6] + "…")
    db.session.flush()
    return device


def models_of(donation_id: int, reach: Reach = WHOLE) -> list[tuple[str, int]]:
    """The models of a donation's tablets in `reach`, each with its number of tablets."""
    return [
        (model, n)
        for model, n in db.session.execute(
            sa.select(Device.model, sa.func.count())
            .where(
                Device.donation_id == donation_id,
                reach.devices_clause(Device.school_id, Device.depot_id),
            )
            .group_by(Device.model)
            .order_by(Device.model)
        )
    ]


def set_warranty(
    actor: User | None, donation_id: int, model: str, until: date, *, every: bool = False
) -> int:
    """The warranty's end for a donation's tablets of one model (the donor's terms, when its
    list gave none per tablet): those without one, or `every` one. An event each; gives
    how many changed (three statements whatever their number)."""
    from tracker.auth.permissions import check

    check(actor, "devices.write")
    if db.session.get(Donation, donation_id) is None:
        raise NotFound(_("No donation with id %(id)s.", id=donation_id))
    if until is None:
        raise ValidationFailed(_("Give the day the warranty ends."), field="until")
    which = sa.and_(
        Device.donation_id == donation_id,
        Device.model == model,
        reach_of(actor).devices_clause(Device.school_id, Device.depot_id),  # theirs only
    )
    if not every:
        which = sa.and_(which, Device.warranty_until.is_(None))
    changing = sa.and_(
        which, sa.or_(Device.warranty_until.is_(None), Device.warranty_until != until)
    )
    now = utcnow()
    bulk.insert_events(
        Device.id,
        event_type="edited",
        occurred_at=now,
        actor=actor,
        to_status=None,
        from_status=None,
        details={"changes": {"warranty_until": [None, until.isoformat()]}, "source": "model"},
        school_id=Device.school_id,
        where=changing,
    )
    return db.session.execute(
        sa.update(Device)
        .where(changing)
        .values(warranty_until=until, version=Device.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount


@explains_lost_races
def explain_lost_race(touched: list[tuple[str, int]]) -> str | None:
    """After a race lost on a tablet: what the winner just did to it, and by whom."""
    tablets = [thing_id for kind, thing_id in touched if kind == "device"]
    if not tablets:
        return None
    device = db.session.get(Device, tablets[-1], populate_existing=True)
    last = db.session.scalar(
        sa.select(DeviceEvent)
        .where(DeviceEvent.device_id == device.id)
        .order_by(DeviceEvent.id.desc())
        .limit(1)
    )
    what = str(EVENT_LABELS.get(last.type, last.type)) if last else ""
    who = last.actor.display_name if last and last.actor else ""
    return _(
        "%(tag)s was just changed by someone else (%(what)s%(by)s): nothing you did was "
        "saved. It is now %(state)s; look at it again.",
        tag=device.asset_tag,
        what=what.lower(),
        by=f", {who}" if who else "",
        state=str(STATUS_LABELS[device.status]).lower(),
    )
