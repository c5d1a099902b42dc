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


@dataclass
class Resolved:
    device: Device | None = None  # the tablet the code names now
    replaced: RetiredQrToken | None = None  # or: the code is a replaced label of this one


def _token_of(text: str) -> str:
    if "/d/" in text:
        text = text.rsplit("/d/", 1)[1].split("?", 1)[0].strip("/")
    return text


def find_device_by_code(code: str) -> Device | None:
    """The tablet a current code names (QR URL, token, asset tag, serial or an IMEI), or None."""
    text = (code or "").strip()[:300]
    if not text:
        return None
    text = _token_of(text)
    lookups = [Device.qr_token == text]
    lookups.append(Device.asset_tag.in_(identity.asset_tag_candidates(text)))
    compact = "".join(text.split()).upper()
    lookups.append(Device.serial == compact)
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) == 15 and len(digits) >= len(compact) - 4:
        lookups.append(Device.imei == digits)
        lookups.append(Device.imei2 == digits)
    # Each lookup is a unique-index probe; ask them in turn so the first match wins.
    for condition in lookups:
        device = db.session.scalar(sa.select(Device).where(condition))
        if device is not None:
            return device
    return None


class Among:
    """Codes read against a list of tablets already loaded (a delivery's), as
    `find_device_by_code` reads them, with no statement and no scan of the list per code."""

    def __init__(self, devices: list[Device]):
        self.by = [{}, {}, {}, {}]  # token, asset tag, serial, IMEI: the order of the lookups
        for device in devices:
            self.by[0][device.qr_token] = device
            self.by[1][device.asset_tag] = device
            self.by[2][device.serial] = device
            for imei in (device.imei, device.imei2):
                if imei:
                    self.by[3].setdefault(imei, device)

    def find(self, code: str) -> Device | None:
        text = _token_of((code or "").strip()[:300])
        if not text:
            return None
        compact = "".join(text.split()).upper()
        digits = "".join(ch for ch in text if ch.isdigit())
        imei = digits if len(digits) == 15 and len(digits) >= len(compact) - 4 else None
        keys = ([text], identity.asset_tag_candidates(text), [compact], [imei] if imei else [])
        for index, candidates in zip(self.by, keys, strict=True):
            for key in candidates:
                if key in index:
                    return index[key]
        return None


def resolve_code(code: str) -> Resolved:
    """The tablet a code names now, or the replaced label it was (one more index probe, only
    when no current code matched)."""
    device = find_device_by_code(code)
    if device is not None:
        return Resolved(device=device)
    token = _token_of((code or "").strip()[:300])
    if not token:
        return Resolved()
    retired = db.session.scalar(sa.select(RetiredQrToken).where(RetiredQrToken.token == token))
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
