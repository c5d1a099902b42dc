"""Sharing N tablets among schools: proportional, bounded, rounded by largest remainder.

A pure function, so it can be explained and proven: the total is exact (N, or as much as
the schools can take), every school stays within its bounds and never gets more than it
needs, and a school with more weight (need, enrolment) never gets fewer than one with less.
"""

from dataclasses import dataclass

from flask_babel import gettext as _

from tracker.errors import ValidationFailed

BASES = ("need", "enrolment", "equal")


@dataclass(frozen=True)
class Candidate:
    school_id: int
    need: int
    enrolment: int = 0


@dataclass(frozen=True)
class Share:
    school_id: int
    quantity: int
    code: str  # why this number, as data ("share:need:25:4.32"); words come at display

    @property
    def reason(self) -> str:
        return reason_text(self.code)


def _weight(candidate: Candidate, basis: str) -> int:
    if basis == "need":
        return candidate.need
    if basis == "enrolment":
        return candidate.enrolment
    return 1


def propose(
    candidates: list[Candidate],
    total: int,
    *,
    basis: str = "need",
    minimum: int = 0,
    maximum: int | None = None,
) -> list[Share]:
    """Share `total` among `candidates` in proportion to `basis`, within [minimum, maximum].

    No school gets more than its need. When the schools cannot take `total`, each gets its
    cap and the total is what they can take. Integer arithmetic (floor and remainder of
    R·w/W) keeps the rounding exact and fast; ties go to the larger weight, then to the
    earlier school.
    """
    if basis not in BASES:
        raise ValidationFailed(_("Share by need, enrolment or equally."), field="basis")
    if total < 0 or minimum < 0 or (maximum is not None and maximum < minimum):
        raise ValidationFailed(
            _("Give a total and bounds that make sense (0 ≤ minimum ≤ maximum)."), field="total"
        )
    caps = {
        c.school_id: min(c.need, maximum) if maximum is not None else c.need for c in candidates
    }
    floors = {sid: min(minimum, cap) for sid, cap in caps.items()}
    total = min(total, sum(caps.values()))
    if sum(floors.values()) > total:
        raise ValidationFailed(
            _(
                "%(n)s tablets cannot give each of the %(k)s schools its minimum of %(m)s: "
                "lower the minimum or choose fewer schools.",
                n=total,
                k=len(candidates),
                m=minimum,
            ),
            field="minimum",
        )
    weights = {c.school_id: _weight(c, basis) for c in candidates}
    quantities = dict(floors)
    open_ids = [sid for sid in caps if caps[sid] > floors[sid]]
    remaining = total - sum(floors.values())
    shared_weight = weights
    if remaining > 0 and open_ids and sum(weights[sid] for sid in open_ids) == 0:
        shared_weight = dict.fromkeys(open_ids, 1)  # nobody has weight: share equally
    # Water-filling in one pass: a school reaches its cap when its room per unit of weight
    # is below the level R/W of what is left; taking schools by increasing room per weight
    # finds every capped one, and the level only rises as they leave.
    weight_sum = sum(shared_weight[sid] for sid in open_ids)
    by_room = sorted(
        (sid for sid in open_ids if shared_weight[sid] > 0),
        key=lambda sid: ((caps[sid] - floors[sid]) / shared_weight[sid], sid),
    )
    capped = set()
    for sid in by_room:
        room = caps[sid] - floors[sid]
        if remaining * shared_weight[sid] < room * weight_sum:
            break
        capped.add(sid)
        quantities[sid] = caps[sid]
        remaining -= room
        weight_sum -= shared_weight[sid]
    open_ids = [sid for sid in open_ids if sid not in capped]
    if remaining > 0 and open_ids and weight_sum == 0:
        # Only schools without weight are left: they share the rest equally.
        shared_weight = {**shared_weight, **dict.fromkeys(open_ids, 1)}
        return _finish(
            candidates,
            basis,
            caps,
            floors,
            quantities,
            *_water_fill_equal(open_ids, caps, floors, quantities, remaining),
            total,
            shared_weight,
            weights,
        )
    return _finish(
        candidates,
        basis,
        caps,
        floors,
        quantities,
        open_ids,
        remaining,
        total,
        shared_weight,
        weights,
    )


def _water_fill_equal(open_ids, caps, floors, quantities, remaining):
    """Equal shares among `open_ids`, capping those with the least room first."""
    weight_sum = len(open_ids)
    capped = set()
    for sid in sorted(open_ids, key=lambda sid: (caps[sid] - floors[sid], sid)):
        room = caps[sid] - floors[sid]
        if remaining < room * weight_sum:
            break
        capped.add(sid)
        quantities[sid] = caps[sid]
        remaining -= room
        weight_sum -= 1
    return [sid for sid in open_ids if sid not in capped], remaining


def _finish(
    candidates, basis, caps, floors, quantities, open_ids, remaining, total, shared_weight, weights
) -> list[Share]:
    """Share what is left among uncapped schools; largest remainders take the last units."""
    ideal = {}
    if remaining > 0 and open_ids:
        weight_sum = sum(shared_weight[sid] for sid in open_ids)
        remainders = {}
        for sid in open_ids:
            whole, remainders[sid] = divmod(remaining * shared_weight[sid], weight_sum)
            ideal[sid] = floors[sid] + remaining * shared_weight[sid] / weight_sum
            quantities[sid] += whole
        left = total - sum(quantities.values())
        order = sorted(open_ids, key=lambda sid: (-remainders[sid], -weights[sid], sid))
        for sid in order[:left]:
            quantities[sid] += 1
    return [
        Share(
            c.school_id,
            quantities[c.school_id],
            _code(
                c,
                basis,
                quantities[c.school_id],
                caps[c.school_id],
                floors[c.school_id],
                ideal.get(c.school_id),
            ),
        )
        for c in candidates
    ]


def _code(
    candidate: Candidate, basis: str, quantity: int, cap: int, floor: int, ideal: float | None
) -> str:
    if cap == 0:
        return "none"
    if quantity == cap and cap == candidate.need:
        return f"all:{candidate.need}"
    if quantity == cap:
        return f"max:{cap}"
    if ideal is None or (quantity == floor and ideal <= floor):
        return f"min:{floor}"
    weight = {"need": candidate.need, "enrolment": candidate.enrolment}.get(basis, 1)
    return f"share:{basis}:{weight}:{ideal:.2f}"


def reason_text(code: str) -> str:
    """The words for a reason code, in the reader's language."""
    kind, _sep, rest = (code or "").partition(":")
    parts = rest.split(":") if rest else []
    if kind == "none":
        return _("needs no tablet")
    if kind == "all":
        return _("all of its need (%(n)s)", n=parts[0])
    if kind == "max":
        return _("the maximum per school (%(n)s)", n=parts[0])
    if kind == "min":
        return _("the minimum per school (%(n)s)", n=parts[0])
    if kind == "hand":
        return _("set by hand")
    if kind == "share" and len(parts) == 3:
        basis, weight, share = parts
        if basis == "need":
            return _("share of need %(need)s: %(share)s, rounded", need=weight, share=share)
        if basis == "enrolment":
            return _("share of %(pupils)s pupils: %(share)s, rounded", pupils=weight, share=share)
        return _("equal share: %(share)s, rounded", share=share)
    return code or ""
