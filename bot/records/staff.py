"""Console accounts, their roles, and the audit log of what staff did."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, now


class Role:
    """What an account may do. Every account may read the figures, the knowledge base and
    the campaigns, and schedule pushes; the rest is by role (PERMISSIONS)."""

    ADMIN = "admin"
    EDITOR = "editor"
    MEDIATOR = "mediator"
    STAFF = "staff"


ROLE_NAMES = {
    Role.ADMIN: "管理员",
    Role.EDITOR: "编辑",
    Role.MEDIATOR: "调解员",
    Role.STAFF: "工作人员",
}

# capability -> the roles that have it
PERMISSIONS = {
    "accounts": {Role.ADMIN},  # create accounts, change roles and passwords
    "publish": {Role.ADMIN, Role.EDITOR},  # publish knowledge-base entries
    "mediation_private": {Role.ADMIN, Role.MEDIATOR},  # a case's phone and description
}


def allowed(role: str | None, capability: str) -> bool:
    return role in PERMISSIONS[capability]


class StaffUser(Base):
    """A staff member who may log in to the console."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    role: Mapped[str] = mapped_column(String(16), default=Role.STAFF)


# action -> how the audit page names it. Add a row for every new kind of action.
ACTIONS = {
    "account.create": "新建账号",
    "account.password": "修改密码",
    "account.role": "修改角色",
    "account.delete": "删除账号",
    "campaign.create": "新建推送",
    "campaign.schedule": "安排推送",
    "campaign.cancel": "取消推送",
    "campaign.resume": "恢复推送",
    "campaign.send": "立即发送",
    "campaign.preview": "发送预览",
    "campaign.plan": "生成年度推送草稿",
    "kb.draft": "保存知识库草稿",
    "kb.publish": "发布知识库条目",
    "kb.discard": "删除知识库草稿",
    "mediation.create": "登记调解案件",
    "mediation.update": "更新调解案件",
    "mediation.close": "结案",
    "mediation.private": "查看调解当事人信息",
    "export": "导出统计",
    "report": "生成年度报告",
}

# The actor of what is done from the command line (an operator on the server).
COMMAND_LINE = "命令行"


class AuditEntry(Base):
    """One thing a staff member did: who, what, on what, when. Never an OpenID: `target`
    names a campaign, an entry, an account or a period; `detail` is free text for the
    previous version of what changed (a published entry's old text, say)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


def audit(db: Session, actor: str, action: str, target: str = "", detail: str = "") -> None:
    """Add an audit entry to `db`'s transaction (it is kept when that commits)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}: add it to ACTIONS")
    db.add(AuditEntry(at=now(), actor=actor, action=action, target=target[:200], detail=detail))
