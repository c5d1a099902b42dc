"""A lost race is a refusal, not a 500: two real concurrent requests (two threads of a real
server, two database connections) change the same tablet at once; one wins, and the other
gets a sentence saying what happened."""

import re
import threading

import pytest
import requests
import sqlalchemy as sa
from werkzeug.serving import make_server

from conftest import PASSWORD, make_app
from tracker.devices.models import Device, DeviceEvent
from tracker.extensions import db
from tracker.loans.models import Loan
from tracker.schools.models import SchoolStaff

ROUNDS = 6


@pytest.fixture
def server(app, database_url):
    served = make_app(database_url, TESTING=False)
    httpd = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(5)
    with served.app_context():
        db.engine.dispose()


def _session(url: str, user) -> requests.Session:
    session = requests.Session()
    answer = session.post(f"{url}/login", data={"email": user.email, "password": PASSWORD})
    assert answer.status_code in (200, 302)
    return session


def _at_once(*calls):
    """Run the calls in threads released together; their answers."""
    barrier = threading.Barrier(len(calls))
    answers = [None] * len(calls)

    def run(n, call):
        barrier.wait()
        try:
            answers[n] = call()
        except Exception as error:  # noqa: BLE001  (shown by the test)
            answers[n] = error

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers


@pytest.fixture
def desk(create_user, create_school, create_device):
    school = create_school(name_fr="École Al Amal")
    tablets = [create_device(serial=f"SN-RACE-{n}") for n in range(ROUNDS)]
    for device in tablets:
        device.status, device.school_id = "delivered", school.id
    heads = [create_user("school"), create_user("school")]
    for head in heads:
        db.session.add(SchoolStaff(user_id=head.id, school_id=school.id))
    db.session.commit()
    return {"school": school, "tablets": tablets, "heads": heads}


def test_two_desks_lending_one_tablet_at_once_one_loan_and_a_sentence(server, desk):
    school = desk["school"]
    first, second = (_session(server, head) for head in desk["heads"])
    url = f"{server}/schools/{school.id}/lend"
    for n, tablet in enumerate(desk["tablets"]):

        def lend(session, pupil, tag=tablet.asset_tag):
            return session.post(
                url, data={"code": tag, "borrower_code": pupil, "name": f"Élève {pupil}"}
            )

        answers = _at_once(lambda n=n: lend(first, f"A-{n}"), lambda n=n: lend(second, f"B-{n}"))
        codes = sorted(answer.status_code for answer in answers)
        assert codes == [200, 422], codes
        loser = next(a for a in answers if a.status_code == 422)
        sentence = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", loser.text))
        # SQLite takes writers in turn (the loser sees the loan); PostgreSQL lets both
        # start (the loser hears who just changed it).
        assert tablet.asset_tag in sentence and (
            "was just changed by someone else (lent to a borrower" in sentence
            or "cannot be lent: it is on loan" in sentence
        ), sentence
    db.session.expire_all()
    loans = db.session.scalars(sa.select(Loan)).all()
    assert len(loans) == ROUNDS
    assert {d.status for d in db.session.scalars(sa.select(Device))} == {"on_loan"}


def test_two_desks_taking_back_one_tablet_at_once_one_return_and_a_sentence(server, desk):
    from tracker.loans.services import lend

    school = desk["school"]
    for n, tablet in enumerate(desk["tablets"]):
        lend(
            desk["heads"][0],
            school.id,
            tablet.asset_tag,
            f"P-{n}",
            new_borrower={"name": f"Élève {n}"},
        )
    db.session.commit()
    first, second = (_session(server, head) for head in desk["heads"])
    url = f"{server}/schools/{school.id}/take-back"
    for tablet in desk["tablets"]:
        answers = _at_once(
            *(
                lambda s=s, tag=tablet.asset_tag: s.post(
                    url, data={"code": tag, "condition": "good"}
                )
                for s in (first, second)
            )
        )
        assert 500 not in [a.status_code for a in answers]
        assert sorted(a.status_code for a in answers) == [200, 422]
    db.session.expire_all()
    ended = db.session.scalars(sa.select(Loan).where(Loan.ended_at.is_not(None))).all()
    assert len(ended) == ROUNDS


def test_two_phones_counting_one_tablet_at_once_count_it_once(server, desk, create_user):
    from tracker.counts.services import open_count
    from tracker.timezone import local_today

    count = open_count(
        create_user("coordinator"),
        name="Inventaire",
        scope="school",
        scope_value=str(desk["school"].id),
        starts_on=local_today(),
        ends_on=local_today(),
    )
    db.session.commit()
    first, second = (_session(server, head) for head in desk["heads"])
    url = f"{server}/counts/{count.id}/schools/{desk['school'].id}"
    for tablet in desk["tablets"]:
        answers = _at_once(
            *(
                lambda s=s, tag=tablet.asset_tag: s.post(
                    url,
                    data={"code": tag, "condition": ""},
                    headers={"Accept": "application/json"},
                )
                for s in (first, second)
            )
        )
        assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
        outcomes = sorted(a.json()["outcome"] for a in answers)
        assert outcomes == ["again", "found"]
    db.session.expire_all()
    events = db.session.scalar(
        sa.select(sa.func.count()).select_from(DeviceEvent).where(DeviceEvent.type == "counted")
    )
    assert events == ROUNDS
