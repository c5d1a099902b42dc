"""The one place that ends a transaction: each request, CLI command and background run
commits once here, or rolls back on any error, and nothing else in tracker calls
`commit()` (a test holds the line). Services only add and flush."""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from flask import g, has_request_context
from sqlalchemy.orm.exc import StaleDataError

from tracker.errors import Conflict, CountedRefusal
from tracker.extensions import db
from tracker.i18n import gettext as _

T = TypeVar("T")
# Each says, after a lost race, what the winner did to the objects the loser had changed
# (a sentence, or None when none of them is its kind's); registered by the features.
_RACE_EXPLAINERS: list[Callable[[list[tuple[str, int]]], str | None]] = []
TOUCHED = "tracker.touched"  # (kind, id) of what this transaction is changing


def touching(kind: str, thing_id: int) -> None:
    """Note that the transaction is changing this thing (a tablet): if it loses a race on
    it, the explainers can say what the winner did."""
    db.session.info.setdefault(TOUCHED, []).append((kind, thing_id))


def explains_lost_races(explain: Callable[[list[tuple[str, int]]], str | None]):
    """Register `explain(touched)`, asked after a rollback lost to another change."""
    _RACE_EXPLAINERS.append(explain)
    return explain


def _lost_race(touched: list[tuple[str, int]]) -> Conflict:
    for explain in _RACE_EXPLAINERS:
        sentence = explain(touched)
        if sentence:
            return Conflict(sentence)
    return Conflict(
        _("Someone else changed this at the same moment: nothing was saved. Look again.")
    )


@contextmanager
def transaction() -> Iterator[None]:
    """Commit when the block ends normally; roll back and re-raise on any exception, except
    a `CountedRefusal`, whose count (written before it was raised) is committed first."""
    try:
        yield
        db.session.info.pop(TOUCHED, None)
        db.session.commit()
        _saved()
    except CountedRefusal:
        db.session.info.pop(TOUCHED, None)
        db.session.commit()
        _saved()
        raise
    except StaleDataError as error:
        # Another request changed the same row first: the loser hears what happened.
        touched = db.session.info.pop(TOUCHED, [])
        db.session.rollback()
        raise _lost_race(touched) from error
    except BaseException:
        db.session.info.pop(TOUCHED, None)
        db.session.rollback()
        raise


def _saved() -> None:
    if has_request_context():
        g._tracker_saved = True


def saved_in_this_request() -> bool:
    """Whether this request committed something: its error page must not say nothing was
    saved."""
    return has_request_context() and g.get("_tracker_saved", False)


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
