"""The part of the programme each person works in: the areas an admin of the whole
programme gives them (regions, or provinces of a region), written as people write them — in
French or Arabic, in any case, with or without accents. What a person's areas let them reach
is tracker.schools.reach's rule."""

import sqlalchemy as sa

from tracker.auth.models import User
from tracker.auth.permissions import check
from tracker.auth.services import access_changed, get_user
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.schools.models import Depot, School
from tracker.schools.reach import is_school_staff, reach_of
from tracker.schools.services import PlaceSpellings

MAX_AREAS = 20  # one region, or one or a few provinces


def known_areas() -> dict[str, list[str]]:
    """Every region the school list and the depots name, with its provinces."""
    rows = db.session.execute(
        sa.union(
            sa.select(School.region, School.province).distinct(),
            sa.select(Depot.region, Depot.province).where(Depot.region != "").distinct(),
        )
    ).all()
    areas: dict[str, set[str]] = {}
    for region, province in rows:
        if region:
            areas.setdefault(region, set())
            if province:
                areas[region].add(province)
    return {region: sorted(areas[region]) for region in sorted(areas)}


def parse_areas(text: str) -> list[list[str]]:
    """Areas as a form writes them: one per line, "Region" or "Region / Province"."""
    areas = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        region, _sep, province = line.partition("/")
        areas.append([" ".join(region.split()), " ".join(province.split())])
    return areas


def check_areas(areas: list[list[str]]) -> list[list[str]]:
    """The areas, each naming a region (and province of it) the programme has, no two the
    same; a sentence naming the first that is not."""
    known = known_areas()
    spelled = PlaceSpellings()  # "سوس ماسة", "souss massa": Souss-Massa
    areas = [
        [spelled("region", region), spelled("province", province) if province else ""]
        for region, province in areas
    ]
    if len(areas) > MAX_AREAS:
        raise ValidationFailed(
            _("At most %(num)s regions or provinces per person.", num=MAX_AREAS), field="areas"
        )
    kept: list[list[str]] = []
    for region, province in areas:
        if region not in known:
            raise ValidationFailed(
                _("No school or depot is in the region '%(region)s'.", region=region),
                field="areas",
            )
        if province and province not in known[region]:
            raise ValidationFailed(
                _(
                    "No school or depot is in the province '%(province)s' of %(region)s.",
                    province=province,
                    region=region,
                ),
                field="areas",
            )
        if [region, province] not in kept:
            kept.append([region, province])
    regions = {region for region, province in kept if not province}
    return [area for area in kept if not area[1] or area[0] not in regions]


def areas_text(areas) -> str:
    return "\n".join(f"{region} / {province}" if province else region for region, province in areas)


def set_areas(user_id: int, areas: list[list[str]], actor: User | None) -> User:
    """Give a person the part of the programme they work in (no areas: the whole of it).
    Only the whole programme's admins give areas; a school's staff reach their schools, not
    areas. Their sessions and tokens end, as when a role changes."""
    check(actor, "users.manage")
    if not reach_of(actor).whole:
        raise ValidationFailed(
            _("Only the national office gives people their regions."), field="areas"
        )
    user = get_user(user_id)
    if is_school_staff(user):
        raise ValidationFailed(
            _("A school's staff work at their schools: add them to a school instead."),
            field="areas",
        )
    kept = check_areas(areas)
    if kept != (user.areas or []):
        user.areas = kept
        access_changed(user)
    db.session.flush()
    return user
