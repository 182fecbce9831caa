"""The form of a knowledge-base entry in the console: one field per field of a theme
file, lists as one item a line, what staff typed kept as typed."""

from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import Length, Optional, Regexp

_LIST_SPLIT = re.compile(r"[\n、，,；;]+")
_SOURCE = re.compile(r"^《?(?P<law>[^》]+?)》?\s*(?P<article>第\S+)?$")
# Field name in the form -> field name in the theme file (and in a draft).
FORM_FIELDS = {
    "entry_id": "id",
    "title": "title",
    "questions": "questions",
    "keywords": "keywords",
    "answer": "answer",
    "sources": "sources",
    "help": "help",
    "reviewed": "reviewed",
    "source": "source",
    "featured": "featured",
}


class CheckboxList(SelectMultipleField):
    """Several choices as checkboxes, one a line (easier on a phone than a multi-select)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class EntryForm(FlaskForm):
    theme = SelectField("主题", choices=[], validate_choice=False)
    entry_id = StringField(
        "条目编号",
        validators=[Length(max=120, message="编号最长 120 个字符")],
        description="主题英文名加短横线连接的英文单词，如 labor-overtime；发布后不要再改",
    )
    title = StringField("标题", validators=[Length(max=200, message="标题最长 200 个字")])
    questions = TextAreaField("群众问法（每行一种，至少 3 种）")
    keywords = TextAreaField("关键词（用顿号、逗号或换行分开，至少 2 个）")
    answer = TextAreaField("回答（关键步骤放在最前面，最多 300 字）")
    sources = TextAreaField("法律依据（每行一条，如：劳动合同法 第30条）")
    help = CheckboxList("求助渠道（至少选 1 个）", choices=[], validate_choice=False)
    reviewed = StringField(
        "审核日期",
        validators=[
            Optional(),
            Regexp(r"^\d{4}-\d{2}-\d{2}$", message="请按 2026-12-01 的格式填写日期"),
        ],
    )
    source = StringField("出处（核对法律条文所用的文本，可不填）")
    featured = BooleanField("作为本主题的精选条目（推送摘要时使用）")
    base = HiddenField()

    def values(self) -> dict[str, Any]:
        """The entry as a draft keeps it."""
        sources = []
        for line in (self.sources.data or "").splitlines():
            line = line.strip()
            found = _SOURCE.match(line)
            if found:
                sources.append({"law": found["law"].strip(), "article": found["article"] or ""})
            elif line:  # kept as typed: the check says what is wrong with it
                sources.append({"law": line, "article": ""})
        return {
            "id": (self.entry_id.data or "").strip(),
            "title": (self.title.data or "").strip(),
            "questions": _lines(self.questions.data),
            "keywords": [
                k.strip() for k in _LIST_SPLIT.split(self.keywords.data or "") if k.strip()
            ],
            "answer": (self.answer.data or "").strip(),
            "sources": sources,
            "help": list(self.help.data or []),
            "reviewed": (self.reviewed.data or "").strip(),
            "source": (self.source.data or "").strip(),
            "featured": bool(self.featured.data),
        }

    def fill(self, values: dict[str, Any]) -> None:
        """Show a draft's (or a theme file's) entry in the form."""
        self.entry_id.data = values.get("id", "")
        self.title.data = values.get("title", "")
        self.questions.data = "\n".join(values.get("questions") or [])
        self.keywords.data = "、".join(values.get("keywords") or [])
        self.answer.data = values.get("answer", "")
        self.sources.data = "\n".join(
            f"{s.get('law', '')} {s.get('article', '')}".strip()
            for s in values.get("sources") or []
        )
        self.help.data = list(values.get("help") or [])
        self.reviewed.data = values.get("reviewed", "")
        self.source.data = values.get("source", "")
        self.featured.data = bool(values.get("featured"))


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]
