"""Read-only figures over the records (the `legalbot stats` commands and the console)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, and_, func, select

from .records import Event


def current_year(tz: ZoneInfo) -> tuple[date, date]:
    """The current calendar year in the configured time zone: the default period."""
    year = datetime.now(tz).year
    return date(year, 1, 1), date(year, 12, 31)


def _bounds(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC instants of local midnight at `start` and after `end` (`end` is inclusive)."""
    low = datetime.combine(start, time.min, tz).astimezone(UTC)
    high = datetime.combine(end + timedelta(days=1), time.min, tz).astimezone(UTC)
    return low, high


def summary(engine: Engine, tz: ZoneInfo, start: date, end: date) -> dict:
    """The outreach figures of a period (the fields of CONTRACT.md's summary object)."""
    low, high = _bounds(start, end, tz)
    period = and_(Event.created_at >= low, Event.created_at < high)
    questions = and_(period, Event.is_question.is_(True))
    with engine.connect() as conn:
        row = conn.execute(
            select(
                func.count().filter(Event.is_message.is_(True)),
                func.count(func.distinct(Event.user_id)).filter(Event.is_message.is_(True)),
                func.count().filter(Event.is_question.is_(True), Event.matched.is_(True)),
                func.count().filter(Event.is_question.is_(True), Event.matched.is_not(True)),
                func.count().filter(Event.kind == "subscribe"),
                func.count().filter(Event.kind == "unsubscribe"),
                func.count().filter(Event.kind == "click"),
            ).where(period)
        ).one()
        by_theme = dict(
            conn.execute(
                select(Event.theme, func.count())
                .where(questions, Event.matched.is_(True), Event.theme.is_not(None))
                .group_by(Event.theme)
            ).all()
        )
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "messages_received": row[0],
        "unique_users": row[1],
        "answered": row[2],
        "unanswered": row[3],
        "answer_rate": round(row[2] / (row[2] + row[3]), 4) if row[2] + row[3] else None,
        "subscribes": row[4],
        "unsubscribes": row[5],
        "menu_clicks": row[6],
        "by_theme": dict(sorted(by_theme.items(), key=lambda kv: (-kv[1], kv[0]))),
        "campaigns": [],
    }
