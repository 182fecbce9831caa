"""A period's figures as files staff open in Excel (xlsx, CSV) and the trend picture (SVG).

Every view is a table built once (`views`) and written by both formats, so the CSV and
the workbook hold the same numbers. Nothing here carries an OpenID or a message tied to
a person: the figures are counts; unanswered questions are texts without their senders.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from ..mediation import tables
from .labels import FIGURES, GRANULARITY_NAMES, LABELS
from .series import DAILY, series
from .summary import Names, Summary, summary

TREND_FIELDS = ("messages_received", "answered", "unanswered", "subscribes")


@dataclass
class View:
    """One table: a sheet of the workbook, a section of the CSV."""

    name: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)
    widths: list[int] = field(default_factory=list)


@dataclass
class Figures:
    """Everything one export or report needs, read in one go."""

    summary: Summary
    by: dict[str, list[dict]]  # granularity -> series rows
    names: Names


def collect(
    engine: Engine, tz: ZoneInfo, start: date, end: date, names: Names, top: int = 100
) -> Figures:
    by = {g: series(engine, tz, start, end, g) for g in ("day", "week", "month")}
    return Figures(summary(engine, tz, start, end, top=top), by, names)


def load_names(content_dir: Path, town) -> Names:
    """Theme names and entry titles from the knowledge base; theme names alone from the
    taxonomy when the knowledge base does not load (figures never depend on it)."""
    from ..answer import load_knowledge_base
    from ..errors import KnowledgeBaseError
    from .activities import theme_names

    try:
        return Names.of(load_knowledge_base(Path(content_dir), town))
    except KnowledgeBaseError:
        return Names(theme_names(content_dir), {})


def views(f: Figures) -> list[View]:
    s, names = f.summary, f.names
    overview = View("概览", ["指标", "数值"], widths=[30, 16])
    overview.rows += [["统计起始日期", s.start], ["统计截止日期", s.end]]
    overview.rows += [[figure.named(), getattr(s, figure.field)] for figure in FIGURES]
    result = [overview, *(_series(granularity, rows) for granularity, rows in f.by.items())]
    themes = View("按主题", ["主题", "主题代码", "已解答（条）"], widths=[28, 20, 12])
    themes.rows += [[names.theme(k), k, v] for k, v in s.by_theme.items()]
    entries = View(
        "按知识条目", ["条目编号", "标题", "主题", "已解答（条）"], widths=[28, 60, 24, 12]
    )
    for entry_id, count in s.by_entry.items():
        title, theme = names.entries.get(entry_id, ("", ""))
        entries.rows.append([entry_id, title, names.theme(theme), count])
    clicks = View("菜单点击", ["菜单键", "点击（次）"], widths=[28, 12])
    clicks.rows += [[k, v] for k, v in s.menu_clicks_by_key.items()]
    result += [themes, entries, _scenes(s), clicks, _campaigns(s, names), _activities(s, names)]
    result.append(_mediation(s))
    unanswered = View("未解答问题", ["问题（不含提问人）", "次数"], widths=[80, 8])
    unanswered.rows += [[q["text"], q["count"]] for q in s.top_unanswered]
    result.append(unanswered)
    return result


def _series(granularity: str, rows: list[dict]) -> View:
    daily = granularity == "day"
    view = View(
        f"{GRANULARITY_NAMES[granularity]}趋势",
        ["日期" if daily else "起始日期", *([] if daily else ["期间"])]
        + [figure.named() for figure in DAILY],
        widths=[12, *([] if daily else [10]), *[14] * len(DAILY)],
    )
    for row in rows:
        label = [] if daily else [row["label"]]
        values = [row[figure.field] for figure in DAILY]
        view.rows.append([date.fromisoformat(row["start"]), *label, *values])
    return view


def _scenes(s: Summary) -> View:
    by_scene = {a["scene"]: a for a in s.activities if a["scene"]}
    view = View(
        "二维码场景",
        ["场景值", "新增关注（人次）", "扫码次数", "对应线下活动"],
        widths=[24, 16, 12, 40],
    )
    followers, scans = s.followers_by_scene, s.scans_by_scene
    for scene in sorted(set(followers) | set(scans), key=lambda k: (-followers.get(k, 0), k)):
        activity = by_scene.get(scene)
        label = (
            f"{activity['date']} {activity['kind_name']} {activity['place']}" if activity else ""
        )
        view.rows.append([scene, followers.get(scene, 0), scans.get(scene, 0), label])
    return view


def _campaigns(s: Summary, names: Names) -> View:
    view = View(
        "线上推送",
        [
            "名称",
            "主题",
            "推送对象",
            "方式",
            "开始时间",
            "送达（人）",
            "被过滤（人）",
            "跳过（人）",
            "失败（人）",
            "72小时内互动（人）",
            "互动率",
        ],
        widths=[30, 24, 14, 10, 18, 10, 10, 10, 10, 16, 8],
    )
    for c in s.campaigns:
        started = datetime.fromisoformat(c["started_at"]).replace(tzinfo=None)
        kind = "群发" if c["audience_kind"] == "mass" else "客服消息"
        view.rows.append(
            [
                c["name"],
                names.theme(c["theme"]),
                c["audience_name"],
                kind,
                started,
                c["sent"],
                c["filtered"],
                c["skipped"],
                c["errors"],
                c["engaged"],
                c["engagement_rate"],
            ]
        )
    return view


def _activities(s: Summary, names: Names) -> View:
    view = View(
        "线下活动",
        ["日期", "类型", "地点", "主题", "参与人数", "二维码场景", "通过二维码新增关注"],
        widths=[12, 16, 30, 24, 10, 20, 18],
    )
    for a in s.activities:
        view.rows.append(
            [
                date.fromisoformat(a["date"]),
                a["kind_name"],
                a["place"],
                names.theme(a["theme"]),
                a["attendance"],
                a["scene"],
                a["followers_gained"],
            ]
        )
    return view


def _mediation(s: Summary) -> View:
    """人民调解: the register's counts of the period, never a case's personal field."""
    view = View("人民调解", ["项目", "数量（起）"], widths=[30, 12])
    m = s.mediation
    if m is None:
        return view
    view.rows.append(["受理调解矛盾纠纷", m["cases"]])
    view.rows += [[tables.KINDS[k][1], n] for k, n in m["by_type"].items()]
    view.rows += [[f"{tables.COMMITTEES[k]}调解", n] for k, n in m["by_committee"].items()]
    view.rows += [[f"来源：{tables.SOURCES[k]}", n] for k, n in m["by_source"].items()]
    view.rows += [[f"状态：{tables.STATES[k]}", n] for k, n in m["by_state"].items()]
    view.rows.append(["调解成功率", m["success_rate"]])
    view.rows.append(["结案天数中位数", m["median_days_to_close"]])
    return view


# ---- writers -------------------------------------------------------------------------


def write_csv(f: Figures, path) -> None:
    """UTF-8 with a BOM, so Excel shows the Chinese; one titled section per view.

    `path` is a file name or a binary stream (the console streams it to the browser).
    """
    if hasattr(path, "write"):
        text = io.TextIOWrapper(path, encoding="utf-8-sig", newline="")
        _write_csv(f, text)
        text.detach()  # leave the caller's stream open
        return
    with Path(path).open("w", encoding="utf-8-sig", newline="") as fh:
        _write_csv(f, fh)


def _write_csv(f: Figures, fh) -> None:
    writer = csv.writer(fh)
    for number, view in enumerate(views(f)):
        if number:
            writer.writerow([])
        writer.writerow([f"【{view.name}】"])
        writer.writerow(view.headers)
        for row in view.rows:
            writer.writerow([_csv_value(v) for v in row])
    fh.flush()


# A text that starts with one of these is a formula to Excel (and LibreOffice): a
# resident's question `=HYPERLINK(…)` must stay a question. Such a text gets a leading
# apostrophe in both formats, and the workbook stores every text as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value):
    """`value` as a spreadsheet shows it literally (texts only; numbers stay numbers)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_value(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else inert(value)


def write_xlsx(f: Figures, path) -> None:
    """A workbook streamed row by row (write-only), one sheet per view, real Excel dates,
    and a line chart of the daily trend on its sheet."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for view in views(f):
        sheet = workbook.create_sheet(view.name)
        for index, width in enumerate(view.widths):
            sheet.column_dimensions[_column(index)].width = width
        sheet.freeze_panes = "A2"
        header = []
        for title in view.headers:
            cell = WriteOnlyCell(sheet, value=title)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for row in view.rows:
            sheet.append([_xlsx_cell(sheet, WriteOnlyCell, v) for v in row])
        if view.name == "每日趋势":
            sheet.add_chart(_trend_chart(sheet, len(view.rows)), "K2")
    workbook.save(path)


def _xlsx_cell(sheet, make: Callable, value):
    if isinstance(value, datetime):
        cell = make(sheet, value=value)
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell
    if isinstance(value, date):
        cell = make(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    if isinstance(value, float):
        cell = make(sheet, value=value)
        cell.number_format = "0.0%"
        return cell
    if isinstance(value, str):
        cell = make(sheet, value=inert(value))
        cell.data_type = "s"  # openpyxl would take a text starting with = as a formula
        return cell
    return value


def _column(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _trend_chart(sheet, rows: int):
    from openpyxl.chart import LineChart, Reference

    chart = LineChart()
    chart.title = "每日趋势"
    chart.y_axis.title = "条 / 人"
    chart.x_axis.title = "日期"
    chart.x_axis.number_format = "mm-dd"
    chart.height, chart.width = 9, 24
    fields = [figure.field for figure in DAILY]
    for name in TREND_FIELDS:
        column = fields.index(name) + 2
        data = Reference(sheet, min_col=column, min_row=1, max_row=rows + 1)
        chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=rows + 1))
    return chart


def trend_svg(rows: list[dict], granularity: str, title: str | None = None) -> str:
    """The trend as an SVG line chart; its text is drawn by the viewer's fonts (a browser
    or Word has Chinese fonts, a bare server has none), and it loads no script."""
    import pygal
    from pygal.style import Style

    style = Style(
        font_family='"PingFang SC","Microsoft YaHei","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif',
        background="white",
        plot_background="white",
        colors=("#1f5f3f", "#3a7bd5", "#d9822b", "#8e44ad"),
    )
    every = max(1, len(rows) // 12)
    chart = pygal.Line(
        style=style,
        js=[],
        disable_xml_declaration=True,
        width=960,
        height=380,
        x_label_rotation=30,
        show_minor_x_labels=every == 1,
        x_labels_major_every=every,
        legend_at_bottom=True,
        dots_size=2 if len(rows) > 60 else 3,
        title=title or f"{GRANULARITY_NAMES.get(granularity, '')}趋势",
        no_data_text="本期间没有数据",
    )
    peak = max((row[name] for row in rows for name in TREND_FIELDS), default=0)
    step = max(1, -(-peak // 6))  # whole numbers on the axis: these are counts
    chart.y_labels = list(range(0, peak + step + 1, step))
    chart.x_labels = [row["label"] for row in rows]
    for name in TREND_FIELDS:
        chart.add(LABELS[name].named(), [row[name] for row in rows])
    return chart.render(is_unicode=True)
