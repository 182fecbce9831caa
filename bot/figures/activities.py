"""Offline publicity activities staff record: market-day stalls, lectures, school visits…

Kept beside the online figures so one report covers both, and so the followers a printed
QR code brought (its scene) are credited to the activity (below, and summary.py).
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from datetime import date
from pathlib import Path

from sqlalchemy import Connection, Engine, delete, select
from sqlalchemy.orm import Session

from ..errors import ActivityError
from ..records import Activity, now
from .counts import Counts, as_date

SCENE = re.compile(r"[A-Za-z0-9_\-.]{1,64}")  # WeChat scene strings: 1 to 64 characters

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


def theme_names(content_dir: Path) -> dict[str, str]:
    """slug -> Chinese name from the taxonomy the knowledge base uses."""
    from ..answer.loader import find_taxonomy

    with find_taxonomy(Path(content_dir)).open("rb") as fh:
        themes = tomllib.load(fh).get("themes", {})
    return {slug: str(t.get("name", slug)) for slug, t in themes.items()}


def parse_kind(value: str) -> str:
    """A kind slug from its slug or its Chinese name (集市宣传 → market)."""
    value = value.strip()
    if value in ACTIVITY_KINDS:
        return value
    for slug, name in ACTIVITY_KINDS.items():
        if value == name:
            return slug
    choices = ", ".join(f"{slug} ({name})" for slug, name in ACTIVITY_KINDS.items())
    raise ActivityError(f"kind: unknown kind {value!r}; one of {choices}")


def add(
    engine: Engine,
    *,
    held_on: date,
    kind: str,
    place: str,
    themes: dict[str, str],
    theme: str | None = None,
    attendance: int | None = None,
    scene: str | None = None,
    note: str | None = None,
) -> dict:
    """Record one activity after checking every field; the stored activity as a dict."""
    kind = parse_kind(kind)
    place = " ".join((place or "").split())
    if not place or len(place) > 200:
        raise ActivityError("place: required, at most 200 characters")
    if theme and theme not in themes:
        raise ActivityError(f"theme: unknown theme {theme!r} (see bot/answer/taxonomy.toml)")
    if attendance is not None and not 0 <= attendance <= 1_000_000:
        raise ActivityError("attendance: must be a number of people, 0 or more")
    if scene and not SCENE.fullmatch(scene):
        raise ActivityError(
            "scene: the QR code's scene string, 1 to 64 letters, digits, '-', '_' or '.'"
        )
    if held_on.year < 2000 or held_on.year > 2100:
        raise ActivityError("date: not a plausible date")
    activity = Activity(
        held_on=held_on,
        kind=kind,
        place=place,
        theme=theme or None,
        attendance=attendance,
        scene=scene or None,
        note=(note or "").strip() or None,
        created_at=now(),
    )
    with Session(engine) as db, db.begin():
        db.add(activity)
        db.flush()
        return as_dict(activity)


def list_activities(
    engine: Engine, start: date | None = None, end: date | None = None
) -> list[dict]:
    """Activities in date order, optionally those held between `start` and `end`."""
    query = select(Activity).order_by(Activity.held_on, Activity.id)
    if start:
        query = query.where(Activity.held_on >= start)
    if end:
        query = query.where(Activity.held_on <= end)
    with Session(engine) as db:
        return [as_dict(a) for a in db.scalars(query)]


def remove(engine: Engine, activity_id: int) -> bool:
    """Delete an activity recorded by mistake; False when there is no such activity."""
    with engine.begin() as conn:
        return conn.execute(delete(Activity).where(Activity.id == activity_id)).rowcount > 0


def as_dict(a: Activity) -> dict:
    return {
        "id": a.id,
        "date": as_date(a.held_on).isoformat(),
        "kind": a.kind,
        "kind_name": ACTIVITY_KINDS.get(a.kind, a.kind),
        "place": a.place,
        "theme": a.theme,
        "attendance": a.attendance,
        "scene": a.scene,
        "note": a.note,
    }


def activity_figures(conn: Connection, start: date, end: date, counts: Counts) -> list[dict]:
    """The offline activities held in the period, each with the followers its QR scene
    brought within the period (a scene shared by two activities counts for both)."""
    query = (
        select(Activity)
        .where(Activity.held_on >= start, Activity.held_on <= end)
        .order_by(Activity.held_on, Activity.id)
    )
    scenes, scans = counts.data.get("scene", Counter()), counts.data.get("scan", Counter())
    figures = []
    for activity in Session(bind=conn).scalars(query).all():
        row = as_dict(activity)
        row.pop("note")
        scene = activity.scene
        row["followers_gained"] = scenes.get(scene, 0) if scene else None
        row["scans"] = scans.get(scene, 0) if scene else None
        figures.append(row)
    return figures


def activity_totals(activities: list[dict], scenes: dict[str, int]) -> dict:
    """The period's activities in all and by kind, and the followers their scenes brought."""
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
