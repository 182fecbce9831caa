"""The statistics part of the year's rule-of-law report (法治政府建设情况报告), in Chinese.

A table and a short paragraph in the register of the township's own report ("截至目前我
镇共开展普法宣传101场次、讲座24场次……"), written from the figures alone: every number
comes from the records, a figure that is zero or absent is said plainly, and nothing is
claimed that the records cannot show (no "增强了群众法治观念").
"""

from __future__ import annotations

from ..mediation.tables import COMMITTEES, KINDS
from .activities import ACTIVITY_KINDS
from .exports import Figures
from .labels import LABELS
from .summary import Summary

TRAINING_KINDS = ("training", "mediator_training")  # 培训 is counted apart, as the seed does
# The report's table: figures of labels.py in the order of the township's report, with
# the offline activities split into publicity and trainings where they stand.
TABLE = (
    "campaign_count",
    "campaign_sent",
    "campaign_engaged",
    "messages_received",
    "unique_users",
    "answered",
    "unanswered",
    "urgent",
    "answer_rate",
    "subscribes",
    "unsubscribes",
    "net_followers",
    "menu_clicks",
    "activities",
    "activity_attendance",
    "followers_via_activities",
)


def _n(value: int | float) -> str:
    return f"{value:,}".replace(",", "")  # the report writes 1234, not 1,234


def _percent(rate: float | None) -> str:
    return LABELS["answer_rate"].value(rate)


def table_rows(f: Figures) -> list[tuple[str, str]]:
    s = f.summary
    rows = []
    for name in TABLE:
        if name == "activities":
            publicity, trainings = _split_activities(s)
            rows.append(("线下普法宣传活动", f"{_n(sum(publicity.values()))}场次"))
            rows.append(("法律明白人及调解员培训", f"{_n(sum(trainings.values()))}次"))
            continue
        figure = LABELS[name]
        rows.append((figure.label, figure.value(getattr(s, name))))
    return rows


def _split_activities(s: Summary) -> tuple[dict[str, int], dict[str, int]]:
    """Activity counts by kind name: publicity, and trainings (counted apart)."""
    publicity, trainings = {}, {}
    for kind, totals in s.activity_totals.get("by_kind", {}).items():
        target = trainings if kind in TRAINING_KINDS else publicity
        target[ACTIVITY_KINDS.get(kind, kind)] = totals["count"]
    return publicity, trainings


def paragraph(f: Figures) -> str:
    """The paragraph staff paste under 强化法治宣传教育 (the heading names the year)."""
    s = f.summary
    parts = [_online(s), _questions(s, f), _followers(s), _offline(s)]
    return "；".join(p for p in parts if p) + "。"


def _online(s: Summary) -> str:
    c = s.campaign_totals
    if not c["count"]:
        return "全年未通过公众号开展线上普法推送"
    if not c["sent"]:
        return f"全年通过公众号开展线上普法推送{_n(c['count'])}次，均未送达群众"
    text = f"全年通过公众号开展线上普法推送{_n(c['count'])}次，覆盖{_n(c['sent'])}人次"
    if c["engaged"]:
        text += f"，推送后72小时内与公众号互动的群众共{_n(c['engaged'])}人次"
    return text


def _questions(s: Summary, f: Figures) -> str:
    if not s.messages_received:
        return "公众号全年未收到群众消息"
    text = f"公众号共收到群众消息{_n(s.messages_received)}条，来自{_n(s.unique_users)}名群众"
    asked = s.answered + s.unanswered
    if not asked:
        return text
    if s.answered:
        text += f"，解答群众法律咨询{_n(s.answered)}条，解答率{_percent(s.answer_rate)}"
    else:
        text += f"，收到咨询{_n(asked)}条，均未能由公众号直接解答"
    if s.answered and s.unanswered:
        text += f"，另有{_n(s.unanswered)}条咨询未能直接解答，已汇总供补充知识库"
    if s.urgent:
        text += f"，{_n(s.urgent)}条紧急求助消息第一时间提示了报警、急救或心理援助电话"
    top = list(s.by_theme.items())[:3]
    if top:
        themes = "、".join(f"{f.names.theme(slug)}（{_n(n)}条）" for slug, n in top)
        text += f"，群众咨询较多的是{themes}"
    return text


def _followers(s: Summary) -> str:
    gained, lost, net = s.subscribes, s.unsubscribes, s.net_followers
    if not gained and not lost:
        return "公众号关注人数全年没有变化"
    text = f"新增关注{_n(gained)}人次" if gained else "没有新增关注"
    if lost:
        text += f"、取消关注{_n(lost)}人次"
    if net > 0:
        text += f"，净增{_n(net)}人"
    elif net < 0:
        text += f"，净减少{_n(-net)}人"
    else:
        text += "，关注人数持平"
    via = s.followers_via_activities
    if via:
        text += f"，其中通过线下活动二维码关注{_n(via)}人次"
    return text


def _offline(s: Summary) -> str:
    a = s.activity_totals
    if not s.activity_count:
        return "线下普法活动未在系统中登记"
    publicity, trainings = _split_activities(s)
    pieces = []
    if publicity:
        text = f"开展线下普法宣传{_n(sum(publicity.values()))}场次"
        kinds = sorted(publicity.items(), key=lambda kv: (-kv[1], kv[0]))
        if len(kinds) > 1 or kinds[0][0] != "其他普法活动":
            text += "，其中" + "、".join(f"{name}{_n(n)}场次" for name, n in kinds)
        pieces.append(text)
    pieces += [f"{name}{_n(n)}次" for name, n in sorted(trainings.items())]
    text = "，".join(pieces)
    if a["attendance"]:
        text += f"，参与群众{_n(a['attendance'])}人次"
        if a["attendance_unknown"]:
            text += f"（另有{_n(a['attendance_unknown'])}场未登记人数）"
    else:
        text += "，参与人数未登记"
    return text


def mediation_paragraph(f: Figures) -> str:
    """The register's paragraph, in the words of the seed report's 化解矛盾纠纷 (受理调解矛
    盾纠纷85起，其中损害赔偿纠纷27起……镇调委会调解75起): counts only, kinds without a
    case left out, a year without cases said plainly."""
    m = f.summary.mediation
    if not m or not m["cases"]:
        return "全年未在系统中登记人民调解矛盾纠纷。"
    text = f"全年受理调解矛盾纠纷{_n(m['cases'])}起"
    kinds = [f"{KINDS[k][1]}{_n(n)}起" for k, n in m["by_type"].items() if n and k in KINDS]
    text += "，其中" + "，".join(kinds) + "。"
    pieces = [f"{COMMITTEES[k]}调解{_n(n)}起" for k, n in m["by_committee"].items() if n]
    unassigned = m["cases"] - sum(m["by_committee"].values())
    if unassigned:
        pieces.append(f"{_n(unassigned)}起尚未分配调委会")
    pieces.append(f"调解成功{_n(m['settled'])}起")
    if m["open"]:
        pieces.append(f"{_n(m['open'])}起正在调解中")
    return text + "，".join(pieces) + "。"


def markdown(f: Figures, year: int, town: str, picture: str | None = None) -> str:
    """The report section as Markdown: title, paragraph, table (and the trend picture)."""
    lines = [f"## {town}{year}年度普法宣传统计", "", paragraph(f), ""]
    lines += ["| 项目 | 数量 |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in table_rows(f)]
    themes = list(f.summary.by_theme.items())
    if themes:
        lines += ["", "| 咨询主题 | 解答（条） |", "| --- | --- |"]
        lines += [f"| {f.names.theme(slug)} | {_n(n)} |" for slug, n in themes]
    if picture:
        lines += ["", f"![{year}年每月趋势]({picture})"]
    lines += ["", "### 人民调解", "", mediation_paragraph(f)]
    lines += ["", f"（统计期间：{year}年1月1日至{year}年12月31日，数据来自普法公众号后台。）"]
    return "\n".join(lines) + "\n"


def plain_text(f: Figures, year: int, town: str) -> str:
    """The same as plain text; the table is tab-separated, so Word's 文本转换成表格 (and
    Excel, on paste) turns it into a table."""
    lines = [f"{town}{year}年度普法宣传统计", "", paragraph(f), "", "项目\t数量"]
    lines += [f"{name}\t{value}" for name, value in table_rows(f)]
    themes = list(f.summary.by_theme.items())
    if themes:
        lines += ["", "咨询主题\t解答（条）"]
        lines += [f"{f.names.theme(slug)}\t{_n(n)}" for slug, n in themes]
    lines += ["", "人民调解", mediation_paragraph(f)]
    lines += ["", f"（统计期间：{year}年1月1日至{year}年12月31日，数据来自普法公众号后台。）"]
    return "\n".join(lines) + "\n"
