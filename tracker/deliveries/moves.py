"""Moves of stock between depots: the central warehouse to a regional depot, a region to
its provinces.

A move is packed at its first depot by scanning each tablet (in stock there, on no other
move), sent (each tablet `sent_to_depot`: in transit, still its first depot's), and
received at the second by scanning each tablet in (`received_at_depot`: in stock there) —
by someone who reaches that depot and did not send it, so no one person makes the proof
alone. Tablets the second depot did not find when it closes the move are reported lost
(`missing_at_depot`), named in its history. A move is in reach of both depots' offices.
"""

import sqlalchemy as sa

from tracker.auth.models import User
from tracker.auth.permissions import check
from tracker.database import utcnow
from tracker.deliveries.models import DepotMove, DepotMoveItem
from tracker.devices.bulk import move_devices
from tracker.devices.codes import resolve_code
from tracker.devices.models import Device
from tracker.devices.services import move_device
from tracker.errors import Conflict, DomainError, IllegalTransition, NotFound, ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.schools.models import Depot
from tracker.schools.reach import WHOLE, Reach, reach_of, reachable
from tracker.text import refuse_control_characters

UNDER_WAY = ("packing", "on_the_way")
MAX_ITEMS = 5000  # a lorry's load


def moves_clause(reach: Reach):
    """The moves in reach: from or to a depot the person reaches."""
    if reach.whole:
        return sa.true()
    return sa.or_(
        reach.depots_clause(DepotMove.from_depot_id), reach.depots_clause(DepotMove.to_depot_id)
    )


def _move_reached(reach: Reach, move_id: int) -> bool:
    found = sa.select(DepotMove.id).where(DepotMove.id == move_id, moves_clause(reach))
    return db.session.scalar(found) is not None


reachable("move_id", _move_reached, lambda id_: _("No move with number %(id)s.", id=id_))


def move_for(actor: User | None, move_id: int, *, lock: bool = False) -> DepotMove:
    """The move, if `actor` reaches it; any other is as if it did not exist."""
    query = sa.select(DepotMove).where(DepotMove.id == move_id, moves_clause(reach_of(actor)))
    move = db.session.scalar(query.with_for_update() if lock else query)
    if move is None:
        raise NotFound(_("No move with number %(id)s.", id=move_id))
    return move


def moves(reach: Reach = WHOLE, which: str = "open"):
    """A select of the moves in reach: under way (oldest first) or finished (newest)."""
    query = sa.select(DepotMove).where(moves_clause(reach))
    if which == "open":
        return query.where(DepotMove.status.in_(UNDER_WAY)).order_by(DepotMove.id)
    return query.where(DepotMove.status.not_in(UNDER_WAY)).order_by(DepotMove.id.desc())


def _depot(reach: Reach, depot_id: int | None, field: str) -> Depot:
    depot = db.session.get(Depot, depot_id) if depot_id else None
    if depot is None or not reach.covers_depot(depot):
        raise ValidationFailed(_("No depot with number %(id)s.", id=depot_id or "—"), field=field)
    return depot


def create_move(
    *, from_depot_id: int, to_depot_id: int, actor: User | None, notes: str = ""
) -> DepotMove:
    """A move between two depots the actor reaches (the national office: any two)."""
    check(actor, "moves.create")
    reach = reach_of(actor)
    first = _depot(reach, from_depot_id, "from_depot_id")
    second = _depot(reach, to_depot_id, "to_depot_id")
    if first.id == second.id:
        raise ValidationFailed(_("Choose two different depots."), field="to_depot_id")
    move = DepotMove(
        from_depot_id=first.id,
        to_depot_id=second.id,
        status="packing",
        notes=refuse_control_characters((notes or "").strip(), "notes", _("Notes")),
        created_by_id=actor.id if actor else None,
    )
    db.session.add(move)
    db.session.flush()
    return move


def _sender(move: DepotMove, actor: User | None) -> None:
    """Only the office of the depot a move leaves packs, sends or cancels it."""
    if actor is not None and not reach_of(actor).covers_depot(move.from_depot):
        raise IllegalTransition(
            _("Only the office of %(depot)s packs and sends this move.", depot=move.from_depot.code)
        )


def _require(move: DepotMove, status: str) -> None:
    if move.status != status:
        words = {
            "packing": _("This move has left already: nothing more is packed into it."),
            "on_the_way": _("This move is not on the way: nothing is received from it."),
        }
        raise IllegalTransition(words[status])


def pack(move_id: int, code: str, actor: User | None) -> Device:
    """Scan a tablet into a move at its first depot: in stock there, on no other move."""
    check(actor, "moves.pack")
    move = move_for(actor, move_id, lock=True)
    _require(move, "packing")
    _sender(move, actor)
    resolved = resolve_code(code, reach_of(actor))
    device = resolved.device
    if device is None:
        shown = (code or "").strip()[:60] or "…"
        raise ValidationFailed(_("No tablet has the code %(code)s.", code=shown), field="code")
    packed = db.session.get(DepotMoveItem, (move.id, device.id))
    if packed is not None:
        raise Conflict(_("%(tag)s is packed in this move already.", tag=device.asset_tag))
    if device.status != "in_stock" or device.school_id is not None:
        raise IllegalTransition(
            _("%(tag)s is not in stock: only tablets in stock move.", tag=device.asset_tag)
        )
    if device.depot_id != move.from_depot_id:
        raise IllegalTransition(_("%(tag)s is not in stock at this depot.", tag=device.asset_tag))
    elsewhere = db.session.scalar(
        sa.select(DepotMove.id)
        .join(DepotMoveItem, DepotMoveItem.move_id == DepotMove.id)
        .where(DepotMoveItem.device_id == device.id, DepotMove.status.in_(UNDER_WAY))
    )
    if elsewhere is not None:
        raise Conflict(
            _("%(tag)s is packed in move MOV-%(n)05d.", tag=device.asset_tag, n=elsewhere)
        )
    if len(move.items) >= MAX_ITEMS:
        raise ValidationFailed(_("A move holds at most %(n)s tablets.", n=MAX_ITEMS))
    move.items.append(DepotMoveItem(device_id=device.id))
    db.session.flush()
    return device


def unpack(move_id: int, device_id: int, actor: User | None) -> None:
    check(actor, "moves.pack")
    move = move_for(actor, move_id, lock=True)
    _require(move, "packing")
    _sender(move, actor)
    item = db.session.get(DepotMoveItem, (move.id, device_id))
    if item is None:
        raise NotFound(_("No device with id %(id)s.", id=device_id))
    move.items.remove(item)
    db.session.delete(item)
    db.session.flush()


def send(move_id: int, actor: User | None) -> DepotMove:
    """The move leaves: each tablet packed is in transit (all of them, or none)."""
    check(actor, "moves.send")
    move = move_for(actor, move_id, lock=True)
    _require(move, "packing")
    _sender(move, actor)
    ids = [item.device_id for item in move.items]
    if not ids:
        raise ValidationFailed(_("Scan at least one tablet into the move first."))
    moved = move_devices(
        ids,
        "sent_to_depot",
        actor,
        move=move.reference,
        depot=move.from_depot.code,
        to=move.to_depot.code,
    )
    if moved != len(ids):
        raise Conflict(
            _("A tablet of this move changed since it was packed; unpack it and send again.")
        )
    move.status, move.dispatched_at = "on_the_way", utcnow()
    move.dispatched_by_id = actor.id if actor else None
    db.session.flush()
    return move


def may_send(move: DepotMove, actor: User | None) -> bool:
    """Whether `actor` may pack, send or cancel this move now (its page asks)."""
    try:
        check(actor, "moves.send")
        _sender(move, actor)
    except DomainError:
        return False
    return move.status == "packing"


def packing(move: DepotMove) -> bool:
    """Whether tablets are still scanned into it at its first depot."""
    return move.status == "packing"


def on_the_way(move: DepotMove) -> bool:
    return move.status == "on_the_way"


def may_receive(move: DepotMove, actor: User | None) -> bool:
    """Whether `actor` may scan this move in (what its page asks before offering it)."""
    try:
        _receiver(move, actor)
    except DomainError:
        return False
    return move.status == "on_the_way"


def _receiver(move: DepotMove, actor: User | None) -> None:
    check(actor, "moves.receive")
    if actor is not None and not reach_of(actor).covers_depot(move.to_depot):
        raise IllegalTransition(
            _("Only the office of %(depot)s receives this move.", depot=move.to_depot.code)
        )
    if actor is not None and actor.id == move.dispatched_by_id:
        raise IllegalTransition(
            _("You sent this move: someone at the receiving depot scans it in.")
        )


def receive(move_id: int, code: str, actor: User | None) -> Device:
    """Scan a tablet of the move in at its second depot."""
    move = move_for(actor, move_id, lock=True)
    _require(move, "on_the_way")
    _receiver(move, actor)
    device = resolve_code(code).device
    item = db.session.get(DepotMoveItem, (move.id, device.id)) if device else None
    if item is None:  # (a tablet of no move, or of another: the same answer)
        shown = (code or "").strip()[:60] or "…"
        raise ValidationFailed(
            _("No tablet of this move has the code %(code)s.", code=shown), field="code"
        )
    if item.received_at is not None:
        raise Conflict(_("%(tag)s was received already.", tag=device.asset_tag))
    move_device(
        device,
        "received_at_depot",
        actor,
        move=move.reference,
        depot=move.to_depot.code,
    )
    device.depot_id = move.to_depot_id
    item.received_at = utcnow()
    if all(one.received_at is not None for one in move.items):
        _received(move, actor)
    db.session.flush()
    return device


def close_missing(move_id: int, actor: User | None) -> int:
    """End a move some of whose tablets did not arrive: each is reported lost, named in its
    history; how many."""
    move = move_for(actor, move_id, lock=True)
    _require(move, "on_the_way")
    _receiver(move, actor)
    missing = [item.device_id for item in move.items if item.received_at is None]
    if missing:
        move_devices(
            missing,
            "reported_lost",
            actor,
            reason="missing_at_depot",
            move=move.reference,
            depot=move.to_depot.code,
        )
    _received(move, actor)
    db.session.flush()
    return len(missing)


def _received(move: DepotMove, actor: User | None) -> None:
    move.status, move.received_at = "received", utcnow()
    move.received_by_id = actor.id if actor else None


def cancel(move_id: int, actor: User | None) -> DepotMove:
    """A move still being packed is given up: its tablets never left their depot."""
    check(actor, "moves.create")
    move = move_for(actor, move_id, lock=True)
    _require(move, "packing")
    _sender(move, actor)
    db.session.execute(sa.delete(DepotMoveItem).where(DepotMoveItem.move_id == move.id))
    db.session.expire(move, ["items"])
    move.status = "cancelled"
    db.session.flush()
    return move
