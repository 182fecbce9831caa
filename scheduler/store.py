"""The statements on the campaign tables: every state change is a compare-and-set.

A campaign changes state only with `UPDATE … WHERE id = ? AND state IN (…)`: of two
processes asking at once, one gets the row and the other gets 0 rows and is told no.
The same holds for each recipient of a customer-service send (`pending` -> `sending`).

SQLite keeps no offset with a DateTime: every time is written in UTC and read back
with `as_utc`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Integer, and_, case, func, insert, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import records
from bot.records import Follower

from .models import Campaign, CampaignRecipient
from .states import DELIVERED, MOVES, Delivery, State

CR = CampaignRecipient


def as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc(values: dict[str, Any]) -> dict[str, Any]:
    """Aware times in UTC: SQLite would store another zone's wall time as if it were UTC."""
    return {
        k: v.astimezone(UTC) if isinstance(v, datetime) and v.tzinfo else v
        for k, v in values.items()
    }


def insert_campaign(engine: Engine, **values: Any) -> int:
    at = records.now()
    values = _utc({"revision": 1, "created_at": at, "updated_at": at, **values})
    values.setdefault("state", State.DRAFT)
    for name in ("recipients", "sent", "skipped", "failed", "presumed"):
        values.setdefault(name, 0)
    with engine.begin() as conn:
        return conn.execute(insert(Campaign).values(**values).returning(Campaign.id)).scalar_one()


def get(engine: Engine, campaign_id: int) -> Campaign | None:
    with Session(engine) as session:
        return session.get(Campaign, campaign_id)


def all_campaigns(engine: Engine) -> list[Campaign]:
    with Session(engine) as session:
        return list(session.scalars(select(Campaign).order_by(Campaign.id)))


def by_plan_key(engine: Engine, key: str) -> Campaign | None:
    with Session(engine) as session:
        return session.scalars(select(Campaign).where(Campaign.plan_key == key)).first()


def transition(
    engine: Engine, campaign_id: int, from_states: Iterable[str], bump: bool = True, **values: Any
) -> bool:
    """Set `values` if the campaign is in one of `from_states`; a front end's change bumps
    `revision` so the running scheduler notices it. A new state must be a move of
    states.MOVES from each of `from_states`."""
    from_states = tuple(from_states)
    target = values.get("state")
    if target is not None and any(State(target) not in MOVES[State(s)] for s in from_states):
        raise ValueError(f"no move from {', '.join(from_states)} to {target}")
    values["updated_at"] = records.now()
    if bump:
        values["revision"] = Campaign.revision + 1
    with engine.begin() as conn:
        done = conn.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.state.in_(from_states))
            .values(**_utc(values))
        ).rowcount
    return bool(done)


def claim_send(
    engine: Engine,
    campaign_id: int,
    owner: str,
    states: Iterable[str],
    stale_before: datetime,
    revision: int | None = None,
    dead_owner: str | None = None,
) -> bool:
    """Make `owner` the one sender of the campaign, or return False.

    Allowed from `states`, or from `sending` when its sender's heartbeat is older than
    `stale_before` (or cleared on a clean stop), or when `dead_owner` is the sender,
    found dead on this machine.
    """
    at = records.now()
    abandoned = and_(
        Campaign.state == State.SENDING,
        or_(Campaign.heartbeat_at.is_(None), Campaign.heartbeat_at < stale_before),
    )
    allowed = [Campaign.state.in_(tuple(states)), abandoned]
    if dead_owner:
        allowed.append(and_(Campaign.state == State.SENDING, Campaign.sender == dead_owner))
    where = [Campaign.id == campaign_id, or_(*allowed)]
    if revision is not None:
        where.append(Campaign.revision == revision)
    with engine.begin() as conn:
        done = conn.execute(
            update(Campaign)
            .where(*where)
            .values(
                state=State.SENDING,
                sender=owner,
                heartbeat_at=at,
                error=None,
                started_at=func.coalesce(Campaign.started_at, at),
                updated_at=at,
            )
        ).rowcount
    return bool(done)


def heartbeat(engine: Engine, campaign_id: int, owner: str, **values: Any) -> bool:
    """Renew the claim (and store progress); False when the claim is gone (cancelled,
    or taken over after this process stalled): the sender must stop."""
    with engine.begin() as conn:
        done = conn.execute(
            _held(campaign_id, owner).values(heartbeat_at=records.now(), **values)
        ).rowcount
    return bool(done)


def _held(campaign_id: int, owner: str):
    """The update of a campaign `owner` is sending (its claim not lost)."""
    return update(Campaign).where(
        Campaign.id == campaign_id, Campaign.sender == owner, Campaign.state == State.SENDING
    )


def set_counts(engine: Engine, campaign_id: int, **counts: int) -> None:
    """Store counts computed from the recipients (correct whoever writes them)."""
    with engine.begin() as conn:
        conn.execute(update(Campaign).where(Campaign.id == campaign_id).values(**counts))


def finish(engine: Engine, campaign_id: int, owner: str, state: str, **values: Any) -> bool:
    """End `owner`'s send: the final state (or `sending` with no sender: hand it back)."""
    at = records.now()
    values = {"state": state, "updated_at": at, **values}
    if state != State.SENDING:
        values.setdefault("finished_at", at)
    with engine.begin() as conn:
        done = conn.execute(
            _held(campaign_id, owner).values(sender=None, heartbeat_at=None, **values)
        ).rowcount
    return bool(done)


def create_occurrence(engine: Engine, parent: Campaign, at: datetime, **values: Any) -> int | None:
    """The campaign that sends one occurrence of a recurring one; None if it exists already
    (the unique parent_id + scheduled_at makes a second scheduler's attempt a no-op)."""
    local = values.pop("label")
    insert_values = dict(
        name=f"{parent.name} · {local}",
        theme=parent.theme,
        content_kind=parent.content_kind,
        content=parent.content,
        audience=parent.audience,
        schedule_kind="at",
        schedule=local,
        scheduled_at=at,
        parent_id=parent.id,
        **values,
    )
    try:
        return insert_campaign(engine, **insert_values)
    except IntegrityError:
        return None


# ---- customer-service recipients: the send checkpoint --------------------------------


def has_recipients(engine: Engine, campaign_id: int) -> bool:
    with engine.connect() as conn:
        return conn.scalar(select(CR.id).where(CR.campaign_id == campaign_id).limit(1)) is not None


def snapshot_active(engine: Engine, campaign_id: int, since: datetime) -> None:
    """Every known follower becomes a recipient: `pending` if subscribed and within the
    48-hour window, else `skipped` there and then (rows made from OpenID files are not
    followers and are left out). One statement, so a crash leaves all or nothing."""
    in_window = and_(
        Follower.subscribed.is_(True),
        Follower.last_interaction_at.is_not(None),
        Follower.last_interaction_at >= since,
    )
    status = case((in_window, Delivery.PENDING), else_=Delivery.SKIPPED)
    rows = select(literal(campaign_id, Integer), Follower.id, status).where(
        Follower.imported.is_(False)
    )
    with engine.begin() as conn:
        conn.execute(insert(CR).from_select(["campaign_id", "follower_id", "status"], rows))


def import_openids(engine: Engine, secret_key: str, openids: list[str]) -> None:
    """Follower rows for the OpenIDs of a file that have none, flagged `imported` (they are
    test OpenIDs, not residents who followed: statistics leave them out)."""
    at = records.now()
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    insert_stmt = dialect.insert(Follower)
    with engine.begin() as conn:
        for start in range(0, len(openids), 500):
            chunk = openids[start : start + 500]
            conn.execute(
                insert_stmt.values(
                    [
                        {
                            "openid": openid,
                            "user_id": records.pseudonym(secret_key, openid),
                            "subscribed": True,
                            "imported": True,
                            "created_at": at,
                        }
                        for openid in chunk
                    ]
                ).on_conflict_do_nothing(index_elements=["openid"])
            )


def snapshot_openids(engine: Engine, campaign_id: int, openids: list[str]) -> None:
    """The file's followers become recipients; those known to have unfollowed are skipped."""
    status = case(
        (and_(Follower.subscribed.is_(False), Follower.imported.is_(False)), Delivery.SKIPPED),
        else_=Delivery.PENDING,
    )
    with engine.begin() as conn:
        for start in range(0, len(openids), 500):
            chunk = openids[start : start + 500]
            rows = select(literal(campaign_id, Integer), Follower.id, status).where(
                Follower.openid.in_(chunk)
            )
            conn.execute(insert(CR).from_select(["campaign_id", "follower_id", "status"], rows))


def presume_unconfirmed(engine: Engine, campaign_id: int) -> int:
    """The resume rule: a recipient claimed (`sending`) by a sender that died before it
    recorded WeChat's answer is presumed delivered, never sent again."""
    with engine.begin() as conn:
        return conn.execute(
            update(CR)
            .where(CR.campaign_id == campaign_id, CR.status == Delivery.SENDING)
            .values(status=Delivery.PRESUMED, sent_at=CR.attempted_at)
        ).rowcount


def pending_batch(
    engine: Engine, campaign_id: int, after_id: int, limit: int
) -> list[tuple[int, int, str]]:
    """(recipient id, follower id, OpenID) of the next pending recipients."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(CR.id, CR.follower_id, Follower.openid)
            .join(Follower, Follower.id == CR.follower_id)
            .where(CR.campaign_id == campaign_id, CR.status == Delivery.PENDING, CR.id > after_id)
            .order_by(CR.id)
            .limit(limit)
        ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def claim_recipient(engine: Engine, recipient_id: int) -> bool:
    """Committed right before the HTTP call: from here on the message counts as on its way."""
    with engine.begin() as conn:
        return bool(
            conn.execute(
                update(CR)
                .where(CR.id == recipient_id, CR.status == Delivery.PENDING)
                .values(status=Delivery.SENDING, attempted_at=records.now())
            ).rowcount
        )


def finish_recipient(
    engine: Engine, recipient_id: int, status: str, errcode: int | None = None
) -> None:
    """Committed right after WeChat's answer (a presumed row gets its real outcome too)."""
    values: dict[str, Any] = {"status": status, "errcode": errcode}
    if status in DELIVERED:
        values["sent_at"] = records.now()
    with engine.begin() as conn:
        conn.execute(
            update(CR)
            .where(CR.id == recipient_id, CR.status.in_((Delivery.SENDING, Delivery.PRESUMED)))
            .values(**values)
        )


def release_recipient(engine: Engine, recipient_id: int) -> None:
    """WeChat refused the message without processing it (quota, busy): back to pending."""
    with engine.begin() as conn:
        conn.execute(
            update(CR)
            .where(CR.id == recipient_id, CR.status == Delivery.SENDING)
            .values(status=Delivery.PENDING, attempted_at=None)
        )


def counts(engine: Engine, campaign_id: int) -> dict[str, int]:
    """The campaign's counts from its recipients (the checkpoint is the truth)."""
    with engine.connect() as conn:
        rows = dict(
            conn.execute(
                select(CR.status, func.count())
                .where(CR.campaign_id == campaign_id)
                .group_by(CR.status)
            ).all()
        )
    return {
        "recipients": sum(rows.values()),
        "sent": sum(rows.get(s, 0) for s in DELIVERED),
        "presumed": rows.get(Delivery.PRESUMED, 0),
        "skipped": rows.get(Delivery.SKIPPED, 0),
        "failed": rows.get(Delivery.FAILED, 0),
        "pending": rows.get(Delivery.PENDING, 0) + rows.get(Delivery.SENDING, 0),
    }


def audit(engine: Engine, actor: str, action: str, target: str, detail: str = "") -> None:
    """One entry of the console's audit log (records.audit) in a transaction of its own."""
    with Session(engine) as session, session.begin():
        records.audit(session, actor, action, target, detail)
