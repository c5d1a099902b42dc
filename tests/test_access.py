"""Who may reach what: every route with every role, signed out, and deactivated.

The matrix must name every route the app has, so a new page cannot skip its role check.
"""

import io
import re
from datetime import date, timedelta

import pytest

from conftest import login
from tracker.allocations.models import AllocationPlan
from tracker.auth.services import update_user
from tracker.counts.models import Count
from tracker.database import utcnow
from tracker.deliveries.models import Delivery, DepotMove, PhoneKey
from tracker.extensions import db
from tracker.jobs.models import Job, StoredFile
from tracker.loans.models import Borrower, Loan
from tracker.repairs.models import RepairCase, RepairPhoto
from tracker.schools.models import Depot
from tracker.spreadsheets.models import ImportBatch
from tracker.transfers.models import Transfer

ALL = {"admin", "coordinator", "manager", "field"}
EVERY = ALL | {"school"}  # the programme's people and the schools' staff
OWN = EVERY | {"donor"}  # what each has of their own: account, messages, downloads
DONOR = {"donor"}  # a donor's people: their donations, read only
OFFICE = {"admin", "coordinator", "manager"}
WRITERS = {"admin", "coordinator"}
ADMIN = {"admin"}
# Borrowers' names and the loans: the office, and a school's own staff for their school
# only (the objects' school is not the school user's: they find nothing there).
PERSONAL = WRITERS | {"school"}
SCHOOL_SCOPED = {"school"}
# What a school user reaches only at their own school: the objects here are another's.
NOT_THEIR_SCHOOL = (
    "counts.school",
    "api.count_at_school",
    "receiving.receive",
    "receiving.revoke_phone",
    "api.incoming_delivery",
)
PUBLIC = "public"
PUBLIC_404 = "public, a link that opens nothing"
# Routes whose roles find nothing in the objects here: the objects' delivery carries none of
# the donation's tablets, so its donor's proof is as if none (tests/test_donors.py opens one).
NOT_THEIRS = {"donors.proof"}

# endpoint -> (method, path, roles allowed)
MATRIX = {
    "auth.login": ("GET", "/login", PUBLIC),
    "healthz": ("GET", "/healthz", PUBLIC),
    "favicon": ("GET", "/favicon.ico", PUBLIC),
    "auth.set_language": ("POST", "/language", PUBLIC),
    "static": ("GET", "/static/css/app.css", PUBLIC),
    "auth.logout": ("POST", "/logout", OWN),
    "auth.own_password": ("GET", "/account/password", OWN),
    "dashboard.index": ("GET", "/", OWN),
    "dashboard.progress": ("GET", "/progress?region=Rabat", OFFICE),
    "dashboard.alerts": ("GET", "/alerts", OFFICE),
    "dashboard.history": ("GET", "/history?type=registered", OFFICE),
    "dashboard.search": ("GET", "/search?q=nothing-matches", ALL),
    "dashboard.note_alert": ("POST", "/alerts/overdue/1", OFFICE),
    "dashboard.school_map": ("GET", "/map", OFFICE),
    "dashboard.map_points": ("GET", "/map/schools.json", OFFICE),
    "donations.index": ("GET", "/donations/", OFFICE),
    "donations.detail": ("GET", "/donations/{donation}", OFFICE),
    "donations.create": ("GET", "/donations/new", WRITERS),
    "donations.edit": ("GET", "/donations/{donation}/edit", WRITERS),
    "reports.donor_report": ("POST", "/donations/{donation}/report.pdf", OFFICE),
    "donations.invite_contact": ("POST", "/donations/{donation}/contacts", WRITERS),
    "donations.remove_contact": ("POST", "/donations/{donation}/contacts/{user}/remove", WRITERS),
    "donations.open_figures": ("POST", "/donations/{donation}/open-figures", WRITERS),
    "donors.home": ("GET", "/donor/", DONOR),
    "donors.donation": ("GET", "/donor/donations/{donation}", OFFICE | DONOR),
    "donors.school_points": ("GET", "/donor/donations/{donation}/schools.json", OFFICE | DONOR),
    "donors.report": ("POST", "/donor/donations/{donation}/report.pdf", OFFICE | DONOR),
    # (The objects' delivery carries none of the donation's tablets: as if none.)
    "donors.proof": ("GET", "/donor/donations/{donation}/proofs/{delivery}.pdf", OFFICE | DONOR),
    # A donation's open figures, closed unless the programme opens them.
    "open.page": ("GET", "/open/closed-or-never-opened", PUBLIC_404),
    "open.data_json": ("GET", "/open/closed-or-never-opened.json", PUBLIC_404),
    "open.data_csv": ("GET", "/open/closed-or-never-opened.csv", PUBLIC_404),
    "devices.index": ("GET", "/devices/", ALL),
    "devices.detail": ("GET", "/devices/{device}", ALL),
    "devices.create": ("GET", "/devices/new", WRITERS),
    "devices.edit": ("GET", "/devices/{device}/edit", WRITERS),
    "devices.move": ("POST", "/devices/{device}/move", WRITERS),
    "devices.picked": ("POST", "/devices/picked", WRITERS),
    "scan.landing": ("GET", "/d/{token}", ALL),
    "schools.index": ("GET", "/schools/", ALL),
    "schools.detail": ("GET", "/schools/{school}", ALL),
    "schools.create": ("GET", "/schools/new", WRITERS),
    "schools.edit": ("GET", "/schools/{school}/edit", WRITERS),
    "devices.qr_image": ("GET", "/devices/{device}/qr.svg", ALL),
    "devices.replace_label": ("POST", "/devices/{device}/replace-label", WRITERS),
    "swaps.swap_device": ("POST", "/devices/{device}/swap", WRITERS),
    "labels.index": ("GET", "/labels/", WRITERS),
    "labels.sheet": ("POST", "/labels/sheet.pdf?device={device}", WRITERS),
    "labels.test_page": ("GET", "/labels/test-page.pdf", WRITERS),
    "imports.index": ("GET", "/imports/", WRITERS),
    "imports.detail": ("GET", "/imports/{batch}", WRITERS),
    "imports.commit": ("POST", "/imports/{batch}/commit", WRITERS),
    "imports.columns": ("POST", "/imports/{batch}/columns", WRITERS),
    "imports.closest": ("POST", "/imports/{batch}/closest", WRITERS),
    "imports.problems": ("GET", "/imports/{batch}/problems.xlsx", WRITERS),
    "imports.template": ("GET", "/imports/templates/devices.xlsx", WRITERS),
    "exports.devices": ("POST", "/exports/devices.xlsx", OFFICE),
    "exports.schools": ("POST", "/exports/schools.xlsx", OFFICE),
    "exports.history": ("POST", "/exports/history.xlsx", OFFICE),
    "plans.index": ("GET", "/plans/", OFFICE),
    "plans.create": ("GET", "/plans/new", WRITERS),
    "plans.detail": ("GET", "/plans/{plan}", OFFICE),
    "plans.quantities": ("POST", "/plans/{plan}/quantities", WRITERS),
    "plans.act": ("POST", "/plans/{plan}/cancel", WRITERS),
    "plans.change_line": ("POST", "/plans/{plan}/lines/{school}", WRITERS),
    "workbooks.plan_allocations": ("POST", "/plans/{plan}/allocations.xlsx", OFFICE),
    "deliveries.index": ("GET", "/deliveries/", ALL),
    "deliveries.create": ("GET", "/deliveries/new?plan={plan}", WRITERS),
    "deliveries.detail": ("GET", "/deliveries/{delivery}", OFFICE),
    "deliveries.scan": ("POST", "/deliveries/{delivery}/scan", WRITERS),
    "deliveries.resend_code": ("POST", "/deliveries/{delivery}/resend-code", WRITERS),
    "deliveries.edit": ("POST", "/deliveries/{delivery}/edit", WRITERS),
    "deliveries.unpack": ("POST", "/deliveries/{delivery}/items/{device}/unpack", WRITERS),
    "deliveries.correct": ("POST", "/deliveries/{delivery}/items/{device}/correct", WRITERS),
    "deliveries.confirm": ("POST", "/deliveries/{delivery}/handover", WRITERS),
    "deliveries.image": ("GET", "/deliveries/{delivery}/signature", OFFICE),
    "deliveries.pdf": ("GET", "/deliveries/{delivery}/note.pdf", OFFICE),
    "workbooks.delivery_manifest": ("POST", "/deliveries/{delivery}/manifest.xlsx", OFFICE),
    "workbooks.my_manifest": ("POST", "/deliveries/mine/manifest.xlsx", ALL),
    "deliveries.act": ("POST", "/deliveries/{delivery}/cancel", WRITERS),
    "admin.revoke_token": ("POST", "/admin/users/{user}/tokens/0/revoke", ADMIN),
    "api.openapi": ("GET", "/api/v1/openapi.json", PUBLIC),
    "api.me": ("GET", "/api/v1/me", OWN),
    "api.my_deliveries": ("GET", "/api/v1/deliveries", ALL),
    "api.manifest": ("GET", "/api/v1/deliveries/{delivery}", OFFICE),
    "api.device_lookup": ("GET", "/api/v1/devices/lookup?code={serial}", ALL),
    "api.schools": ("GET", "/api/v1/schools", ALL),
    "api.sync_actions": ("POST", "/api/v1/sync", EVERY),
    "api.open_counts": ("GET", "/api/v1/counts", EVERY),
    "api.borrowers": ("GET", "/api/v1/schools/{school}/borrowers", PERSONAL),
    "api.school_loans": ("GET", "/api/v1/schools/{school}/loans", PERSONAL),
    "api.count_at_school": ("GET", "/api/v1/counts/{count}/schools/{school}", ALL | {"school"}),
    "offline.field_app": ("GET", "/field/", {"admin", "coordinator", "field"}),
    "offline.service_worker": ("GET", "/sw.js", PUBLIC),
    "offline.web_manifest": ("GET", "/manifest.webmanifest", PUBLIC),
    "admin.users": ("GET", "/admin/users", ADMIN),
    "offices.areas": ("GET", "/admin/users/{user}/areas", ADMIN),
    "depots.index": ("GET", "/depots/", OFFICE),
    "moves.index": ("GET", "/moves/", ALL),
    "moves.detail": ("GET", "/moves/{move}", ALL),
    "moves.scan": ("POST", "/moves/{move}/scan", ALL),
    "moves.send": ("POST", "/moves/{move}/send", WRITERS),
    "moves.close": ("POST", "/moves/{move}/close", {"admin", "coordinator", "field"}),
    "moves.cancel": ("POST", "/moves/{move}/cancel", WRITERS),
    "moves.unpack": ("POST", "/moves/{move}/items/{device}/unpack", WRITERS),
    # A link sent before tokens went after "#": it goes on to choosing the password,
    # which answers 404 for a token that opens nothing.
    "auth.accept_invitation": ("GET", "/invitation/not-a-link", PUBLIC),
    "auth.invitation": ("GET", "/invitation", PUBLIC),
    "auth.open_invitation": ("POST", "/invitation/open", PUBLIC_404),
    "auth.choose_password": ("GET", "/invitation/password", PUBLIC_404),
    "dashboard.my_school": ("GET", "/my-school", {"school"}),
    # The school's side of a delivery: a school user of another school finds nothing.
    "receiving.receive": ("GET", "/my-school/deliveries/{delivery}", {"school"}),
    "receiving.revoke_phone": ("POST", "/phones/{phone}/revoke", WRITERS | {"school"}),
    "api.incoming_deliveries": ("GET", "/api/v1/my-school/deliveries", {"school"}),
    "api.incoming_delivery": ("GET", "/api/v1/my-school/deliveries/{delivery}", {"school"}),
    "api.phone_keys": ("GET", "/api/v1/phone-keys", {"school"}),
    "schools.invite": ("POST", "/schools/{school}/staff", WRITERS),
    "schools.remove_staff": ("POST", "/schools/{school}/staff/{user}/remove", WRITERS),
    "loans.borrowers": ("GET", "/schools/{school}/borrowers", PERSONAL),
    "loans.borrower": ("GET", "/borrowers/{borrower}", PERSONAL),
    "loans.index": ("GET", "/schools/{school}/loans", PERSONAL),
    "loans.lend": ("GET", "/schools/{school}/lend", PERSONAL),
    "loans.take_back": ("GET", "/schools/{school}/take-back", PERSONAL),
    "faults.report": ("GET", "/schools/{school}/report-fault", PERSONAL),
    "loans.detail": ("GET", "/loans/{loan}", PERSONAL),
    "loans.agreement": ("GET", "/loans/{loan}/agreement.pdf", PERSONAL),
    "loans.image": ("GET", "/loans/{loan}/signature", PERSONAL),
    "workbooks.class_list": ("POST", "/schools/{school}/borrowers/import", PERSONAL),
    "workbooks.class_list_template_file": (
        "GET",
        "/schools/{school}/borrowers/class-list.xlsx",
        PERSONAL,
    ),
    "counts.index": ("GET", "/counts/", ALL),
    "counts.detail": ("GET", "/counts/{count}", ALL),
    # The objects' school is not the school user's: nothing there for them.
    "counts.school": ("GET", "/counts/{count}/schools/{school}", ALL | {"school"}),
    "counts.depot": ("GET", "/counts/{depot_count}/depot", ALL),
    "counts.close": ("POST", "/counts/{count}/close", WRITERS),
    "counts.accept_sighting": ("POST", "/counts/{count}/sightings/1/accept", WRITERS),
    "counts.confirm": ("POST", "/counts/{count}/confirm", {"admin", "manager"}),
    "counts.keep_open": ("POST", "/counts/{count}/keep-open", {"admin", "manager"}),
    "reports.count_report": ("POST", "/counts/{count}/report.pdf", OFFICE),
    "repairs.index": ("GET", "/repairs/", OFFICE),
    "repairs.detail": ("GET", "/repairs/{case}", OFFICE),
    "repairs.close": ("POST", "/repairs/{case}/close", WRITERS),
    "repairs.add_photo": ("POST", "/repairs/{case}/photos", WRITERS),
    "repairs.photo": ("GET", "/repairs/{case}/photos/{photo}", OFFICE),
    "devices.set_warranty": ("POST", "/devices/warranty/{donation}", WRITERS),
    "transfers.index": ("GET", "/transfers/", ALL),
    "transfers.propose": ("POST", "/transfers/propose", WRITERS),
    # A transfer given to no agent: field agents do not see it (404, as another's delivery).
    "transfers.detail": ("GET", "/transfers/{transfer}", OFFICE),
    "transfers.assign": ("POST", "/transfers/{transfer}/assign", WRITERS),
    "transfers.submit": ("POST", "/transfers/{transfer}/submit", WRITERS),
    "transfers.approve": ("POST", "/transfers/{transfer}/approve", {"admin", "manager"}),
    "transfers.cancel": ("POST", "/transfers/{transfer}/cancel", WRITERS),
    "transfers.leave": ("POST", "/transfers/{transfer}/leave", WRITERS),
    "transfers.scan": ("POST", "/transfers/{transfer}/scan", WRITERS),
    "admin.user_new": ("GET", "/admin/users/new", ADMIN),
    "admin.user_edit": ("GET", "/admin/users/{user}", ADMIN),
    "admin.user_password": ("POST", "/admin/users/{user}/password", ADMIN),
    "jobs.downloads": ("GET", "/downloads/", OWN),
    "messages.mine": ("GET", "/account/messages", OWN),
    "messages.outbox": ("GET", "/admin/messages", WRITERS),
    # Another user's job and file: not found, whoever asks (each follows only their own).
    "jobs.detail": ("GET", "/jobs/{job}", OWN),
    "jobs.status": ("GET", "/jobs/{job}.json", OWN),
    "jobs.again": ("POST", "/jobs/{job}/again", OWN),
    "jobs.download": ("GET", "/downloads/{file}", OWN),
    "jobs.forget": ("POST", "/downloads/{file}/delete", OWN),
}
OWN_ONLY = {"jobs.detail", "jobs.status", "jobs.download", "jobs.forget", "jobs.again"}


def test_matrix_names_every_route(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == set(MATRIX), "add the new route to MATRIX with the roles it allows"


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (40, 20), 255).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def objects(create_device, create_school, create_user):
    device = create_device()
    batch = ImportBatch(kind="schools", filename="schools.xlsx")
    db.session.add(batch)
    plan = AllocationPlan(name="Round 1", status="draft")
    db.session.add(plan)
    first, second = Depot(code="D1", name="Un"), Depot(code="D2", name="Deux")
    db.session.add_all([first, second])
    db.session.flush()
    move = DepotMove(from_depot_id=first.id, to_depot_id=second.id, status="packing", notes="")
    db.session.add(move)
    school = create_school()
    # Assigned to nobody: a field agent must not even learn it exists (404).
    delivery = Delivery(school_id=school.id, status="planned", signature_png=b"\x89PNG")
    db.session.add(delivery)
    owner = create_user("coordinator")
    stored = StoredFile(
        name="devices.xlsx",
        mimetype="application/x",
        size=0,
        user_id=owner.id,
        expires_at=utcnow() + timedelta(days=1),
    )
    db.session.add(stored)
    db.session.flush()
    job = Job(
        kind="exports.devices",
        title="devices.xlsx",
        params={},
        user_id=owner.id,
        state="done",
        file_id=stored.id,
    )
    db.session.add(job)
    borrower = Borrower(school_id=school.id, code="P-1", name="Amina", kind="pupil")
    db.session.add(borrower)
    db.session.flush()
    loan = Loan(
        device_id=device.id,
        borrower_id=borrower.id,
        school_id=school.id,
        due_on=date(2027, 6, 30),
        agreement_version="2026-1",
        signature_png=_png(),
        accessories_back="",
    )
    db.session.add(loan)
    count = Count(
        name="Year-end count",
        scope="programme",
        starts_on=date(2026, 1, 1),
        ends_on=date(2099, 1, 1),
        status="open",
    )
    depot_count = Count(
        name="Stock count",
        scope="depot",
        scope_value=str(first.id),
        starts_on=date(2026, 1, 1),
        ends_on=date(2099, 1, 1),
        status="open",
    )
    db.session.add_all([count, depot_count])
    case = RepairCase(device_id=device.id, fault="Écran", repairer="", repairer_ref="")
    db.session.add(case)
    db.session.flush()
    photo = RepairPhoto(case_id=case.id, jpeg=_png())
    db.session.add(photo)
    other = create_school()
    transfer = Transfer(from_school_id=school.id, to_school_id=other.id, quantity=1)
    db.session.add(transfer)
    # A phone of another school's head teacher.
    phone = PhoneKey(user_id=create_user("school").id, public_key=b"\x30" * 91, label="A14")
    db.session.add(phone)
    db.session.commit()
    return {
        "borrower": borrower.id,
        "loan": loan.id,
        "count": count.id,
        "depot_count": depot_count.id,
        "case": case.id,
        "photo": photo.id,
        "transfer": transfer.id,
        "phone": phone.id,
        "job": job.id,
        "file": stored.id,
        "plan": plan.id,
        "move": move.id,
        "batch": batch.id,
        "device": device.id,
        "token": device.qr_token,
        "serial": device.serial,
        "donation": device.donation_id,
        "school": school.id,
        "delivery": delivery.id,
        "user": create_user("field").id,
    }


def _call(client, method, path):
    return client.open(path, method=method, data={})


@pytest.mark.parametrize(
    "role", [None, "admin", "coordinator", "manager", "field", "school", "donor"]
)
def test_every_route_answers_each_role_as_designed(client, create_user, objects, role):
    if role:
        login(client, create_user(role))
    for endpoint, (method, template, allowed) in MATRIX.items():
        if endpoint == "auth.logout":
            continue  # signing out would end the walk; checked below
        response = _call(client, method, template.format(**objects))
        where = f"{role or 'signed out'} {method} {template}"
        if allowed == PUBLIC:
            assert response.status_code in (200, 302), where
        elif allowed == PUBLIC_404:
            assert response.status_code == 404, where
        elif role is None and endpoint.startswith("api."):
            assert response.status_code == 401, where  # an API answers, it does not redirect
        elif role is None:
            assert response.status_code == 302, where
            assert response.headers["Location"].startswith("/login"), where
        elif endpoint in OWN_ONLY:
            assert response.status_code == 404, where
        elif (allowed is PERSONAL or endpoint in NOT_THEIR_SCHOOL) and role in SCHOOL_SCOPED:
            assert response.status_code == 404, where  # not their school
        elif endpoint in NOT_THEIRS and role in allowed:
            assert response.status_code == 404, where
        elif role in allowed:
            assert response.status_code not in (403, 404, 500), where
            assert not response.headers.get("Location", "").startswith("/login"), where
        elif (
            endpoint.startswith(
                ("deliveries.", "api.manifest", "workbooks.delivery_manifest", "transfers.")
            )
            and role == "field"
        ):
            # Another agent's delivery: hidden, whatever the action.
            assert response.status_code in (403, 404), where
        elif endpoint.startswith("api.") and method == "POST":
            # The API asks a browser's POST for its CSRF token before the role.
            assert response.status_code in (400, 403), where
        else:
            assert response.status_code == 403, where


@pytest.mark.parametrize("role", ["admin", "coordinator", "manager", "field", "school"])
def test_every_role_can_sign_out(client, create_user, role):
    login(client, create_user(role))
    assert client.post("/logout").status_code == 302
    assert client.get("/").headers["Location"].startswith("/login")


def test_signed_out_visitor_is_sent_to_sign_in_and_back(client, create_user):
    response = client.get("/devices/?status=reserved")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    user = create_user("manager")
    back = client.post(
        response.headers["Location"],
        data={"email": user.email, "password": "correct horse battery"},
    )
    assert back.headers["Location"] == "/devices/?status=reserved"


def test_deactivated_user_loses_access_at_once(client, create_user, objects):
    admin = create_user("admin")
    user = create_user("coordinator")
    login(client, user)
    assert client.get("/devices/").status_code == 200
    update_user(user.id, actor=admin, name="", role="coordinator", active=False)
    db.session.commit()
    assert client.get("/devices/").status_code == 302


def test_role_change_ends_existing_sessions(client, create_user):
    admin = create_user("admin")
    user = create_user("coordinator")
    login(client, user)
    update_user(user.id, actor=admin, name="", role="field", active=True)
    db.session.commit()
    assert client.get("/").headers["Location"].startswith("/login")


def test_every_form_refuses_a_post_without_csrf_token(app, client, create_user, objects):
    admin = create_user("admin")
    login(client, admin)
    app.config["WTF_CSRF_ENABLED"] = True
    posts = [
        "/logout",
        "/account/password",
        "/donations/new",
        "/donations/{donation}/edit",
        "/devices/new",
        "/devices/{device}/edit",
        "/devices/{device}/move",
        "/schools/new",
        "/schools/{school}/edit",
        "/admin/users/new",
        "/admin/users/{user}",
        "/admin/users/{user}/password",
    ]
    for template in posts:
        response = client.post(template.format(**objects), data={"name": "x"})
        assert response.status_code == 400, template
        assert b"This form expired" in response.data, template
    # The sign-in form is protected too.
    client.post("/logout", data={})
    assert client.post("/login", data={"email": admin.email, "password": "x"}).status_code == 400


def test_each_role_sees_its_own_navigation_in_its_own_language(app, create_user):
    """The navigation is kept per role and language: whoever was served before, each user
    sees the links of their role only, in the language they read."""
    seen = {}
    for role, locale in [
        ("admin", "en"),
        ("field", "en"),
        ("manager", "en"),
        ("field", "fr"),
        ("admin", "ar"),
        ("manager", "en"),
    ]:
        user = create_user(role)
        user.locale = locale
        db.session.commit()
        client = app.test_client()
        login(client, user)
        html = client.get("/").get_data(as_text=True)
        start = html.index('<ul class="app-nav">')
        nav = html[start : html.index("</ul>", start)]
        seen[role, locale] = nav
        assert user.display_name in html
    assert "My deliveries" in seen["field", "en"] and "Donations" not in seen["field", "en"]
    assert "Offline" in seen["field", "en"] and "Users" not in seen["field", "en"]
    assert "Mes livraisons" in seen["field", "fr"] and "Offline" not in seen["field", "fr"]
    assert "Donations" in seen["manager", "en"] and "Import" not in seen["manager", "en"]
    assert "My deliveries" not in seen["manager", "en"] and "Offline" not in seen["manager", "en"]
    assert "Users" in seen["admin", "en"] and "Import" in seen["admin", "en"]
    assert "المستخدمون" in seen["admin", "ar"] and "Users" not in seen["admin", "ar"]


def test_the_frame_kept_per_role_carries_each_readers_own_name_token_and_page(app, create_user):
    """The page's frame is rendered once per role and language; what is the reader's own
    (their name, escaped; their id; this response's CSRF token; the page the language switch
    comes back to) is filled in each response, never taken from whoever was served first."""
    first = create_user("coordinator")
    second = create_user("coordinator")
    second.name = '<script>alert("x")</script> Amina'
    db.session.commit()
    pages = {}
    for user, path in ((first, "/devices/"), (second, "/schools/?q=Ait")):
        client = app.test_client()
        login(client, user)
        html = client.get(path).get_data(as_text=True)
        again = client.get(path).get_data(as_text=True)
        tokens = re.findall(r'name="csrf_token" value="([^"]+)"', html)
        # One masked token in a response (the sign-out and language forms), a new one in the next.
        assert len(tokens) >= 3 and len(set(tokens)) == 1, tokens
        assert tokens[0] not in again
        assert f'data-user-id="{user.id}"' in html
        assert "\x1f" not in html
        pages[user.id] = html
        # The token is this reader's: the language switch takes it.
        answer = client.post(
            "/language", data={"csrf_token": tokens[0], "language": "fr", "next": path}
        )
        assert answer.status_code == 302, answer.status_code
    assert first.display_name in pages[first.id]
    assert second.display_name not in pages[first.id] and "<script>alert" not in pages[second.id]
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Amina" in pages[second.id]
    assert 'name="next" value="/devices/"' in pages[first.id]
    assert 'name="next" value="/schools/?q=Ait"' in pages[second.id]
