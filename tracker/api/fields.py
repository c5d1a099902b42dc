"""Reading what a phone or an integration sends: each value is of its documented type, or
the action is refused with a message naming the field. Nothing is coerced: `"5"`, `5.9` and
`true` are not the delivery 5.
"""

import math
from datetime import UTC, datetime, timedelta

from tracker.database import LARGEST_ID
from tracker.errors import ValidationFailed
from tracker.i18n import gettext as _
from tracker.text import refuse_control_characters

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # no phone clock is right before this
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _refuse(field: str, message: str):
    raise ValidationFailed(message, field=field)


def whole_id(action: dict, field: str, *, required: bool = True) -> int | None:
    """A database id: a JSON integer from 1 to the largest key (never a string, float or
    boolean)."""
    value = action.get(field)
    if value is None and not required:
        return None
    if type(value) is not int or not 1 <= value <= LARGEST_ID:
        _refuse(field, _("'%(field)s' must be a whole number (an id).", field=field))
    return value


def text(action: dict, field: str, *, limit: int = 500, required: bool = False) -> str:
    """A string of at most `limit` characters with no control character; absent or null is
    an empty string unless `required`."""
    value = action.get(field)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        _refuse(field, _("'%(field)s' must be text.", field=field))
    if len(value) > limit:
        _refuse(field, _("'%(field)s' is longer than %(n)s characters.", field=field, n=limit))
    return refuse_control_characters(value, field, f"'{field}'")


def choice(action: dict, field: str, choices) -> str:
    value = action.get(field)
    if not isinstance(value, str) or value not in choices:
        _refuse(
            field,
            _("'%(field)s' must be one of: %(choices)s.", field=field, choices=", ".join(choices)),
        )
    return value


def flag(action: dict, field: str) -> bool:
    """A JSON true or false; absent or null is false."""
    value = action.get(field)
    if value is None:
        return False
    if not isinstance(value, bool):
        _refuse(field, _("'%(field)s' must be true or false.", field=field))
    return value


def number(action: dict, field: str) -> float | None:
    """A finite JSON number, or None when absent or null."""
    value = action.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        _refuse(field, _("'%(field)s' must be a number.", field=field))
    return float(value)


def objects(action: dict, field: str, *, limit: int) -> list[dict]:
    """A list of JSON objects (absent or null: none)."""
    value = action.get(field)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
        _refuse(field, _("'%(field)s' must be a list of objects.", field=field))
    if len(value) > limit:
        _refuse(field, _("'%(field)s' has more than %(n)s entries.", field=field, n=limit))
    return value


def ids(action: dict, field: str, *, limit: int) -> list[int]:
    """A list of database ids (absent or null: none), each a JSON integer."""
    value = action.get(field)
    if value is None:
        return []
    if not isinstance(value, list):
        _refuse(field, _("'%(field)s' must be a list of ids.", field=field))
    if len(value) > limit:
        _refuse(field, _("'%(field)s' has more than %(n)s entries.", field=field, n=limit))
    if not all(type(v) is int and 1 <= v <= LARGEST_ID for v in value):
        _refuse(field, _("'%(field)s' must be a list of ids.", field=field))
    return value


def texts(action: dict, field: str, *, limit: int, each: int = 300) -> list[str]:
    """A list of strings with no control character (absent or null: none)."""
    value = action.get(field)
    if value is None:
        return []
    if not isinstance(value, list):
        _refuse(field, _("'%(field)s' must be a list of texts.", field=field))
    if len(value) > limit:
        _refuse(field, _("'%(field)s' has more than %(n)s entries.", field=field, n=limit))
    return [text({field: entry}, field, limit=each, required=True) for entry in value]


def moment(action: dict, field: str) -> datetime | None:
    """An ISO 8601 time between 2000 and 2100, in UTC; None when absent or null."""
    value = action.get(field)
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) > 40:
        _refuse(field, _("'%(field)s' is not an ISO 8601 time.", field=field))
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        parsed = parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        _refuse(field, _("'%(field)s' is not an ISO 8601 time.", field=field))
    if not EARLIEST <= parsed < LATEST:
        _refuse(field, _("'%(field)s' is not a plausible time.", field=field))
    return parsed


def bounded(moment_sent: datetime | None, earliest, latest: datetime, skew: timedelta):
    """The phone's time, kept within what can be true: not before `earliest` (the delivery
    left), not after `latest` (the server received it) beyond a small clock skew."""
    if moment_sent is None:
        return latest
    if moment_sent > latest + skew:
        return latest
    if earliest is not None and moment_sent < earliest:
        return earliest
    return min(moment_sent, latest)
