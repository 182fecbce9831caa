"""The outreach figures of a period, as one typed object (`legalbot stats summary`).

Counts come from counts.py, offline activities from activities.py, campaigns from the
plug-ins that know them (scheduler/ declares one under the `legalbot.figures` entry
point: bot/ reads no campaign table itself). Labels and units are in labels.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, make_dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, func, select

from .. import plugins
from ..mediation import figures as mediation_figures
from ..records import UnansweredDaily, UnansweredQuestion
from .activities import activity_figures, activity_totals
from .counts import period_counts, unique_users
from .labels import FIGURES

NO_CAMPAIGNS = {"count": 0, "sent": 0, "filtered": 0, "errors": 0, "engaged": 0}


KEYED: dict[str, Callable[[], Any]] = {  # the keyed breakdowns, each with its empty value
    "by_theme": dict,
    "by_entry": dict,
    "by_kind": dict,
    "menu_clicks_by_key": dict,
    "followers_by_scene": dict,
    "scans_by_scene": dict,
    "top_unanswered": list,
    "campaigns": list,
    "campaign_totals": lambda: dict(NO_CAMPAIGNS),
    "activities": list,
    "activity_totals": dict,
    "mediation": lambda: None,  # None until the register holds a case (bot/mediation)
}


class _Derived:
    """The figures computed from the others (their rows in labels.py have no metric)."""

    @property
    def answer_rate(self) -> float | None:
        asked = self.answered + self.unanswered
        return round(self.answered / asked, 4) if asked else None

    @property
    def net_followers(self) -> int:
        return self.subscribes - self.unsubscribes

    @property
    def campaign_count(self) -> int:
        return self.campaign_totals["count"]

    @property
    def campaign_sent(self) -> int:
        return self.campaign_totals["sent"]

    @property
    def campaign_engaged(self) -> int:
        return self.campaign_totals["engaged"]

    @property
    def activity_count(self) -> int:
        return self.activity_totals.get("count", 0)

    @property
    def activity_attendance(self) -> int:
        return self.activity_totals.get("attendance", 0)

    @property
    def followers_via_activities(self) -> int:
        return self.activity_totals.get("followers_via_activities", 0)

    def to_json(self) -> dict[str, Any]:
        """The object of `legalbot stats summary --json` (README, Statistics)."""
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "timezone": self.timezone,
            **{f.field: getattr(self, f.field) for f in FIGURES},
            **{name: getattr(self, name) for name in KEYED if getattr(self, name) is not None},
        }


# The figures of one period: a field per figure that totals a metric (labels.py), the
# distinct residents, the keyed breakdowns; the rest are _Derived's properties.
Summary = make_dataclass(
    "Summary",
    [
        ("start", date),
        ("end", date),
        ("timezone", str),
        ("unique_users", int, field(default=0)),
        *((f.field, int, field(default=0)) for f in FIGURES if f.metric),
        *((name, Any, field(default_factory=empty)) for name, empty in KEYED.items()),
    ],
    bases=(_Derived,),
    frozen=True,
)
Summary.__module__ = __name__


def summary(engine: Engine, tz: ZoneInfo, start: date, end: date, top: int = 20) -> Summary:
    """The outreach figures of a period."""
    with engine.connect() as conn:
        counts = period_counts(conn, tz, start, end)
        users = unique_users(conn, tz, start, end)
        activities = activity_figures(conn, start, end, counts)
        unanswered = top_unanswered(conn, start, end, top)
        more = _from_plugins(conn, tz, start, end)
        mediation = mediation_figures.period(conn, start, end)
    totals = {f.field: counts.total(f.metric) for f in FIGURES if f.metric}
    scenes = counts.by_key("scene")
    return Summary(
        start=start,
        end=end,
        timezone=tz.key,
        unique_users=users,
        by_theme=counts.by_key("theme"),
        by_entry=counts.by_key("entry"),
        by_kind=counts.by_key("kind"),
        menu_clicks_by_key=counts.by_key("click"),
        followers_by_scene=scenes,
        scans_by_scene=counts.by_key("scan"),
        top_unanswered=unanswered,
        activities=activities,
        activity_totals=activity_totals(activities, scenes),
        mediation=mediation,
        **totals,
        **more,
    )


def _from_plugins(conn: Connection, tz: ZoneInfo, start: date, end: date) -> dict[str, Any]:
    """What the `legalbot.figures` plug-ins add for the period (the campaigns)."""
    more: dict[str, Any] = {}
    for provider in plugins.load(plugins.FIGURES):
        more.update(provider.period(conn, tz, start, end))
    return more


def top_unanswered(conn: Connection, start: date, end: date, limit: int = 20) -> list[dict]:
    """The most asked unanswered questions of the period (texts only, never a sender)."""
    total = func.sum(UnansweredDaily.count).label("count")
    query = (
        select(UnansweredQuestion.text, total)
        .join(UnansweredDaily, UnansweredDaily.text_hash == UnansweredQuestion.text_hash)
        .where(UnansweredDaily.day >= start, UnansweredDaily.day <= end)
        .group_by(UnansweredQuestion.id, UnansweredQuestion.text)
        .order_by(total.desc(), UnansweredQuestion.text)
        .limit(limit)
    )
    return [{"text": text, "count": int(count)} for text, count in conn.execute(query)]


@dataclass(frozen=True)
class Names:
    """Chinese names of theme slugs and (title, theme) of entry ids, for exports and reports."""

    themes: dict[str, str]
    entries: dict[str, tuple[str, str]]

    def theme(self, slug: str | None) -> str:
        return self.themes.get(slug, slug) if slug else ""

    @classmethod
    def of(cls, kb) -> Names:
        """From a loaded KnowledgeBase."""
        return cls(dict(kb.themes), {e.id: (e.title, e.theme) for e in kb.entries})
