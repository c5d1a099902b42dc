"""Device identifiers: cleaning serials and IMEIs, asset tags, QR tokens, and code lookup."""

import re
import secrets

import sqlalchemy as sa
from flask import current_app

from tracker.devices.models import Counter
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _

QR_TOKEN_BYTES = 16  # 128 random bits, URL-safe base64: 22 characters
_SPACES = re.compile(r"\s+")
# A serial once its spaces are gone, in either case (kept as written; compared upper-cased).
SERIAL_OK = re.compile(r"[A-Za-z0-9][A-Za-z0-9./_-]{2,63}\Z")


def clean_serial(value: str) -> str:
    """A serial number as written, without its spaces (its case and dashes kept: it is
    compared by `serial_key`); refuse one that cannot be real."""
    serial = _SPACES.sub("", str(value or ""))
    if not serial:
        raise ValidationFailed(
            _("Serial number is required."),
            field="serial",
            reason=_("the serial number is missing"),
        )
    if not SERIAL_OK.match(serial):
        raise ValidationFailed(
            _(
                "Serial number '%(value)s' is not valid: use 3 to 64 letters, digits, "
                "dots, dashes or slashes.",
                value=value,
            ),
            field="serial",
            reason=_("not a serial number: use 3 to 64 letters, digits, dots, dashes or slashes"),
        )
    return serial


_DOUBLED = str.maketrans("0123456789", "0246813579")  # each digit's doubled digit sum


def luhn_ok(digits: str) -> bool:
    """The Luhn check: every second digit from the right doubled (its digits summed)."""
    if not digits.isascii():  # other scripts' digits (Arabic-Indic) count by their value
        digits = "".join(str(int(char)) for char in digits)
    kept = digits[-1::-2]
    doubled = digits[-2::-2].translate(_DOUBLED)
    # Each digit's byte is 48 plus its value: the bytes are summed in C.
    return (sum(kept.encode()) + sum(doubled.encode()) - 48 * len(digits)) % 10 == 0


def clean_imei(value, field: str = "imei") -> str | None:
    """Return a 15-digit, Luhn-checked IMEI, or None when empty.

    Accepts spaces, dashes and numbers (a spreadsheet may give 8.6e14 as a float).
    """
    if value is None or value == "":
        return None
    if type(value) is str and len(value) == 15 and value.isdigit() and value.isascii():
        text = value  # already 15 plain digits, as most lists give them
    else:
        text = _imei_text(value, field)
        if text is None:
            return None
    if not luhn_ok(text):
        raise ValidationFailed(
            _("IMEI '%(value)s' fails its check digit: a digit is mistyped.", value=value),
            field=field,
            reason=_("fails the IMEI check digit: a digit is mistyped"),
        )
    return text


def _imei_text(value, field: str) -> str | None:
    """An IMEI's 15 digits from what a person or a spreadsheet wrote (spaces, dashes, a
    number), or ValidationFailed saying what is wrong with it."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = re.sub(r"[\s.-]", "", str(value)) if not isinstance(value, int) else str(value)
    if not text:
        return None
    if "E+" in text.upper():
        raise ValidationFailed(
            _(
                "IMEI '%(value)s' was stored as a rounded number: its last digits are lost.",
                value=value,
            ),
            field=field,
            reason=_(
                "stored as a rounded number (%(value)s): its last digits are lost; "
                "format the column as text and type the IMEIs again",
                value=value,
            ),
        )
    if not text.isascii() or not text.isdigit() or len(text) != 15:
        raise ValidationFailed(
            _("IMEI '%(value)s' must have exactly 15 digits.", value=value),
            field=field,
            reason=_("an IMEI has exactly 15 digits"),
        )
    return text


def rounded_number(value) -> bool:
    """A long number a spreadsheet kept in floating point (6.37702E+15): its last digits
    are lost."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A spreadsheet keeps every number as a double: past 15 digits it is rounded.
        return abs(value) >= 1e15
    return isinstance(value, str) and bool(re.fullmatch(r"\s*\d+(\.\d+)?[eE]\+\d+\s*", value))


def new_qr_token() -> str:
    return secrets.token_urlsafe(QR_TOKEN_BYTES)


def allocate_numbers(counter: str, count: int) -> range:
    """Reserve `count` consecutive numbers from a named counter, never handed out again.

    The UPDATE takes the row lock, so concurrent callers get disjoint ranges.
    """
    statement = (
        sa.update(Counter)
        .where(Counter.name == counter)
        .values(value=Counter.value + count)
        .returning(Counter.value)
    )
    last = db.session.execute(statement).scalar_one_or_none()
    if last is None:
        db.session.add(Counter(name=counter, value=count))
        db.session.flush()
        last = count
    return range(last - count + 1, last + 1)


def format_asset_tag(prefix: str, number: int) -> str:
    return f"{prefix}-{number:05d}"


def asset_tag_candidates(code: str) -> list[str]:
    """What an asset tag typed by hand may stand for: any case, with or without the dash."""
    text = code.strip().upper()
    match = re.fullmatch(r"([A-Z]+)[-\s]?0*(\d+)", text)
    if not match:
        return [text]
    return [format_asset_tag(match.group(1), int(match.group(2))), text]


def device_url(qr_token: str) -> str:
    """What a device's QR code encodes: the configured base URL, never the request's host."""
    return f"{current_app.config['BASE_URL']}/d/{qr_token}"
