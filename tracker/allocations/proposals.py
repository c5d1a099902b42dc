"""Sharing N tablets among schools: proportional, bounded, rounded by largest remainder.

A pure function, so it can be explained and proven: the total is exact (N, or as much as
the schools can take), every school stays within its bounds and never gets more than it
needs, and a school with more weight (need, enrolment) never gets fewer than one with less.
"""

from dataclasses import dataclass
from fractions import Fraction

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
    reason: str


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
    cap and the total is what they can take. Exact arithmetic (fractions) keeps the rounding
    fair; ties go to the larger weight, then to the earlier school.
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
    floors = {c.school_id: min(minimum, caps[c.school_id]) for c in candidates}
    capacity = sum(caps.values())
    total = min(total, capacity)
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
    ideal = {sid: Fraction(floors[sid]) for sid in caps}
    open_ids = [sid for sid in caps if caps[sid] > floors[sid]]
    remaining = Fraction(total - sum(floors.values()))
    # Water-filling: share what remains by weight; a school that would pass its cap gets
    # the cap, and the rest is shared again among the others.
    while remaining > 0 and open_ids:
        weight_sum = sum(weights[sid] for sid in open_ids)
        if weight_sum == 0:
            share = {sid: remaining / len(open_ids) for sid in open_ids}
        else:
            share = {sid: remaining * weights[sid] / weight_sum for sid in open_ids}
        capped = [sid for sid in open_ids if ideal[sid] + share[sid] >= caps[sid]]
        if not capped:
            for sid in open_ids:
                ideal[sid] += share[sid]
            remaining = Fraction(0)
            break
        for sid in capped:
            remaining -= caps[sid] - ideal[sid]
            ideal[sid] = Fraction(caps[sid])
        open_ids = [sid for sid in open_ids if sid not in capped]
    quantities = {sid: int(value) for sid, value in ideal.items()}  # floor (values >= 0)
    left = total - sum(quantities.values())
    order = sorted(
        (sid for sid in caps if quantities[sid] < caps[sid]),
        key=lambda sid: (-(ideal[sid] - quantities[sid]), -weights[sid], sid),
    )
    for sid in order[:left]:
        quantities[sid] += 1
    return [
        Share(
            c.school_id,
            quantities[c.school_id],
            _reason(
                c,
                basis,
                quantities[c.school_id],
                caps[c.school_id],
                floors[c.school_id],
                ideal[c.school_id],
            ),
        )
        for c in candidates
    ]


def _reason(
    candidate: Candidate, basis: str, quantity: int, cap: int, floor: int, ideal: Fraction
) -> str:
    if cap == 0:
        return _("needs no tablet")
    if quantity == cap and cap == candidate.need:
        return _("all of its need (%(n)s)", n=candidate.need)
    if quantity == cap:
        return _("the maximum per school (%(n)s)", n=cap)
    if quantity == floor and ideal <= floor:
        return _("the minimum per school (%(n)s)", n=floor)
    share = f"{float(ideal):.2f}"
    if basis == "need":
        return _("share of need %(need)s: %(share)s, rounded", need=candidate.need, share=share)
    if basis == "enrolment":
        return _(
            "share of %(pupils)s pupils: %(share)s, rounded",
            pupils=candidate.enrolment,
            share=share,
        )
    return _("equal share: %(share)s, rounded", share=share)
