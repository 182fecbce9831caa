"""Pseudonymous user ids: a resident's OpenID stays in `followers`, everywhere else this.

A keyed hash (HMAC-SHA256 under the secret key) of the OpenID: stable while the key is,
and no one without the key can tell which OpenID it stands for.
"""

from __future__ import annotations

import functools
import hashlib
import hmac


@functools.lru_cache(maxsize=4096)  # a resident writes several messages in a row
def pseudonym(secret_key: str, openid: str) -> str:
    """The pseudonymous user id: a keyed hash, stable while the secret key is."""
    digest = hmac.new(secret_key.encode(), openid.encode(), hashlib.sha256).hexdigest()
    return digest[:32]
