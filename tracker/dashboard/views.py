"""The managers' view: totals, progress by region -> province -> school, plans, deliveries
over time, alerts, and the map."""

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date
from flask_login import current_user

from tracker.auth.models import User
from tracker.auth.permissions import can, home_endpoint, requires
from tracker.counts.services import open_counts_at
from tracker.dashboard import alerts as alert_rules
from tracker.dashboard import (
    charts,
    digest,  # noqa: F401  (registers the morning's digest)
    queries,
    school_home,
)
from tracker.dashboard import search as search_service
from tracker.dashboard.forms import AlertForm
from tracker.dashboard.history import HistoryFilter, history_page
from tracker.deliveries import receipts
from tracker.deliveries.codes import code_for_school
from tracker.devices.models import STATUSES
from tracker.devices.states import EVENT_LABELS
from tracker.extensions import db
from tracker.figures import figure
from tracker.i18n import gettext as _
from tracker.loans.services import loan_counts
from tracker.schools import staff
from tracker.schools.reach import my_reach
from tracker.timezone import local_today
from tracker.web import run_service, whole_number

bp = Blueprint("dashboard", __name__)


@bp.route("/search")
@requires("search.use")
def search():
    """The header's search box: straight to the one thing found, else what was found."""
    q = request.args.get("q", "")[:200]
    found = search_service.search(current_user, q)
    if found.count == 1 and not found.replaced:
        for kind, endpoint, key in (
            ("devices", "devices.detail", "device_id"),
            ("schools", "schools.detail", "school_id"),
            ("deliveries", "deliveries.detail", "delivery_id"),
            ("plans", "plans.detail", "plan_id"),
        ):
            if getattr(found, kind):
                return redirect(url_for(endpoint, **{key: getattr(found, kind)[0].id}))
    return render_template("dashboard/search.html", q=q, found=found)


@bp.route("/")
@requires("home.open")
def index():
    if not can(current_user, "dashboard.read"):
        return redirect(url_for(home_endpoint(current_user)))
    reach = my_reach()
    donations, per_donation, totals = queries.donations_with_counts(reach)
    regions = queries.progress(reach=reach)
    weeks = queries.delivered_by_week(reach=reach)
    chart = charts.weekly_bars(
        weeks,
        _("Tablets delivered per week"),
        lambda week: format_date(week.start, "d MMM"),
    )
    return render_template(
        "dashboard/index.html",
        totals=totals,
        total=sum(totals.values()),
        donated=sum(d.quantity_promised for d in donations),
        statuses=STATUSES,
        donations=donations,
        per_donation=per_donation,
        regions=regions,
        school_count=sum(r.schools for r in regions),
        total_need=sum(r.need for r in regions),
        plans=queries.active_plans(reach),
        weeks=weeks,
        chart=chart,
        alert_counts=alert_rules.alert_counts(local_today(), reach),
        alert_kinds=alert_rules.KINDS,
        after=queries.after_the_gate(totals, regions, reach),
    )


@bp.route("/progress")
@requires("dashboard.office")
def progress():
    """Regions; a region's provinces; a province's schools."""
    region = request.args.get("region", "")
    province = request.args.get("province", "") if region else ""
    rows = queries.progress(region, province, my_reach())
    return render_template("dashboard/progress.html", rows=rows, region=region, province=province)


@bp.route("/alerts")
@requires("dashboard.office")
def alerts():
    kind = request.args.get("kind", "")
    if kind not in alert_rules.KINDS:
        kind = ""
    today = local_today()
    reach = my_reach()
    counts = alert_rules.alert_counts(today, reach)
    shown = [kind] if kind else [k for k in alert_rules.KINDS if counts[k]]
    return render_template(
        "dashboard/alerts.html",
        kind=kind,
        counts=counts,
        kinds=alert_rules.KINDS,
        groups=[(k, alert_rules.alerts(k, today, reach=reach)) for k in shown],
        unconfirmed_days=current_app.config.get("ALERT_UNCONFIRMED_DAYS", 3),
        receipt_days=current_app.config["RECEIPT_DAYS"],
        action=AlertForm(formdata=None),
    )


ALERT_KIND = f"any({', '.join(alert_rules.KINDS)})"


@bp.route(f"/alerts/<{ALERT_KIND}:kind>/<int:subject>", methods=["POST"])
@requires("alerts.manage")
def note_alert(kind: str, subject: int):
    """Acknowledge an alert, or resolve it with a note saying how."""
    form = AlertForm()
    if form.validate_on_submit():
        state = "resolved" if form.resolve.data else "acknowledged"
        done = run_service(
            None,
            lambda: alert_rules.note_alert(
                kind, subject, state, form.note.data or "", current_user
            ),
        )
        if done is not None:
            flash(
                _("Alert resolved.") if state == "resolved" else _("Alert acknowledged."), "success"
            )
    return redirect(url_for("dashboard.alerts", kind=kind))


@bp.route("/map")
@requires("dashboard.office")
def school_map():
    return render_template("dashboard/map.html", tiles=current_app.config.get("MAP_TILES", ""))


@bp.route("/map/schools.json")
@requires("dashboard.office")
def map_points():
    """Every school with a position and its delivery progress, for the map (3 queries)."""
    return jsonify(schools=queries.school_points(my_reach()))


@bp.route("/history")
@requires("dashboard.office")
def history():
    """Every device event, filtered and paged by keyset (fast at page 1,000)."""
    chosen = HistoryFilter.from_args(request.args, my_reach())
    page = history_page(
        chosen,
        before=request.args.get("before", type=whole_number),
        after=request.args.get("after", type=whole_number),
    )
    users = figure("users_in_reach", db.session.scalars(sa.select(User).order_by(User.email)).all())
    return render_template(
        "dashboard/history.html",
        page=page,
        chosen=chosen,
        args=chosen.as_args(),
        users=users,
        event_types=EVENT_LABELS,
    )


@bp.route("/my-school")
@requires("school.home")
def my_school():
    """A school's staff: their school's tablets and deliveries (one school of theirs at a
    time, chosen by `?school=` when they have a few)."""
    schools = staff.schools_of(current_user)
    chosen = request.args.get("school", type=whole_number)
    school = None
    # With a few schools and none chosen, the one with a delivery on its way comes first.
    others = [s.id for s in schools] if len(schools) > 1 else []
    awaiting = school_home.schools_awaiting(others)
    if schools:
        first = next((s for s in schools if s.id in awaiting), schools[0])
        school = staff.school_for(current_user, chosen) if chosen else first
    tablets, total = school_home.tablets_at(school.id) if school else ([], 0)
    deliveries = school_home.deliveries_to(school.id) if school else []
    since = staff.staff_since(current_user, school.id) if school else None
    return render_template(
        "dashboard/my_school.html",
        schools=schools,
        school=school,
        counts=figure("tablets_by_state", school_id=school.id) if school else {},
        tablets=tablets,
        total=total,
        deliveries=deliveries,
        # The school's own code for each delivery on its way: its staff are the school.
        codes={d.id: code for d, _n in deliveries if (code := code_for_school(d, since))},
        awaiting=awaiting,
        loan_counts=loan_counts(school.id) if school else None,
        open_counts=open_counts_at(school) if school else [],
        # What the school has to confirm, and the phones that sign for it.
        to_confirm=receipts.to_confirm(school.id) if school else [],
        phones=receipts.keys_of_staff(school.id, active_only=False) if school else [],
    )
