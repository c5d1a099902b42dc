"""The JSON API under /api/v1/: what the offline field app and integrations read and send.

Signed in by `Authorization: Bearer <token>` (see `auth/tokens.py`) or, for the browser app, by
its session (then a POST needs the CSRF token in `X-CSRFToken`). Role and object rules are
the web app's: a field agent reads and acts on their own deliveries only.
"""

import sqlalchemy as sa
from flask import Blueprint, g, jsonify, request
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy.exc import IntegrityError

from tracker.api import sync
from tracker.api.openapi import openapi_document
from tracker.auth import tokens
from tracker.auth.permissions import can, requires
from tracker.counts import services as count_services
from tracker.counts.models import Count, CountLine
from tracker.deliveries import receipts, scans
from tracker.deliveries import services as deliveries
from tracker.deliveries.codes import offline_check
from tracker.deliveries.models import Delivery
from tracker.deliveries.states import may_act
from tracker.devices.codes import code_refusal, resolve_code
from tracker.devices.identity import device_url
from tracker.devices.models import Device
from tracker.errors import DomainError, RequestBudgetSpent
from tracker.extensions import csrf, db
from tracker.i18n import gettext as _
from tracker.loans import services as loans
from tracker.schools import staff
from tracker.schools.models import School
from tracker.schools.reach import my_reach
from tracker.schools.services import search_schools
from tracker.transaction import committed

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
SCHOOLS_PAGE = 200


def bearer_token() -> str | None:
    return tokens.bearer_token(request)


@bp.before_request
def token_or_csrf():
    """A request with a bearer token is signed in by that token alone, and a valid one is
    proof enough against CSRF; an invalid one is refused, whatever session cookie comes with
    it. A browser session must show its CSRF token on every POST."""
    if bearer_token() is not None:
        user = tokens.bearer_user(request)
        if user is None:
            return jsonify(error=_("This API token is unknown or revoked.")), 401
        g._login_user = user
    elif request.method == "POST":
        csrf.protect()


@bp.errorhandler(DomainError)
def domain_error(error):
    db.session.rollback()
    return jsonify(error=str(error)), error.status_code


def school_json(school: School) -> dict:
    return {
        "id": school.id,
        "code": school.code,
        "name_fr": school.name_fr,
        "name_ar": school.name_ar,
        "region": school.region,
        "province": school.province,
        "commune": school.commune,
        "latitude": school.latitude,
        "longitude": school.longitude,
        "contact_name": school.contact_name,
        "contact_phone": school.contact_phone,
    }


def delivery_json(delivery: Delivery) -> dict:
    return {
        "id": delivery.id,
        "reference": delivery.reference,
        "status": delivery.status,
        "planned_on": delivery.planned_on.isoformat() if delivery.planned_on else None,
        "assigned_to": delivery.assigned_to.email if delivery.assigned_to else None,
        "school": school_json(delivery.school),
        "counts": scans.counts(delivery),
    }


def device_json(device: Device) -> dict:
    return {
        "id": device.id,
        "asset_tag": device.asset_tag,
        "serial": device.serial,
        "imei": device.imei,
        "model": device.model,
        "status": device.status,
        "qr_token": device.qr_token,
        "qr_url": device_url(device.qr_token),
        "school_code": device.school.code if device.school else None,
        "imei2": device.imei2,
        "brand": device.brand,
        "donor_ref": device.donor_ref,
        "donor_delivered_on": _day(device.donor_delivered_on),
        "warranty_until": _day(device.warranty_until),
        "last_seen_at": device.last_seen_at.isoformat() if device.last_seen_at else None,
    }


def _day(value) -> str | None:
    return value.isoformat() if value else None


@bp.route("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.route("/me")
@requires("api.me")
def me():
    """Who is signed in; a browser session also gets a fresh CSRF token for its POSTs."""
    answer = {
        "id": current_user.id,
        "email": current_user.email,
        "name": current_user.display_name,
        "role": current_user.role,
        "locale": str(get_locale()),
    }
    if bearer_token() is None:
        answer["csrf_token"] = generate_csrf()
    return jsonify(answer)


@bp.route("/deliveries")
@requires("api.use")
def my_deliveries():
    """A field agent's deliveries (everyone's for the office), newest planned first."""
    status = request.args.get("status", "")
    query = deliveries.deliveries_query(current_user, status=status).limit(500)
    return jsonify(deliveries=[delivery_json(d) for d in db.session.scalars(query)])


@bp.route("/deliveries/<int:delivery_id>")
@requires("api.use")
def manifest(delivery_id: int):
    """A delivery and the tablets expected on it: what the phone keeps to work offline."""
    delivery = deliveries.delivery_for(current_user, delivery_id)
    items = [
        {**device_json(item.device), "item_status": item.status}
        for item in delivery.items
        if item.status != "removed"
    ]
    return jsonify(
        delivery=delivery_json(delivery),
        may_act=may_act(current_user, delivery),
        items=items,
        school_code_check=offline_check(delivery),
        # The public halves of the school's phone keys: the agent's phone checks a receipt
        # the school signed with them, offline. Nothing here lets anyone sign one.
        school_keys=[receipts.key_json(key) for key in receipts.keys_of_staff(delivery.school_id)],
    )


def incoming_json(delivery: Delivery) -> dict:
    """A delivery to the school, as its staff see it: who brings which tablets, and what the
    school and the agent said."""
    receipt = delivery.receipt
    return {
        "id": delivery.id,
        "reference": delivery.reference,
        "status": delivery.status,
        "planned_on": _day(delivery.planned_on),
        "dispatched_at": delivery.dispatched_at.isoformat() if delivery.dispatched_at else None,
        "agent": delivery.assigned_to.display_name if delivery.assigned_to else None,
        "school": school_json(delivery.school),
        "tablets": receipts.listed_json(delivery),
        "receipt": None
        if receipt is None
        else {
            "proof": receipt.proof,
            "received_at": receipt.received_at.isoformat(),
            "matched": receipt.matched or None,
        },
        "proof": receipts.proof_of(delivery) or None,
    }


@bp.route("/my-school/deliveries")
@requires("school.home")
def incoming_deliveries():
    """A school's staff: their schools' deliveries from dispatch on, newest first, with the
    tablets listed (what the phone keeps to confirm receipt offline)."""
    return jsonify(
        deliveries=[incoming_json(d) for d in receipts.incoming_for(current_user, limit=50)]
    )


@bp.route("/my-school/deliveries/<int:delivery_id>")
@requires("school.home")
def incoming_delivery(delivery_id: int):
    return jsonify(delivery=incoming_json(receipts.incoming_one(current_user, delivery_id)))


@bp.route("/phone-keys", methods=["GET", "POST"])
@requires("receipts.keys")
def phone_keys():
    """GET: the signed-in person's phones. POST {"public_key": SPKI in base 64, "label"}:
    register this phone's key (the same key again answers the same id)."""
    if request.method == "POST":
        body = request.get_json(silent=True)
        body = body if isinstance(body, dict) else {}
        public_key, label = body.get("public_key"), body.get("label") or ""
        if not isinstance(public_key, str) or not isinstance(label, str):
            return jsonify(error=_("Send the phone's public key.")), 400
        key = committed(lambda: receipts.register_key(current_user, public_key, label))
        return jsonify(phone_key=_key_json(key)), 201
    return jsonify(phone_keys=[_key_json(key) for key in receipts.keys_of(current_user)])


def _key_json(key) -> dict:
    return {
        "id": key.id,
        "label": key.label,
        "created_at": key.created_at.isoformat(),
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


@bp.route("/devices/lookup")
@requires("api.use")
def device_lookup():
    """A device by anything its code box takes: QR URL, token, asset tag, serial, IMEI."""
    code = request.args.get("code", "")
    resolved = resolve_code(code, my_reach())
    if resolved.device is None:
        return jsonify(error=code_refusal(code, resolved)), 404
    return jsonify(device=device_json(resolved.device))


@bp.route("/schools")
@requires("api.use")
def schools():
    """Schools matching a search (code, name, commune) and filters, one page at a time."""
    query = search_schools(
        request.args.get("q", ""),
        request.args.get("region", ""),
        request.args.get("province", ""),
        my_reach(),
    )
    offset = request.args.get("offset", "0")
    if not offset.isdigit() or not offset.isascii() or int(offset) > 10**9:
        return jsonify(error=_("'offset' must be a whole number from 0.")), 400
    offset = int(offset)
    rows = db.session.scalars(query.offset(offset).limit(SCHOOLS_PAGE + 1)).all()
    more = len(rows) > SCHOOLS_PAGE
    return jsonify(
        schools=[school_json(s) for s in rows[:SCHOOLS_PAGE]],
        next_offset=offset + SCHOOLS_PAGE if more else None,
    )


BORROWERS_PAGE = 200
LOAN_LISTS = ("open", "overdue", "ended")


def borrower_json(borrower) -> dict:
    return {
        "id": borrower.id,
        "code": borrower.code,
        "kind": borrower.kind,
        "name": borrower.name,
        "class_name": borrower.class_name,
        "guardian_name": borrower.guardian_name,
        "guardian_phone": borrower.guardian_phone,
    }


def loan_json(loan) -> dict:
    return {
        "id": loan.id,
        "tablet": {"id": loan.device_id, "asset_tag": loan.device.asset_tag},
        "borrower": {
            "id": loan.borrower_id,
            "code": loan.borrower.code,
            "name": loan.borrower.name,
        },
        "lent_at": loan.lent_at.isoformat(),
        "due_on": loan.due_on.isoformat(),
        "overdue": loans.is_overdue(loan),
        "signed": loan.signed_at is not None,
        "condition_out": loan.condition_out,
        "ended_at": loan.ended_at.isoformat() if loan.ended_at else None,
        "ended_as": loan.ended_as,
        "condition_back": loan.condition_back,
    }


def _offset() -> int | None:
    offset = request.args.get("offset", "0")
    if not offset.isdigit() or not offset.isascii() or int(offset) > 10**9:
        return None
    return int(offset)


@bp.route("/schools/<int:school_id>/borrowers")
@requires("borrowers.read")
def borrowers(school_id: int):
    """A school's borrowers (its staff's and the office's: names are theirs to see), found
    by code, name or class, a page at a time: what a desk on a phone keeps to lend."""
    school = staff.school_in_reach(current_user, school_id)
    offset = _offset()
    if offset is None:
        return jsonify(error=_("'offset' must be a whole number from 0.")), 400
    query = loans.borrowers_of(
        school.id, request.args.get("q", "")[:100], request.args.get("class", "")[:40]
    )
    rows = db.session.scalars(query.offset(offset).limit(BORROWERS_PAGE + 1)).all()
    more = len(rows) > BORROWERS_PAGE
    return jsonify(
        borrowers=[borrower_json(b) for b in rows[:BORROWERS_PAGE]],
        next_offset=offset + BORROWERS_PAGE if more else None,
    )


@bp.route("/schools/<int:school_id>/loans")
@requires("borrowers.read")
def school_loans(school_id: int):
    """A school's loans: open (the overdue first), overdue, or ended (the latest first)."""
    school = staff.school_in_reach(current_user, school_id)
    which = request.args.get("list", "open")
    if which not in LOAN_LISTS:
        return jsonify(error=_("'list' must be open, overdue or ended.")), 400
    offset = _offset()
    if offset is None:
        return jsonify(error=_("'offset' must be a whole number from 0.")), 400
    rows = (
        db.session.scalars(
            loans.loans_of(school.id, which).offset(offset).limit(BORROWERS_PAGE + 1)
        )
        .unique()
        .all()
    )
    more = len(rows) > BORROWERS_PAGE
    return jsonify(
        loans=[loan_json(loan) for loan in rows[:BORROWERS_PAGE]],
        next_offset=offset + BORROWERS_PAGE if more else None,
    )


def count_json(count, schools: list[School]) -> dict:
    return {
        "id": count.id,
        "name": count.name,
        "scope": count.scope,
        "starts_on": count.starts_on.isoformat(),
        "ends_on": count.ends_on.isoformat(),
        "status": count.status,
        "expected": count.expected,
        "schools": [school_json(school) for school in schools],
        "depot_id": count_services.depot_id_of(count),
    }


@bp.route("/counts")
@requires("counts.school")
def open_counts():
    """The open counts the user may scan at: a school's staff, those at their schools
    (each with those schools); the programme's people, every open count."""
    if can(current_user, "counts.list"):
        found = db.session.scalars(
            sa.select(Count)
            .where(Count.status == "open", count_services.counts_clause(my_reach()))
            .order_by(Count.id)
            .limit(100)
        )
        return jsonify(counts=[count_json(count, []) for count in found])
    answer = {}
    for school in staff.schools_of(current_user):
        for count in count_services.open_counts_at(school):
            answer.setdefault(count.id, (count, []))[1].append(school)
    return jsonify(counts=[count_json(count, schools) for count, schools in answer.values()])


@bp.route("/counts/<int:count_id>/schools/<int:school_id>")
@requires("counts.school")
def count_at_school(count_id: int, school_id: int):
    """A school's list in a count, what was found and what not: what a phone keeps to count
    offline (at most 5,000 tablets)."""
    count = count_services.get_count(count_id)
    school = staff.school_in_reach(current_user, school_id)
    if not count_services.covers(count, school):
        return jsonify(error=_("This count does not cover %(school)s.", school=school.name_fr)), 404
    figures = count_services.school_figures(count.id, [school.id])[school.id]
    lines = db.session.execute(
        sa.select(CountLine.status, Device)
        .join(Device, Device.id == CountLine.device_id)
        .where(CountLine.count_id == count.id, CountLine.school_id == school.id)
        .order_by(Device.asset_tag)
        .limit(5000)
    )
    return jsonify(
        count=count_json(count, [school]),
        figures=figures.__dict__,
        tablets=[{**device_json(device), "line_status": status} for status, device in lines],
    )


@bp.route("/sync", methods=["POST"])
@requires("api.sync")
def sync_actions():
    """Apply queued actions, each in its own transaction, and answer each one."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested deeper than any action is
        body = None
    actions = body.get("actions") if isinstance(body, dict) else None
    if not isinstance(actions, list) or not all(isinstance(a, dict) for a in actions):
        return jsonify(error=_('Send {"actions": [...]}, each action an object.')), 400
    if len(actions) > sync.MAX_ACTIONS:
        return jsonify(error=_("At most %(n)s actions at once.", n=sync.MAX_ACTIONS)), 400
    results = []
    for action in actions:
        try:
            results.append(_one(action).as_json())
        except RequestBudgetSpent:
            # The request did all the work it may (rolled back): the rest are left
            # unanswered, so the phone keeps them queued and sends them in its next request.
            break
    return jsonify(results=results, unanswered=len(actions) - len(results))


def _one(action) -> sync.Answer:
    client_id = sync.client_id_of(action)
    if not client_id:
        return sync.Answer(
            str(action.get("id", ""))[:64] if isinstance(action, dict) else "",
            "rejected",
            _("Each action needs an id of 8 to 64 letters, digits, - or _."),
        )
    earlier = sync.earlier_answer(client_id, current_user)
    if earlier is not None:
        return earlier
    # Each action is its own transaction: a refused one never stops the others.
    try:
        return committed(lambda: sync.apply_action(action, current_user))
    except IntegrityError:
        return sync.earlier_answer(client_id, current_user) or _clash(client_id)
    except RequestBudgetSpent:
        raise  # not an answer: the action waits for the next request
    except DomainError as error:
        refusal = error
    try:
        return committed(lambda: sync.record_refusal(action, current_user, refusal))
    except IntegrityError:
        return sync.earlier_answer(client_id, current_user) or _clash(client_id)


def _clash(client_id: str) -> sync.Answer:
    message = _("The action clashed with another change at the same moment; send it again.")
    return sync.Answer(client_id, "rejected", message)
