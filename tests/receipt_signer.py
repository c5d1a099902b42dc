"""A school's phone, as the tests play it: an ECDSA P-256 key as WebCrypto makes one, and a
receipt signed with it as static/js/receipt.js signs it (raw r‖s, base 32)."""

import base64
from datetime import datetime

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils


class Phone:
    def __init__(self):
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.key_id = None

    @property
    def public_key(self) -> str:
        der = self.private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def sign(self, text: str) -> str:
        der = self.private.sign(text.encode("ascii"), ec.ECDSA(hashes.SHA256()))
        r, s = utils.decode_dss_signature(der)
        raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return f"{text}.{base64.b32encode(raw).decode().rstrip('=')}"

    def receipt(
        self,
        delivery_id: int,
        tablets: int,
        at: datetime,
        missing=(),
        damaged=(),
        key_id: int | None = None,
    ) -> str:
        def places(found) -> str:
            return "-".join(_base36(place) for place in sorted(found))

        body = (
            f"TR1.{delivery_id}.{int(at.timestamp())}.{key_id or self.key_id}.{tablets}."
            f"{places(missing)}.{places(damaged)}"
        )
        return self.sign(body)


def _base36(n: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while True:
        n, rest = divmod(n, 36)
        out = digits[rest] + out
        if not n:
            return out
