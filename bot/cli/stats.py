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
        help=f"One {one} per day, ISO week (Monday first), month or year.",
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
    """Outreach statistics."""


@stats.command("summary")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@FROM
@TO
@click.pass_context
def stats_summary(ctx: click.Context, as_json: bool, start: str | None, end: str | None) -> None:
    """The outreach figures of a period (default: this calendar year)."""
    from ..figures import FIGURES, summary

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
    for slug, count in figures.by_theme.items():
        click.echo(f"    {slug}: {count}")


@stats.command("series")
@by_option("month", "row")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@FROM
@TO
@click.pass_context
def stats_series(ctx, granularity: str, as_json: bool, start: str | None, end: str | None) -> None:
    """The figures of a period by day, week, month or year (default: this year by month)."""
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
    "--format", "fmt", type=click.Choice(["csv", "xlsx"]), required=True, help="File format."
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File to write.",
)
@FROM
@TO
@click.pass_context
def stats_export(ctx, fmt: str, out: Path, start: str | None, end: str | None) -> None:
    """Write the period's figures as a file staff open in Excel (default: this year).

    xlsx: one sheet per view (overview, daily/weekly/monthly trend with a chart, themes,
    entries, QR scenes, menu clicks, campaigns, offline activities, unanswered
    questions). csv: the same views as titled sections, UTF-8 with a BOM. Neither holds
    an OpenID or a message tied to a person.
    """
    from ..figures import exports

    config = load_config(ctx)
    low, high = period(config, start, end)
    names = exports.load_names(config.knowledge.content_dir, config.town)
    with reporting("stats export"):
        figures = exports.collect(records_of(config), config.tz, low, high, names)
        (exports.write_xlsx if fmt == "xlsx" else exports.write_csv)(figures, out)
    click.echo(f"wrote {out} ({low} to {high})")


@stats.command("report")
@click.option("--year", type=click.IntRange(2000, 2100), required=True, help="The year, YYYY.")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="FILE.md (Markdown, with the monthly trend as FILE-trend.svg beside it) or FILE.txt "
    "(plain text, tab-separated table). Default: Markdown on standard output.",
)
@click.pass_context
def stats_report(ctx, year: int, out: Path | None) -> None:
    """The statistics part of the year's rule-of-law report, in Chinese."""
    from ..figures import exports, report

    config = load_config(ctx)
    if out is not None and out.suffix.lower() not in (".md", ".markdown", ".txt"):
        fail([f"stats report: --out must end in .md or .txt, got {out.name}"], 2)
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
            click.echo(f"wrote {picture}")
    click.echo(f"wrote {out}")


@stats.command("chart")
@click.option(
    "--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="FILE.svg"
)
@by_option("day", "point")
@FROM
@TO
@click.pass_context
def stats_chart(ctx, out: Path, granularity: str, start: str | None, end: str | None) -> None:
    """Draw the trend of a period as an SVG picture (for the console, Word or a browser)."""
    from ..figures import exports

    rows = _series(ctx, start, end, granularity, "stats chart")
    with reporting("stats chart"):
        _write(out, exports.trend_svg(rows, granularity))
    click.echo(f"wrote {out}")


@stats.command("rollup")
@click.option(
    "--days",
    type=click.IntRange(0, 36500),
    default=None,
    help="Keep raw events of this many days, at least 4; 0 keeps them all "
    "(default: stats.retention_days).",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
@click.pass_context
def stats_rollup(ctx, days: int | None, as_json: bool) -> None:
    """Aggregate closed days into daily figures; delete raw events past the retention.

    `legalbot serve` runs it every night at 02:30; with gunicorn, run it nightly from
    cron. Every figure of every period stays the same;
    figures of aggregated days are read from a few daily rows, so a year's summary stays
    fast. What remains of a deleted day: its counts, the pseudonymous ids of residents
    who wrote that day (for exact distinct counts), and each campaign's frozen 72-hour
    engagement. Safe to run again, beside another run, or after an interruption.
    Also deletes the phone numbers and descriptions of mediation cases closed
    mediation.keep_days ago (the cases and their counts stay).
    """
    from ..figures import rollup

    config = load_config(ctx)
    days = config.stats.retention_days if days is None else days
    if 0 < days < rollup.MIN_RETENTION_DAYS:
        fail([f"stats rollup: --days must be 0 or at least {rollup.MIN_RETENTION_DAYS}"], 2)
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
    click.echo(
        f"aggregated {result.aggregated_days} day(s) with events; days before "
        f"{done['aggregated_until']} are aggregated"
    )
    if result.deleted_before is None:
        click.echo("stats.retention_days is 0: raw events are kept, none deleted")
    else:
        click.echo(
            f"deleted {result.deleted_events} raw event(s) of days before "
            f"{done['deleted_before']}; {result.campaigns_frozen} campaign engagement "
            "figure(s) frozen"
        )


COMMANDS = (stats,)
