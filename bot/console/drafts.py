"""Knowledge-base drafts: saved by any account, published by an editor into content/.

No Flask here: the console's views (knowledge.py) call these with the engine, the
acting account and the content folder, so a command could call them the same way.
Publishing checks the draft against the entry's text as it was when the edit began
(a digest), validates the base with the entry in it (the rules of `kb validate`),
writes the theme file atomically and notes the entry's previous text in the audit log.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ..answer import editing
from ..errors import InvalidEntryError, KnowledgeBaseError, StaleEntryError
from ..records import DraftState, KbDraft, audit, now

# The fields a draft keeps, as the form edits them (reviewed as YYYY-MM-DD text).
EMPTY = {
    "id": "",
    "title": "",
    "questions": [],
    "keywords": [],
    "answer": "",
    "sources": [],
    "help": [],
    "reviewed": "",
    "source": "",
    "featured": False,
}


def fields_of(raw: dict[str, Any]) -> dict[str, Any]:
    """A theme file's raw entry as a draft's fields ({town_…} placeholders kept)."""
    fields = {**EMPTY, **{k: v for k, v in raw.items() if k in EMPTY}}
    reviewed = raw.get("reviewed")
    fields["reviewed"] = reviewed.isoformat() if isinstance(reviewed, dt.date) else ""
    fields["sources"] = [
        {"law": str(s.get("law", "")), "article": str(s.get("article", ""))}
        for s in raw.get("sources") or []
        if isinstance(s, dict)
    ]
    return fields


def entry_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """A draft's fields as editing.entry_toml takes them (the review date as a date)."""
    out = {**EMPTY, **fields}
    try:
        out["reviewed"] = dt.date.fromisoformat(str(fields.get("reviewed") or ""))
    except ValueError:
        out["reviewed"] = None
    return out


def fields(draft: KbDraft) -> dict[str, Any]:
    return {**EMPTY, **json.loads(draft.fields)}


def problems(draft: KbDraft) -> dict[str, list[str]]:
    """What the last attempt to publish found wrong, by field ("" for the whole entry)."""
    return json.loads(draft.problems) if draft.problems else {}


def get(engine: Engine, draft_id: int) -> KbDraft | None:
    with Session(engine) as db:
        draft = db.get(KbDraft, draft_id)
        if draft is not None:
            db.expunge(draft)
        return draft


def open_drafts(engine: Engine, entry_id: str | None = None) -> list[KbDraft]:
    """Drafts not yet published, newest first (of one entry when `entry_id` is given)."""
    query = select(KbDraft).where(KbDraft.state == DraftState.DRAFT)
    if entry_id is not None:
        query = query.where(KbDraft.entry_id == entry_id)
    with Session(engine) as db:
        found = list(db.scalars(query.order_by(KbDraft.updated_at.desc(), KbDraft.id.desc())))
        db.expunge_all()
        return found


def save(
    engine: Engine,
    actor: str,
    theme: str,
    values: dict[str, Any],
    *,
    draft_id: int | None = None,
    base_digest: str = "",
    is_new: bool = True,
) -> int:
    """Keep `values` as a draft (a new one, or draft `draft_id` updated); its id.

    A draft that was already published or discarded is not changed: a new one is made.
    """
    text = json.dumps({**EMPTY, **values}, ensure_ascii=False)
    entry_id = str(values.get("id", "")).strip()[:120]
    at = now()
    with Session(engine) as db, db.begin():
        draft = db.get(KbDraft, draft_id) if draft_id is not None else None
        if draft is None or draft.state != DraftState.DRAFT:
            draft = KbDraft(
                theme=theme,
                is_new=is_new,
                base_digest=base_digest,
                created_by=actor,
                created_at=at,
                state=DraftState.DRAFT,
            )
            db.add(draft)
        if draft.is_new:
            draft.theme = theme
        draft.entry_id, draft.fields, draft.problems = entry_id, text, ""
        draft.updated_by, draft.updated_at = actor, at
        audit(db, actor, "kb.draft", entry_id or "（未填编号）", _summary(values))
        db.flush()
        return draft.id


def publish(engine: Engine, actor: str, draft_id: int, content_dir: Path) -> editing.Published:
    """Write draft `draft_id` into its theme file and mark it published.

    StaleEntryError when the entry changed since the edit began; InvalidEntryError when
    it breaks a rule of `kb validate` (the problems are kept on the draft, which stays a
    draft); KnowledgeBaseError when the draft cannot be published at all (not a draft).
    """
    failure: KnowledgeBaseError | StaleEntryError | None = None
    with Session(engine) as db, db.begin():
        draft = db.get(KbDraft, draft_id, with_for_update=True)
        if draft is None or draft.state != DraftState.DRAFT:
            raise KnowledgeBaseError("这份草稿已经发布或已删除，不能再发布")
        base = None if draft.is_new else draft.base_digest
        try:
            published = editing.publish(content_dir, draft.theme, entry_fields(fields(draft)), base)
        except InvalidEntryError as exc:
            failure, found = exc, exc.fields
        except StaleEntryError as exc:
            failure, found = exc, {"": [str(exc)]}
        else:
            draft.state, found = DraftState.PUBLISHED, {}
            draft.published_by, draft.published_at = actor, now()
            audit(db, actor, "kb.publish", draft.entry_id, published.previous)
        draft.problems = json.dumps(found, ensure_ascii=False) if found else ""
    if failure is not None:
        raise failure
    return published


def discard(engine: Engine, actor: str, draft_id: int) -> bool:
    """Set a draft aside (it stays in the table, no longer listed); False if not a draft."""
    with Session(engine) as db, db.begin():
        draft = db.get(KbDraft, draft_id)
        if draft is None or draft.state != DraftState.DRAFT:
            return False
        draft.state, draft.updated_by, draft.updated_at = DraftState.DISCARDED, actor, now()
        audit(db, actor, "kb.discard", draft.entry_id)
        return True


def _summary(values: dict[str, Any]) -> str:
    """What the audit log notes of a saved draft: its title."""
    return str(values.get("title", ""))[:200]
