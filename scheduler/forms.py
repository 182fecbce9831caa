"""The console's campaign forms: what staff fill in, checked in Chinese field by field,
turned into the arguments of service.Campaigns (the same the command line passes).

Each check names the field it is about, so the page shows the message next to it and
keeps everything typed (status 400). What the service still refuses (a race, WeChat
not configured) is shown above the form as it is.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from bot.errors import CampaignError

from . import audience as audiences
from . import content as contents
from .words import FREQUENCIES, WEEKDAYS, Rule

WHEN_KINDS = {
    "none": "暂不安排（保存为草稿）",
    "at": "指定日期和时间",
    "calendar": "普法日历中的一天",
    "rule": "定期重复",
}
CONTENT_KINDS = {"text": "文字", "entries": "知识库条目合集", "article": "图文卡片（链接）"}
AUDIENCES = {
    "all": "全部关注者（群发）",
    "tag": "某个标签的关注者（群发）",
    "active48h": "48小时内互动过的关注者（客服消息）",
    "openids": "测试名单：填写的 OpenID（客服消息）",
}


def _choices(mapping) -> list[SelectChoice]:
    return [SelectChoice(str(key), name) for key, name in mapping.items()]


class WhenForm(FlaskForm):
    """When a campaign goes out: a date and time, a calendar day, or a recurring rule."""

    when = RadioField(
        "发送时间", choices=_choices(WHEN_KINDS), default="none", validate_choice=False
    )
    at_date = StringField("日期", render_kw={"type": "date"})
    at_time = StringField("时间", render_kw={"type": "time"}, default="09:00")
    calendar = SelectField("普法日历", choices=[], validate_choice=False)
    frequency = SelectField(
        "重复", choices=_choices(FREQUENCIES), default="weekly", validate_choice=False
    )
    weekday = SelectField("星期", choices=_choices(WEEKDAYS), default="1", validate_choice=False)
    day = SelectField(
        "日", choices=[SelectChoice(str(d), f"{d}号") for d in range(1, 32)], validate_choice=False
    )
    month = SelectField(
        "月", choices=[SelectChoice(str(m), f"{m}月") for m in range(1, 13)], validate_choice=False
    )
    rule_time = StringField("时间", render_kw={"type": "time"}, default="09:00")

    def fill(self, service) -> None:
        """The calendar days, with their Chinese names and dates."""
        self.calendar.choices = [
            SelectChoice(key, day.describe()) for key, day in service.calendar.items()
        ]

    def schedule(self, service, allow_none: bool = True) -> dict | None:
        """The service's at/calendar/cron arguments ({} for a draft), or None after
        adding each problem to its field."""
        kind = self.when.data
        if kind == "none" and allow_none:
            return {}
        if kind == "at":
            return self._at(service)
        if kind == "calendar":
            if self.calendar.data not in service.calendar:
                return _wrong(self.calendar, "请选择普法日历中的一天")
            return {"calendar": self.calendar.data}
        if kind == "rule":
            rule = Rule(
                self.frequency.data,
                (self.rule_time.data or "").strip(),
                _int(self.weekday.data),
                _int(self.day.data),
                _int(self.month.data),
            )
            problems = rule.problems()
            for name, message in problems.items():
                _wrong(getattr(self, "rule_time" if name == "at" else name), message)
            return None if problems else {"cron": rule.cron()}
        return _wrong(self.when, "请选择什么时候发送")

    def _at(self, service) -> dict | None:
        day, clock = (self.at_date.data or "").strip(), (self.at_time.data or "").strip()
        try:
            when = datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=service.tz)
        except ValueError:
            if not day:
                return _wrong(self.at_date, "请填写日期")
            try:
                datetime.fromisoformat(day)
            except ValueError:
                return _wrong(self.at_date, "日期不对，请按“2026-12-04”的格式填写")
            return _wrong(self.at_time, "请填写时间，如 09:00")
        if when <= datetime.now(service.tz):
            return _wrong(self.at_time, "这个时间已经过去了，请选以后的时间")
        return {"at": when.replace(tzinfo=None).isoformat(timespec="minutes")}


class CampaignForm(WhenForm):
    """The new campaign: name, theme, content, audience and when."""

    name = StringField(
        "推送名称（工作人员看的）", validators=[Length(max=200, message="名称最多200个字")]
    )
    theme = SelectField("主题", choices=[], validate_choice=False)
    kind = RadioField(
        "内容", choices=_choices(CONTENT_KINDS), default="text", validate_choice=False
    )
    text = TextAreaField("文字内容")
    q = StringField("搜索知识库（标题或问法）")
    title = StringField(f"卡片标题（最多{contents.TITLE_MAX}个字）")
    description = StringField(f"卡片摘要（最多{contents.DESCRIPTION_MAX}个字）")
    url = StringField("文章链接（http:// 或 https://）", render_kw={"inputmode": "url"})
    picurl = StringField("封面图片链接（可不填）", render_kw={"inputmode": "url"})
    audience = RadioField(
        "发给谁", choices=_choices(AUDIENCES), default="all", validate_choice=False
    )
    tag_id = StringField("标签编号", render_kw={"inputmode": "numeric"})
    openids = TextAreaField("测试用的 OpenID（每行一个）")

    def fill(self, service) -> None:
        super().fill(service)
        self.theme.choices = [SelectChoice(s, n) for s, n in service.theme_names().items()]

    def content(self, service, entries: list[str]):
        """The Content of the form (content.Content), or None after naming the problem."""
        kind = self.kind.data
        try:
            if kind == "text":
                value = (self.text.data or "").strip()
                if not value:
                    return _wrong(self.text, "请填写要发送的文字")
                size = contents.text_bytes(value)
                if size > contents.MAX_TEXT_BYTES:
                    return _wrong(
                        self.text,
                        f"文字有 {size} 字节，微信一条消息最多 {contents.MAX_TEXT_BYTES} 字节，请删减",
                    )
                return contents.text(value)
            if kind == "entries":
                if not entries:
                    return _wrong(self.q, "请搜索并勾选至少一个知识库条目")
                return contents.entries(entries, service.knowledge())
            if kind == "article":
                return self._card()
        except CampaignError as exc:  # an entry removed since the page was drawn
            return _wrong(self.q if kind == "entries" else self.text, str(exc))
        return _wrong(self.kind, "请选择内容的形式")

    def _card(self):
        data = {n: (getattr(self, n).data or "").strip() for n in contents.ARTICLE_FIELDS}
        problems = []
        for name, label in (("title", "标题"), ("description", "摘要"), ("url", "链接")):
            if not data[name]:
                problems.append((name, f"请填写{label}"))
        for name, most in (
            ("title", contents.TITLE_MAX),
            ("description", contents.DESCRIPTION_MAX),
        ):
            if len(data[name]) > most:
                problems.append((name, f"最多{most}个字，现在{len(data[name])}个"))
        for name in ("url", "picurl"):
            if data[name] and not contents.is_url(data[name]):
                problems.append((name, "请填写以 http:// 或 https:// 开头的链接"))
        for name, message in problems:
            _wrong(getattr(self, name), message)
        if problems:
            return None
        return contents.card({k: v for k, v in data.items() if v})

    def audience_value(self) -> str | list[str] | None:
        """all, tag:ID, active48h, or the typed OpenIDs (a list); None on a problem.
        Messages name line numbers, never the OpenIDs."""
        kind = self.audience.data
        if kind in ("all", "active48h"):
            return kind
        if kind == "tag":
            tag = (self.tag_id.data or "").strip()
            if not tag.isdigit():
                return _wrong(self.tag_id, "请填写微信公众平台上的标签编号（数字）")
            return f"tag:{int(tag)}"
        if kind == "openids":
            found: dict[str, None] = {}
            for number, line in enumerate((self.openids.data or "").splitlines(), start=1):
                value = line.strip()
                if value and not audiences.is_openid(value):
                    return _wrong(self.openids, f"第 {number} 行不像 OpenID，请检查")
                if value:
                    found[value] = None
            if not found:
                return _wrong(self.openids, "请至少填写一个 OpenID")
            return list(found)
        return _wrong(self.audience, "请选择发给谁")


def openids_file(var_dir: Path, openids: list[str]) -> Path:
    """The typed OpenIDs as the file `openids:FILE` names, readable by the server alone."""
    folder = Path(var_dir) / "audiences"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"console-{secrets.token_hex(8)}.txt"
    path.touch(mode=0o600)
    path.write_text("\n".join(openids) + "\n", encoding="utf-8")
    return path


def typed_openids(text: str | None) -> list[str] | str:
    """The OpenIDs typed for a preview, or what is wrong with them (in Chinese)."""
    found: dict[str, None] = {}
    for number, line in enumerate((text or "").replace(",", "\n").splitlines(), start=1):
        value = line.strip()
        if value and not audiences.is_openid(value):
            return f"第 {number} 个不像 OpenID，请检查"
        if value:
            found[value] = None
    return list(found) or "请至少填写一个测试用的 OpenID"


def _wrong(field, message: str) -> None:
    field.errors = [*field.errors, message]
    return None


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
