"""Access codes sealed for reprinting: Fernet (AES-128-CBC + HMAC-SHA256) with a key derived from
the app's secret, which the web layer passes in as bytes (the domain never reads Flask's config).

A batch's clear codes stay sealed in AccessCode.sealed until a clerk marks the batch printed; then
they are wiped and only the keyed hash remains (pb_engine.voter_keys), as before sealing existed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken

LABEL = b"pb_engine access-code seal v1"


class Unsealable(ValueError):
    """The sealed text does not open with this key (the app's secret changed, or it was tampered with)."""


def derive_key(secret: str | bytes) -> bytes:
    """A Fernet key (urlsafe base64 of 32 bytes) from the app's secret; the same secret, the same key."""
    raw = secret.encode() if isinstance(secret, str) else bytes(secret)
    if not raw:
        raise ValueError("an empty secret seals nothing")
    return base64.urlsafe_b64encode(hmac.new(raw, LABEL, hashlib.sha256).digest())


def seal(key: bytes, code: str) -> str:
    return Fernet(key).encrypt(code.encode()).decode()


def unseal(key: bytes, sealed: str) -> str:
    try:
        return Fernet(key).decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError) as exc:
        raise Unsealable("this sealed code does not open with the service's key") from exc
