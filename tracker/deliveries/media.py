"""Signature and photo images from phones: checked, re-encoded, stripped, size-capped.

Nothing a phone sends is stored as sent: the image is decoded by Pillow (with a pixel cap
against decompression bombs), turned upright, shrunk, and written anew, so no EXIF (GPS,
device serial) or trailing bytes survive.
"""

import base64
import binascii
import io
import warnings

from flask import g, has_request_context
from PIL import Image, ImageOps, UnidentifiedImageError

from tracker.errors import RequestBudgetSpent, ValidationFailed
from tracker.i18n import gettext as _

MAX_PHOTO_BYTES = 12 * 1024 * 1024  # what a phone camera sends at most
MAX_SIGNATURE_BYTES = 512 * 1024
# Decoded size by purpose, read from the header before any pixel is decoded: a signature
# pad is a phone screen (a few megapixels at most), a phone photo at most about 20 Mpx.
MAX_SIGNATURE_PIXELS = 4_000_000
MAX_PHOTO_PIXELS = 24_000_000
# All the pictures of one request together (a sync of many hand-overs), so that no single
# request holds a worker for long decoding: one hand-over at the caps always fits.
MAX_PIXELS_PER_REQUEST = 40_000_000
PHOTO_SIDE = 1600
SIGNATURE_SIDE = 1200
PHOTO_FORMATS = {"JPEG", "PNG", "WEBP", "MPO"}


class PixelBudgetSpent(RequestBudgetSpent):
    """This request has decoded all the pixels it may: the rest waits for the next one."""


def _spend(pixels: int, field: str) -> None:
    """Count decoded pixels against the request's budget (outside a request: no budget)."""
    if not has_request_context():
        return
    spent = g.get("_decoded_pixels", 0) + pixels
    if spent > MAX_PIXELS_PER_REQUEST:
        raise PixelBudgetSpent(
            _("Too many pictures in one request: send them in smaller batches."), field=field
        )
    g._decoded_pixels = spent


def _open(data: bytes, formats: set[str], field: str, what: str, max_pixels: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
            if image.format not in formats:
                raise ValidationFailed(_("The %(what)s is not a picture.", what=what), field=field)
            if image.width * image.height > max_pixels:
                raise ValidationFailed(_("The %(what)s is too large.", what=what), field=field)
            _spend(image.width * image.height, field)
            image.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as e:
        # Declared bigger than Pillow's own cap (twice it raises in open(), before ours).
        raise ValidationFailed(_("The %(what)s is too large.", what=what), field=field) from e
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,  # a header Pillow refuses (sizes, modes)
    ) as e:
        raise ValidationFailed(
            _("The %(what)s could not be read as a picture.", what=what), field=field
        ) from e
    return image


def _decoded(value: str, limit: int, field: str, what: str) -> bytes:
    """The bytes of base64 or a `data:` URL, its length checked before decoding."""
    encoded = value.partition(",")[2] if value.startswith("data:") else value
    if len(encoded) > limit * 4 // 3 + 4:
        raise ValidationFailed(_("The %(what)s is too large.", what=what), field=field)
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValidationFailed(
            _("The %(what)s could not be read as a picture.", what=what), field=field
        ) from error


def clean_photo(data: bytes | str) -> bytes:
    """A JPEG of at most 1600 px a side, upright, without metadata (from bytes, base64 or a
    `data:` URL)."""
    if isinstance(data, str):
        data = _decoded(data, MAX_PHOTO_BYTES, "photo", _("photo"))
    if len(data) > MAX_PHOTO_BYTES:
        raise ValidationFailed(
            _("The photo is larger than %(n)s MB.", n=MAX_PHOTO_BYTES // (1024 * 1024)),
            field="photo",
        )
    image = _open(data, PHOTO_FORMATS, "photo", _("photo"), MAX_PHOTO_PIXELS)
    image = ImageOps.exif_transpose(image).convert("RGB")
    image.thumbnail((PHOTO_SIDE, PHOTO_SIDE))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


def clean_signature(value: str | bytes) -> bytes:
    """A PNG of the strokes drawn on the screen; refuses an empty or unreadable one.

    Accepts what the signature pad gives (a `data:image/png;base64,...` URL), plain base64
    or PNG bytes.
    """
    if isinstance(value, str):
        if value.startswith("data:") and not value.startswith("data:image/png;base64,"):
            raise ValidationFailed(_("Ask the recipient to sign on the screen."), "signature")
        value = _decoded(value, MAX_SIGNATURE_BYTES, "signature", _("signature"))
    if len(value) > MAX_SIGNATURE_BYTES:
        raise ValidationFailed(_("The signature is too large."), field="signature")
    image = _open(value, {"PNG"}, "signature", _("signature"), MAX_SIGNATURE_PIXELS)
    image = image.convert("RGBA")
    # Strokes are opaque on a transparent (or white) ground: nothing opaque and dark = blank.
    ink = image.convert("L").point(lambda v: 255 if v < 200 else 0)
    alpha = image.getchannel("A").point(lambda v: 255 if v > 50 else 0)
    if Image.composite(ink, Image.new("L", image.size, 0), alpha).getbbox() is None:
        raise ValidationFailed(_("Ask the recipient to sign on the screen."), field="signature")
    image.thumbnail((SIGNATURE_SIDE, SIGNATURE_SIDE))
    flat = Image.new("RGB", image.size, "white")
    flat.paste(image, mask=image.getchannel("A"))
    out = io.BytesIO()
    flat.convert("L").save(out, "PNG", optimize=True)
    return out.getvalue()
