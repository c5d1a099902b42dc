"""Which counts a person reaches, as a clause on `counts` (every list of counts, the
count's own pages, the dashboard's last count and the approvers told of a closing ask it)."""

import sqlalchemy as sa

from tracker.counts.models import Count
from tracker.schools.models import Depot, School


def counts_clause(reach):
    """The counts in reach, as a clause on `counts`: a school's, a province's or a region's
    the person reaches; a count of the whole programme is the whole programme's. (A school's
    staff reach the counts at their schools by the school they name: `school_id`.)"""
    if reach.whole:
        return sa.true()
    if reach.staff_of is not None:
        return Count.scope != "depot"
    schools = reach.school_ids().subquery()
    return sa.or_(
        sa.and_(
            Count.scope == "depot",
            Count.scope_value.in_(
                sa.select(sa.cast(Depot.id, sa.String)).where(reach.depots_clause(Depot.id))
            ),
        ),
        sa.and_(
            Count.scope == "school",
            Count.scope_value.in_(sa.select(sa.cast(schools.c[0], sa.String))),
        ),
        sa.and_(
            Count.scope == "province",
            Count.scope_value.in_(
                sa.select(School.province).where(School.id.in_(sa.select(schools.c[0])))
            ),
            ~sa.exists().where(
                School.province == Count.scope_value, ~School.id.in_(sa.select(schools.c[0]))
            ),
        ),
        sa.and_(
            Count.scope == "region",
            Count.scope_value.in_([region for region, province in reach.areas if not province]),
        ),
    )
