"""Depots: where tablets are held in stock before they go to schools.

The central warehouse (no region: the whole programme's) holds what arrives from donors
unless a tablet is registered at a regional or provincial depot. Who reaches a depot is
tracker.schools.reach's rule; this module adds them, lists them with their stock, and says
which depot a person registers into.
"""

import sqlalchemy as sa

from tracker.auth.models import User
from tracker.auth.permissions import check
from tracker.devices.models import Device
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.schools.models import Depot, School
from tracker.schools.places import place_name
from tracker.schools.reach import Reach, reach_of
from tracker.schools.services import PlaceSpellings
from tracker.text import refuse_control_characters

CENTRAL = "CENTRAL"  # the code the migration (0031) gives the central warehouse
CENTRAL_LABEL = _l("Central warehouse")


def depot_label(depot: Depot | None) -> str:
    """A depot as a reader sees it: the central warehouse in their language, any other by
    its name and place."""
    if depot is None:
        return ""
    if depot.code == CENTRAL:
        return str(CENTRAL_LABEL)
    where = place_name(depot.province or depot.region)
    return f"{depot.name} ({where})" if where else depot.name


def central_depot() -> Depot:
    """The central warehouse, made on first need (a new programme's first registration)."""
    depot = db.session.scalar(sa.select(Depot).where(Depot.code == CENTRAL))
    if depot is None:
        depot = Depot(code=CENTRAL, name="Central warehouse", region="", province="")
        db.session.add(depot)
        db.session.flush()
    return depot


def depots_in(reach: Reach) -> list[Depot]:
    """The depots `reach` holds, the central warehouse first."""
    return list(
        db.session.scalars(
            sa.select(Depot)
            .where(reach.depots_clause(Depot.id))
            .order_by(Depot.region != "", Depot.region, Depot.province, Depot.code)
        )
    )


def depot_for(actor: User | None, depot_id: int | None = None) -> Depot:
    """Where `actor` registers tablets: the depot chosen, if they reach it, else their first
    one (the central warehouse for the whole programme's people)."""
    reach = reach_of(actor)
    if depot_id is not None:
        depot = db.session.get(Depot, depot_id)
        if depot is None or not reach.covers_depot(depot):
            raise ValidationFailed(_("No depot with number %(id)s.", id=depot_id), field="depot_id")
        return depot
    if reach.whole:
        return central_depot()
    mine = depots_in(reach)
    if not mine:
        raise ValidationFailed(
            _("No depot is in your regions yet: add one on the Depots page."),
            field="depot_id",
        )
    return mine[0]


def stock_by_depot(reach: Reach) -> dict[int, dict[str, int]]:
    """Tablets with no school, by depot and state (one statement)."""
    found: dict[int, dict[str, int]] = {}
    for depot_id, status, count in db.session.execute(
        sa.select(Device.depot_id, Device.status, sa.func.count())
        .where(Device.school_id.is_(None), reach.depots_clause(Device.depot_id))
        .group_by(Device.depot_id, Device.status)
    ):
        found.setdefault(depot_id, {})[status] = count
    return found


def create_depot(
    *,
    code: str,
    name: str,
    region: str,
    province: str = "",
    address: str = "",
    actor: User | None,
) -> Depot:
    """Add a depot in a region (and province) of the programme's schools, within the
    actor's reach; a code is unique."""
    check(actor, "depots.manage")
    code = "".join((code or "").split()).upper()[:30]
    spelled = PlaceSpellings()  # "الشرق", "l oriental": L'Oriental
    region = spelled("region", region) if (region or "").strip() else ""
    province = spelled("province", province) if (province or "").strip() else ""
    name = refuse_control_characters(" ".join((name or "").split()), "name", _("Name"))
    region, province = " ".join((region or "").split()), " ".join((province or "").split())
    address = refuse_control_characters((address or "").strip(), "address", _("Address"))
    if not code:
        raise ValidationFailed(_("Give the depot a code."), field="code")
    if not name:
        raise ValidationFailed(_("Give the depot a name."), field="name")
    places = sa.select(School.id).where(School.region == region)
    if not region or db.session.scalar(places.limit(1)) is None:
        raise ValidationFailed(
            _("No school is in the region '%(region)s'.", region=region), field="region"
        )
    if province and db.session.scalar(places.where(School.province == province).limit(1)) is None:
        raise ValidationFailed(
            _(
                "No school is in the province '%(province)s' of %(region)s.",
                province=province,
                region=region,
            ),
            field="province",
        )
    if not reach_of(actor).covers(region, province):
        raise ValidationFailed(
            _("%(place)s is not in your part of the programme.", place=province or region),
            field="region",
        )
    if db.session.scalar(sa.select(Depot.id).where(Depot.code == code)) is not None:
        raise ValidationFailed(_("A depot with code %(code)s exists.", code=code), field="code")
    depot = Depot(code=code, name=name, region=region, province=province, address=address)
    db.session.add(depot)
    db.session.flush()
    return depot
