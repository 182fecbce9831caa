"""The people's mediation register: one row per dispute a committee took on.

Privacy: the resident's phone number and the account of what happened are personal
data. They are stored sealed (bot/mediation/privacy.py: encrypted under a key derived
from the secret key), read only by accounts with "mediation_private", and set to NULL
`mediation.keep_days` after the case closes; every other column, and so every count,
stays. A case asked for on the account carries the resident's pseudonymous id, never
the OpenID (the customer-service message looks that up in `followers` when it is sent).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class MediationCase(Base):
    __tablename__ = "mediation_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # What the resident is told and quotes back: the day and four digits (20261204-0421).
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    accepted_on: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(24))  # bot/mediation/tables.py KINDS
    committee: Mapped[str | None] = mapped_column(String(8))  # town | village; None: unassigned
    committee_name: Mapped[str | None] = mapped_column(String(64))
    mediator: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))  # wechat | walk-in | police-room | referral
    state: Mapped[str] = mapped_column(String(16), index=True)
    closed_on: Mapped[date | None] = mapped_column(Date)
    village: Mapped[str | None] = mapped_column(String(64))  # where the resident lives
    user_id: Mapped[str | None] = mapped_column(String(32), index=True)  # pseudonym
    reply_here: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    phone_sealed: Mapped[str | None] = mapped_column(Text)
    description_sealed: Mapped[str | None] = mapped_column(Text)
    personal_deleted_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
