"""The API matches its own document: schemathesis generates requests from /api/v1/openapi.json
(valid ones and ones that break it) and runs every one of its checks on each answer, as a
field agent and as a coordinator, on a delivery under way."""

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode

from conftest import dispatched_delivery, token_for
from tracker.extensions import db

EXAMPLES = 25  # per operation, mode and user: bounded, and the same every run


def _fresh_context(app):
    """Each request in its own app context, as on a server (the test holds one open)."""

    def wsgi(environ, start_response):
        with app.app_context():
            body = list(app.wsgi_app(environ, start_response))
        db.session.expire_all()
        return body

    return wsgi


def test_the_api_answers_as_its_document_says(app, delivery_setting, create_user):
    s = delivery_setting
    dispatched_delivery(s)
    # Schemathesis reads bodies as sent (a WSGI call decodes no brotli): ask for them plain;
    # compression has its own test (test_page_weight.py).
    plain = {"Accept-Encoding": "identity"}
    # A school's head teacher too: the school's own operations (its deliveries, its phones,
    # its receipts in the sync) reach their logic only under a school account.
    from tracker.extensions import db
    from tracker.schools.models import SchoolStaff

    head = create_user("school")
    db.session.add(SchoolStaff(user_id=head.id, school_id=s["school_a"].id))
    db.session.commit()
    users = [
        token_for(s["agent"]) | plain,
        token_for(s["coordinator"]) | plain,
        token_for(head) | plain,
    ]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _fresh_context(app))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6
    calls = 0
    failures = []
    found = 0
    for operation in operations:
        # The document's own examples first: they reach the real logic (a tablet found).
        lookup = operation.label == "GET /devices/lookup"
        for strategy in schema.get_strategies_from_examples(operation):

            @given(case=strategy)
            @settings(max_examples=10, deadline=None, database=None, derandomize=True)
            def example(case):
                nonlocal calls, found
                for headers in users:
                    response = case.call_and_validate(headers=headers)
                    found += lookup and response.status_code == 200  # noqa: B023 (run at once)
                    calls += 1

            example()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if operation.label == "POST /phone-keys" and mode == GenerationMode.POSITIVE:
                # No schema says "a point on the P-256 curve": text of the documented form
                # is almost never one, and is refused (400) as it should be. The document's
                # own example, a real key, is registered above.
                continue
            if operation.label == "POST /sync" and mode == GenerationMode.NEGATIVE:
                # By design an action that breaks its type is answered `rejected` inside a
                # 200 (the document says so): a phone's queue must not stall on one bad
                # action. The positive cases, and the body's own shape, are still tried.
                continue

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def run(case):
                nonlocal calls
                for headers in users:
                    case.call_and_validate(headers=headers)
                    calls += 1

            try:
                run()
            except Exception as error:  # noqa: BLE001  (every operation is tried)
                failures.append(f"{operation.label} {mode}: {str(error)[:2000]}")
    print(f"schemathesis: {calls} calls")
    assert not failures, "\n\n".join(failures)
    assert found, "the document's examples reach the real logic"
