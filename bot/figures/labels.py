"""The figures' Chinese labels and units: declared once, used by every front end.

The CLI (`stats summary`), the exports, the annual report and the console show the
same figure under the same name. Each figure is one row here: its field of Summary
(summary.py), the counting metric it is the total of (counts.metric_keys), its label,
its unit, and whether the series (per day, week, month, year) carries it too. A test
checks that every field of Summary that is a figure has a row, and every row a field
(tests/test_figures_labels.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    field: str  # the attribute of Summary (and the key of `stats summary --json`)
    label: str
    unit: str = ""  # 条, 人, 人次, 次, 场次; "%" for a rate
    metric: str | None = None  # the metric of counts.metric_keys it totals (None: computed)
    daily: bool = False  # a column of the series too

    def named(self) -> str:
        """The label with its unit, as a column heading: 收到群众消息（条）."""
        unit = "" if not self.unit or self.unit == "%" else f"（{self.unit}）"
        return self.label + unit

    def value(self, value) -> str:
        """A value in words: 12条, 45.0%, — for a rate without a base."""
        if self.unit == "%":
            return "—" if value is None else f"{value * 100:.1f}%"
        return f"{value}{self.unit}"


FIGURES = (
    Figure("messages_received", "收到群众消息", "条", "messages", daily=True),
    Figure("unique_users", "咨询群众", "人", daily=True),
    Figure("answered", "已解答问题", "条", "answered", daily=True),
    Figure("unanswered", "未解答问题", "条", "unanswered", daily=True),
    Figure("suggested", "其中推荐相近问题", "条", "suggested"),
    Figure("referred", "其中转介其他部门", "条", "referred"),
    Figure("urgent", "紧急求助（先提示报警、急救电话）", "条", "urgent"),
    Figure("answer_rate", "解答率", "%"),
    Figure("subscribes", "新增关注", "人次", "subscribes", daily=True),
    Figure("unsubscribes", "取消关注", "人次", "unsubscribes", daily=True),
    Figure("net_followers", "净增关注", "人", daily=True),
    Figure("menu_clicks", "菜单点击", "次", "clicks", daily=True),
    Figure("campaign_count", "线上普法推送", "次"),
    Figure("campaign_sent", "推送送达", "人次"),
    Figure("campaign_engaged", "推送后72小时内互动群众", "人次"),
    Figure("activity_count", "线下普法宣传活动", "场次"),
    Figure("activity_attendance", "线下活动参与群众", "人次"),
    Figure("followers_via_activities", "通过线下活动二维码关注", "人次"),
)
LABELS = {f.field: f for f in FIGURES}
# The metrics the figures total (and the series carry, and the roll-up keeps per day).
BASE_METRICS = tuple(f.metric for f in FIGURES if f.metric)
SERIES_FIELDS = tuple(f.field for f in FIGURES if f.daily)
GRANULARITY_NAMES = {"day": "每日", "week": "每周", "month": "每月", "year": "每年"}
