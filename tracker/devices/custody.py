"""Who may change a tablet: the one rule that counts, loans, repairs, transfers and the
offline sync ask before they touch a tablet's state, condition or last sighting.

- the office (and the server's operator, `actor=None`): any tablet;
- the staff of the school that holds it: a tablet handed over to their school, lent from
  it or broken there (`HELD_AT_SCHOOL`), and only at that school;
- the agent of a delivery under way that carries it: the deliveries feature, above this
  one, registers that answer (`agent_carries`).

Anyone else who scans a tablet (a school scanning one it does not hold) records a sighting
for the office to check, and changes nothing on the tablet.
"""

from collections.abc import Callable

from tracker.auth.models import User
from tracker.auth.permissions import role_can
from tracker.devices.models import Device
from tracker.schools.staff import school_ids_of

# At its school: handed over, lent from it to a pupil or teacher, or broken there.
HELD_AT_SCHOOL = ("delivered", "on_loan", "faulty")
_CARRIERS: list[Callable[[User, Device], bool]] = []


def agent_carries(answer: Callable[[User, Device], bool]) -> Callable[[User, Device], bool]:
    """Register who carries a tablet on the road (deliveries and transfers register it)."""
    _CARRIERS.append(answer)
    return answer


def held_by(school_id: int | None, device: Device) -> bool:
    """Whether the school `school_id` holds the tablet now."""
    return (
        school_id is not None
        and device.school_id == school_id
        and (device.status in HELD_AT_SCHOOL)
    )


def may_change(actor: User | None, device: Device, *, at_school: int | None = None) -> bool:
    """Whether `actor` may change `device`; `at_school` is the school they act at (a count,
    a loan desk), when they act at one."""
    if actor is None or role_can(actor.role, "devices.change_any"):
        return True
    if any(carries(actor, device) for carries in _CARRIERS):
        return True
    if role_can(actor.role, "devices.change_held"):
        school = at_school if at_school is not None else device.school_id
        return held_by(school, device) and school in school_ids_of(actor)
    return False
