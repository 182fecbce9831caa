"""WeChat's report on a campaign's mass send (MASSSENDJOBFINISH) fills in its counts.

It comes from the account's mass-send assistant, not a follower, so it is neither an
event row nor a follower's interaction. The inbox hands it here after the retry claim
(bot/inbox, the `legalbot.system_events` entry point), on the recorder's thread, so a
slow database never holds a reply.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, update
from sqlalchemy.exc import SQLAlchemyError

from bot.records import now

from .models import Campaign
from .states import State, sources

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MassJobReport:
    """WeChat's MASSSENDJOBFINISH event: how a mass send (`msg_id`) went."""

    msg_id: str
    status: str
    total: int
    filtered: int
    sent: int
    errors: int


def record_mass_job_finish(engine: Engine, report: MassJobReport) -> bool:
    """Fill in the campaign of a finished mass send; False when no campaign has `msg_id`.

    WeChat's FilterCount is the number it went on to send to after its own filters, so
    `skipped` is TotalCount - FilterCount. Values are set, not added: WeChat's retries
    of the event change nothing. Status is "send success", "send fail" or "err(num)".
    """
    ok = report.status.strip().lower() == "send success"
    values = {
        "recipients": report.total,
        "filtered": report.filtered,
        "sent": report.sent,
        "failed": report.errors,
        "skipped": max(report.total - report.filtered, 0),
        "state": State.SENT if ok else State.FAILED,
        "error": None if ok else f"WeChat reported the mass send as {report.status!r}",
        "finished_at": now(),
    }
    with engine.begin() as conn:
        done = conn.execute(
            update(Campaign)
            .where(Campaign.msg_id == report.msg_id, Campaign.state.in_(sources(State.SENT)))
            .values(**values)
        ).rowcount
    return bool(done)


def report_of(message) -> MassJobReport:
    """The report in a parsed MASSSENDJOBFINISH event (wechatpy's MassSendJobFinishEvent)."""
    return MassJobReport(
        msg_id=str(message.id),
        status=message.status or "",
        total=message.total_count,
        filtered=message.filter_count,
        sent=message.sent_count,
        errors=message.error_count,
    )


def system_events(engine: Engine) -> dict[str, Callable[[object], None]]:
    """What the inbox hands this module: `legalbot.system_events` entry point
    (pyproject.toml), event kind -> handler of the parsed message."""

    def finished(message) -> None:
        report = report_of(message)
        try:
            found = record_mass_job_finish(engine, report)
        except SQLAlchemyError as exc:
            log.error("mass send %s: result NOT recorded: %s", report.msg_id, exc)
            return
        if not found:
            log.warning("mass send %s finished, but no campaign has that msg_id", report.msg_id)

    return {"masssendjobfinish": finished}
