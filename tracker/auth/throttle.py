"""Slowing password guessing without letting a guesser lock the owner out.

The scheme (OWASP's "device cookies", ASVS 2.2.1, NIST SP 800-63B 5.2.2):

- A browser that signed in to an account successfully gets a signed *known-browser* cookie
  for that account. Its attempts on that account are not slowed by anyone else's failures;
  only its own: after `DEVICE_FAILURES` failures in the window it is treated as unknown.
- Any other attempt is slowed by *growing delays*, never a hard block: after
  `FREE_ACCOUNT_FAILURES` failures on the account (or `FREE_ADDRESS_FAILURES` from one client
  address) in the window, the next try must wait 1 s, then 2, 4, … up to `LONGEST_WAIT`
  after the latest failure. A guesser gets a few tries an hour; the owner's own browser
  still signs in at once.

The caller commits (failures are kept).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from tracker.auth.models import LoginFailure, User
from tracker.auth.services import authenticate, clean_email
from tracker.database import utcnow
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _

WINDOW = timedelta(minutes=15)
FREE_ACCOUNT_FAILURES = 5
FREE_ADDRESS_FAILURES = 50
DEVICE_FAILURES = 10
LONGEST_WAIT = timedelta(minutes=15)


class TooSoon(ValidationFailed):
    """Sign-in must wait `seconds` before the next try."""

    status_code = 429

    def __init__(self, seconds: int):
        super().__init__(
            _("Too many failed sign-ins. Wait %(n)s seconds and try again.", n=seconds)
        )
        self.seconds = seconds


@dataclass
class Attempt:
    email: str
    password: str
    address: str
    device: str | None = None  # the known-browser cookie's key, if it names this account


def account_of(email: str) -> str:
    try:
        return clean_email(email)
    except ValidationFailed:
        return (email or "").strip().lower()[:254]


def _wait(failures: int, free: int) -> timedelta:
    if failures < free:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(failures - free, 20)), LONGEST_WAIT)


def sign_in(attempt: Attempt) -> User | None:
    """`authenticate`, slowed as the module says; raises TooSoon without checking the
    password when this attempt must wait."""
    now = utcnow()
    since = now - WINDOW
    account = account_of(attempt.email)
    address = (attempt.address or "?")[:64]
    device = (attempt.device or "")[:43] or None
    on_account = sa.and_(LoginFailure.email == account, LoginFailure.device.is_(None))
    counts = db_counts(since, account, address, device, on_account)
    trusted = device is not None and counts.device < DEVICE_FAILURES
    if not trusted:
        wait = max(
            _wait(counts.account, FREE_ACCOUNT_FAILURES),
            _wait(counts.address, FREE_ADDRESS_FAILURES),
        )
        latest = counts.latest
        if latest is not None and latest + wait > now:
            raise TooSoon(max(1, int((latest + wait - now).total_seconds() + 0.999)))
    user = authenticate(attempt.email, attempt.password)
    if user is None:
        db.session.add(
            LoginFailure(email=account, address=address, device=device if trusted else None)
        )
    return user


@dataclass
class _Counts:
    account: int
    address: int
    device: int
    latest: datetime | None


def db_counts(since, account: str, address: str, device: str | None, on_account) -> _Counts:
    """Failures in the window: on the account from unknown browsers, from the address, and
    with this known-browser cookie; and when the latest of the first two was."""
    by_device = LoginFailure.device == device if device else sa.false()
    row = db.session.execute(
        sa.select(
            sa.func.count().filter(on_account),
            sa.func.count().filter(LoginFailure.address == address),
            sa.func.count().filter(by_device),
            sa.func.max(LoginFailure.at).filter(
                sa.or_(on_account, LoginFailure.address == address)
            ),
        ).where(
            LoginFailure.at >= since,
            sa.or_(on_account, LoginFailure.address == address, by_device),
        )
    ).one()
    return _Counts(row[0], row[1], row[2], row[3])
