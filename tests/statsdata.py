"""A hand-counted month of the township's account, written straight into the records.

Times are local (Asia/Shanghai) wall-clock times; rows are inserted as the webhook would
have written them, at those instants. The figures each test expects are counted by hand
from the list below, in the comments next to it.
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from bot import records
from scheduler import models

SHANGHAI = ZoneInfo("Asia/Shanghai")
SECRET = "test-secret-key"
OPENIDS = {
    "A": "oA1fixtureOpenIdAaaaaaaaaaaa",
    "B": "oB2fixtureOpenIdBbbbbbbbbbbb",
    "C": "oC3fixtureOpenIdCcccccccccccc",
    "D": "oD4fixtureOpenIdDdddddddddddd",
}
UNANSWERED = ("村里的路灯坏了找谁修", "明天集市几点开始")
_keys = itertools.count(1)


def at(text: str, tz: ZoneInfo = SHANGHAI) -> datetime:
    """A local wall-clock time 'YYYY-MM-DD HH:MM' as a UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=tz).astimezone(UTC)


def user(who: str) -> str:
    return records.pseudonym(SECRET, OPENIDS[who])


# (local time, resident, kind, fields). Hand counts, March 2025 (03-01..03-31):
# messages 6 (A,A,B,D,C,C), residents 4, answered 3 (labor 2, fraud 1), unanswered 2,
# subscribes 3 (market-2025-03: 2), unsubscribes 1, clicks 3 (THEME_fraud 2, THEME_labor 1).
# April: messages 1 (B), answered 1 (marriage_family), subscribes 1 (lecture-2025-04),
# scans 1 (lecture-2025-04), clicks 0.
TEXT = {"kind": "text", "is_message": True, "is_question": True}
ANSWER = TEXT | {"matched": True, "reply_kind": "answer"}
MISS = TEXT | {"matched": False, "reply_kind": "fallback"}
EVENTS = [
    ("2025-03-01 09:00", "A", ANSWER | {"theme": "labor", "entry_id": "labor-wage-arrears"}),
    ("2025-03-01 23:30", "A", MISS),  # 15:30 UTC: still 1 March in Shanghai
    (
        "2025-03-02 00:10",
        "B",
        ANSWER | {"kind": "voice", "theme": "fraud", "entry_id": "fraud-safe-account"},
    ),
    ("2025-03-02 10:00", "B", {"kind": "subscribe", "scene": "market-2025-03"}),
    ("2025-03-02 10:05", "C", {"kind": "subscribe", "scene": "market-2025-03"}),
    ("2025-03-02 10:06", "C", {"kind": "click", "event_key": "THEME_fraud"}),
    ("2025-03-03 08:00", "D", {"kind": "subscribe"}),
    ("2025-03-03 09:00", "D", {"kind": "image", "is_message": True}),
    ("2025-03-10 12:00", "C", ANSWER | {"theme": "labor", "entry_id": "labor-wage-arrears"}),
    ("2025-03-10 12:01", "C", MISS),
    ("2025-03-11 08:00", "B", {"kind": "click", "event_key": "THEME_fraud"}),
    ("2025-03-13 12:00", "A", {"kind": "click", "event_key": "THEME_labor"}),
    ("2025-03-31 23:59", "A", {"kind": "unsubscribe"}),
    ("2025-04-01 00:01", "B", ANSWER | {"theme": "marriage_family", "entry_id": "family-x"}),
    ("2025-04-02 10:00", "D", {"kind": "scan", "scene": "lecture-2025-04"}),
    ("2025-04-02 10:30", "A", {"kind": "subscribe", "scene": "lecture-2025-04"}),
    ("2025-04-02 11:00", "A", {"kind": "view", "event_key": "https://example.org/article"}),
]

# Campaigns (hand-counted engagement, 72 h after each one reached its residents):
# 1 mass send 03-02 09:00: B, C, D interacted before 03-05 09:00 -> 3.
# 2 customer-service send 03-10 to A (11:00), C (11:30), D (skipped): C wrote at 12:00;
#   A's click on 03-13 12:00 is past her window; B clicked but was no recipient -> 1.
# 3 mass send to a tag 04-02 09:00: D scanned, A subscribed and viewed -> 2.
CAMPAIGNS = [
    {
        "name": "宪法日群发",
        "theme": "constitution",
        "audience": "all",
        "started": "2025-03-02 09:00",
        "counts": {"recipients": 523, "sent": 500, "filtered": 20, "failed": 3, "skipped": 0},
    },
    {
        "name": "欠薪提醒",
        "theme": "labor",
        "audience": "openids:/srv/legalbot/wage-list.txt",
        "started": "2025-03-10 11:00",
        "counts": {"recipients": 3, "sent": 2, "filtered": None, "failed": 0, "skipped": 1},
        "recipients": [
            ("A", "sent", "2025-03-10 11:00"),
            ("C", "sent", "2025-03-10 11:30"),
            ("D", "skipped", None),
        ],
    },
    {
        "name": "婚姻法宣传（标签）",
        "theme": "marriage_family",
        "audience": "tag:2",
        "started": "2025-04-02 09:00",
        "counts": {"recipients": 100, "sent": 100, "filtered": 0, "failed": 0, "skipped": 0},
    },
]


def add_event(engine, when: str, who: str, fields: dict, tz: ZoneInfo = SHANGHAI) -> None:
    row = {
        "dedupe_key": f"fixture-{next(_keys)}",
        "created_at": at(when, tz),
        "user_id": user(who),
        "is_message": False,
        "is_question": False,
    } | fields
    with engine.begin() as conn:
        conn.execute(insert(records.Event), [row])


def load_month(engine) -> dict[str, int]:
    """Write the fixture; returns campaign name -> id."""
    followers = {}
    with engine.begin() as conn:
        for who, openid in OPENIDS.items():
            followers[who] = conn.execute(
                insert(records.Follower)
                .values(
                    openid=openid,
                    user_id=user(who),
                    subscribed=True,
                    created_at=at("2025-01-01 00:00"),
                )
                .returning(records.Follower.id)
            ).scalar_one()
    for when, who, fields in EVENTS:
        add_event(engine, when, who, fields)
    ids = {}
    with engine.begin() as conn:
        for c in CAMPAIGNS:
            started = at(c["started"])
            ids[c["name"]] = conn.execute(
                insert(models.Campaign)
                .values(
                    name=c["name"],
                    theme=c["theme"],
                    content_kind="text",
                    content='{"text": "…"}',
                    audience=c["audience"],
                    state="sent",
                    started_at=started,
                    finished_at=started,
                    created_at=started,
                    updated_at=started,
                    **c["counts"],
                )
                .returning(models.Campaign.id)
            ).scalar_one()
            for who, status, sent_at in c.get("recipients", []):
                conn.execute(
                    insert(models.CampaignRecipient).values(
                        campaign_id=ids[c["name"]],
                        follower_id=followers[who],
                        status=status,
                        sent_at=at(sent_at) if sent_at else None,
                    )
                )
        for day, text, count in [
            (date(2025, 3, 1), UNANSWERED[0], 1),
            (date(2025, 3, 10), UNANSWERED[1], 1),
            (date(2025, 3, 12), UNANSWERED[0], 2),
            (date(2025, 4, 1), UNANSWERED[1], 5),
        ]:
            digest = hashlib.sha256(text.encode()).hexdigest()
            conn.execute(
                records.upsert(engine, records.UnansweredQuestion)
                .values(
                    text_hash=digest,
                    text=text,
                    count=count,
                    first_seen=at("2025-03-01 00:00"),
                    last_seen=at("2025-04-01 00:00"),
                )
                .on_conflict_do_update(
                    index_elements=["text_hash"],
                    set_={"count": records.UnansweredQuestion.count + count},
                )
            )
            conn.execute(
                insert(records.UnansweredDaily).values(text_hash=digest, day=day, count=count)
            )
    return ids
