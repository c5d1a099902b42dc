"""Sharing N tablets among schools: proportional, bounded, rounded by largest remainder.

A pure function, so it can be explained and proven: the total is exact (N, or as much as
the schools can take), every school stays within its bounds and never gets more than it
needs, and a school with more weight (need, enrolment) never gets fewer than one with less.

A national plan shares among 20,000 schools, so the work is done on parallel lists of
integers (no object per school) and each school's reason is worded only when asked for,
from the level (what is left per unit of weight) the proposal keeps.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple, overload

from flask_babel import format_decimal

from tracker.errors import ValidationFailed
from tracker.i18n import gettext as _

BASES = ("need", "enrolment", "equal")


class Candidate(NamedTuple):
    school_id: int
    need: int
    enrolment: int = 0


class Share(NamedTuple):
    school_id: int
    quantity: int
    code: str  # why this number, as data ("share:need:25:4.32"); words come at display

    @property
    def reason(self) -> str:
        return reason_text(self.code)


@dataclass(frozen=True)
class Proposal(Sequence[Share]):
    """The quantities, in the candidates' order, and what explains each of them."""

    basis: str
    school_ids: list[int]
    quantities: list[int]
    needs: list[int]
    weights: list[int]  # the basis' weight of each school (need, enrolment or 1)
    caps: list[int]
    floors: list[int]
    shared: list[int]  # weight each school took part in the last sharing with; 0: none
    remaining: int  # what the last sharing divided ...
    weight_sum: int  # ... among this much weight

    def __len__(self) -> int:
        return len(self.school_ids)

    @overload
    def __getitem__(self, index: int) -> Share: ...
    @overload
    def __getitem__(self, index: slice) -> list[Share]: ...
    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return Share(self.school_ids[index], self.quantities[index], self.code(index))

    def __iter__(self) -> Iterator[Share]:
        return (self[i] for i in range(len(self)))

    @property
    def total(self) -> int:
        return sum(self.quantities)

    def code(self, i: int) -> str:
        """Why school number `i` gets its quantity, as a reason code."""
        need, quantity, cap, floor = self.needs[i], self.quantities[i], self.caps[i], self.floors[i]
        if cap == 0:
            return "none"
        if quantity == cap and cap == need:
            return f"all:{need}"
        if quantity == cap:
            return f"max:{cap}"
        if not self.shared[i]:
            return f"min:{floor}"
        ideal = floor + self.remaining * self.shared[i] / self.weight_sum
        if quantity == floor and ideal <= floor:
            return f"min:{floor}"
        weight = self.weights[i] if self.basis != "equal" else 1
        return f"share:{self.basis}:{weight}:{ideal:.2f}"

    def codes(self) -> list[str]:
        return [self.code(i) for i in range(len(self))]


def propose(
    candidates: Iterable[tuple[int, int, int]],
    total: int,
    *,
    basis: str = "need",
    minimum: int = 0,
    maximum: int | None = None,
) -> Proposal:
    """Share `total` among `candidates` in proportion to `basis`, within [minimum, maximum].

    Candidates are (school id, need, enrolment) tuples: `Candidate`s or database rows. No
    school gets more than its need. When the schools cannot take `total`, each gets its
    cap and the total is what they can take. Integer arithmetic (floor and remainder of
    R·w/W) keeps the rounding exact; ties go to the larger weight, then to the earlier
    school.
    """
    if basis not in BASES:
        raise ValidationFailed(_("Share by need, enrolment or equally."), field="basis")
    if total < 0 or minimum < 0 or (maximum is not None and maximum < minimum):
        raise ValidationFailed(
            _("Give a total and bounds that make sense (0 ≤ minimum ≤ maximum)."), field="total"
        )
    rows = list(candidates)
    count = len(rows)
    columns = list(zip(*rows, strict=True)) if rows else [(), (), ()]
    school_ids, needs = list(columns[0]), list(columns[1])
    enrolments = list(columns[2]) if len(columns) > 2 else [0] * count
    if basis == "enrolment":
        # A ministry list may give pupils and no need (0): shared by pupils, such a school
        # is then capped by its pupils (a tablet each at most) rather than given nothing.
        needs = [n if n > 0 else e for n, e in zip(needs, enrolments, strict=True)]
    caps = needs if maximum is None else [n if n < maximum else maximum for n in needs]
    floors = [c if c < minimum else minimum for c in caps] if minimum else [0] * count
    total = min(total, sum(caps))
    floor_total = sum(floors)
    if floor_total > total:
        raise ValidationFailed(
            _(
                "%(n)s tablets cannot give each of the %(k)s schools its minimum of %(m)s: "
                "lower the minimum or choose fewer schools.",
                n=total,
                k=count,
                m=minimum,
            ),
            field="minimum",
        )
    weights = {"need": needs, "enrolment": enrolments}.get(basis) or [1] * count
    quantities = floors.copy()
    remaining = total - floor_total
    open_ = [i for i, cap, floor in zip(range(count), caps, floors, strict=True) if cap > floor]
    shared = weights
    if remaining > 0 and open_ and not any(map(shared.__getitem__, open_)):
        shared = [1] * count  # nobody has weight: share equally
    open_, remaining, weight_sum = _fill(open_, remaining, shared, caps, floors, quantities)
    if remaining > 0 and open_ and weight_sum == 0:
        # Only schools without weight are left: they share the rest equally.
        shared = [0] * count
        for i in open_:
            shared[i] = 1
        open_, remaining, weight_sum = _fill(open_, remaining, shared, caps, floors, quantities)
    taking = [0] * count
    if remaining > 0 and open_:
        # Each open school takes the whole part of its share; the largest remainders
        # (then the larger weight, then the earlier school) take the units left over.
        largest_weight = max(weights) + 1
        order_key = [0] * count
        for i in open_:
            whole, rest = divmod(remaining * shared[i], weight_sum)
            quantities[i] += whole
            order_key[i] = rest * largest_weight + weights[i]
            taking[i] = shared[i]
        left = total - sum(quantities)
        if left:
            for i in sorted(open_, key=order_key.__getitem__, reverse=True)[:left]:
                quantities[i] += 1
    return Proposal(
        basis=basis,
        school_ids=school_ids,
        quantities=quantities,
        needs=needs,
        weights=weights,
        caps=caps,
        floors=floors,
        shared=taking,
        remaining=remaining,
        weight_sum=weight_sum or 1,
    )


def nothing_shared_because(proposal: "Proposal", *, asked: int, available: int) -> str | None:
    """Why a proposal gives no tablet at all, as a code (NOTHING_SHARED), or None."""
    if proposal.total > 0:
        return None
    if not proposal.school_ids:
        return "no_school"
    if asked == 0:
        return "nothing_asked"
    if available == 0:
        return "no_stock"
    if proposal.basis == "enrolment":
        return "no_need_or_pupils"
    return "no_need"


def _fill(open_, remaining, shared, caps, floors, quantities):
    """Water-filling in one pass: give their cap to the schools that would exceed it.

    A school reaches its cap when its room per unit of weight is below the level R/W of
    what is left; taking schools by increasing room per weight finds every capped one, and
    the level only rises as they leave. Returns the schools still open, what is left and
    their weight.
    """
    weight_sum = sum(map(shared.__getitem__, open_))
    if remaining <= 0 or weight_sum == 0:
        return open_, remaining, weight_sum
    weighted = [i for i in open_ if shared[i] > 0]
    room_per_weight = [(caps[i] - floors[i]) / shared[i] for i in weighted]
    if min(room_per_weight) > 1.000001 * remaining / weight_sum:
        return open_, remaining, weight_sum  # clearly nobody reaches a cap: no need to sort
    by_room = sorted(range(len(weighted)), key=room_per_weight.__getitem__)
    capped = set()
    for i in map(weighted.__getitem__, by_room):
        room = caps[i] - floors[i]
        if remaining * shared[i] < room * weight_sum:
            break
        capped.add(i)
        quantities[i] = caps[i]
        remaining -= room
        weight_sum -= shared[i]
    if capped:
        open_ = [i for i in open_ if i not in capped]
    return open_, remaining, weight_sum


def _decimal(text: str) -> str:
    """A stored decimal ("4.30") in the reader's locale."""
    try:
        return format_decimal(float(text), format="#,##0.00")
    except ValueError:
        return text


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
        share = _decimal(share)  # "4,30" for a French reader
        if basis == "need":
            return _("share of need %(need)s: %(share)s, rounded", need=weight, share=share)
        if basis == "enrolment":
            return _("share of %(pupils)s pupils: %(share)s, rounded", pupils=weight, share=share)
        return _("equal share: %(share)s, rounded", share=share)
    return code or ""
