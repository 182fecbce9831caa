"""A campaign's states and the moves between them: the one table store, service, sender
and runner go by.

    draft ──schedule──▶ scheduled ──its time──▶ sending ──▶ sent | failed
      │                    │  ╲                   │  ╲
      └──send now──────────┼───╲──▶ missed        │   ▶ paused (resumable) ──▶ sending
                           ▼    (scheduler down   ▼
                       cancelled  past the grace) cancelled

A send in progress is `sending` with its sender's claim (store.claim); handing it back
(a clean stop, so the next scheduler resumes at once) keeps `sending` and clears the
claim, which is not a move. WeChat's report on a mass send (scheduler/massjob.py) has
the last word on `sent` and `failed`.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    MISSED = "missed"


# How the console and the command output name each state (the JSON keeps the keys).
STATE_NAMES: dict[State, str] = {
    State.DRAFT: "草稿",
    State.SCHEDULED: "已排期",
    State.SENDING: "发送中",
    State.PAUSED: "已暂停",
    State.SENT: "已发送",
    State.FAILED: "发送失败",
    State.CANCELLED: "已取消",
    State.MISSED: "已错过",
}

S = State
MOVES: dict[State, frozenset[State]] = {
    S.DRAFT: frozenset({S.SCHEDULED, S.SENDING, S.CANCELLED}),
    S.SCHEDULED: frozenset({S.SCHEDULED, S.SENDING, S.MISSED, S.CANCELLED}),
    S.SENDING: frozenset({S.SENT, S.FAILED, S.PAUSED, S.CANCELLED}),
    S.PAUSED: frozenset({S.SCHEDULED, S.SENDING, S.CANCELLED}),
    S.MISSED: frozenset({S.SCHEDULED, S.SENDING, S.CANCELLED}),
    S.SENT: frozenset({S.SENT, S.FAILED}),
    S.FAILED: frozenset({S.SENT, S.FAILED}),
    S.CANCELLED: frozenset(),
}
# States that send no more by themselves (a missed campaign waits to be rescheduled).
FINISHED = (S.SENT, S.FAILED, S.CANCELLED, S.MISSED)


def sources(target: State) -> tuple[State, ...]:
    """The states a campaign may move to `target` from, in the order of State."""
    return tuple(state for state in State if target in MOVES[state])


class Delivery(StrEnum):
    """A customer-service recipient's status (campaign_recipients.status)."""

    PENDING = "pending"
    SENDING = "sending"  # WeChat was asked; its answer not yet recorded
    SENT = "sent"
    PRESUMED = "presumed"  # asked before a crash: counted as sent, never sent again
    SKIPPED = "skipped"  # refused for the 48-hour window or unsubscription
    FAILED = "failed"


# Recipient statuses counted as reached (README, Campaigns).
DELIVERED = (Delivery.SENT, Delivery.PRESUMED)
