"""The campaigns' part of the outreach figures: what went out in a period and who acted.

bot/figures/ reads no campaign table; it asks the plug-ins of the `legalbot.figures`
entry point (pyproject.toml) and this module is scheduler/'s: `period()` adds the
campaigns of a period to the summary, `freeze()` keeps each campaign's 72-hour
engagement before the roll-up deletes the events it was counted from.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, and_, func, literal_column, select
from sqlalchemy.orm import Session

from bot.figures.counts import bounds, midnight
from bot.records import Event, Follower, aware, upsert

from .models import Campaign, CampaignEngagement, CampaignRecipient
from .states import DELIVERED, FINISHED

ENGAGEMENT_WINDOW = timedelta(hours=72)


def is_mass_send(audience: str) -> bool:
    return audience == "all" or audience.startswith("tag:")


def audience_name(audience: str) -> str:
    """The audience in the words of the console and the exports."""
    if audience == "all":
        return "全部关注者（群发）"
    if audience.startswith("tag:"):
        return f"标签 {audience[4:]}（群发）"
    if audience == "active48h":
        return "48小时内互动的关注者（客服消息）"
    return "指定名单（客服消息）"


def period(conn: Connection, tz: ZoneInfo, start: date, end: date) -> dict:
    """The summary's `campaigns` and `campaign_totals` for the period."""
    campaigns = campaign_figures(conn, tz, start, end)
    totals = {
        "count": len(campaigns),
        "sent": sum(c["sent"] for c in campaigns),
        "filtered": sum(c["filtered"] or 0 for c in campaigns),
        "errors": sum(c["errors"] for c in campaigns),
        "engaged": sum(c["engaged"] for c in campaigns),
    }
    return {"campaigns": campaigns, "campaign_totals": totals}


def _began():
    return func.coalesce(Campaign.started_at, Campaign.finished_at)


def campaign_figures(conn: Connection, tz: ZoneInfo, start: date, end: date) -> list[dict]:
    """Each campaign that went out in the period: audience, counts, 72-hour engagement.

    Engagement: distinct residents who interacted (any message or event but an
    unsubscribe) within 72 hours after the campaign reached them; for customer-service
    sends among its delivered recipients (from each one's own send time), for mass sends
    (whose recipients WeChat does not tell) any resident after the send started.
    """
    low, high = bounds(start, end, tz)
    query = (
        select(Campaign, CampaignEngagement.engaged)
        .outerjoin(CampaignEngagement, CampaignEngagement.campaign_id == Campaign.id)
        .where(_began() >= low, _began() < high)
        .order_by(_began(), Campaign.id)
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
                # `openids:FILE` names a file on the server: only its kind is reported.
                "audience": "openids"
                if campaign.audience.startswith("openids:")
                else campaign.audience,
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


def engagement(conn: Connection, campaign: Campaign) -> int:
    """Distinct residents who interacted within 72 hours after `campaign` (raw events)."""
    began = aware(campaign.started_at or campaign.finished_at)
    acted = and_(Event.kind != "unsubscribe")
    if is_mass_send(campaign.audience):
        query = select(func.count(func.distinct(Event.user_id))).where(
            acted, Event.created_at >= began, Event.created_at < began + ENGAGEMENT_WINDOW
        )
        return conn.execute(query).scalar_one()
    sent_at = func.coalesce(CampaignRecipient.sent_at, began)
    # The whole send's bounds let the database read the window's events by time first.
    until = _window_end(conn, campaign, began)
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


def _window_end(conn: Connection, campaign: Campaign, start: datetime) -> datetime:
    """When the last recipient's 72 hours close (a mass send: the send's own)."""
    last = start
    if not is_mass_send(campaign.audience):
        latest = conn.execute(
            select(func.max(CampaignRecipient.sent_at)).where(
                CampaignRecipient.campaign_id == campaign.id
            )
        ).scalar_one()
        if latest is not None:
            last = max(last, aware(latest))
    return last + ENGAGEMENT_WINDOW


def freeze(engine: Engine, tz: ZoneInfo, delete_before: date | None, now: datetime):
    """Freeze the engagement of campaigns whose 72-hour windows have all closed, when
    they send no more or their events are about to be deleted; (the deletion day, how
    many were frozen).

    A window still open before the deletion cut (a send resumed days later) moves the
    cut back to the campaign's day, so none of its events go before its figure is final.
    """
    frozen = 0
    cut = midnight(delete_before, tz) if delete_before else None
    with engine.begin() as conn:
        candidates = Session(bind=conn).scalars(
            select(Campaign)
            .outerjoin(CampaignEngagement, CampaignEngagement.campaign_id == Campaign.id)
            .where(_began().is_not(None), CampaignEngagement.campaign_id.is_(None))
            .order_by(_began())
        )
        for campaign in candidates.all():
            start = aware(campaign.started_at or campaign.finished_at)
            end = _window_end(conn, campaign, start)
            doomed = cut is not None and start < cut
            if end > now:
                if doomed:
                    delete_before = min(delete_before, start.astimezone(tz).date())
                    cut = midnight(delete_before, tz)
                continue
            if campaign.state not in FINISHED and not doomed:
                continue
            conn.execute(
                upsert(engine, CampaignEngagement)
                .values(
                    campaign_id=campaign.id,
                    engaged=engagement(conn, campaign),
                    window_start=start,
                    window_end=end,
                    frozen_at=now,
                )
                .on_conflict_do_nothing(index_elements=["campaign_id"])
            )
            frozen += 1
    return delete_before, frozen
