"""A job's page (its progress, updating by itself), its JSON, and the reader's downloads."""

from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    stream_with_context,
    url_for,
)
from flask_babel import format_decimal, format_timedelta
from flask_login import current_user
from markupsafe import Markup

from tracker.auth.permissions import requires
from tracker.database import utcnow
from tracker.i18n import gettext as _
from tracker.jobs import files, services
from tracker.jobs.queue import start_embedded
from tracker.transaction import transaction
from tracker.web import template_helpers

bp = Blueprint("jobs", __name__)


@bp.before_app_request
def _embedded_worker():
    """In embedded mode (SQLite's default) the first request starts this process's worker,
    which then also takes the jobs queued before a restart."""
    app = current_app._get_current_object()  # noqa: SLF001
    if app.config["JOBS_MODE"] == "embedded":
        start_embedded(app)


def job_progress(job, status: dict | None = None) -> Markup:
    """A job's status and progress bar, which update by themselves (static/js/forms.js)."""
    return Markup(  # noqa: S704  (rendered, escaped, by Jinja)
        render_template(
            "jobs/_progress.html",
            status=status or _status(job),
            url=url_for("jobs.status", job_id=job.id),
        )
    )


def file_size(size: int) -> str:
    if size < 1024 * 1024:
        return _("%(n)s KB", n=format_decimal(max(1, round(size / 1024))))
    return _("%(n)s MB", n=format_decimal(round(size / 1024 / 1024, 1)))


template_helpers(job_progress=job_progress, file_size=file_size)


def _status(job) -> dict:
    status = services.job_status(job)
    status["waiting"] = status["state"] == "queued"
    status["running"] = status["state"] == "running"
    status["ready"] = status["state"] == "done"
    status["failed"] = status["state"] == "failed"
    status["download"] = (
        url_for("jobs.download", file_id=job.file_id) if job.file_id is not None else None
    )
    follow = services.follow_page(job)
    status["follow"] = url_for(follow[0], **follow[1]) if follow else None
    status["text"] = _status_text(status)
    # An export, a report or a label sheet that ended may simply run again.
    status["again"] = status["state"] in ("done", "failed") and not status["follow"]
    return status


def _status_text(status: dict) -> str:
    """The status in the reader's language, for the page and for its updates."""
    if status["waiting"]:
        return _("Waiting for a worker to take it…")
    if status["failed"]:
        return status["failure"]
    if status["ready"]:
        return _("Ready.")
    done = format_decimal(status["done"])
    if not status["total"]:
        return _("%(done)s rows so far…", done=done)
    text = _(
        "%(done)s of %(total)s rows (%(percent)s%%)",
        done=done,
        total=format_decimal(status["total"]),
        percent=status["percent"],
    )
    if status["seconds_left"]:
        left = format_timedelta(timedelta(seconds=status["seconds_left"]), threshold=1.1)
        text += " · " + _("about %(time)s left", time=left)
    return text


@bp.route("/jobs/<int:job_id>")
@requires("jobs.follow")
def detail(job_id: int):
    job = services.job_for(current_user, job_id)
    status = _status(job)
    if status["follow"]:
        return redirect(status["follow"])
    return render_template("jobs/detail.html", job=job, status=status)


@bp.route("/jobs/<int:job_id>/again", methods=["POST"])
@requires("jobs.follow")
def again(job_id: int):
    job = services.start_again(current_user, job_id)
    return redirect(url_for("jobs.detail", job_id=job.id))


@bp.route("/jobs/<int:job_id>.json")
@requires("jobs.follow")
def status(job_id: int):
    job = services.job_for(current_user, job_id)
    response = jsonify(_status(job))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/downloads/")
@requires("jobs.follow")
def downloads():
    rows = [(job, stored, _status(job)) for job, stored in services.my_downloads(current_user)]
    return render_template("jobs/downloads.html", rows=rows, now=utcnow())


@bp.route("/downloads/<int:file_id>")
@requires("jobs.follow")
def download(file_id: int):
    stored = services.download_for(current_user, file_id)
    response = Response(stream_with_context(files.chunks(stored.id)), mimetype=stored.mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=stored.name)
    response.headers["Content-Length"] = str(stored.size)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/downloads/<int:file_id>/delete", methods=["POST"])
@requires("jobs.follow")
def forget(file_id: int):
    with transaction():
        services.forget_download(current_user, file_id)
    flash(_("The file is deleted."), "success")
    return redirect(url_for("jobs.downloads"))
