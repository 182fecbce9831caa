"""Read-only figures over the records (the `legalbot stats` commands and the console).

Every figure of a period is what the raw `events` still hold plus what the roll-up
(bot/rollup.py) kept of the deleted ones: `daily_counts` for counts, `daily_users` for
distinct residents, `campaign_engagement` for a campaign's 72-hour engagement. Counts are
derived from grouped rows by one Python function, `metric_keys`, for raw and rolled-up
data alike, so a figure cannot change when its events are rolled up.

Days are local days of the configured time zone. Queries are single short read
transactions (a SQLite WAL reader never blocks the webhook's writer).
"""

from __future__ import annotations

import contextlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, and_, case, func, literal_column, select, union
from sqlalchemy.orm import Session

from .records import (
    Activity,
    Campaign,
    CampaignEngagement,
    CampaignRecipient,
    DailyCount,
    DailyUser,
    Event,
    Follower,
    RollupState,
    UnansweredDaily,
    UnansweredQuestion,
)

GRANULARITIES = ("day", "week", "month", "year")
ENGAGEMENT_WINDOW = timedelta(hours=72)
MASS_AUDIENCES = ("all", "tag:")  # WeChat mass sends; the rest are customer-service sends
# Recipient statuses counted as reached: `presumed` is a send interrupted after WeChat may
# have taken it, counted in the campaign's `sent` (scheduler/store.py, README Campaigns).
DELIVERED = ("sent", "presumed")
BASE_METRICS = (
    "messages",
    "answered",
    "unanswered",
    "suggested",
    "referred",
    "urgent",
    "subscribes",
    "unsubscribes",
    "clicks",
)
# Reply kinds that change what a message counts as (README, "What counts"): greetings,
# the menu and theme lists are not questions, even where an older version recorded them
# as such; a suggestion and a referral are unanswered questions counted apart as well;
# `urgent` is a resident in danger, answered with the emergency number first.
NOT_QUESTIONS = ("greeting", "menu", "theme_list", "urgent")
_COUNTED_REPLIES = (*NOT_QUESTIONS, "suggest", "referral")
# Keyed metrics: answered questions by theme and by entry, subscribes and scans by QR
# scene, menu clicks by key, messages by kind.
KEYED_METRICS = ("theme", "entry", "scene", "scan", "click", "kind")

# The event columns every count is derived from; entry and click key only where they
# count, so the groups stay few (a VIEW's URL must not make a group per page).
_GROUP_COLUMNS = (
    Event.kind,
    Event.is_message,
    Event.is_question,
    Event.matched,
    Event.theme,
    case((Event.matched.is_(True), Event.entry_id)).label("entry"),
    Event.scene,
    case((Event.kind == "click", Event.event_key)).label("click_key"),
    case((Event.reply_kind.in_(_COUNTED_REPLIES), Event.reply_kind)).label("reply"),
)
_GROUP_NAMES = (
    "kind",
    "is_message",
    "is_question",
    "matched",
    "theme",
    "entry",
    "scene",
    "click_key",
    "reply",
)


def current_year(tz: ZoneInfo) -> tuple[date, date]:
    """The current calendar year in the configured time zone: the default period."""
    year = datetime.now(tz).year
    return date(year, 1, 1), date(year, 12, 31)


def _bounds(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC instants of local midnight at `start` and after `end` (`end` is inclusive)."""
    low = datetime.combine(start, time.min, tz).astimezone(UTC)
    high = datetime.combine(end + timedelta(days=1), time.min, tz).astimezone(UTC)
    return low, high


def metric_keys(
    kind, is_message, is_question, matched, theme, entry, scene, click_key, reply=None
) -> Iterator[tuple[str, str]]:
    """The (metric, key) pairs one event counts towards: THE definition of every count."""
    question = bool(is_question) and reply not in NOT_QUESTIONS
    answered = question and matched is True
    if is_message:
        yield "messages", ""
        yield "kind", kind
    if question:
        yield ("answered" if answered else "unanswered"), ""
        if reply == "suggest":
            yield "suggested", ""
        elif reply == "referral":
            yield "referred", ""
    if reply == "urgent":
        yield "urgent", ""
    if answered and theme:
        yield "theme", theme
    if answered and entry:
        yield "entry", entry
    if kind == "subscribe":
        yield "subscribes", ""
        if scene:
            yield "scene", scene
    elif kind == "unsubscribe":
        yield "unsubscribes", ""
    elif kind == "click":
        yield "clicks", ""
        if click_key:
            yield "click", click_key
    elif kind == "scan" and scene:
        yield "scan", scene


# ---- time zone: local days in SQL ----------------------------------------------------


def offset_segments(low: datetime, high: datetime, tz: ZoneInfo) -> list[tuple[datetime, int]]:
    """(start, UTC offset in minutes) of each stretch of [low, high) with one offset.

    SQLite has no time zones; a local day is date(created_at + offset) within a stretch.
    Asia/Shanghai has one stretch; zones with daylight saving time have one per change,
    found by bisection to the microsecond (changes are months apart; a week is the probe).
    """
    segments = [(low, _offset(low, tz))]
    probe = low
    while probe < high:
        step = min(probe + timedelta(days=7), high)
        if _offset(step, tz) == segments[-1][1]:
            probe = step
            continue
        before, after = probe, step
        while after - before > timedelta(microseconds=1):
            middle = before + (after - before) / 2
            if _offset(middle, tz) == segments[-1][1]:
                before = middle
            else:
                after = middle
        if after < high:
            segments.append((after, _offset(after, tz)))
        probe = after
    return segments


def _offset(at: datetime, tz: ZoneInfo) -> int:
    return int(at.astimezone(tz).utcoffset().total_seconds() // 60)


def local_day(conn: Connection, column, tz: ZoneInfo, low: datetime, high: datetime):
    """SQL for the local date of a UTC timestamp column (a date, or 'YYYY-MM-DD' text)."""
    if conn.dialect.name == "postgresql":
        return func.date(func.timezone(tz.key, column))
    segments = offset_segments(low, high, tz)
    days = [func.date(column, f"{minutes:+d} minutes") for _, minutes in segments]
    if len(days) == 1:
        return days[0]
    whens = [(column < nxt, day) for (nxt, _), day in zip(segments[1:], days, strict=False)]
    return case(*whens, else_=days[-1])


def as_date(value) -> date:
    """Dates come back as `date` from PostgreSQL and as text from SQLite."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def bucket_start(day: date, granularity: str) -> date:
    """First day of the week (Monday), month or year `day` falls in."""
    if granularity == "week":
        return day - timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    if granularity == "year":
        return day.replace(month=1, day=1)
    return day


def bucket_label(start: date, granularity: str) -> str:
    if granularity == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if granularity == "month":
        return start.strftime("%Y-%m")
    if granularity == "year":
        return str(start.year)
    return start.isoformat()


# ---- counts --------------------------------------------------------------------------


class Counts:
    """metric -> key -> count for a period (or one day)."""

    def __init__(self) -> None:
        self.data: dict[str, Counter] = defaultdict(Counter)

    def add(self, metric: str, key: str, count: int) -> None:
        self.data[metric][key or ""] += count

    def total(self, metric: str) -> int:
        return sum(self.data.get(metric, Counter()).values())

    def by_key(self, metric: str) -> dict[str, int]:
        items = [(k, v) for k, v in self.data.get(metric, Counter()).items() if v]
        return dict(sorted(items, key=lambda kv: (-kv[1], kv[0])))

    def add_group(self, row: Iterable, count: int) -> None:
        for metric, key in metric_keys(*row):
            self.add(metric, key, count)


@contextlib.contextmanager
def _hash_grouping(conn: Connection):
    """PostgreSQL estimates one group per combination of the grouped columns (800,000
    for a year of events) and sorts every row to group them; there are a few hundred
    groups, and hashing them is three times faster. Local to the read transaction."""
    if conn.dialect.name != "postgresql":
        yield
        return
    conn.exec_driver_sql("SET LOCAL enable_sort = off")
    conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")
    try:
        yield
    finally:
        conn.exec_driver_sql("SET LOCAL enable_sort TO DEFAULT")
        conn.exec_driver_sql("SET LOCAL work_mem TO DEFAULT")


def raw_counts_by_day(conn: Connection, tz: ZoneInfo, low: datetime, high: datetime):
    """{local day: Counts} of the raw events in [low, high)."""
    day = local_day(conn, Event.created_at, tz, low, high).label("day")
    inner = select(day, *_GROUP_COLUMNS).where(Event.created_at >= low, Event.created_at < high)
    sub = inner.subquery()
    columns = [sub.c[name] for name in _GROUP_NAMES]
    query = select(sub.c.day, *columns, func.count()).group_by(sub.c.day, *columns)
    result: dict[date, Counts] = defaultdict(Counts)
    with _hash_grouping(conn):
        rows = conn.execute(query).all()
    for row in rows:
        result[as_date(row[0])].add_group(row[1:-1], row[-1])
    return result


def raw_counts(conn: Connection, low: datetime, high: datetime, into: Counts) -> None:
    """Add the counts of the raw events in [low, high) (one grouped scan) to `into`."""
    query = (
        select(*_GROUP_COLUMNS, func.count())
        .where(Event.created_at >= low, Event.created_at < high)
        .group_by(*_GROUP_COLUMNS)
    )
    with _hash_grouping(conn):
        rows = conn.execute(query).all()
    for row in rows:
        into.add_group(row[:-1], row[-1])


def _rolled_counts(conn: Connection, start: date, end: date, into: Counts) -> None:
    query = (
        select(DailyCount.metric, DailyCount.key, func.sum(DailyCount.count))
        .where(DailyCount.day >= start, DailyCount.day <= end)
        .group_by(DailyCount.metric, DailyCount.key)
    )
    for metric, key, count in conn.execute(query):
        into.add(metric, key, int(count))


@dataclass(frozen=True)
class Parts:
    """Where a period's figures come from: raw events in [raw_low, raw_high) and
    rolled-up days in [first_day, last_day]; either may be absent."""

    raw: tuple[datetime, datetime] | None
    rolled: tuple[date, date] | None


def parts(conn: Connection, tz: ZoneInfo, start: date, end: date) -> Parts:
    """Split a period at the roll-up's watermark (bot/rollup.py): days before it are
    read from the daily tables, instants after it from the raw events, never both."""
    low, high = _bounds(start, end, tz)
    mark = conn.execute(
        select(RollupState.aggregated_day, RollupState.aggregated_at).where(RollupState.id == 1)
    ).first()
    if mark is None:
        return Parts((low, high), None)
    day, at = as_date(mark[0]), aware(mark[1])
    raw = (max(low, at), high) if at < high else None
    last = day - timedelta(days=1)
    return Parts(raw, (start, min(end, last)) if start <= last else None)


def period_counts(conn: Connection, tz: ZoneInfo, start: date, end: date) -> Counts:
    counts = Counts()
    split = parts(conn, tz, start, end)
    if split.raw:
        raw_counts(conn, *split.raw, counts)
    if split.rolled:
        _rolled_counts(conn, *split.rolled, counts)
    return counts


def unique_users(conn: Connection, tz: ZoneInfo, start: date, end: date) -> int:
    """Distinct residents who sent a message: raw senders plus rolled-up presence rows."""
    split = parts(conn, tz, start, end)
    selects = []
    if split.raw:
        low, high = split.raw
        selects.append(
            select(Event.user_id).where(
                Event.created_at >= low, Event.created_at < high, Event.is_message.is_(True)
            )
        )
    if split.rolled:
        first, last = split.rolled
        selects.append(
            select(DailyUser.user_id).where(DailyUser.day >= first, DailyUser.day <= last)
        )
    if not selects:
        return 0
    both = (union(*selects) if len(selects) > 1 else selects[0].distinct()).subquery()
    return conn.execute(select(func.count()).select_from(both)).scalar_one()


# ---- the summary ---------------------------------------------------------------------


def summary(engine: Engine, tz: ZoneInfo, start: date, end: date, top: int = 20) -> dict:
    """The outreach figures of a period (CONTRACT.md's summary object, and more)."""
    with engine.connect() as conn:
        counts = period_counts(conn, tz, start, end)
        users = unique_users(conn, tz, start, end)
        campaigns = campaign_figures(conn, tz, start, end)
        activities = activity_figures(conn, start, end, counts)
        unanswered = top_unanswered(conn, start, end, top)
    answered, missed = counts.total("answered"), counts.total("unanswered")
    subscribes, unsubscribes = counts.total("subscribes"), counts.total("unsubscribes")
    scenes = counts.by_key("scene")
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "timezone": tz.key,
        "messages_received": counts.total("messages"),
        "unique_users": users,
        "answered": answered,
        "unanswered": missed,
        "answer_rate": round(answered / (answered + missed), 4) if answered + missed else None,
        "suggested": counts.total("suggested"),
        "referred": counts.total("referred"),
        "urgent": counts.total("urgent"),
        "subscribes": subscribes,
        "unsubscribes": unsubscribes,
        "net_followers": subscribes - unsubscribes,
        "menu_clicks": counts.total("clicks"),
        "by_theme": counts.by_key("theme"),
        "by_entry": counts.by_key("entry"),
        "by_kind": counts.by_key("kind"),
        "menu_clicks_by_key": counts.by_key("click"),
        "followers_by_scene": scenes,
        "scans_by_scene": counts.by_key("scan"),
        "top_unanswered": unanswered,
        "campaigns": campaigns,
        "campaign_totals": _campaign_totals(campaigns),
        "activities": activities,
        "activity_totals": _activity_totals(activities, scenes),
    }


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


# ---- the series (by day, week, month, year) ------------------------------------------


SERIES_FIELDS = (
    "messages_received",
    "unique_users",
    "answered",
    "unanswered",
    "subscribes",
    "unsubscribes",
    "net_followers",
    "menu_clicks",
)


def series(engine: Engine, tz: ZoneInfo, start: date, end: date, granularity: str = "day"):
    """One row per day, week, month or year of the period (the first and last may be
    partial: they hold only the period's days)."""
    if granularity not in GRANULARITIES:
        raise ValueError(f"granularity must be one of {', '.join(GRANULARITIES)}")
    with engine.connect() as conn:
        split = parts(conn, tz, start, end)
        days = raw_counts_by_day(conn, tz, *split.raw) if split.raw else defaultdict(Counts)
        if split.rolled:
            first, last = split.rolled
            rolled = select(DailyCount.day, DailyCount.metric, func.sum(DailyCount.count)).where(
                DailyCount.day >= first,
                DailyCount.day <= last,
                DailyCount.metric.in_(BASE_METRICS),
            )
            for day, metric, count in conn.execute(
                rolled.group_by(DailyCount.day, DailyCount.metric)
            ):
                days[as_date(day)].add(metric, "", int(count))
        users = _users_by_bucket(conn, tz, start, end, granularity)
    buckets: dict[date, Counts] = {}
    day = start
    while day <= end:
        buckets.setdefault(bucket_start(day, granularity), Counts())
        day += timedelta(days=1)
    for day, counts in days.items():
        target = buckets[bucket_start(day, granularity)]
        for metric in BASE_METRICS:
            target.add(metric, "", counts.total(metric))
    rows = []
    for first, counts in sorted(buckets.items()):
        subscribes, unsubscribes = counts.total("subscribes"), counts.total("unsubscribes")
        rows.append(
            {
                "start": max(first, start).isoformat(),
                "label": bucket_label(first, granularity),
                "messages_received": counts.total("messages"),
                "unique_users": users.get(first, 0),
                "answered": counts.total("answered"),
                "unanswered": counts.total("unanswered"),
                "subscribes": subscribes,
                "unsubscribes": unsubscribes,
                "net_followers": subscribes - unsubscribes,
                "menu_clicks": counts.total("clicks"),
            }
        )
    return rows


def _users_by_bucket(conn, tz, start, end, granularity) -> dict[date, int]:
    """Distinct senders per bucket, exact: distinct (day, user) pairs, then per bucket."""
    split = parts(conn, tz, start, end)
    selects = []
    if split.raw:
        low, high = split.raw
        day = local_day(conn, Event.created_at, tz, low, high).label("day")
        selects.append(
            select(day, Event.user_id).where(
                Event.created_at >= low, Event.created_at < high, Event.is_message.is_(True)
            )
        )
    if split.rolled:
        first, last = split.rolled
        selects.append(
            select(DailyUser.day, DailyUser.user_id).where(
                DailyUser.day >= first, DailyUser.day <= last
            )
        )
    if not selects:
        return {}
    pairs = (union(*selects) if len(selects) > 1 else selects[0]).subquery()
    bucket = _bucket_sql(conn, pairs.c.day, granularity).label("bucket")
    per_bucket = select(bucket, pairs.c.user_id).distinct().subquery()
    query = select(per_bucket.c.bucket, func.count()).group_by(per_bucket.c.bucket)
    return {as_date(b): n for b, n in conn.execute(query)}


def _bucket_sql(conn: Connection, day, granularity: str):
    if conn.dialect.name == "postgresql":
        if granularity == "day":
            return day
        return func.date(func.date_trunc(granularity, day))
    if granularity == "week":
        return func.date(day, "-6 days", "weekday 1")
    if granularity == "month":
        return func.date(day, "start of month")
    if granularity == "year":
        return func.date(day, "start of year")
    return func.date(day)


# ---- campaigns -----------------------------------------------------------------------


def is_mass_send(audience: str) -> bool:
    return audience == "all" or audience.startswith("tag:")


def _campaign_start():
    return func.coalesce(Campaign.started_at, Campaign.finished_at)


def campaign_figures(conn: Connection, tz: ZoneInfo, start: date, end: date) -> list[dict]:
    """Each campaign that went out in the period: audience, counts, 72-hour engagement.

    Engagement: distinct residents who interacted (any message or event but an
    unsubscribe) within 72 hours after the campaign reached them; for customer-service
    sends among its delivered recipients (from each one's own send time), for mass sends (whose
    recipients WeChat does not tell) any resident after the send started.
    """
    low, high = _bounds(start, end, tz)
    began = _campaign_start()
    query = (
        select(Campaign, CampaignEngagement.engaged)
        .outerjoin(CampaignEngagement, CampaignEngagement.campaign_id == Campaign.id)
        .where(began >= low, began < high)
        .order_by(began, Campaign.id)
    )
    now = datetime.now(UTC)
    figures = []
    for campaign, frozen in Session(bind=conn).execute(query).all():
        at = aware(campaign.started_at or campaign.finished_at)
        engaged = frozen if frozen is not None else engagement(conn, campaign)
        mass = is_mass_send(campaign.audience)
        figures.append(
            {
                "id": campaign.id,
                "name": campaign.name,
                "theme": campaign.theme,
                "audience": _audience_label(campaign.audience),
                "audience_kind": "mass" if mass else "customer_service",
                "audience_name": audience_name(campaign.audience),
                "state": campaign.state,
                "started_at": at.astimezone(tz).isoformat(timespec="seconds"),
                "recipients": campaign.recipients,
                "sent": campaign.sent,
                "presumed": campaign.presumed,
                "filtered": campaign.filtered,
                "skipped": campaign.skipped,
                "errors": campaign.failed,
                "engaged": engaged,
                "engagement_rate": round(engaged / campaign.sent, 4) if campaign.sent else None,
                "window_closed": now >= at + ENGAGEMENT_WINDOW,
            }
        )
    return figures


def _audience_label(audience: str) -> str:
    """`openids:FILE` names a file on the server: only its kind is reported."""
    return "openids" if audience.startswith("openids:") else audience


def audience_name(audience: str) -> str:
    """The audience in the words of the console and the exports."""
    if audience == "all":
        return "全部关注者（群发）"
    if audience.startswith("tag:"):
        return f"标签 {audience[4:]}（群发）"
    if audience == "active48h":
        return "48小时内互动的关注者（客服消息）"
    return "指定名单（客服消息）"


def aware(at: datetime) -> datetime:
    """SQLite gives timestamps back without their zone; they were written in UTC."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def engagement(conn: Connection, campaign: Campaign) -> int:
    """Distinct residents who interacted within 72 hours after `campaign` (from raw events)."""
    began = aware(campaign.started_at or campaign.finished_at)
    acted = and_(Event.kind != "unsubscribe")
    if is_mass_send(campaign.audience):
        query = select(func.count(func.distinct(Event.user_id))).where(
            acted, Event.created_at >= began, Event.created_at < began + ENGAGEMENT_WINDOW
        )
        return conn.execute(query).scalar_one()
    sent_at = func.coalesce(CampaignRecipient.sent_at, began)
    last = conn.execute(
        select(func.max(CampaignRecipient.sent_at)).where(
            CampaignRecipient.campaign_id == campaign.id
        )
    ).scalar_one()
    # The whole send's bounds let the database read the window's events by time first.
    until = max(began, aware(last) if last else began) + ENGAGEMENT_WINDOW
    query = (
        select(func.count(func.distinct(Event.user_id)))
        .select_from(CampaignRecipient)
        .join(Follower, Follower.id == CampaignRecipient.follower_id)
        .join(Event, Event.user_id == Follower.user_id)
        .where(
            CampaignRecipient.campaign_id == campaign.id,
            CampaignRecipient.status.in_(DELIVERED),
            acted,
            Event.created_at >= began,
            Event.created_at < until,
            Event.created_at >= sent_at,
            Event.created_at < _plus_window(conn, sent_at),
        )
    )
    return conn.execute(query).scalar_one()


def _plus_window(conn: Connection, instant):
    hours = int(ENGAGEMENT_WINDOW.total_seconds() // 3600)
    if conn.dialect.name == "postgresql":
        return instant + literal_column(f"interval '{hours} hours'")
    # SQLite keeps UTC text 'YYYY-MM-DD HH:MM:SS.ffffff'; strftime keeps that shape.
    return func.strftime("%Y-%m-%d %H:%M:%f000", instant, f"+{hours} hours")


def _campaign_totals(campaigns: list[dict]) -> dict:
    return {
        "count": len(campaigns),
        "sent": sum(c["sent"] for c in campaigns),
        "filtered": sum(c["filtered"] or 0 for c in campaigns),
        "errors": sum(c["errors"] for c in campaigns),
        "engaged": sum(c["engaged"] for c in campaigns),
    }


# ---- offline activities --------------------------------------------------------------


def activity_figures(conn: Connection, start: date, end: date, counts: Counts) -> list[dict]:
    """The offline activities held in the period, each with the followers its QR scene
    brought within the period (a scene shared by two activities counts for both)."""
    query = (
        select(Activity)
        .where(Activity.held_on >= start, Activity.held_on <= end)
        .order_by(Activity.held_on, Activity.id)
    )
    scenes, scans = counts.data.get("scene", Counter()), counts.data.get("scan", Counter())
    return [
        {
            "id": a.id,
            "date": as_date(a.held_on).isoformat(),
            "kind": a.kind,
            "kind_name": ACTIVITY_KINDS.get(a.kind, a.kind),
            "place": a.place,
            "theme": a.theme,
            "attendance": a.attendance,
            "scene": a.scene,
            "followers_gained": scenes.get(a.scene, 0) if a.scene else None,
            "scans": scans.get(a.scene, 0) if a.scene else None,
        }
        for a in Session(bind=conn).scalars(query).all()
    ]


def _activity_totals(activities: list[dict], scenes: dict[str, int]) -> dict:
    by_kind: dict[str, dict] = {}
    for a in activities:
        entry = by_kind.setdefault(a["kind"], {"count": 0, "attendance": 0})
        entry["count"] += 1
        entry["attendance"] += a["attendance"] or 0
    activity_scenes = {a["scene"] for a in activities if a["scene"]}
    return {
        "count": len(activities),
        "attendance": sum(a["attendance"] or 0 for a in activities),
        "attendance_unknown": sum(1 for a in activities if a["attendance"] is None),
        "by_kind": by_kind,
        "followers_via_activities": sum(scenes.get(s, 0) for s in activity_scenes),
        "followers_via_any_scene": sum(scenes.values()),
    }


# The kinds of offline activity (slug -> name); the seed report counts 讲座 and
# 法律明白人培训 apart from the other publicity.
ACTIVITY_KINDS = {
    "market": "集市宣传",
    "lecture": "法治讲座",
    "school": "法律进学校",
    "village": "法律进乡村",
    "enterprise": "法律进企业",
    "training": "法律明白人培训",
    "mediator_training": "人民调解员培训",
    "performance": "法治文艺演出",
    "other": "其他普法活动",
}


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
