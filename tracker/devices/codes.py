"""What a scanned or typed code names: the one place that knows every code a tablet has had.

A code is a QR URL, a QR token, an asset tag in any form, a serial or an IMEI. A QR token of
a replaced label names no tablet any more, but it is known: every scan and lookup answers
"this label was replaced" instead of "unknown", so a field agent holding an old label knows
what to do.
"""

from dataclasses import dataclass

import sqlalchemy as sa

from tracker.devices import identity
from tracker.devices.models import Device, RetiredQrToken
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.schools.reach import WHOLE, Reach


@dataclass
class Resolved:
    device: Device | None = None  # the tablet the code names now
    replaced: RetiredQrToken | None = None  # or: the code is a replaced label of this one


def _token_of(text: str) -> str:
    if "/d/" in text:
        text = text.rsplit("/d/", 1)[1].split("?", 1)[0].strip("/")
    return text


def _readings(code: str) -> list[tuple[str, str]]:
    """What a code may be, in the order it is asked (the first match wins): its QR token,
    an asset tag as typed by hand, a serial, an IMEI (either slot). (column, value) pairs."""
    text = (code or "").strip()[:300]
    if not text:
        return []
    text = _token_of(text)
    readings = [("qr_token", text)]
    readings += [("asset_tag", tag) for tag in identity.asset_tag_candidates(text)]
    compact = "".join(text.split()).upper()
    readings.append(("serial_key", compact))
    digits = "".join(ch for ch in text if ch.isascii() and ch.isdigit())
    if len(digits) == 15 and len(digits) >= len(compact) - 4:
        readings += [("imei", digits), ("imei2", digits)]
    return readings


def find_device_by_code(code: str, reach: Reach = WHOLE) -> Device | None:
    """The tablet a current code names (QR URL, token, asset tag, serial or an IMEI), or
    None (also when it is out of `reach`: one statement either way)."""
    device, reached = _find(code, reach)
    return device if reached else None


def _find(code: str, reach: Reach) -> tuple[Device | None, bool]:
    """The tablet a code names, and whether it is in `reach` (asked in the same statement)."""
    readings = _readings(code)
    tags = [value for column, value in readings if column == "asset_tag"]
    lookups = [getattr(Device, column) == value for column, value in readings]
    if tags:  # the tag's forms in one probe
        first = next(n for n, (column, _v) in enumerate(readings) if column == "asset_tag")
        lookups[first : first + len(tags)] = [Device.asset_tag.in_(tags)]
    # Each lookup is a unique-index probe; ask them in turn so the first match wins.
    reached = reach.devices_clause(Device.school_id, Device.depot_id).label("reached")
    for condition in lookups:
        found = db.session.execute(sa.select(Device, reached).where(condition)).first()
        if found is not None:
            return found[0], bool(found[1])
    return None, False


class Among:
    """Codes read against a list of tablets already loaded (a delivery's), as
    `find_device_by_code` reads them, with no statement and no scan of the list per code."""

    COLUMNS = ("qr_token", "asset_tag", "serial_key", "imei", "imei2")

    def __init__(self, devices: list[Device]):
        self.by = {column: {} for column in self.COLUMNS}
        for device in devices:
            for column in self.COLUMNS:
                value = getattr(device, column)
                if value:
                    self.by[column].setdefault(value, device)

    def find(self, code: str) -> Device | None:
        for column, value in _readings(code):
            if value in self.by[column]:
                return self.by[column][value]
        return None


def resolve_code(code: str, reach: Reach = WHOLE) -> Resolved:
    """The tablet a code names now, or the replaced label it was (one more index probe, only
    when no current code matched); a tablet out of `reach` is as if no code matched."""
    device, reached = _find(code, reach)
    if device is not None:
        return Resolved(device=device) if reached else Resolved()
    token = _token_of((code or "").strip()[:300])
    if not token:
        return Resolved()
    retired = db.session.scalar(sa.select(RetiredQrToken).where(RetiredQrToken.token == token))
    if retired is not None and not reach.covers_device(
        retired.device.school_id, retired.device.depot_id
    ):
        return Resolved()
    return Resolved(replaced=retired)


def code_refusal(code: str, resolved: Resolved | None = None) -> str:
    """Why a code that names no tablet is refused, in words: a replaced label, or unknown."""
    resolved = resolved or resolve_code(code)
    if resolved.replaced is not None:
        return _(
            "This label was replaced: %(tag)s now carries a new label. Scan the new one.",
            tag=resolved.replaced.device.asset_tag,
        )
    shown = (code or "").strip()[:60] or "…"
    return _("No tablet has the code %(code)s.", code=shown)
