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


def test_two_offices_closing_one_repair_at_once_close_it_once(server, create_user, create_device):
    from tracker.devices.services import move_device
    from tracker.repairs.models import RepairCase

    tablets = [create_device(serial=f"SN-REPAIR-{n}") for n in range(ROUNDS)]
    office = [create_user("coordinator"), create_user("coordinator")]
    for tablet in tablets:
        move_device(tablet, "reported_faulty", office[0], note="Écran")
    db.session.commit()
    cases = db.session.scalars(sa.select(RepairCase).order_by(RepairCase.id)).all()
    assert len(cases) == ROUNDS
    first, second = (_session(server, user) for user in office)
    for case in cases:
        answers = _at_once(
            *(
                lambda s=s, case_id=case.id: s.post(
                    f"{server}/repairs/{case_id}/close", data={"outcome": "repaired"}
                )
                for s in (first, second)
            )
        )
        assert 500 not in [a.status_code for a in answers], [a.status_code for a in answers]
    db.session.expire_all()
    closed = db.session.scalars(sa.select(RepairCase).where(RepairCase.closed_at.is_not(None)))
    assert len(closed.all()) == ROUNDS
    repaired = db.session.scalar(
        sa.select(sa.func.count()).select_from(DeviceEvent).where(DeviceEvent.type == "repaired")
    )
    assert repaired == ROUNDS  # once each


def test_one_agent_handing_over_from_two_phones_at_once_hands_over_once(server, delivery_setting):
    from conftest import dispatched_delivery, handover_form
    from tracker.deliveries import handover
    from tracker.deliveries.models import Delivery

    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    for device in s["a_devices"]:
        handover.field_scan(delivery_id, device.asset_tag, s["agent"])
    db.session.commit()
    phones = [_session(server, s["agent"]), _session(server, s["agent"])]
    form = {**handover_form(), "no_code_reason": ""}
    answers = _at_once(
        *(
            lambda p=p: p.post(f"{server}/deliveries/{delivery_id}/handover", data=form)
            for p in phones
        )
    )
    codes = [a.status_code for a in answers]
    assert 500 not in codes and codes.count(200) + codes.count(302) >= 1, codes
    db.session.expire_all()
    assert db.session.get(Delivery, delivery_id).status == "delivered"
    delivered = db.session.scalar(
        sa.select(sa.func.count()).select_from(DeviceEvent).where(DeviceEvent.type == "delivered")
    )
    assert delivered == len(s["a_devices"])  # once each


def test_two_phones_packing_one_tablet_at_once_pack_it_once(server, delivery_setting):
    from tracker.deliveries import services as deliveries
    from tracker.deliveries.models import DeliveryItem

    s = delivery_setting
    (delivery,) = deliveries.create_deliveries(
        s["plan"].id,
        actor=s["coordinator"],
        assigned_to_id=s["agent"].id,
        planned_on=None,
        school_ids=[s["school_a"].id],
    )
    db.session.commit()
    delivery_id = delivery.id
    desks = [_session(server, s["coordinator"]), _session(server, s["coordinator"])]
    for device in s["a_devices"]:
        answers = _at_once(
            *(
                lambda d=d, tag=device.asset_tag: d.post(
                    f"{server}/deliveries/{delivery_id}/scan",
                    data={"code": tag},
                    headers={"Accept": "application/json"},
                )
                for d in desks
            )
        )
        assert 500 not in [a.status_code for a in answers], [a.text for a in answers]
    db.session.expire_all()
    packed = db.session.scalars(
        sa.select(DeliveryItem).where(
            DeliveryItem.delivery_id == delivery_id, DeliveryItem.status == "packed"
        )
    ).all()
    assert len(packed) == len(s["a_devices"])
    events = db.session.scalar(
        sa.select(sa.func.count()).select_from(DeviceEvent).where(DeviceEvent.type == "packed")
    )
    assert events == len(s["a_devices"])


def test_parallel_batches_of_guesses_get_five_tries_in_all(server, delivery_setting):
    """Six phones send ten guesses each at the same moment: five are compared, in all."""
    from stdnum import damm

    from conftest import dispatched_delivery, handover_form, token_for
    from tracker.deliveries.models import Delivery

    s = delivery_setting
    s["school_a"].contact_phone = "+212 611 22 33 44"
    db.session.commit()
    delivery_id = dispatched_delivery(s)
    right = s["codes"][delivery_id]
    from tracker.deliveries import handover

    for device in s["a_devices"]:
        handover.field_scan(delivery_id, device.asset_tag, s["agent"])
    db.session.commit()
    guesses = [
        code for n in range(80) if (code := f"{n:06d}" + damm.calc_check_digit(f"{n:06d}")) != right
    ][:60]
    signature = handover_form()["signature"]
    headers = [token_for(s["agent"]) for _phone in range(6)]

    def batch(phone: int):
        actions = [
            {
                "type": "handover",
                "id": f"guess-{phone}-{n:03d}",
                "delivery_id": delivery_id,
                "recipient_name": "X",
                "recipient_role": "Y",
                "signature": signature,
                "school_code": guess,
            }
            for n, guess in enumerate(guesses[phone * 10 : phone * 10 + 10])
        ]
        return requests.post(
            f"{server}/api/v1/sync", headers=headers[phone], json={"actions": actions}, timeout=120
        )

    answers = _at_once(*(lambda phone=phone: batch(phone) for phone in range(6)))
    messages = [r["message"] for a in answers for r in a.json()["results"]]
    assert sum("not the school's code" in m for m in messages) == 5, messages
    db.session.expire_all()
    assert db.session.get(Delivery, delivery_id).code_tries == 5
