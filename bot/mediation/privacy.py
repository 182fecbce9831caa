"""Sealing a case's personal fields (the phone number, what happened) at rest.

Fernet (AES-128-CBC with an HMAC, from `cryptography`) under a key derived with HKDF
from the secret key: the database, its backups and the shared state hold only
ciphertext, and the same secret key opens them in every process. A changed secret key
cannot open what was sealed before; such a field reads as unavailable, not as an error.
"""

from __future__ import annotations

import base64
import re

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

INFO = b"legalbot mediation personal fields v1"
UNREADABLE = "（无法读取：密钥已更换）"
PHONE = re.compile(r"(?:\+?86[- ]?)?(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})")


class Sealer:
    """Encrypts and decrypts personal fields with a key derived from the secret key."""

    def __init__(self, secret_key: str) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(
            secret_key.encode()
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, value: str | None) -> str | None:
        if not value:
            return None
        return self._fernet.encrypt(value.encode()).decode()

    def open(self, sealed: str | None) -> str | None:
        if not sealed:
            return None
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return UNREADABLE


def phone_number(text: str) -> str | None:
    """The phone number a resident typed (mobile or landline), digits and dash only."""
    compact = re.sub(r"[\s()（）]", "", text)
    found = PHONE.fullmatch(compact)
    return found.group(1) if found else None


def masked(phone: str) -> str:
    """138****5678: enough for the resident to check, not enough to dial."""
    return phone[:3] + "*" * max(len(phone) - 7, 1) + phone[-4:] if len(phone) > 7 else "****"
