"""What every state store offers: keys with expiry, and the claim of a message."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from wechatpy.session import SessionStorage


@dataclass(frozen=True)
class Seen:
    """A request's (timestamp, nonce) as `key`, the digest of its body, kept `ttl` s.

    WeChat's retry of a message repeats its request exactly; a captured query string
    posted with another body is a forgery (in plaintext mode the signature does not
    cover the body), so the first body seen with a (timestamp, nonce) is remembered
    until the timestamp is too old to be accepted anyway.
    """

    key: str
    digest: str
    ttl: float


@dataclass(frozen=True)
class Claim:
    """What claiming a message's key found.

    `new`: this request won the key; it records and replies. Otherwise `stored` is what
    the first request stored (a retry replies it), unless `forged`: the request's
    (timestamp, nonce) came before with another body, and nothing was claimed.
    """

    new: bool
    stored: str | None = None
    forged: bool = False


CLAIMED = Claim(new=True)
FORGED = Claim(new=False, forged=True)


class State(Protocol):
    """Key/value store with expiry; values are strings."""

    def set(self, key: str, value: str, ttl: float, only_new: bool = False) -> bool:
        """Store `value` for `ttl` seconds; with `only_new`, only if the key is absent."""

    def get(self, key: str) -> str | None: ...

    def delete(self, key: str) -> None: ...

    def claim(self, key: str, value: str, ttl: float, seen: Seen | None = None) -> Claim:
        """Store `value` under a new `key` for `ttl` s, after checking `seen`; atomically."""

    def ping(self) -> bool: ...

    def token_storage(self) -> SessionStorage:
        """Where wechatpy keeps the access token (shared between workers with Redis)."""


def get_json(state: State, key: str) -> Any:
    """Read a JSON value stored with `set_json`, or None."""
    raw = state.get(key)
    return None if raw is None else json.loads(raw)


def set_json(state: State, key: str, value: Any, ttl: float) -> None:
    state.set(key, json.dumps(value, ensure_ascii=False), ttl)
