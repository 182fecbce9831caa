"""Telling a resident that their case moved: one customer-service message.

WeChat accepts customer-service messages to a follower only within 48 hours of their
last message or event, so the message is sent only then; later, 我的调解 tells them.
The case holds the pseudonymous id; the OpenID is read from `followers` at send time
and goes nowhere else (not into a log line).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ..errors import WeChatAPIError
from ..records import Follower, aware, now
from . import tables

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=48)


def message(case: dict[str, Any]) -> str:
    return (
        f"您申请的人民调解（编号{case['reference']}）有新进展："
        f"{tables.TO_RESIDENT.get(case['state'], tables.state_name(case['state']))}。"
        "回复“我的调解”可随时查看。"
    )


def tell_resident(
    engine: Engine, send: Callable[[str, str], None], user_id: str, case: dict[str, Any]
) -> bool:
    """Send the state-change message if the resident wrote within 48 hours; True if sent."""
    with Session(engine) as db:
        follower = db.scalar(select(Follower).where(Follower.user_id == user_id))
        if follower is None or not follower.subscribed or follower.last_interaction_at is None:
            return False
        if now() - aware(follower.last_interaction_at) > WINDOW:
            return False
        openid = follower.openid
    try:
        send(openid, message(case))
    except (WeChatAPIError, OSError) as exc:
        log.warning("mediation case %s: state message not sent: %s", case["reference"], exc)
        return False
    return True
