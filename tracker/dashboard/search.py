"""The search box in every page's header: one query finds a tablet (any code it has had), a
school (code, or name in either script), a delivery (DEL-00004) or a plan, among what the
user may see. Each part reads an index or a small table; at most a few rows of each."""

from contextlib import suppress
from dataclasses import dataclass, field

import sqlalchemy as sa

from tracker.allocations.models import AllocationPlan
from tracker.allocations.queries import plans_clause
from tracker.auth.permissions import can
from tracker.deliveries.services import DELIVERY_REFERENCE, delivery_for
from tracker.devices.codes import resolve_code
from tracker.errors import NotFound
from tracker.extensions import db
from tracker.schools.reach import reach_of
from tracker.schools.services import search_schools

SHOWN = 10


@dataclass
class Found:
    devices: list = field(default_factory=list)
    replaced: list = field(default_factory=list)  # an old label: the tablet that carried it
    schools: list = field(default_factory=list)
    deliveries: list = field(default_factory=list)
    plans: list = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(part) for part in (self.devices, self.schools, self.deliveries, self.plans))


def search(user, text: str) -> Found:
    text = " ".join((text or "").split())[:200]
    found = Found()
    if not text:
        return found
    reach = reach_of(user)
    if can(user, "devices.read"):
        resolved = resolve_code(text, reach)
        if resolved.device is not None:
            found.devices.append(resolved.device)
        elif resolved.replaced is not None:
            found.replaced.append(resolved.replaced.device)
    number = DELIVERY_REFERENCE.match(text)
    if number and can(user, "deliveries.read"):
        with suppress(NotFound):  # none, or not theirs: the same answer
            found.deliveries.append(delivery_for(user, int(number.group(1))))
    if can(user, "schools.read") and len(text) >= 2:
        found.schools = list(db.session.scalars(search_schools(text, reach=reach).limit(SHOWN)))
    if can(user, "plans.read") and len(text) >= 2:
        found.plans = list(
            db.session.scalars(
                sa.select(AllocationPlan)
                .where(
                    sa.func.lower(AllocationPlan.name).contains(text.lower(), autoescape=True),
                    plans_clause(reach),
                )
                .order_by(AllocationPlan.id.desc())
                .limit(SHOWN)
            )
        )
    return found
