"""The case register: add, list, show, assign, update and close cases; forget personal
fields past their time. The CLI, the console and the conversation on the account all
come here, so a rule (what a committee is, which states close a case, what is audited)
is kept once.

Cases are handed out as dicts: `public` (no personal field: the CLI, the figures, every
page) and, for accounts with "mediation_private", `private` (phone and description
opened with the Sealer).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from ..errors import MediationError
from ..records import MediationCase, audit, now
from . import tables
from .privacy import Sealer, phone_number

ACCOUNT = "公众号居民"  # the audit's actor for a request a resident made on the account
Send = Callable[[str, str], None]  # (openid, text): a customer-service message


@dataclass(frozen=True)
class Committees:
    """The town's committee and the village committees residents can pick by number."""

    town: str
    villages: tuple[str, ...] = ()

    @classmethod
    def of(cls, settings) -> Committees:
        names = (v.strip() for v in settings.villages.replace("，", ",").split(","))
        return cls(settings.town_committee, tuple(v for v in names if v))

    def parse(self, spec: str) -> tuple[str, str]:
        """`town`, `village` or `village:NAME` as (committee, its name)."""
        kind, _, name = (spec or "").strip().partition(":")
        if kind == tables.TOWN and not name:
            return tables.TOWN, self.town
        if kind == tables.VILLAGE:
            name = name.strip()
            if len(name) > 64:
                raise MediationError("村调委会名称最多64个字", "committee")
            return tables.VILLAGE, name or tables.COMMITTEES[tables.VILLAGE]
        raise MediationError(
            f"调委会 {spec!r} 不认识：写 town（镇调委会）或 village[:村名]（村调委会）", "committee"
        )


def reference(day: date, seed: str) -> str:
    """The number a resident quotes: the day and four digits from `seed` (a retried
    message's seed is the same, so its reply names the same number)."""
    digits = int(hashlib.sha256(seed.encode()).hexdigest(), 16) % 10000
    return f"{day:%Y%m%d}-{digits:04d}"


def check_kind(kind: str) -> str:
    if kind not in tables.KINDS:
        raise MediationError(f"纠纷类型 {kind!r} 不认识；可选：{', '.join(tables.KINDS)}", "kind")
    return kind


def check_state(state: str, allowed=tuple(tables.STATES)) -> str:
    if state not in allowed:
        raise MediationError(f"状态 {state!r} 不认识；可选：{', '.join(allowed)}", "state")
    return state


def add(
    engine: Engine,
    sealer: Sealer,
    *,
    accepted_on: date,
    kind: str,
    source: str,
    actor: str,
    committee: tuple[str, str] | None = None,
    state: str = tables.ACCEPTED,
    mediator: str | None = None,
    closed_on: date | None = None,
    phone: str | None = None,
    description: str | None = None,
    village: str | None = None,
    user_id: str | None = None,
    reply_here: bool = False,
    ref: str | None = None,
) -> dict[str, Any]:
    """Record a case (a request from the account, or one staff took in); its public dict."""
    check_kind(kind)
    check_state(state)
    if source not in tables.SOURCES:
        raise MediationError(f"来源 {source!r} 不认识；可选：{', '.join(tables.SOURCES)}", "source")
    if state in tables.CLOSED:
        closed_on = closed_on or accepted_on
    elif closed_on is not None:
        raise MediationError("还没结案的案件不填结案日期", "closed_on")
    _check_closing(accepted_on, closed_on)
    if phone and phone_number(phone) is None:
        raise MediationError("电话号码格式不对：手机号11位，座机如 0971-1234567", "phone")
    if description and len(description) > 2000:
        raise MediationError("情况说明最多2000字", "description")
    stamp = now()
    with Session(engine) as db, db.begin():
        ref = ref or _free_reference(db, accepted_on)
        if db.scalar(select(MediationCase.id).where(MediationCase.reference == ref)):
            ref = _free_reference(db, accepted_on)  # two requests on a day drew one number
        case = MediationCase(
            reference=ref,
            accepted_on=accepted_on,
            kind=kind,
            committee=committee[0] if committee else None,
            committee_name=committee[1] if committee else None,
            mediator=(mediator or "").strip()[:64] or None,
            source=source,
            state=state,
            closed_on=closed_on,
            village=(village or "").strip()[:64] or None,
            user_id=user_id,
            reply_here=reply_here,
            phone_sealed=sealer.seal(phone_number(phone) if phone else None),
            description_sealed=sealer.seal((description or "").strip()),
            created_at=stamp,
            updated_at=stamp,
        )
        db.add(case)
        db.flush()
        audit(db, actor, "mediation.create", f"调解案件 {ref}", tables.kind_name(kind))
        return public(case)


def _free_reference(db: Session, day: date) -> str:
    while True:
        ref = reference(day, secrets.token_hex(8))
        if not db.scalar(select(MediationCase.id).where(MediationCase.reference == ref)):
            return ref


def _check_closing(accepted_on: date, closed_on: date | None) -> None:
    if closed_on is not None and closed_on < accepted_on:
        raise MediationError("结案日期不能早于受理日期", "closed_on")


def cases(
    engine: Engine,
    start: date | None = None,
    end: date | None = None,
    state: str | None = None,
) -> list[dict[str, Any]]:
    """The register (public fields), newest first, by the day each case was accepted."""
    query = select(MediationCase).order_by(
        MediationCase.accepted_on.desc(), MediationCase.id.desc()
    )
    if start:
        query = query.where(MediationCase.accepted_on >= start)
    if end:
        query = query.where(MediationCase.accepted_on <= end)
    if state == "open":
        query = query.where(MediationCase.state.in_(tables.OPEN))
    elif state == "closed":
        query = query.where(MediationCase.state.in_(tables.CLOSED))
    elif state:
        query = query.where(MediationCase.state == check_state(state))
    with Session(engine) as db:
        return [public(c) for c in db.scalars(query)]


def find(engine: Engine, key: str | int, sealer: Sealer | None = None) -> dict[str, Any] | None:
    """One case by id or reference; with a `sealer`, its personal fields opened too."""
    with Session(engine) as db:
        case = _get(db, key)
        if case is None:
            return None
        return private(case, sealer) if sealer else public(case)


def _get(db: Session, key: str | int) -> MediationCase | None:
    text = str(key).strip()
    if text.isdigit():
        return db.get(MediationCase, int(text))
    return db.scalar(select(MediationCase).where(MediationCase.reference == text))


def change(
    engine: Engine,
    key: str | int,
    actor: str,
    *,
    committee: tuple[str, str] | None = None,
    mediator: str | None = None,
    state: str | None = None,
    closed_on: date | None = None,
    send: Send | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """Assign a committee and mediator, move the state, or close (a closing state with the
    day it closed; `today`, the town's date, when not given). The resident who asked on the account hears of
    a new state by a customer-service message (notify.py), when WeChat still allows one."""
    from .notify import tell_resident

    with Session(engine) as db, db.begin():
        case = _get(db, key)
        if case is None:
            raise MediationError(f"没有编号为 {key} 的调解案件", "id")
        before = case.state
        if committee is not None:
            case.committee, case.committee_name = committee
        if mediator is not None:
            case.mediator = mediator.strip()[:64] or None
        if state is not None:
            case.state = check_state(state)
            if state in tables.CLOSED:
                case.closed_on = closed_on or case.closed_on or today or date.today()
            else:
                case.closed_on = None
        elif closed_on is not None and case.state in tables.CLOSED:
            case.closed_on = closed_on
        _check_closing(case.accepted_on, case.closed_on)
        case.updated_at = now()
        closing = case.state in tables.CLOSED and before not in tables.CLOSED
        action = "mediation.close" if closing else "mediation.update"
        detail = f"{tables.state_name(before)} → {tables.state_name(case.state)}"
        audit(db, actor, action, f"调解案件 {case.reference}", detail)
        db.flush()
        result, user_id = public(case), case.user_id
    if send is not None and user_id and result["state"] != before:
        tell_resident(engine, send, user_id, result)
    return result


def close(
    engine: Engine,
    key: str | int,
    actor: str,
    outcome: str,
    closed_on: date | None = None,
    send: Send | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """Close a case with its outcome (settled, not-settled, referred, withdrawn)."""
    check_state(outcome, tables.CLOSED)
    return change(engine, key, actor, state=outcome, closed_on=closed_on, send=send, today=today)


def for_resident(engine: Engine, user_id: str, limit: int = 3) -> list[dict[str, Any]]:
    """A resident's own latest cases (我的调解), by their pseudonymous id."""
    query = (
        select(MediationCase)
        .where(MediationCase.user_id == user_id)
        .order_by(MediationCase.id.desc())
        .limit(limit)
    )
    with Session(engine) as db:
        return [public(c) for c in db.scalars(query)]


def forget(engine: Engine, keep_days: int, today: date) -> int:
    """Delete the phone number and description of cases closed `keep_days` ago or more;
    the case, and so every count, stays. Returns how many cases were cleared."""
    from datetime import timedelta

    cut = today - timedelta(days=keep_days)
    query = (
        update(MediationCase)
        .where(MediationCase.closed_on <= cut)
        .where(MediationCase.state.in_(tables.CLOSED))
        .where(MediationCase.personal_deleted_on.is_(None))
        .values(phone_sealed=None, description_sealed=None, personal_deleted_on=today)
    )
    with engine.begin() as conn:
        return conn.execute(query).rowcount or 0


def public(case: MediationCase) -> dict[str, Any]:
    """A case without its personal fields: what the CLI, exports and pages show."""
    contact = "account" if case.reply_here else ("phone" if case.phone_sealed else None)
    return {
        "id": case.id,
        "reference": case.reference,
        "date": case.accepted_on.isoformat(),
        "type": case.kind,
        "committee": case.committee,
        "committee_name": case.committee_name,
        "mediator": case.mediator,
        "source": case.source,
        "state": case.state,
        "closed_on": case.closed_on.isoformat() if case.closed_on else None,
        "village": case.village,
        "from_account": case.user_id is not None,
        "contact": contact,
        "personal_deleted": case.personal_deleted_on is not None,
    }


def private(case: MediationCase, sealer: Sealer) -> dict[str, Any]:
    """The public dict and the personal fields, opened: for "mediation_private" only."""
    return public(case) | {
        "phone": sealer.open(case.phone_sealed),
        "description": sealer.open(case.description_sealed),
    }
