"""WeChat's retries: the same message answered once, recorded once.

WeChat waits 5 seconds for a passive reply, then retries the same message up to three
times within 15 seconds. A retry must get the first request's reply, and the message
must count once: the first request to claim the message's key (with its reply) in the
shared state wins; the database's unique key on `events.dedupe_key` is the last word.
"""

from __future__ import annotations

import hashlib

from wechatpy.messages import BaseMessage

from ..state import Claim, Seen, State
from ..wechat import raw_field


def dedupe_key(message: BaseMessage, user_id: str) -> str:
    """WeChat's retry identity: MsgId for messages, sender+CreateTime+Event for events.

    WeChat's own advice for events is FromUserName + CreateTime; the event type and a
    digest of its EventKey are added, so a retry (the same body again) is still one
    event while two different menu clicks in the same second are two.
    """
    if message.id:
        return f"m:{message.id}"
    event = getattr(message, "event", "") or raw_field(message, "Event").lower()
    key = raw_field(message, "EventKey")
    digest = ":" + hashlib.sha1(key.encode()).hexdigest()[:10] if key else ""
    return f"e:{user_id}:{message.time}:{(event or raw_field(message, 'MsgType'))[:24]}{digest}"


class Deduper:
    """Makes WeChat's retries (same MsgId, up to three times) see one handling and one reply.

    A message is answered first and claimed with its reply in one write that succeeds
    only for a new key: one round trip to the shared state per message, not a claim
    and then a store. The request whose write succeeds is the one that records and
    replies; a retry (in any worker, even while the first is still answering) finds
    the key taken and replies what it holds. A retry thus also works out an answer,
    which costs less than a round trip more for every message.

    The same round trip checks the request against replays (`Seen`: its timestamp and
    nonce, with a digest of its body). What is stored is the reply's text alone, never
    its XML: that names the resident's OpenID, which stays in the followers table. A
    retry's reply is rendered afresh for the retry's own message (and encrypted for its
    nonce and timestamp).
    """

    def __init__(self, state: State, ttl: float):
        self.state = state
        self.ttl = ttl

    def claim(self, key: str, reply: str | None, seen: Seen | None = None) -> Claim:
        """Store the reply text of a new message; for a claimed `key`, what it holds."""
        return self.state.claim("dedupe:" + key, reply or "", self.ttl, seen)

    def replace(self, key: str, reply: str | None) -> None:
        """Store another reply for a claimed key (`success` once the answer goes out late)."""
        self.state.set("dedupe:" + key, reply or "", self.ttl)

    def stored(self, key: str) -> str | None:
        """The first request's reply text for a claimed key; None for `success` (or expired)."""
        return self.state.get("dedupe:" + key) or None
