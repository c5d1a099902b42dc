"""A client generated from the API document, as a partner would make one, talks to the API:
openapi-python-client (a generator nobody here wrote) reads /api/v1/openapi.json, and the
typed client it makes syncs a scan, typed as a `ScanAction`, with no hand-written dict."""

import importlib
import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from conftest import dispatched_delivery, make_app, token_for
from tracker.deliveries.models import DeliveryItem
from tracker.extensions import db

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
pytestmark = pytest.mark.skipif(
    not GENERATOR.exists(), reason="openapi-python-client is not installed (the test extra)"
)


@pytest.fixture
def served(app, database_url):
    served = make_app(database_url, TESTING=False)
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)
    with served.app_context():
        db.engine.dispose()


def _generated_client(client, folder: Path):
    document = folder / "openapi.json"
    document.write_bytes(client.get("/api/v1/openapi.json").data)
    package = f"tracker_client_{uuid.uuid4().hex[:8]}"
    environment = {**os.environ, "PATH": f"{GENERATOR.parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(  # noqa: S603  (the generator of the test extra, on our document)
        [str(GENERATOR), "generate", "--path", str(document)]
        + ["--output-path", str(folder / package), "--meta", "none"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(package), package
    finally:
        sys.path.remove(str(folder))


def test_a_generated_client_syncs_a_typed_scan(client, delivery_setting, served, tmp_path):
    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    secret = token_for(s["agent"])["Authorization"].removeprefix("Bearer ")
    generated, package = _generated_client(client, tmp_path)
    sync = importlib.import_module(f"{package}.api.default.sync")
    models = importlib.import_module(f"{package}.models")
    api = generated.AuthenticatedClient(base_url=f"{served}/api/v1", token=secret)
    tablet = s["a_devices"][0]
    scan = models.ScanAction(
        id=uuid.uuid4().hex,
        type_=models.ScanActionType.SCAN,
        delivery_id=delivery_id,
        code=tablet.asset_tag,
    )
    with api:
        answer = sync.sync(client=api, body=models.SyncBody(actions=[scan]))
        again = sync.sync(client=api, body=models.SyncBody(actions=[scan]))
    assert isinstance(answer, models.SyncResponse200)
    assert [r.status for r in answer.results] == [models.ActionResultStatus.APPLIED]
    assert [r.status for r in again.results] == [models.ActionResultStatus.DUPLICATE]
    db.session.expire_all()
    item = db.session.scalar(
        db.select(DeliveryItem).where(
            DeliveryItem.delivery_id == delivery_id, DeliveryItem.device_id == tablet.id
        )
    )
    assert item.status == "scanned"
