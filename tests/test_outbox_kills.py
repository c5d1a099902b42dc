"""Messages: a worker killed while a message is in flight sends nothing twice where the
gateway allows it. Real `tracker worker` processes, a real gateway process that honours the
idempotency key, SIGKILL while the gateway holds the message."""

import json
import os
import signal
import time

import pytest
import sqlalchemy as sa
from test_jobs import _environment, _until, _worker, real_queue  # noqa: F401  (a fixture)

from conftest import login, text_of
from tracker.extensions import db
from tracker.messages.models import OutboxMessage
from tracker.messages.services import queue_message, send_due

# 10 for the measure (TRACKER_TEST_KILLS=10); fewer in every run of the suite.
KILLS = int(os.environ.get("TRACKER_TEST_KILLS", "4"))


def _gateway_entries(log) -> list[dict]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.mark.usefixtures("real_queue")
def test_killing_workers_mid_send_loses_nothing_and_doubles_nothing(
    app, client, create_user, wired, database_url, tmp_path
):
    app.config["MESSAGES_LEASE_SECONDS"] = 1
    log = wired["sms"]
    env = {
        **_environment(database_url, tmp_path / "instance"),
        "TRACKER_SMS_URL": app.config["SMS_URL"],
        "TRACKER_SMS_BODY": app.config["SMS_BODY"],
        "TRACKER_SMS_TOKEN": app.config["SMS_TOKEN"],
        "TRACKER_MESSAGES_LEASE_SECONDS": "1",
    }
    slow = log.with_suffix(".slow")
    workers_log = tmp_path / "workers.log"
    for round_ in range(KILLS):
        message = queue_message(
            "delivery_code",
            channel="sms",
            recipient=f"+212 600 00 {round_:02d} 00",
            language="fr",
            body=f"Message {round_}",
        )
        slow.write_text("")  # the gateway holds the message 3 s before it answers
        db.session.commit()
        key = message.idempotency_key
        worker = _worker(env, workers_log)
        try:
            _until(
                lambda key=key: any(e["key"] == key for e in _gateway_entries(log)),
                60,
                "the gateway taking the message",
            )
        finally:
            worker.send_signal(signal.SIGKILL)  # before the gateway answers
            worker.wait(10)
        slow.unlink()
        time.sleep(1.2)  # the lease runs out
        send_due()  # another worker takes it back and sends it again, with the same key
    entries = _gateway_entries(log)
    firsts = [e for e in entries if not e.get("duplicate")]
    again = [e for e in entries if e.get("duplicate")]
    assert len(firsts) == KILLS, workers_log.read_text()[-2000:]  # each sent once
    assert len(again) == KILLS  # each taken back and tried again, deduplicated
    messages = db.session.scalars(sa.select(OutboxMessage)).all()
    assert {m.state for m in messages} == {"sent"}  # none lost
    assert {m.taken_back for m in messages} == {1}
    # The outbox page says which may have gone twice.
    login(client, create_user("admin"))
    assert "May have gone twice" in text_of(client.get("/admin/messages"))
