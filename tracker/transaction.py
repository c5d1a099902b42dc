"""The one place that ends a transaction: each request, CLI command and background run
commits once here, or rolls back on any error, and nothing else in tracker calls
`commit()` (a test holds the line). Services only add and flush."""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from flask import g, has_request_context

from tracker.errors import CountedRefusal
from tracker.extensions import db

T = TypeVar("T")


@contextmanager
def transaction() -> Iterator[None]:
    """Commit when the block ends normally; roll back and re-raise on any exception, except
    a `CountedRefusal`, whose count (written before it was raised) is committed first."""
    try:
        yield
        db.session.commit()
    except CountedRefusal:
        db.session.commit()
        raise
    except BaseException:
        db.session.rollback()
        raise


def committed(work: Callable[[], T]) -> T:
    """`work()` in a transaction of its own; its result."""
    with transaction():
        return work()


def soon(statement) -> None:
    """A small write a read may make (a token's last-use time): sent and committed on its
    own at the end of the request (`end_of_request`), after whatever the request did, so it
    never holds a writer's turn in the middle of one. Outside a request, at once."""
    if has_request_context():
        g.setdefault("_soon", []).append(statement)
    else:
        db.session.execute(statement)


def end_of_request(response):
    """After the request's own transaction: the small writes it left for later."""
    pending = g.pop("_soon", None)
    if pending:
        try:
            with transaction():
                for statement in pending:
                    db.session.execute(statement)
        except Exception:  # noqa: BLE001  (a last-use time is not worth a failed answer)
            logging.getLogger(__name__).warning("a deferred write was dropped", exc_info=True)
    return response
