"""The console's menu: every page staff can reach, in one list, shown to the roles that
may open it. Pages that live outside bot/ (the campaigns, scheduler/) are in it too: the
menu links by path, so it needs nothing of theirs."""

from __future__ import annotations

from typing import NamedTuple


class Item(NamedTuple):
    path: str
    name: str
    capability: str | None = None  # records.PERMISSIONS key; None: every account


MENU = (
    Item("/admin/", "首页"),
    Item("/admin/stats", "统计"),
    Item("/admin/campaigns", "推送"),
    Item("/admin/kb", "知识库"),
    Item("/admin/unanswered", "未解答问题"),
    Item("/admin/mediation", "人民调解"),
    Item("/admin/activities", "线下活动"),
    Item("/admin/chat", "试用机器人"),
    Item("/admin/users", "账号", "accounts"),
    Item("/admin/audit", "操作记录"),
)
