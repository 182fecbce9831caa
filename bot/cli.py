"""The `legalbot` command: thin wrappers over the modules that do the work."""

from __future__ import annotations

import contextlib
import json
import re
import sys
from datetime import date
from pathlib import Path

import click

from . import config as config_module
from .clikit import fail as _fail
from .clikit import load_config as _config
from .errors import KnowledgeBaseError


class _Legalbot(click.Group):
    """The `legalbot` group: its own commands plus those plugged in (bot/plugins.py)."""

    def _plugged(self) -> dict[str, click.Command]:
        from .plugins import COMMANDS, load

        return {command.name: command for command in load(COMMANDS)}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._plugged()))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return super().get_command(ctx, name) or self._plugged().get(name)


@click.group(cls=_Legalbot, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """legalbot: the township's legal-education (普法) WeChat official account."""


# ---- service -------------------------------------------------------------------------


@main.command()
@click.option("--host", default=None, help="Address to listen on (default: server.host).")
@click.option("--port", default=None, type=int, help="Port (default: server.port).")
@click.option("--threads", default=8, show_default=True, help="Request threads.")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, threads: int) -> None:
    """Run the webhook and staff console in one process (upgrades the schema first)."""
    config = _config(ctx)
    from .server import serve as run_server

    run_server(config, host or config.host, port or config.port, threads)


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Create or upgrade the database schema (idempotent)."""
    from . import records, schema

    config = _config(ctx)
    engine = records.make_engine(config.database_url)
    try:
        schema.upgrade(engine)
    except Exception as exc:  # noqa: BLE001 - report, don't trace: the operator fixes the URL
        _fail([f"db upgrade: {type(exc).__name__}: {exc}".splitlines()[0]])
    click.echo(f"schema is up to date ({engine.url.render_as_string(hide_password=True)})")


# ---- knowledge base ------------------------------------------------------------------


def _answerer(config: config_module.Config):
    from .answer import Answerer, KnowledgeBaseHolder
    from .state import MemoryState

    try:
        holder = KnowledgeBaseHolder(config.knowledge.content_dir, config.town, 0)
    except KnowledgeBaseError as exc:
        _fail([str(exc), *exc.problems])
    return Answerer(holder, MemoryState(), config.knowledge)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per question.")
@click.argument("question", required=False)
@click.pass_context
def ask(ctx: click.Context, as_json: bool, question: str | None) -> None:
    """Answer QUESTION, or each line of standard input, from the knowledge base."""
    answerer = _answerer(_config(ctx))
    questions = [question] if question is not None else (line.rstrip("\n") for line in sys.stdin)
    for text in questions:
        answer = answerer.ask(text)
        if as_json:
            click.echo(json.dumps(answer.to_json(text), ensure_ascii=False))
        else:
            click.echo(answer.text)
            if question is None:
                click.echo("")


# The development sets `legalbot kb eval` scores when given no file (README, "Measured").
DEV_SETS = [
    Path("tests/data") / name
    for name in ("dev_questions.tsv", "real_questions.tsv", "danger_messages.tsv")
]


@main.group()
def kb() -> None:
    """Knowledge-base commands."""


@kb.command("validate")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.pass_context
def kb_validate(ctx: click.Context, path: Path | None) -> None:
    """Check the knowledge base; print `file:line: message` for each problem.

    Entries reviewed before their law was last revised are listed as warnings (exit 0):
    re-check them and update their `reviewed` date.
    """
    from .answer import check

    content_dir = path or _config(ctx).knowledge.content_dir
    problems, notices = check(content_dir)
    for notice in notices:
        click.echo(f"warning: {notice}", err=True)
    if problems:
        _fail(problems)
    click.echo(f"{content_dir}: knowledge base is valid")


@kb.command("export")
@click.option("--json", "as_json", is_flag=True, required=True, help="Print a JSON array.")
@click.pass_context
def kb_export(ctx: click.Context, as_json: bool) -> None:
    """Every entry as one JSON array."""
    from .answer import load_knowledge_base

    config = _config(ctx)
    try:
        kb = load_knowledge_base(config.knowledge.content_dir, config.town)
    except KnowledgeBaseError as exc:
        _fail([str(exc), *exc.problems])
    entries = [entry.export() for entry in kb.entries]
    click.echo(json.dumps(entries, ensure_ascii=False, indent=1))


@kb.command("eval")
@click.argument("tsvs", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--misses", is_flag=True, help="Also list the messages answered wrongly.")
@click.pass_context
def kb_eval(ctx: click.Context, tsvs: tuple[Path, ...], misses: bool) -> None:
    """Score the answers against labelled files: questions (columns themes, question) or
    danger messages (columns kind, message). Without files: the development sets of
    tests/data (residents' questions, real consultation questions, danger messages)."""
    from .answer import evaluate

    files = list(tsvs) or [p for p in DEV_SETS if p.exists()]
    if not files:
        _fail(["kb eval: name a labelled TSV file (the development sets are not here)"], 2)
    answerer = _answerer(_config(ctx))
    for tsv in files:
        try:
            report = evaluate(answerer, tsv)
        except ValueError as exc:
            _fail([f"{tsv}: {exc}"])
        click.echo(f"== {tsv}")
        for line in report.lines():
            click.echo(line)
        if misses:
            for miss in report.misses:
                click.echo(f"  miss: {miss.line()}")


@kb.command("reload")
@click.pass_context
def kb_reload(ctx: click.Context) -> None:
    """Validate the files and make running services reload them (content/.reload)."""
    from .answer import validate

    config = _config(ctx)
    problems = validate(config.knowledge.content_dir)
    if problems:
        _fail(["not reloaded: the files have problems", *problems])
    stamp = config.knowledge.content_dir / ".reload"
    stamp.write_text(date.today().isoformat() + "\n")
    click.echo(
        "knowledge base is valid; running services reload it within "
        f"{config.knowledge.reload_check_seconds:g} s"
    )


# ---- statistics ----------------------------------------------------------------------


def _iso_date(value: str) -> date:
    """YYYY-MM-DD exactly (Python would also take 20250301 or 2025-W10-1)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise ValueError(f"{value!r} is not YYYY-MM-DD")
    return date.fromisoformat(value.strip())


def _period(config: config_module.Config, start: str | None, end: str | None) -> tuple[date, date]:
    from .stats import current_year

    default_start, default_end = current_year(config.tz)
    try:
        low = _iso_date(start) if start else default_start
        high = _iso_date(end) if end else default_end
    except ValueError as exc:
        _fail([f"stats: dates are YYYY-MM-DD ({exc})"], 2)
    if low > high:
        _fail(["stats: --from is after --to"], 2)
    return low, high


@main.group()
def stats() -> None:
    """Outreach statistics."""


@stats.command("summary")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--from", "start", default=None, help="First day, YYYY-MM-DD.")
@click.option("--to", "end", default=None, help="Last day (inclusive), YYYY-MM-DD.")
@click.pass_context
def stats_summary(ctx: click.Context, as_json: bool, start: str | None, end: str | None) -> None:
    """The outreach figures of a period (default: this calendar year)."""
    from . import stats as stats_module

    config = _config(ctx)
    low, high = _period(config, start, end)
    engine = _stats_engine(config)
    try:
        figures = stats_module.summary(engine, config.tz, low, high)
    except Exception as exc:  # noqa: BLE001
        _fail([f"stats: cannot read the records ({type(exc).__name__}); run `legalbot db upgrade`"])
    if as_json:
        click.echo(json.dumps(figures, ensure_ascii=False))
        return
    click.echo(f"{figures['from']} 至 {figures['to']}")
    click.echo(f"  收到消息 {figures['messages_received']} 条，来自 {figures['unique_users']} 人")
    click.echo(
        f"  已解答 {figures['answered']} 条，未解答 {figures['unanswered']} 条"
        f"（其中推荐相近问题 {figures['suggested']} 条、转介其他部门 {figures['referred']} 条）"
    )
    click.echo(f"  紧急求助 {figures['urgent']} 条（已先提示报警、急救或心理援助电话）")
    click.echo(
        f"  新增关注 {figures['subscribes']}，取消关注 {figures['unsubscribes']}，"
        f"菜单点击 {figures['menu_clicks']}"
    )
    for slug, count in figures["by_theme"].items():
        click.echo(f"  {slug}: {count}")
    c, a = figures["campaign_totals"], figures["activity_totals"]
    click.echo(
        f"  线上推送 {c['count']} 次，送达 {c['sent']} 人次，72小时内互动 {c['engaged']} 人次"
    )
    click.echo(
        f"  线下活动 {a['count']} 场，参与 {a['attendance']} 人次，"
        f"经活动二维码关注 {a['followers_via_activities']}"
    )


def _stats_engine(config: config_module.Config):
    """The records, with what a stopped server left in its journal committed first."""
    from . import recorder, records

    engine = records.make_engine(config.database_url)
    recorder.replay_orphans(engine, config.var_dir / "journal", config.tz)
    return engine


@contextlib.contextmanager
def _reading(what: str):
    """Database problems end a stats or activity command with one line, never a trace."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except SQLAlchemyError as exc:
        _fail(
            [f"{what}: cannot read the records ({type(exc).__name__}); run `legalbot db upgrade`"]
        )


def _write(path: Path, writer, what: str) -> None:
    try:
        writer(path)
    except OSError as exc:
        _fail([f"{what}: cannot write {path} ({exc.strerror or exc})"])


_FROM = click.option(
    "--from", "start", default=None, help="First day, YYYY-MM-DD (default: 1 January)."
)
_TO = click.option(
    "--to", "end", default=None, help="Last day (inclusive), YYYY-MM-DD (default: 31 December)."
)


@stats.command("series")
@click.option(
    "--by",
    "granularity",
    type=click.Choice(["day", "week", "month", "year"]),
    default="month",
    show_default=True,
    help="One row per day, ISO week (Monday first), month or year.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@_FROM
@_TO
@click.pass_context
def stats_series(ctx, granularity: str, as_json: bool, start: str | None, end: str | None) -> None:
    """The figures of a period by day, week, month or year (default: this year by month)."""
    from . import stats as stats_module

    config = _config(ctx)
    low, high = _period(config, start, end)
    with _reading("stats"):
        rows = stats_module.series(_stats_engine(config), config.tz, low, high, granularity)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    click.echo("期间\t收到消息\t咨询群众\t已解答\t未解答\t新增关注\t取消关注\t净增\t菜单点击")
    for row in rows:
        values = [row[k] for k in stats_module.SERIES_FIELDS]
        click.echo("\t".join(str(v) for v in [row["label"], *values]))


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
@_FROM
@_TO
@click.pass_context
def stats_export(ctx, fmt: str, out: Path, start: str | None, end: str | None) -> None:
    """Write the period's figures as a file staff open in Excel (default: this year).

    xlsx: one sheet per view (overview, daily/weekly/monthly trend with a chart, themes,
    entries, QR scenes, menu clicks, campaigns, offline activities, unanswered
    questions). csv: the same views as titled sections, UTF-8 with a BOM. Neither holds
    an OpenID or a message tied to a person.
    """
    from . import exports

    config = _config(ctx)
    low, high = _period(config, start, end)
    names = exports.load_names(config.knowledge.content_dir, config.town)
    with _reading("stats export"):
        figures = exports.collect(_stats_engine(config), config.tz, low, high, names)
    writer = exports.write_xlsx if fmt == "xlsx" else exports.write_csv
    _write(out, lambda path: writer(figures, path), "stats export")
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
    from datetime import date as date_type

    from . import exports, report

    config = _config(ctx)
    if out is not None and out.suffix.lower() not in (".md", ".markdown", ".txt"):
        _fail([f"stats report: --out must end in .md or .txt, got {out.name}"], 2)
    names = exports.load_names(config.knowledge.content_dir, config.town)
    low, high = date_type(year, 1, 1), date_type(year, 12, 31)
    with _reading("stats report"):
        engine = _stats_engine(config)
        figures = exports.collect(engine, config.tz, low, high, names)
        months = figures.by["month"]
    town = config.town.get("name", "")
    if out is None:
        click.echo(report.markdown(figures, year, town), nl=False)
        return
    if out.suffix.lower() == ".txt":
        _write(
            out,
            lambda p: p.write_text(report.plain_text(figures, year, town), "utf-8"),
            "stats report",
        )
    else:
        picture = out.with_name(out.stem + "-trend.svg")
        svg = exports.trend_svg(months, "month", f"{year}年每月趋势")
        _write(picture, lambda p: p.write_text(svg, "utf-8"), "stats report")
        text = report.markdown(figures, year, town, picture.name)
        _write(out, lambda p: p.write_text(text, "utf-8"), "stats report")
        click.echo(f"wrote {picture}")
    click.echo(f"wrote {out}")


@stats.command("chart")
@click.option(
    "--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="FILE.svg"
)
@click.option(
    "--by",
    "granularity",
    type=click.Choice(["day", "week", "month", "year"]),
    default="day",
    show_default=True,
    help="One point per day, week, month or year.",
)
@_FROM
@_TO
@click.pass_context
def stats_chart(ctx, out: Path, granularity: str, start: str | None, end: str | None) -> None:
    """Draw the trend of a period as an SVG picture (for the console, Word or a browser)."""
    from . import exports
    from . import stats as stats_module

    config = _config(ctx)
    low, high = _period(config, start, end)
    with _reading("stats chart"):
        rows = stats_module.series(_stats_engine(config), config.tz, low, high, granularity)
    svg = exports.trend_svg(rows, granularity)
    _write(out, lambda p: p.write_text(svg, "utf-8"), "stats chart")
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
    """
    from . import rollup

    config = _config(ctx)
    days = config.stats.retention_days if days is None else days
    if 0 < days < rollup.MIN_RETENTION_DAYS:
        _fail([f"stats rollup: --days must be 0 or at least {rollup.MIN_RETENTION_DAYS}"], 2)
    with _reading("stats rollup"):
        result = rollup.rollup(_stats_engine(config), config.tz, days)
    done = {
        "aggregated_days": result.aggregated_days,
        "aggregated_until": result.aggregated_until and result.aggregated_until.isoformat(),
        "deleted_events": result.deleted_events,
        "deleted_before": result.deleted_before and result.deleted_before.isoformat(),
        "campaigns_frozen": result.campaigns_frozen,
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


# ---- offline activities ----------------------------------------------------------------


@main.group()
def activity() -> None:
    """Offline publicity activities (集市宣传, 法治讲座, 法律进学校, 法律明白人培训, …)."""


def _activity_kinds_help() -> str:
    from .stats import ACTIVITY_KINDS

    return ", ".join(f"{slug} ({name})" for slug, name in ACTIVITY_KINDS.items())


def _day(value: str, option: str) -> date:
    try:
        return _iso_date(value)
    except ValueError:
        _fail([f"activity: {option} must be a date YYYY-MM-DD, got {value!r}"], 2)


@activity.command("add")
@click.option("--date", "held_on", required=True, help="Day it was held, YYYY-MM-DD.")
@click.option("--kind", required=True, help="Kind: a slug or its Chinese name.")
@click.option("--place", required=True, help="Where, e.g. 甘河滩村集市.")
@click.option("--theme", default=None, help="Theme slug of shared/taxonomy.toml, e.g. fraud.")
@click.option(
    "--attendance", type=click.IntRange(0, 1_000_000), default=None, help="People reached."
)
@click.option("--scene", default=None, help="Scene string of the QR code printed for it.")
@click.option("--note", default=None, help="Anything else worth keeping.")
@click.option("--json", "as_json", is_flag=True, help="Print the recorded activity as JSON.")
@click.pass_context
def activity_add(ctx, held_on, kind, place, theme, attendance, scene, note, as_json) -> None:
    """Record an offline activity; prints its id (with --json, the activity)."""
    from . import activities
    from .errors import ActivityError

    config = _config(ctx)
    day = _day(held_on, "--date")
    try:
        with _reading("activity"):
            added = activities.add(
                _stats_engine(config),
                held_on=day,
                kind=kind,
                place=place,
                themes=activities.theme_names(config.knowledge.content_dir),
                theme=theme,
                attendance=attendance,
                scene=scene,
                note=note,
            )
    except ActivityError as exc:
        _fail([f"activity: {exc}"], 2)
    click.echo(json.dumps(added, ensure_ascii=False) if as_json else str(added["id"]))


activity_add.help = (activity_add.help or "") + "\n\nKinds: " + _activity_kinds_help() + "."


@activity.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@click.option("--from", "start", default=None, help="Held on or after, YYYY-MM-DD.")
@click.option("--to", "end", default=None, help="Held on or before, YYYY-MM-DD.")
@click.pass_context
def activity_list(ctx, as_json: bool, start: str | None, end: str | None) -> None:
    """List the recorded activities in date order."""
    from . import activities

    config = _config(ctx)
    low = _day(start, "--from") if start else None
    high = _day(end, "--to") if end else None
    with _reading("activity"):
        found = activities.list_activities(_stats_engine(config), low, high)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False))
        return
    if not found:
        click.echo("no activities recorded")
    for a in found:
        people = "" if a["attendance"] is None else f" {a['attendance']}人"
        scene = f" 二维码:{a['scene']}" if a["scene"] else ""
        click.echo(f"{a['id']}\t{a['date']}\t{a['kind_name']}\t{a['place']}{people}{scene}")


@activity.command("remove")
@click.argument("activity_id", metavar="ID", type=int)
@click.pass_context
def activity_remove(ctx, activity_id: int) -> None:
    """Delete an activity recorded by mistake (exit 1 when there is no such id)."""
    from . import activities

    config = _config(ctx)
    with _reading("activity"):
        removed = activities.remove(_stats_engine(config), activity_id)
    if not removed:
        _fail([f"activity: no activity with id {activity_id}"])
    click.echo(f"removed activity {activity_id}")


# ---- staff and tools -----------------------------------------------------------------


@main.group()
def staff() -> None:
    """Staff console accounts."""


@staff.command("add")
@click.argument("username")
@click.password_option("--password", help="Password (asked for when not given).")
@click.pass_context
def staff_add(ctx: click.Context, username: str, password: str) -> None:
    """Create a console account, or set a new password for an existing one."""
    from .accounts import set_password

    config = _config(ctx)
    if len(password) < 8:
        _fail(["staff: the password must have at least 8 characters"], 2)
    created = set_password(config.database_url, username, password)
    click.echo(f"{'created' if created else 'updated'} staff account {username}")


@main.command()
@click.option("--url", default=None, help="Webhook URL (default: http://HOST:PORT/wechat).")
@click.option("--openid", default=None, help="The simulated resident's OpenID.")
@click.option(
    "--encrypt/--plain", default=None, help="Safe mode (default: when an AES key is set)."
)
@click.pass_context
def simulate(ctx: click.Context, url: str | None, openid: str | None, encrypt: bool | None) -> None:
    """Chat with a running server in the terminal, signed exactly as WeChat signs."""
    from .simulate import run

    config = _config(ctx)
    run(config, url or f"http://{config.host}:{config.port}/wechat", openid, encrypt)


if __name__ == "__main__":
    main()
