"""Loan pages: a school's borrowers, its loans, the lending and return desks (a scanner
loop at a desk), a loan with its agreement, signature and paper."""

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from tracker.auth.permissions import can, requires
from tracker.deliveries.documents import as_file
from tracker.extensions import db
from tracker.figures import provides
from tracker.i18n import gettext as _
from tracker.loans import documents, services
from tracker.loans.forms import BorrowerForm, ClassListForm, LendForm, SignForm, TakeBackForm
from tracker.loans.words import CONDITION_LABELS, ENDING_LABELS, KIND_LABELS
from tracker.schools.staff import school_in_reach
from tracker.web import labeller, may_open, run_service, template_helpers

bp = Blueprint("loans", __name__)
template_helpers(
    borrower_kind_label=labeller(KIND_LABELS),
    loan_condition_label=labeller(CONDITION_LABELS),
    loan_ending_label=labeller(ENDING_LABELS),
    school_home_url=lambda school: _school_home_url(school),
    loan_overdue=services.is_overdue,
)
provides("loan_counts")(services.loan_counts)
LISTS = ("open", "overdue", "ended")


def _school_home_url(school) -> str:
    """Back to the school: its page in the programme, or its staff's own page."""
    if may_open("schools.detail"):
        return url_for("schools.detail", school_id=school.id)
    return url_for("dashboard.my_school", school=school.id)


def _school(school_id: int):
    return school_in_reach(current_user, school_id)


def _new_borrower(form) -> dict:
    return {
        key: form[key].data
        for key in ("kind", "name", "class_name", "guardian_name", "guardian_phone")
    }


@bp.route("/schools/<int:school_id>/borrowers", methods=["GET", "POST"])
@requires("borrowers.read")
def borrowers(school_id: int):
    school = _school(school_id)
    form = BorrowerForm()
    if request.method == "POST" and can(current_user, "borrowers.write"):
        if form.validate_on_submit():
            added = run_service(
                form,
                lambda: services.add_borrower(
                    current_user, school.id, code=form.code.data, **_new_borrower(form)
                ),
            )
            if added is not None:
                flash(_("%(name)s is a borrower of the school.", name=form.name.data), "success")
                return redirect(url_for("loans.borrowers", school_id=school.id))
    elif request.method == "POST":
        abort(403)
    q = request.args.get("q", "")[:120]
    class_name = request.args.get("class", "")[:40]
    page = db.paginate(
        services.borrowers_of(school.id, q, class_name),
        per_page=services.MAX_BORROWERS_SHOWN,
        max_per_page=services.MAX_BORROWERS_SHOWN,
        error_out=False,
    )
    return render_template(
        "loans/borrowers.html",
        school=school,
        page=page,
        q=q,
        class_name=class_name,
        classes=services.classes_of(school.id),
        form=form,
        class_list=ClassListForm(),
    ), 422 if form.errors else 200


@bp.route("/borrowers/<int:borrower_id>", methods=["GET", "POST"])
@requires("borrowers.read")
def borrower(borrower_id: int):
    person = services.get_borrower(current_user, borrower_id)
    form = BorrowerForm(obj=person)
    if request.method == "POST":
        if not can(current_user, "borrowers.write"):
            abort(403)
        if form.validate_on_submit():
            saved = run_service(
                form,
                lambda: services.update_borrower(
                    current_user, person.id, code=form.code.data, **_new_borrower(form)
                ),
            )
            if saved is not None:
                flash(_("Saved."), "success")
                return redirect(url_for("loans.borrower", borrower_id=person.id))
    loans = db.session.scalars(services.loans_of_borrower(person.id)).all()
    return render_template(
        "loans/borrower.html", borrower=person, school=person.school, form=form, loans=loans
    ), 422 if form.errors else 200


@bp.route("/schools/<int:school_id>/loans")
@requires("borrowers.read")
def index(school_id: int):
    school = _school(school_id)
    which = request.args.get("list", "open")
    if which not in LISTS:
        which = "open"
    page = db.paginate(
        services.loans_of(school.id, which),
        per_page=services.MAX_BORROWERS_SHOWN,
        max_per_page=services.MAX_BORROWERS_SHOWN,
        error_out=False,
    )
    return render_template(
        "loans/index.html",
        school=school,
        page=page,
        which=which,
        counts=services.loan_counts(school.id),
    )


@bp.route("/schools/<int:school_id>/lend", methods=["GET", "POST"])
@requires("loans.lend")
def lend(school_id: int):
    """The lending desk: scan a tablet, scan or type the borrower's code, lend; again."""
    school = _school(school_id)
    form = LendForm()
    lent = None
    if form.validate_on_submit():
        lent = run_service(
            form,
            lambda: services.lend(
                current_user,
                school.id,
                form.code.data,
                form.borrower_code.data,
                due_on=form.due_on.data,
                condition=form.condition.data,
                accessories=form.accessories.data,
                signed_by=form.signed_by.data,
                signature=form.signature.data or None,
                new_borrower=_new_borrower(form),
            ),
        )
        if lent is not None:
            # The next tablet: the same due day and condition, the rest cleared.
            form = LendForm(formdata=None, due_on=form.due_on.data, condition=form.condition.data)
    return _desk("loans/lend.html", school, form, lent)


@bp.route("/schools/<int:school_id>/take-back", methods=["GET", "POST"])
@requires("loans.lend")
def take_back(school_id: int):
    """The return desk: scan each tablet brought back, with its condition."""
    school = _school(school_id)
    form = TakeBackForm()
    back = None
    if form.validate_on_submit():
        back = run_service(
            form,
            lambda: services.take_back(
                current_user,
                school.id,
                form.code.data,
                condition=form.condition.data,
                accessories=form.accessories.data,
                fault=form.fault.data,
                photo=form.photo.data.read() if form.photo.data else None,
            ),
        )
        if back is not None:
            form = TakeBackForm(formdata=None, condition=form.condition.data)
    return _desk("loans/take_back.html", school, form, back)


def _desk(template: str, school, form, done):
    status = 422 if form.errors or form.form_errors else 200
    return render_template(
        template,
        school=school,
        form=form,
        done=done,
        counts=services.loan_counts(school.id),
        default_due=services.default_due_on(),
    ), status


@bp.route("/loans/<int:loan_id>", methods=["GET", "POST"])
@requires("borrowers.read")
def detail(loan_id: int):
    loan = services.get_loan(current_user, loan_id)
    form = SignForm()
    if request.method == "POST":
        if not can(current_user, "loans.lend"):
            abort(403)
        if form.validate_on_submit():
            paper = form.paper.data.read() if form.paper.data else None
            signed = run_service(
                form,
                lambda: services.sign_loan(
                    current_user,
                    loan.id,
                    form.signed_by.data,
                    signature=form.signature.data or None,
                    paper=paper,
                ),
            )
            if signed is not None:
                flash(_("The agreement is signed."), "success")
                return redirect(url_for("loans.detail", loan_id=loan.id))
    return render_template(
        "loans/detail.html", loan=loan, school=loan.school, form=form
    ), 422 if form.errors or form.form_errors else 200


@bp.route("/loans/<int:loan_id>/agreement.pdf")
@requires("borrowers.read")
def agreement(loan_id: int):
    loan = services.get_loan(current_user, loan_id)
    return send_file(
        as_file(documents.agreement(loan)),
        mimetype="application/pdf",
        download_name=f"pret-{loan.device.asset_tag}.pdf",
        as_attachment=False,
    )


@bp.route("/loans/<int:loan_id>/<any(signature, paper):kind>")
@requires("borrowers.read")
def image(loan_id: int, kind: str):
    loan = services.get_loan(current_user, loan_id)
    data = loan.signature_png if kind == "signature" else loan.paper_jpeg
    if not data:
        abort(404)
    response = send_file(
        as_file(data), mimetype="image/png" if kind == "signature" else "image/jpeg"
    )
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
