"""Test fixtures: every database test runs on SQLite and, when configured, on PostgreSQL.

`database_url` is parametrized; without TRACKER_TEST_POSTGRES_URL the PostgreSQL runs are
skipped with the reason. The schema is built once per database and emptied after each test.
"""

import base64
import io
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from html import unescape
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from PIL import Image, ImageDraw

os.environ.setdefault("TRACKER_INSTANCE_PATH", tempfile.mkdtemp(prefix="tracker-test-"))
os.environ.pop("TRACKER_DATABASE_URL", None)

from tracker import create_app  # noqa: E402
from tracker.devices.models import Device  # noqa: E402
from tracker.extensions import db  # noqa: E402

POSTGRES_URL = os.environ.get("TRACKER_TEST_POSTGRES_URL", "")
BASE_URL = "https://tracker.example.org"
PASSWORD = "correct horse battery"


def _postgres_or_skip() -> str:
    if not POSTGRES_URL:
        pytest.skip("TRACKER_TEST_POSTGRES_URL is not set: PostgreSQL run skipped")
    return POSTGRES_URL


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite'}"
    return _postgres_or_skip()


def make_app(database_url: str, **extra):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "BASE_URL": BASE_URL,
        "SERVER_NAME": None,
        "PAGE_SIZE": 50,
        # Still scrypt, with a small work factor: the suite creates hundreds of users.
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
        # Jobs (imports, exports) run inside the request in tests; tests/test_jobs.py runs
        # real workers.
        "JOBS_MODE": "immediate",
        # The tests read English; tests/test_i18n.py covers French and Arabic.
        "BABEL_DEFAULT_LOCALE": "en",
    }
    config.update(extra)
    return create_app(config)


class FreshContextClient(FlaskClient):
    """Runs each request in its own app context, as a server does: its own `g` (where
    Flask-Login caches the user) and its own database session. The test's session is expired
    afterwards so it reads what the request wrote."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response


@pytest.fixture(scope="session")
def _schema(database_url):
    app = make_app(database_url)
    with app.app_context():
        db.drop_all()
        db.create_all()
        tables = [table.name for table in reversed(db.metadata.sorted_tables)]
        db.engine.dispose()
    return tables


@pytest.fixture
def app(database_url, _schema):
    app = make_app(database_url)
    app.test_client_class = FreshContextClient
    with app.app_context():
        yield app
        db.session.remove()
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(sa.text(f"TRUNCATE {', '.join(_schema)} RESTART IDENTITY"))
            else:
                for table in _schema:
                    connection.execute(db.metadata.tables[table].delete())
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


EMPTY_SCHEMA = "empty_check"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    """A database with no tables: a new SQLite file, or an empty PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite'}"
        return
    url = _postgres_or_skip()
    admin = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {EMPTY_SCHEMA} CASCADE"))
        connection.execute(sa.text(f"CREATE SCHEMA {EMPTY_SCHEMA}"))
    separator = "&" if "?" in url else "?"
    yield f"{url}{separator}options=-csearch_path%3D{EMPTY_SCHEMA}"
    with admin.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {EMPTY_SCHEMA} CASCADE"))
    admin.dispose()


# --- factories ----------------------------------------------------------------------------


@pytest.fixture
def create_user(app):
    from tracker.auth.services import create_user as service

    counter = iter(range(1, 10_000))

    def factory(role="coordinator", email=None, password=PASSWORD, **extra):
        email = email or f"{role}{next(counter)}@example.org"
        if role == "donor":
            # A donor's reader belongs to a donor (by default the donations' own): made as
            # an invitation makes one (tracker.donations.donors), with a password.
            from tracker.auth.models import User
            from tracker.auth.services import hash_password
            from tracker.donations.services import get_or_create_donor

            donor = get_or_create_donor(extra.pop("donor", "Huawei Technologies Morocco"))
            user = User(
                email=email, role="donor", donor_id=donor.id, password_hash=hash_password(password)
            )
            db.session.add(user)
        else:
            user = service(email, role, password, **extra)
        db.session.commit()
        return user

    return factory


@pytest.fixture
def create_donation(app):
    from tracker.donations.services import create_donation as service

    counter = iter(range(1, 10_000))

    def factory(reference=None, donor="Huawei Technologies Morocco", quantity=200, **extra):
        donation = service(
            reference=reference or f"DON-{next(counter):03d}",
            donor_name=donor,
            received_on=extra.pop("received_on", date(2020, 12, 28)),
            quantity=quantity,
            **extra,
        )
        db.session.commit()
        return donation

    return factory


@pytest.fixture
def create_school(app):
    from tracker.schools.services import create_school as service

    counter = iter(range(1, 10_000))

    def factory(**values):
        n = next(counter)
        fields = {
            "code": f"SCH{n:04d}",
            "name_fr": f"École {n}",
            "region": "Rabat-Salé-Kénitra",
            "province": "Rabat",
            "enrolment": 300,
            "need": 10,
        }
        fields.update(values)
        school = service(**fields)
        db.session.commit()
        return school

    return factory


def imei_for(n: int) -> str:
    from tracker.demo.loader import luhn_digit

    body = f"35000000{n:06d}"
    return body + luhn_digit(body)


@pytest.fixture
def create_device(app, create_donation):
    from tracker.devices.services import register_device

    counter = iter(range(1, 100_000))
    state = {}

    def factory(donation=None, serial=None, imei="auto", actor=None, **extra):
        if donation is None:
            donation = state.get("donation") or create_donation()
            state["donation"] = donation
        n = next(counter)
        device = register_device(
            donation_id=donation.id,
            serial=serial or f"SN{n:08d}",
            imei=imei_for(n) if imei == "auto" else imei,
            model=extra.pop("model", "MatePad T10"),
            actor=actor,
            **extra,
        )
        db.session.commit()
        return device

    return factory


# --- signing in -----------------------------------------------------------------------------


def login(client, user, password=PASSWORD):
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


@pytest.fixture
def signed_in(client, create_user):
    """Sign the test client in with a new user of the given role."""

    def sign_in(role="coordinator"):
        user = create_user(role)
        login(client, user)
        return user

    return sign_in


def download(client, url, data=None):
    """A download as its reader gets it: the button queues a job, the job's page shows the
    file when ready (at once here: tests run jobs where they start), and the file."""
    started = client.post(url, data=data or {})
    assert started.status_code == 302, (url, started.status_code, text_of(started))
    page = client.get(started.headers["Location"])
    link = re.search(r'href="([^"]+)" data-testid="download"', page.get_data(as_text=True))
    assert link, (url, text_of(page))
    return client.get(unescape(link.group(1)))


def text_of(response) -> str:
    """The visible text of an HTML response, tags dropped and spaces folded."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def signature_data_url(blank: bool = False) -> str:
    """What the signature pad sends: a PNG data URL with a stroke drawn on it (or none)."""
    image = Image.new("RGBA", (300, 120), (0, 0, 0, 0))
    if not blank:
        ImageDraw.Draw(image).line([(20, 90), (80, 20), (150, 100), (280, 30)], "black", 4)
    out = io.BytesIO()
    image.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@pytest.fixture
def delivery_setting(create_user, create_donation, create_device, create_school):
    """An approved plan of 5 tablets: 3 for school A, 2 for school B, and a field agent.

    Returns a dict with the users, schools, the plan and the devices per school.
    """
    from tracker.allocations import services as plans

    donation = create_donation(quantity=8)
    devices = [create_device(donation=donation) for _ in range(8)]
    school_a = create_school(need=3, name_fr="École Al Amal", name_ar="مدرسة الأمل")
    school_b = create_school(need=2, name_fr="École Ibn Sina")
    coordinator, manager = create_user("coordinator"), create_user("manager")
    agent, other_agent = create_user("field"), create_user("field")
    plan = plans.create_plan(name="Round 1", donation_id=donation.id, actor=coordinator)
    plans.propose_plan(plan.id, total=5, school_ids=[school_a.id, school_b.id], actor=coordinator)
    plans.submit_plan(plan.id, coordinator)
    plans.approve_plan(plan.id, manager)
    db.session.commit()
    held = {
        school.id: db.session.scalars(
            sa.select(Device).where(Device.school_id == school.id).order_by(Device.id)
        ).all()
        for school in (school_a, school_b)
    }
    return {
        "plan": plan,
        "coordinator": coordinator,
        "manager": manager,
        "agent": agent,
        "other_agent": other_agent,
        "school_a": school_a,
        "school_b": school_b,
        "a_devices": held[school_a.id],
        "b_devices": held[school_b.id],
        "stock": [d for d in devices if d.status == "in_stock"],
    }


def scan(client, delivery_id: int, code: str):
    """One scan on a delivery's page, answered as JSON (as the page's script asks)."""
    return client.post(
        f"/deliveries/{delivery_id}/scan",
        data={"code": code},
        headers={"Accept": "application/json"},
    )


def token_for(user) -> dict:
    """The Authorization header of a new API token of `user`."""
    from tracker.auth.tokens import create_token

    _record, secret = create_token(user, "test phone")
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def handover_form() -> dict:
    """A hand-over as the school's form sends it: who received, signature, place."""
    return {
        "recipient_name": "Mme Naima Alaoui",
        "recipient_role": "Directrice",
        "signature": signature_data_url(),
        "latitude": "35.7595",
        "longitude": "-5.8340",
        "accuracy": "8",
        "notes": "",
    }


def handed_over(s, delivery_id: int, **extra):
    """Every tablet of school A's delivery scanned at the school and handed over by the
    setting's agent, as the school's form sends it (`extra`: the code, or why not)."""
    from tracker.deliveries import handover

    for device in s["a_devices"]:
        handover.field_scan(delivery_id, device.asset_tag, s["agent"])
    form = handover_form()
    delivery = handover.confirm_handover(
        delivery_id,
        actor=s["agent"],
        recipient_name=form["recipient_name"],
        recipient_role=form["recipient_role"],
        signature=form["signature"],
        **extra,
    )
    db.session.commit()
    return delivery


def dispatched_delivery(s, school: str = "school_a", planned_on=None) -> int:
    """The delivery of `school`'s reserved tablets (from `delivery_setting`), packed by scan
    and dispatched to the setting's agent; returns its id."""
    from tracker.deliveries import services

    (delivery,) = services.create_deliveries(
        s["plan"].id,
        actor=s["coordinator"],
        assigned_to_id=s["agent"].id,
        planned_on=planned_on,
        school_ids=[s[school].id],
    )
    devices = s["a_devices"] if school == "school_a" else s["b_devices"]
    for device in devices:
        services.pack_scan(delivery.id, device.asset_tag, s["coordinator"])
    services.finish_packing(delivery.id, s["coordinator"])
    # The school's code, when it has a phone: as the school read it in its SMS.
    s.setdefault("codes", {})[delivery.id] = services.dispatch(
        delivery.id, s["coordinator"]
    ).sent_code
    db.session.commit()
    return delivery.id


# --- a real SMTP server and a stand-in SMS gateway, each a process of its own -------------

HERE = Path(__file__).resolve().parent


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


@pytest.fixture
def smtp_server(tmp_path):
    """aiosmtpd, a real SMTP server, keeping what it receives in a maildir."""
    folder, port = tmp_path / "maildir", _port()
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}"]
        + ["-c", "aiosmtpd.handlers.Mailbox", str(folder)]
    )
    _wait_for(port)
    yield port, folder
    server.terminate()
    server.wait(10)


@pytest.fixture
def sms_gateway(tmp_path):
    log, port = tmp_path / "sms.jsonl", _port()
    server = subprocess.Popen([sys.executable, str(HERE / "sms_gateway.py"), str(port), str(log)])  # noqa: S603
    _wait_for(port)
    yield port, log
    server.terminate()
    server.wait(10)


@pytest.fixture
def wired(app, smtp_server, sms_gateway):
    """The app sends through both, as a deployment configured with them does."""
    app.config.update(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_server[0],
        MAIL_FROM="tracker@programme.example",
        SMS_URL=f"http://127.0.0.1:{sms_gateway[0]}/send",
        SMS_TOKEN="gateway-secret",
        SMS_BODY='{"from": "{sender}", "to": "{to}", "text": "{text}"}',
        SMS_SENDER="TRACKER",
        MESSAGES_ATTEMPTS=2,
    )
    return {"maildir": smtp_server[1], "sms": sms_gateway[1]}


def statements_of(work) -> int:
    """How many SQL statements `work()` sends."""
    seen = []

    def count(*_args):
        seen.append(1)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        work()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)
