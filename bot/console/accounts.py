"""Console accounts (passwords hashed with werkzeug's scrypt) and their roles: the logic
`legalbot staff add` and the accounts page (/admin/users) share. Every change is in the
audit log, in the same transaction."""

from __future__ import annotations

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from .. import records
from ..errors import LegalbotError
from ..records import Role, StaffUser

MIN_PASSWORD = 8


class AccountError(LegalbotError):
    """An account change that cannot be made as asked; the message is one line, in Chinese."""


def check(username: str, password: str | None) -> None:
    if not 0 < len(username) <= 64 or username != username.strip():
        raise AccountError("用户名须为 1 到 64 个字符，且首尾不能有空格")
    if password is not None and len(password) < MIN_PASSWORD:
        raise AccountError(f"密码至少需要 {MIN_PASSWORD} 个字符")


def set_password(
    database_url: str | Engine,
    username: str,
    password: str,
    role: str | None = None,
    actor: str = records.COMMAND_LINE,
) -> bool:
    """Create the account or replace its password (and role, when given); True when it
    was created. A new account without a role is an administrator when there is none yet
    (the first account must be able to make the others), a staff member otherwise."""
    check(username, password)
    if role is not None and role not in records.ROLE_NAMES:
        raise AccountError(f"未知角色 {role}，可选：{'、'.join(records.ROLE_NAMES)}")
    engine = _engine(database_url)
    with Session(engine) as db, db.begin():
        user = _find(db, username)
        if user is None:
            if role is None:
                role = Role.STAFF if _admins(db) else Role.ADMIN
            db.add(
                StaffUser(
                    username=username,
                    password_hash=generate_password_hash(password),
                    created_at=records.now(),
                    role=role,
                )
            )
            records.audit(db, actor, "account.create", username, records.ROLE_NAMES[role])
            return True
        user.password_hash = generate_password_hash(password)
        records.audit(db, actor, "account.password", username)
        if role is not None and role != user.role:
            _change_role(db, user, role, actor)
        return False


def set_role(engine: Engine, username: str, role: str, actor: str) -> None:
    if role not in records.ROLE_NAMES:
        raise AccountError(f"未知角色 {role}")
    with Session(engine) as db, db.begin():
        user = _find(db, username)
        if user is None:
            raise AccountError(f"没有账号 {username}")
        if role != user.role:
            _change_role(db, user, role, actor)


def delete(engine: Engine, username: str, actor: str) -> None:
    with Session(engine) as db, db.begin():
        user = _find(db, username)
        if user is None:
            raise AccountError(f"没有账号 {username}")
        if user.username == actor:
            raise AccountError("不能删除自己正在使用的账号")
        if user.role == Role.ADMIN and _admins(db) <= 1:
            raise AccountError("这是最后一个管理员账号，不能删除")
        db.delete(user)
        records.audit(db, actor, "account.delete", username)


def listing(engine: Engine) -> list[StaffUser]:
    with Session(engine, expire_on_commit=False) as db:
        return list(db.scalars(select(StaffUser).order_by(StaffUser.username)))


def _change_role(db: Session, user: StaffUser, role: str, actor: str) -> None:
    if user.role == Role.ADMIN and _admins(db) <= 1:
        raise AccountError("这是最后一个管理员账号，不能改为其他角色")
    names = records.ROLE_NAMES
    records.audit(db, actor, "account.role", user.username, f"{names[user.role]} → {names[role]}")
    user.role = role


def _find(db: Session, username: str) -> StaffUser | None:
    return db.scalar(select(StaffUser).where(StaffUser.username == username))


def _admins(db: Session) -> int:
    return db.scalar(select(func.count()).where(StaffUser.role == Role.ADMIN))


def _engine(database_url: str | Engine) -> Engine:
    return database_url if isinstance(database_url, Engine) else records.make_engine(database_url)
