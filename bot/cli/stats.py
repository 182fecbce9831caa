"""`legalbot stats`: the outreach figures of a period, as text, JSON, files and a report."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from ..config import Config
from .kit import FROM, TO, fail, load_config, period, reporting


def by_option(default: str, one: str):
    """--by: the rows (or points) of a period, per day, ISO week, month or year."""
    return click.option(
        "--by",
        "granularity",
        type=click.Choice(["day", "week", "month", "year"]),
        default=default,
        show_default=True,
        help=f"每{one}一段：day 按日，week 按周（周一起），month 按月，year 按年。",
    )


def records_of(config: Config):
    """The records, with what a stopped server left in its journal committed first."""
    from .. import records
    from ..inbox.recorder import replay_orphans

    engine = records.make_engine(config.database_url)
    replay_orphans(engine, config.var_dir / "journal", config.tz)
    return engine


def _series(ctx, start: str | None, end: str | None, granularity: str, what: str) -> list:
    """The period's rows per day, week, month or year."""
    from ..figures import series

    config = load_config(ctx)
    low, high = period(config, start, end)
    with reporting(what):
        return series(records_of(config), config.tz, low, high, granularity)


def _write(path: Path, text: str) -> None:
    path.write_text(text, "utf-8")


@click.group()
def stats() -> None:
    """普法宣传统计：一段时间的数字、趋势、报表和年度报告。"""


@stats.command("summary")
@click.option("--json", "as_json", is_flag=True, help="输出一个 JSON 对象（供脚本读取）。")
@FROM
@TO
@click.pass_context
def stats_summary(ctx: click.Context, as_json: bool, start: str | None, end: str | None) -> None:
    """一段时间的宣传数字（默认：今年）。"""
    from ..figures import FIGURES, summary
    from ..figures.activities import theme_names

    config = load_config(ctx)
    low, high = period(config, start, end)
    with reporting("stats"):
        figures = summary(records_of(config), config.tz, low, high)
    if as_json:
        click.echo(json.dumps(figures.to_json(), ensure_ascii=False))
        return
    click.echo(f"{figures.start} 至 {figures.end}")
    for figure in FIGURES:
        click.echo(f"  {figure.label}：{figure.value(getattr(figures, figure.field))}")
    if figures.by_theme:
        click.echo("  已解答问题按主题：")
        names = theme_names(config.knowledge.content_dir)
    for slug, count in figures.by_theme.items():
        click.echo(f"    {names.get(slug, slug)}：{count}")


@stats.command("series")
@by_option("month", "行")
@click.option("--json", "as_json", is_flag=True, help="输出一个 JSON 数组（供脚本读取）。")
@FROM
@TO
@click.pass_context
def stats_series(ctx, granularity: str, as_json: bool, start: str | None, end: str | None) -> None:
    """一段时间的数字按日、周、月或年分行列出（默认：今年，按月）。"""
    from ..figures.series import DAILY

    rows = _series(ctx, start, end, granularity, "stats")
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    click.echo("\t".join(["期间", *(figure.label for figure in DAILY)]))
    for row in rows:
        values = [row["label"], *(row[figure.field] for figure in DAILY)]
        click.echo("\t".join(str(v) for v in values))


@stats.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx"]), required=True, help="文件格式。"
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="要写入的文件。",
)
@FROM
@TO
@click.pass_context
def stats_export(ctx, fmt: str, out: Path, start: str | None, end: str | None) -> None:
    """把一段时间的数字写成 Excel 能打开的文件（默认：今年）。

    xlsx：每项一张工作表（概览，按日、周、月的趋势和图表，按主题，按知识条目，
    二维码场景，菜单点击，线上推送，线下活动，未解答问题）。csv：同样的内容分段写出，
    UTF-8 带 BOM。都不含 OpenID，也不含能对应到个人的消息。
    """
    from ..figures import exports

    config = load_config(ctx)
    low, high = period(config, start, end)
    names = exports.load_names(config.knowledge.content_dir, config.town)
    with reporting("stats export"):
        figures = exports.collect(records_of(config), config.tz, low, high, names)
        (exports.write_xlsx if fmt == "xlsx" else exports.write_csv)(figures, out)
    click.echo(f"已写入 {out}（{low} 至 {high}）")


@stats.command("report")
@click.option("--year", type=click.IntRange(2000, 2100), required=True, help="年份，YYYY。")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="FILE.md（Markdown，每月趋势图另存为同目录的 FILE-trend.svg）或 FILE.txt"
    "（纯文本，表格以制表符分隔）。不给时在屏幕上输出 Markdown。",
)
@click.pass_context
def stats_report(ctx, year: int, out: Path | None) -> None:
    """年度法治宣传工作报告的统计部分（中文，可直接粘贴）。"""
    from ..figures import exports, report

    config = load_config(ctx)
    if out is not None and out.suffix.lower() not in (".md", ".markdown", ".txt"):
        fail([f"stats report：--out 的文件名应以 .md 或 .txt 结尾，现在是 {out.name}"], 2)
    names = exports.load_names(config.knowledge.content_dir, config.town)
    low, high = date(year, 1, 1), date(year, 12, 31)
    town = config.town.get("name", "")
    with reporting("stats report"):
        figures = exports.collect(records_of(config), config.tz, low, high, names)
        if out is None:
            click.echo(report.markdown(figures, year, town), nl=False)
            return
        if out.suffix.lower() == ".txt":
            _write(out, report.plain_text(figures, year, town))
        else:
            picture = out.with_name(out.stem + "-trend.svg")
            _write(picture, exports.trend_svg(figures.by["month"], "month", f"{year}年每月趋势"))
            _write(out, report.markdown(figures, year, town, picture.name))
            click.echo(f"已写入 {picture}")
    click.echo(f"已写入 {out}")


@stats.command("chart")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="FILE.svg，要写入的图片。",
)
@by_option("day", "点")
@FROM
@TO
@click.pass_context
def stats_chart(ctx, out: Path, granularity: str, start: str | None, end: str | None) -> None:
    """把一段时间的趋势画成 SVG 图片（可放进 Word，或用浏览器打开）。"""
    from ..figures import exports

    rows = _series(ctx, start, end, granularity, "stats chart")
    with reporting("stats chart"):
        _write(out, exports.trend_svg(rows, granularity))
    click.echo(f"已写入 {out}")


@stats.command("rollup")
@click.option(
    "--days",
    type=click.IntRange(0, 36500),
    default=None,
    help="原始记录保留的天数，至少 4 天；0 表示全部保留（默认：stats.retention_days）。",
)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出做了什么（供脚本读取）。")
@click.pass_context
def stats_rollup(ctx, days: int | None, as_json: bool) -> None:
    """把已过去的日子汇总成每日数字，并删除超过保留期的原始记录。

    `legalbot serve` 每晚 02:30 自动执行；用 gunicorn 部署时请用 cron 每晚执行。
    任何时段的任何数字都不变；汇总过的日子从每日汇总行读取，一年的统计也很快。
    删除的日子留下：当天的各项数字，当天来信居民的化名编号（用于准确去重计数），
    以及每次推送冻结的 72 小时互动数。可以重复执行、同时执行或中断后再执行。
    也会删除结案满 mediation.keep_days 天的调解案件中的电话和情况描述（案件和各项数字保留）。
    """
    from ..figures import rollup

    config = load_config(ctx)
    days = config.stats.retention_days if days is None else days
    if 0 < days < rollup.MIN_RETENTION_DAYS:
        fail([f"stats rollup：--days 应为 0 或至少 {rollup.MIN_RETENTION_DAYS}"], 2)
    with reporting("stats rollup"):
        engine = records_of(config)
        result = rollup.rollup(engine, config.tz, days)
        cleared = rollup.forget_personal(engine, config)
    done = {
        "aggregated_days": result.aggregated_days,
        "aggregated_until": result.aggregated_until and result.aggregated_until.isoformat(),
        "deleted_events": result.deleted_events,
        "deleted_before": result.deleted_before and result.deleted_before.isoformat(),
        "campaigns_frozen": result.campaigns_frozen,
        "mediation_personal_deleted": cleared,
    }
    if as_json:
        click.echo(json.dumps(done))
        return
    until = done["aggregated_until"] or "（无）"
    click.echo(f"汇总了 {result.aggregated_days} 天有记录的日子；{until} 之前的日子都已汇总")
    if result.deleted_before is None:
        click.echo("stats.retention_days 为 0：原始记录全部保留，未删除")
    else:
        click.echo(
            f"删除了 {done['deleted_before']} 之前的 {result.deleted_events} 条原始记录；"
            f"冻结了 {result.campaigns_frozen} 次推送的互动数"
        )


COMMANDS = (stats,)
