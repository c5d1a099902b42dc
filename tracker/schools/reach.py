"""Which schools, depots and tablets a person can reach: the one rule of a programme run by
many offices.

A coordinator, manager, field agent or admin works for the whole programme, one region, or
one or a few provinces (`User.areas`: [region, province] pairs, province "" for a whole
region; none for the whole programme). A school's own staff reach their schools. A tablet is
where its school is; with no school (in stock), where its depot is. The central warehouse
has no region: only the whole programme reaches it.

Every list, search, figure and export asks `reach_of(user)` for a clause (`schools_clause`,
`depots_clause`, `devices_clause`); every page, download and API call naming an object by
number is checked before its view runs (`check_view_args`), against what each feature
registered with `reachable(parameter, check, refusal)`. Out of reach looks exactly like not
there: the same 404 and sentence as a number nothing has.
"""

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import has_request_context, request
from flask_login import current_user

from tracker.auth.models import User
from tracker.auth.permissions import role_can
from tracker.errors import NotFound
from tracker.extensions import db
from tracker.figures import provides
from tracker.i18n import gettext as _
from tracker.navigation import role_may_open
from tracker.schools.models import Depot, School, SchoolStaff


@dataclass(frozen=True)
class Reach:
    """What one person can reach (never built by hand: ask `reach_of`)."""

    whole: bool = True
    areas: tuple[tuple[str, str], ...] = ()
    staff_of: int | None = None  # a school's staff: the user whose schools
    person: int | None = None  # whose reach it is (their own imports are theirs)

    # --- in SQL: one clause, folded into the query that reads the rows ----------------

    def _place(self, region, province):
        return sa.or_(
            *(
                region == name if not part else sa.and_(region == name, province == part)
                for name, part in self.areas
            )
        )

    def school_ids(self):
        """A select of the ids of the schools in reach (not for the whole programme)."""
        if self.staff_of is not None:
            return sa.select(SchoolStaff.school_id).where(SchoolStaff.user_id == self.staff_of)
        return sa.select(School.id).where(self._place(School.region, School.province))

    def depot_ids(self):
        if self.staff_of is not None:
            return sa.select(Depot.id).where(sa.false())
        return sa.select(Depot.id).where(self._place(Depot.region, Depot.province))

    def schools_clause(self, school_id_column):
        """True of a row whose school is in reach."""
        if self.whole:
            return sa.true()
        return school_id_column.in_(self.school_ids())

    def school_rows_clause(self):
        """True of a school row in reach (a query over `schools` itself: no subquery)."""
        if self.whole:
            return sa.true()
        if self.staff_of is not None:
            return School.id.in_(self.school_ids())
        return self._place(School.region, School.province)

    def depots_clause(self, depot_id_column):
        if self.whole:
            return sa.true()
        return depot_id_column.in_(self.depot_ids())

    def devices_clause(self, school_id_column, depot_id_column, *, walked: bool = False):
        """True of a tablet in reach: its school's, or with no school, its depot's.

        `walked`: for a page read in another index's order (the device list by asset tag,
        a page at a time), the clause is tested on each row walked, not used to find the
        rows (`+ 0` keeps both databases off the school and depot indexes): a region's
        first page reads some twelve rows per tablet shown, not all its tablets to sort."""
        if self.whole:
            return sa.true()
        if walked:
            school_id_column, depot_id_column = school_id_column + 0, depot_id_column + 0
        return sa.or_(*self.device_parts(school_id_column, depot_id_column))

    def device_parts(self, school_id_column, depot_id_column) -> list:
        """`devices_clause` as the clauses it is the OR of, none overlapping another: a count
        asks each through its own index (a school's tablets, a depot's) and adds them up."""
        return [
            school_id_column.in_(self.school_ids()),
            sa.and_(school_id_column.is_(None), depot_id_column.in_(self.depot_ids())),
        ]

    # --- in Python: one object already read ---------------------------------------------

    def covers(self, region: str, province: str = "") -> bool:
        """Whether a place of this region and province is in reach (a school's staff reach
        schools, not places)."""
        if self.whole:
            return True
        if self.staff_of is not None or not region:
            return False
        return any(region == name and (not part or province == part) for name, part in self.areas)

    def covers_school(self, school: School | None) -> bool:
        if school is None:
            return False
        if self.staff_of is not None:
            return db.session.get(SchoolStaff, (self.staff_of, school.id)) is not None
        return self.covers(school.region, school.province)

    def covers_school_id(self, school_id: int | None) -> bool:
        if self.whole:
            return True
        return school_id is not None and self.covers_school(db.session.get(School, school_id))

    def covers_depot(self, depot: Depot | None) -> bool:
        return depot is not None and self.covers(depot.region, depot.province)

    def covers_device(self, school_id: int | None, depot_id: int | None) -> bool:
        if self.whole:
            return True
        if school_id is not None:
            return self.covers_school_id(school_id)
        return depot_id is not None and self.covers_depot(db.session.get(Depot, depot_id))


WHOLE = Reach()


def is_school_staff(user: User) -> bool:
    """A school's own staff: they reach their schools (tracker.schools.staff), not areas."""
    return role_can(user.role, "school.home")


def reach_of(user: User | None) -> Reach:
    """What `user` can reach: `None` (the command line, run by the server's operator) and a
    user with no areas, the whole programme."""
    if user is None or not getattr(user, "is_authenticated", True):
        return WHOLE
    if is_school_staff(user) or role_can(user.role, "donor.home"):
        # (A donor's people reach no school's rows: they read their donations' figures,
        # tracker.donations.donors.)
        return Reach(whole=False, staff_of=user.id, person=user.id)
    areas = tuple((str(region), str(province or "")) for region, province in (user.areas or []))
    return Reach(whole=not areas, areas=areas, person=user.id)


def codes_read_by(actor: User | None) -> Reach:
    """Where a code `actor` scans or types is looked for: an office's own part of the
    programme (another office's tablet is as unknown); anywhere for a school's staff, whose
    answers say nothing of a tablet not theirs."""
    reach = reach_of(actor)
    return WHOLE if reach.staff_of is not None else reach


@provides("reader_reach")
def my_reach() -> Reach:
    """The signed-in person's reach (what views and templates ask; features below this one
    ask the figure "reader_reach")."""
    if not has_request_context():  # the command line, a worker's own run: the whole of it
        return WHOLE
    return reach_of(current_user if current_user.is_authenticated else None)


@provides("people_in_reach")
def people_in_reach():
    """A select of the ids of the people the signed-in person's outbox and filters may
    name (the staff of their schools, and themselves), or None for the whole programme."""
    reach = my_reach()
    if reach.whole:
        return None
    staff = sa.select(SchoolStaff.user_id).where(reach.schools_clause(SchoolStaff.school_id))
    return sa.union(staff, sa.select(sa.literal(reach.person)))


@provides("users_in_reach")
def users_in_reach(users: list) -> list:
    """Of `users`, those the signed-in person reaches: everyone for the whole programme;
    else the staff of their schools and the people all of whose areas they reach (two
    statements at most, whatever the number)."""
    reach = my_reach()
    if reach.whole:
        return users
    staff = sa.select(SchoolStaff.user_id)
    inside = set(db.session.scalars(staff.where(reach.schools_clause(SchoolStaff.school_id))))
    inside -= set(db.session.scalars(staff.where(~reach.schools_clause(SchoolStaff.school_id))))
    return [
        user
        for user in users
        if user.id == reach.person
        or user.id in inside  # every school of theirs in reach
        or _areas_within(reach, user)
    ]


def _areas_within(reach: Reach, user: User) -> bool:
    """Whether a person with areas works only where `reach` does (one of the whole
    programme, with none, is never within a part of it)."""
    return bool(user.areas) and all(reach.covers(region, part) for region, part in user.areas)


# --- objects named in a URL -----------------------------------------------------------------

# Objects a page's query string or form names by number, checked as its path's are: every
# one, each distinct number once (a list of tablets in one statement: `reachable(many=)`).
QUERY_ARGS = {
    "plan": "plan_id",
    "school": "school_id",
    "device": "device_id",
    "depot": "depot_id",
    "count": "count_id",
}
QUERY_CHECKED = 20  # one by one; more, only where a check of many at once is registered
MANY_CHECKED = 5000  # the most a list may name (a page of picked tablets)
LARGEST = 2**63 - 1  # no id is larger (a BIGINT): a larger number names nothing
_CHECKS: dict[str, tuple[Callable[[Reach, int], bool], Callable[[int], str]]] = {}
_MANY: dict[str, Callable[[Reach, set[int]], set[int]]] = {}


def reachable(
    parameter: str,
    check: Callable[[Reach, int], bool],
    refusal: Callable[[int], str],
    many: Callable[[Reach, set[int]], set[int]] | None = None,
):
    """Register how a URL's `parameter` (e.g. "device_id") is checked: `check(reach, id)` is
    True when the object exists and is in reach; `refusal(id)` is the sentence a number
    nothing has gets (so out of reach reads the same); `many(reach, ids)`, the ids of those
    that are, for a list named at once."""
    _CHECKS[parameter] = (check, refusal)
    if many is not None:
        _MANY[parameter] = many


def reaches(reach: Reach, parameter: str, value: int) -> bool:
    """Whether the object a URL parameter would name (e.g. "plan_id", 4) is in `reach`."""
    return reach.whole or _CHECKS[parameter][0](reach, value)


def check_view_args() -> None:
    """Before every view: each object its URL names must be in the user's reach (the whole
    programme's people skip the questions). Runs for the API as for pages."""
    if not current_user.is_authenticated or request.endpoint is None:
        return
    reach = reach_of(current_user)
    if reach.whole or not role_may_open(current_user.role, request.endpoint):
        return  # (a page the role may not open says 403 whatever it names)
    named = list(request.view_args.items())
    for arg, parameter in QUERY_ARGS.items():  # ?plan=4, ?device=7&device=9: the same
        values = {_number(value) for value in request.values.getlist(arg)} - {None}
        if len(values) > MANY_CHECKED:
            raise NotFound(_CHECKS[parameter][1](max(values)))
        if parameter in _MANY and len(values) > 1:
            found = _MANY[parameter](reach, values)
            missing = sorted(values - found)
            if missing:
                raise NotFound(_CHECKS[parameter][1](missing[0]))
            continue
        if len(values) > QUERY_CHECKED:
            raise NotFound(_CHECKS[parameter][1](max(values)))
        named += [(parameter, value) for value in sorted(values)]
    for name, value in named:
        entry = _CHECKS.get(name)
        if entry is not None and isinstance(value, int) and not entry[0](reach, value):
            raise NotFound(entry[1](value))


def _number(value: str) -> int | None:
    """A number as a form sends one (ASCII digits, at most an id's size), else None."""
    if not (value.isascii() and value.isdigit()) or len(value) > 19:
        return None
    number = int(value)
    return number if number <= LARGEST else None


def _school_check(reach: Reach, school_id: int) -> bool:
    return reach.covers_school(db.session.get(School, school_id))


def _depot_check(reach: Reach, depot_id: int) -> bool:
    return reach.covers_depot(db.session.get(Depot, depot_id))


def _user_check(reach: Reach, user_id: int) -> bool:
    """Another person is in reach when all they reach is: a school's staff by their schools,
    anyone else by their areas (the whole programme's people only from the whole programme)."""
    user = db.session.get(User, user_id)
    if user is None:
        return False
    if is_school_staff(user):  # in reach when every school of theirs is (and one at least)
        schools = sa.select(SchoolStaff.school_id).where(SchoolStaff.user_id == user.id)
        outside = schools.where(~reach.schools_clause(SchoolStaff.school_id))
        return (
            db.session.scalar(schools.limit(1)) is not None
            and db.session.scalar(outside.limit(1)) is None
        )
    return _areas_within(reach, user)


reachable("user_id", _user_check, lambda id_: _("No user with id %(id)s.", id=id_))
reachable("school_id", _school_check, lambda id_: _("No school with number %(id)s.", id=id_))
reachable("depot_id", _depot_check, lambda id_: _("No depot with number %(id)s.", id=id_))
