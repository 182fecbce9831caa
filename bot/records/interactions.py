"""What residents did: followers, one event row per message or event, unanswered questions.

Privacy: a resident's OpenID is stored in `followers` only (campaigns need it to send).
Every other table carries the pseudonymous `user_id` (pseudonyms.py).
"""

from __future__ import annotations

from dataclasses import field, make_dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, now


class Follower(Base):
    """One resident who has written to or followed the account."""

    __tablename__ = "followers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(String(32), unique=True)
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    scene: Mapped[str | None] = mapped_column(String(64))
    subscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The last message or event: WeChat allows customer-service messages for 48 hours after.
    last_interaction_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # True for a row made from an `openids:FILE` campaign audience (test OpenIDs) rather
    # than by WeChat: not a resident who followed or wrote. Cleared when they do write.
    imported: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Event(Base):
    """One inbound interaction, recorded once however often WeChat retries it."""

    __tablename__ = "events"
    # Every read of user_id is bounded by time (bot/records/migrations/versions/0004_…).
    __table_args__ = (Index("ix_events_created_at_user_id", "created_at", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # MsgId for messages; user+CreateTime+Event for events (WeChat's own retry identity).
    dedupe_key: Mapped[str] = mapped_column(String(96), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    user_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(24))
    is_message: Mapped[bool] = mapped_column(Boolean)
    is_question: Mapped[bool] = mapped_column(Boolean, default=False)
    matched: Mapped[bool | None] = mapped_column(Boolean)
    reply_kind: Mapped[str | None] = mapped_column(String(16))
    theme: Mapped[str | None] = mapped_column(String(32))
    entry_id: Mapped[str | None] = mapped_column(String(64))
    event_key: Mapped[str | None] = mapped_column(String(128))
    scene: Mapped[str | None] = mapped_column(String(64))


class UnansweredQuestion(Base):
    """A question the knowledge base could not answer, kept (without its sender) for staff."""

    __tablename__ = "unanswered_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), unique=True)
    text: Mapped[str] = mapped_column(Text)
    count: Mapped[int] = mapped_column(Integer, default=1)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


# ---- an interaction as the writer takes it -------------------------------------------
#
# The event row's columns are the model's: every column of `events` but its id. An
# Interaction carries each of them (created_at as `at`, when it happened) and what the
# writer does beside the row: the OpenID (for `followers`), the text of a question kept
# for staff, and a follow change ("subscribe" / "unsubscribe"). Adding a recorded field
# is a column of Event (and its migration) and the handler that sets it (bot/inbox).

EVENT_COLUMNS: tuple[str, ...] = tuple(c.name for c in Event.__table__.columns if not c.primary_key)
_ATTRIBUTE = {"created_at": "at"}
# The Interaction attribute of each event column, in the columns' order.
ROW_ATTRIBUTES: tuple[str, ...] = tuple(_ATTRIBUTE.get(c, c) for c in EVENT_COLUMNS)


def _interaction_fields() -> list[tuple]:
    """The dataclass fields of Interaction: the required columns first (no default, not
    nullable), then `at`, then the rest with their defaults."""
    required, optional = [], []
    for column in Event.__table__.columns:
        if column.primary_key:
            continue
        name = _ATTRIBUTE.get(column.name, column.name)
        if name == "at":
            continue
        default = column.default.arg if column.default is not None else None
        if not column.nullable and column.default is None:
            required.append((name, Any))
        else:
            optional.append((name, Any, field(default=default)))
    beside = [("question", Any, field(default=None)), ("follow_change", Any, field(default=None))]
    at = ("at", datetime, field(default_factory=now))
    return [("openid", str), *required, at, *optional, *beside]


# One inbound interaction as it will be written: an event row and its side effects, built
# once per message. Slots, not frozen: a frozen dataclass's __init__ costs 3x, per message.
Interaction = make_dataclass("Interaction", _interaction_fields(), slots=True)
Interaction.__module__ = __name__
