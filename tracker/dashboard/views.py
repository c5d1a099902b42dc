"""The dashboard: devices per state, per donation, and the school count."""

import sqlalchemy as sa
from flask import Blueprint, render_template

from tracker.devices.models import STATUSES, Device
from tracker.devices.queries import status_counts
from tracker.donations.models import Donation
from tracker.extensions import db
from tracker.schools.models import School
from tracker.web import roles_required

bp = Blueprint("dashboard", __name__)


@bp.route("/")
@roles_required("admin", "coordinator", "manager", "field")
def index():
    totals = status_counts()
    per_donation = {}
    for donation_id, status, count in db.session.execute(
        sa.select(Device.donation_id, Device.status, sa.func.count()).group_by(
            Device.donation_id, Device.status
        )
    ):
        per_donation.setdefault(donation_id, {})[status] = count
    donations = db.session.scalars(
        sa.select(Donation)
        .options(sa.orm.joinedload(Donation.donor))
        .order_by(Donation.received_on.desc())
    ).all()
    schools = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count(sa.distinct(School.region)),
            sa.func.coalesce(sa.func.sum(School.need), 0),
        )
    ).one()
    return render_template(
        "dashboard/index.html",
        totals=totals,
        total=sum(totals.values()),
        statuses=STATUSES,
        donations=donations,
        per_donation=per_donation,
        school_count=schools[0],
        region_count=schools[1],
        total_need=schools[2],
    )
