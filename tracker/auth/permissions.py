"""Who may do what: one question, `can(user, action, thing)`, that pages, templates, the
JSON API, the services and the CLI all ask.

An action is named `feature.verb` ("devices.edit", "plans.approve"). `GRANTS` says which
roles may do each one; it is the only place in the code that lists roles for an action.
Where the answer also depends on the thing (a plan must be submitted to be approved, a
field agent acts only on their own delivery), the feature that owns the thing registers
its rule with `rule_for(kind, allowed_actions)`; `can` then asks that rule, which itself
reads its roles from `GRANTS` through `roles_for`.

The CLI runs as the operator of the server (no user): its commands pass `actor=None`, and
the services skip the role check for it, never the state check.
"""

from collections.abc import Callable

from flask_login import current_user

from tracker.auth.models import ROLES, User
from tracker.errors import DomainError
from tracker.i18n import gettext as _
from tracker.web import roles_required

EVERYONE = ROLES  # what each user has of their own (account, messages, jobs)
STAFF = ("admin", "coordinator", "field", "manager")  # the programme's people
SCHOOL = ("school",)  # a school's own staff, who see their schools only
OFFICE = ("admin", "coordinator")  # registers, plans, packs, dispatches, imports
READERS = ("admin", "coordinator", "manager")  # reads the whole programme
APPROVERS = ("admin", "manager")
ACTING = ("admin", "coordinator", "field")  # scans and hands over at schools
# Who sees borrowers' names and lends tablets: the school's own staff (their schools) and
# the office; managers and field agents see counts only (law 09-08: no more than needed).
PERSONAL = ("admin", "coordinator", "school")
DONOR = ("donor",)  # a donor organisation's own people: their donations, read only

GRANTS: dict[str, tuple[str, ...]] = {
    "users.manage": ("admin",),
    # Depots: the office adds them in its regions; whoever reads the programme sees their
    # stock. (Which depots each person reaches: tracker.schools.reach.)
    "depots.read": READERS,
    "depots.manage": OFFICE,
    # Moves of stock between depots: the office packs and sends; whoever acts at the
    # receiving depot (and did not send it) scans it in.
    "moves.read": STAFF,
    "moves.create": OFFICE,
    "moves.pack": OFFICE,
    "moves.send": OFFICE,
    "moves.receive": ACTING,
    # School staff: the office invites them (a one-time link) to the schools they work at;
    # they read those schools' tablets and deliveries on their own page.
    "staff.invite": OFFICE,
    "school.home": SCHOOL,
    "home.open": EVERYONE,  # "/" takes each to their own home page
    # Loans to pupils and teachers: names for the school and the office, counts for readers.
    "borrowers.read": PERSONAL,
    "borrowers.write": PERSONAL,
    "loans.lend": PERSONAL,
    "loans.counts": (*READERS, *SCHOOL),
    # Counts at the schools: the office opens and closes them, a manager confirms what is
    # missing; field agents and the school's own staff scan what they find.
    "counts.list": STAFF,
    "counts.school": (*STAFF, *SCHOOL),
    "counts.open": OFFICE,
    "counts.scan": (*ACTING, *SCHOOL),
    "counts.close": OFFICE,
    "counts.accept_sighting": OFFICE,
    "counts.confirm": APPROVERS,
    "counts.keep_open": APPROVERS,
    "counts.report": READERS,
    # Transfers between schools: the office proposes and submits, a manager approves (not
    # whoever submitted), whoever acts at schools scans the tablets out.
    "transfers.read": STAFF,
    "transfers.create": OFFICE,
    "transfers.submit": OFFICE,
    "transfers.approve": APPROVERS,
    "transfers.cancel": OFFICE,
    "transfers.scan_out": ACTING,
    "transfers.assign": OFFICE,
    # Repairs: the office follows each case; readers see them.
    "repairs.read": READERS,
    "repairs.write": OFFICE,
    # A school's staff report a tablet their school has faulty (what is wrong, a photo),
    # which opens its case; the office follows it from there.
    "repairs.report": PERSONAL,
    "dashboard.read": STAFF,
    "dashboard.office": READERS,
    "alerts.manage": READERS,  # whoever is warned says they saw it, or how it was resolved
    "donations.read": READERS,
    "donations.write": OFFICE,
    # Donors see their own (tracker.donations.donors): their donations' progress, read
    # only; the national office sees what they see, invites their people and opens (or
    # closes) a donation's public figures.
    "donor.home": DONOR,
    "donors.view": (*DONOR, *READERS),
    "donors.invite": OFFICE,
    "donors.open_figures": OFFICE,
    "schools.read": STAFF,
    "schools.write": OFFICE,
    "devices.read": STAFF,
    "devices.write": OFFICE,
    # Who may change a tablet (devices/custody.py): the office any tablet; the staff of the
    # school that holds it; the agent of a delivery under way that carries it.
    "devices.change_any": OFFICE,
    "devices.change_held": SCHOOL,
    "labels.print": OFFICE,
    "imports.run": OFFICE,
    "exports.read": READERS,
    "exports.own": STAFF,  # what concerns the reader (an agent's own manifests)
    "reports.read": READERS,
    "jobs.follow": EVERYONE,  # each follows their own jobs and downloads
    "messages.choose": EVERYONE,  # which messages one gets
    "messages.outbox": OFFICE,  # what was sent to whom, and what failed
    "api.use": STAFF,
    # A school's staff use the API for what is theirs: who they are, their counts, and the
    # queue their phone sends (each action asks its own rule).
    "api.me": EVERYONE,
    "api.sync": (*STAFF, *SCHOOL),
    "search.use": STAFF,  # each finds only what they may see
    # Plans: the planning office proposes, edits, changes, closes and cancels (cancelling
    # gives reserved tablets back to stock); managers approve or send back, and read.
    "plans.read": READERS,
    "plans.create": OFFICE,
    "plans.edit": OFFICE,
    "plans.submit": OFFICE,
    "plans.approve": APPROVERS,
    "plans.send_back": APPROVERS,
    "plans.await_other_approver": APPROVERS,  # shown instead of approve to its submitter
    "plans.change": OFFICE,
    "plans.plan_deliveries": OFFICE,
    "plans.see_deliveries": READERS,
    "plans.close": OFFICE,
    "plans.cancel": OFFICE,
    # Deliveries: everyone reads the ones they may see (a field agent: their own); the
    # office plans, packs and dispatches; whoever acts on one (the office, or its own
    # agent) scans and hands over at the school.
    "deliveries.read": STAFF,
    "deliveries.read_all": READERS,
    "deliveries.create": OFFICE,
    "deliveries.pack": OFFICE,
    "deliveries.finish_packing": OFFICE,
    "deliveries.dispatch": OFFICE,
    "deliveries.resend_code": OFFICE,
    "deliveries.cancel": OFFICE,
    "deliveries.edit": OFFICE,
    "deliveries.print_labels": OFFICE,
    "deliveries.act": ACTING,
    "deliveries.scan_at_school": ACTING,
    "deliveries.hand_over": ACTING,
    "deliveries.report": ACTING,
    "deliveries.fail": ACTING,
    "deliveries.take_offline": ACTING,
    "deliveries.correct": OFFICE,  # a confirmed hand-over, with a reason, as new events
    "deliveries.await_packing": STAFF,  # told the office has yet to pack and send it
    "deliveries.assigned": ("field",),  # who can be given a delivery to take
    # The school signs for what it receives (deliveries/receipts.py): its staff confirm a
    # delivery and register their phones' keys; a lost phone is revoked by its school's
    # staff or by the office.
    "receipts.confirm": SCHOOL,
    "receipts.keys": SCHOOL,
    "receipts.revoke": (*OFFICE, *SCHOOL),  # which phone: deliveries/receipts.key_in_reach
    "receipts.revoke_any": OFFICE,
}

_RULES: dict[type, Callable] = {}


class Forbidden(DomainError):
    status_code = 403


def roles_for(action: str) -> tuple[str, ...]:
    """The roles that may do `action` (a KeyError names an action nobody declared)."""
    return GRANTS[action]


def users_who_may(action: str) -> list:
    """The active users whose role may do `action` (who a message of it goes to)."""
    import sqlalchemy as sa

    from tracker.extensions import db

    return list(
        db.session.scalars(
            sa.select(User).where(User.active, User.role.in_(roles_for(action))).order_by(User.id)
        )
    )


def role_can(role: str, action: str) -> bool:
    return role in GRANTS[action]


def rule_for(kind: type, allowed_actions: Callable) -> None:
    """Register the rule for things of `kind`: `allowed_actions(user, thing)` gives the
    verbs `user` may do to `thing` now (the feature's transition table)."""
    _RULES[kind] = allowed_actions


def can(user, action: str, thing=None) -> bool:
    """Whether `user` may do `action` (to `thing`, when the answer depends on it)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if not role_can(user.role, action):
        return False
    if thing is None:
        return True
    rule = _RULES.get(type(thing))
    if rule is None:
        raise LookupError(f"no rule registered for {type(thing).__name__}")
    return action.split(".", 1)[1] in rule(user, thing)


def check(actor, action: str, thing=None) -> None:
    """Refuse with a readable message unless `actor` may do `action`. `actor=None` is the
    server's operator (the CLI): the role check is theirs to skip."""
    if actor is not None and not can(actor, action, thing):
        raise Forbidden(_("Your role does not allow this."))


def requires(action: str):
    """A view decorator: signed-in users whose role may do `action` get in, others 403.
    Navigation and `may_open` read the same roles to show or hide the link."""
    roles = roles_for(action)

    def decorator(view):
        guarded = roles_required(*roles)(view)
        guarded.permission = action
        return guarded

    return decorator


def home_endpoint(user) -> str:
    """Where a user lands after signing in: the programme's dashboard for who reads the
    whole programme, their own deliveries for a field agent, their school's page for its
    staff."""
    if can(user, "dashboard.office"):
        return "dashboard.index"
    if can(user, "donor.home"):
        return "donors.home"
    return "dashboard.my_school" if can(user, "school.home") else "deliveries.index"


def can_here(action: str, thing=None) -> bool:
    """`can` for the signed-in user: the templates' `can(...)`."""
    return can(current_user, action, thing)
