"""Knowledge-base entries written or edited in the console, kept as drafts until an
editor publishes them into content/ (the files stay the base; this is the waiting room)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class DraftState:
    DRAFT = "draft"
    PUBLISHED = "published"
    DISCARDED = "discarded"


class KbDraft(Base):
    """One entry as staff wrote it in the console.

    `fields` is the entry as JSON (content/README.md's fields); `base_digest` is the hash
    of the entry's text in its theme file when the edit started ("" for a new entry), so
    publishing over a change made since is refused. `problems` holds, as JSON, what the
    last attempt to publish found wrong, by field, for the form to show again.
    """

    __tablename__ = "kb_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(120), index=True)
    theme: Mapped[str] = mapped_column(String(40))
    is_new: Mapped[bool] = mapped_column(Boolean, default=False)
    fields: Mapped[str] = mapped_column(Text)
    base_digest: Mapped[str] = mapped_column(String(64), default="")
    state: Mapped[str] = mapped_column(String(16), default=DraftState.DRAFT, index=True)
    problems: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
