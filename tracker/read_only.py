"""Requests that only read: on PostgreSQL they run outside a transaction, and none of
them may write through the session's unit of work."""

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from sqlalchemy import event

from tracker.database import SAFE_METHODS
from tracker.extensions import db

# Set in the request context a job runs in (tracker/jobs/services.py): it has a reader
# and a base URL, and it writes.
JOB_CONTEXT = "tracker.job"


def needs_transaction(view):
    """Mark a view that reads inside a transaction all the same: an export streamed by a
    server-side cursor (`yield_per`), which PostgreSQL opens only inside one."""
    view.needs_transaction = True
    return view


def reads_without_transaction():
    """On PostgreSQL a request that only reads (GET, HEAD) runs its statements outside a
    transaction: no BEGIN and no ROLLBACK, two round trips fewer per page.

    Nothing is lost: under READ COMMITTED, PostgreSQL's level here, each statement sees the
    data committed when it starts, inside a transaction or not. SQLite keeps its (local, free)
    transactions, which also spare it a snapshot per statement. A request like this must not
    write through the session's unit of work: `_no_writes_when_reading` refuses it.
    """
    if request.method not in SAFE_METHODS or db.engine.dialect.name != "postgresql":
        return
    view = current_app.view_functions.get(request.endpoint)
    # A session already under way (an app context kept across requests, as in scripts)
    # keeps its transaction.
    if not getattr(view, "needs_transaction", False) and not db.session().in_transaction():
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


@event.listens_for(sa.orm.Session, "before_flush")
def _no_writes_when_reading(session, _context, _instances):
    """A GET or HEAD changes nothing (the web's rule; and on PostgreSQL such a request has no
    transaction to make several changes whole). A deliberate single statement, such as an
    API token's time of last use, is sent as one UPDATE of its own."""
    if (
        has_request_context()
        and request.method in SAFE_METHODS
        and JOB_CONTEXT not in request.environ
        and (session.new or session.dirty or session.deleted)
    ):
        raise RuntimeError(f"{request.method} {request.path} tried to write to the database")
