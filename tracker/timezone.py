"""The programme's time zone (`TRACKER_TIMEZONE`, default Africa/Casablanca): the one place
that turns stored UTC into the local time people read, on pages, in workbooks and in PDFs.

Zones come from the standard library (zoneinfo, the system's tz database). Babel's own
conversion goes through pytz, whose rule for Morocco (UTC+1 outside Ramadan since 2018) is
wrong past it: a tablet registered at 20:40 in Rabat showed 19:40 on its page while the
workbooks said 20:40. Times are converted here and only then formatted.
"""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_date
from babel.dates import format_datetime as babel_datetime
from babel.dates import get_date_format, parse_date
from flask import current_app
from flask_babel import get_locale

DEFAULT_ZONE = "Africa/Casablanca"


def programme_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or DEFAULT_ZONE)


def local(moment: datetime) -> datetime:
    """A stored time as the programme's local time (aware)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(programme_zone())


def local_naive(moment: datetime) -> datetime:
    """The local time without a zone, for a spreadsheet cell (Excel has no time zones)."""
    return local(moment).replace(tzinfo=None)


def local_today() -> date:
    """Today where the programme is (planned days are local days)."""
    return datetime.now(programme_zone()).date()


def at_local(day: date, hour: int = 0) -> datetime:
    """A local day at `hour` o'clock, as an aware UTC time (for queries and storage)."""
    return datetime.combine(day, time(hour), programme_zone()).astimezone(UTC)


def format_moment(moment: datetime | None, style: str = "medium", locale=None) -> str:
    """A stored time in the reader's language, at the programme's local time."""
    if moment is None:
        return ""
    return babel_datetime(local(moment), style, tzinfo=programme_zone(), locale=locale or _locale())


def _locale():
    return get_locale() or current_app.config.get("BABEL_DEFAULT_LOCALE", "fr")


# Marks that steer the direction on a screen, which Babel puts in Arabic dates (6‏/12‏/2026):
# a day typed or shown in a field has no use for them.
_DIRECTION_MARKS = dict.fromkeys(map(ord, "\u061c\u200e\u200f"))


def day_pattern(locale=None) -> str:
    """How the reader writes a day in numbers, the year in full: 06/12/2026 in French,
    6/12/2026 in Arabic, 12/6/2026 in English."""
    pattern = get_date_format("short", locale=locale or _locale()).pattern
    return pattern.replace("yyyy", "y").replace("yy", "y").translate(_DIRECTION_MARKS)


def format_day(day: date | None, locale=None) -> str:
    """A day as the reader writes it (`day_pattern`), for a field or a spreadsheet's text."""
    if day is None:
        return ""
    return babel_date(day, day_pattern(locale), locale=locale or _locale()).translate(
        _DIRECTION_MARKS
    )


def read_day(text: str, locale=None) -> date:
    """A day typed as the reader writes it (05/12/2026 in French and Arabic, 12/05/2026 in
    English; dots and dashes as well as slashes) or as 2026-12-05. ValueError when it is
    no day (31/02/2026, a word)."""
    text = " ".join(str(text).translate(_DIRECTION_MARKS).split())
    if not text:
        raise ValueError("no day")
    try:
        return (
            date.fromisoformat(text[:10])
            if len(text) == 10 and text[4] == "-"
            else (parse_date(text.replace(".", "/").replace("-", "/"), locale or _locale()))
        )
    except (ValueError, IndexError):
        raise ValueError(text) from None
