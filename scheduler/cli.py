"""`legalbot campaign …` and `legalbot scheduler`: thin wrappers over service.py and runner.py.

Plugged into `legalbot` by entry points (pyproject.toml, bot/plugins.py). Every refusal
is one line on standard error and exit status 1; usage errors are click's, status 2.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import unicodedata
from collections.abc import Callable
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from bot import records
from bot.cli.kit import fail, load_config, reporting
from bot.config.logs import setup_logging
from bot.errors import CampaignError

from . import store, words
from .figures import audience_name
from .service import Campaigns
from .states import State


def _service(ctx: click.Context) -> Campaigns:
    service = Campaigns(load_config(ctx))
    ctx.call_on_close(service.close)
    return service


# CampaignError and database trouble become one line and exit status 1 (bot/cli/kit.py).
_refusals = reporting("campaign", CampaignError)


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False))


def _about_one(name: str, json_help: str = "Print the campaign object."):
    """A command on one campaign ID, with --json, its errors in the one style."""

    def wrap(fn: Callable) -> Callable:
        fn = click.pass_context(_refusals(fn))
        fn = click.option("--json", "as_json", is_flag=True, help=json_help)(fn)
        return campaign.command(name)(click.argument("campaign_id", metavar="ID")(fn))

    return wrap


def _say(value: Any, as_json: bool, line: str) -> None:
    """The command's result: as JSON for scripts, else one line for people."""
    if as_json:
        _echo_json(value)
    else:
        click.echo(line)


def _audit(service: Campaigns, action: str, c: dict, detail: str = "") -> None:
    """The audit log names what the command line did too (never an OpenID)."""
    store.audit(service.engine, records.COMMAND_LINE, action, words.target(c), detail)


def _pad(text: str, width: int) -> str:
    """`text` padded to `width` terminal columns (a Chinese character takes two)."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - used, 0)


def _when(c: dict) -> str:
    return (c["scheduled_at"] or "-")[:16].replace("T", " ")


def _counts(c: dict) -> str:
    presumed = f"（其中推定 {c['presumed']}）" if c["presumed"] else ""
    return (
        f"应发 {c['recipients']} 人，已送达 {c['sent']}{presumed}，"
        f"微信拒收 {c['skipped']}，失败 {c['failed']}"
    )


class _WithTaxonomy(click.Command):
    """A command whose help ends with the theme slugs and calendar keys, named in Chinese."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        text = words.epilog()
        if text:
            formatter.write_paragraph()
            formatter.write_text(text)


@click.group()
def campaign() -> None:
    """Legal-publicity campaigns: create, schedule, preview and send them (README, Campaigns)."""


@campaign.command("create", cls=_WithTaxonomy)
@click.option("--name", required=True, help="What staff call the campaign.")
@click.option("--theme", required=True, help="Theme slug of the taxonomy (listed below).")
@click.option(
    "--audience",
    required=True,
    help="all | tag:ID (mass send) | active48h | openids:FILE (customer-service messages).",
)
@click.option("--text", default=None, help="Send this text.")
@click.option(
    "--entry",
    "entries",
    multiple=True,
    help="Knowledge-base entry id for a digest; repeat it, or list ids after it.",
)
@click.option("--article", default=None, help="An article card: a .toml or .json file.")
@click.option("--at", default=None, help="ISO 8601 date and time (no offset: general.timezone).")
@click.option("--calendar", default=None, help="A day key of the publicity calendar (below).")
@click.option("--cron", default=None, help="Recurring: a crontab line, e.g. '0 9 * * 1'.")
@click.option("--json", "as_json", is_flag=True, help="Print the campaign object.")
@click.argument("more_entries", nargs=-1, metavar="[ID…]")
@click.pass_context
@_refusals
def create(
    ctx, name, theme, audience, text, entries, article, at, calendar, cron, as_json, more_entries
):
    """Create a campaign: a draft, or scheduled when --at, --calendar or --cron is given."""
    ids = [i for value in (*entries, *more_entries) for i in value.replace(",", " ").split()]
    if more_entries and not entries:
        raise CampaignError(f"unexpected argument {more_entries[0]!r} (entry ids follow --entry)")
    service = _service(ctx)
    created = service.create(
        name,
        theme,
        audience,
        text=text,
        entries=ids,
        article=article,
        at=at,
        calendar=calendar,
        cron=cron,
    )
    _audit(service, "campaign.create", created, audience_name(created["audience"]))
    if created["state"] == State.SCHEDULED:
        _audit(service, "campaign.schedule", created, created["scheduled_at"] or "")
    _say(created, as_json, created["id"])


@campaign.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of campaign objects.")
@click.pass_context
@_refusals
def list_(ctx, as_json):
    """Every campaign, with its state and counts."""
    service = _service(ctx)
    campaigns = service.list_all()
    if as_json:
        _echo_json(campaigns)
        return
    themes = service.theme_names()
    widths = (4, 8, 16, 11, 26)
    click.echo("  ".join(_pad(h, w) for h, w in zip(HEADERS, widths, strict=False)) + "  名称")
    for c in campaigns:
        cells = (
            c["id"],
            words.state_name(c["state"]),
            _when(c),
            f"{c['sent']}/{c['recipients']}",
            themes.get(c["theme"], c["theme"]),
        )
        click.echo(
            "  ".join(_pad(x, w) for x, w in zip(cells, widths, strict=True)) + "  " + c["name"]
        )


HEADERS = ("编号", "状态", "发送时间", "已送达/人数", "主题")


@_about_one("show")
def show(ctx, campaign_id, as_json):
    """One campaign: state, schedule, counts, and the message residents get."""
    service = _service(ctx)
    c = service.show(campaign_id)
    if as_json:
        _echo_json(c)
        return
    themes = service.theme_names()
    lines = [
        ("编号", c["id"]),
        ("名称", c["name"]),
        ("主题", themes.get(c["theme"], c["theme"])),
        ("发给", audience_name(c["audience"])),
        ("状态", words.state_name(c["state"])),
        ("发送安排", words.describe_schedule(c["schedule_kind"], c["schedule"], service.calendar)),
        ("下次发送" if c["state"] == State.SCHEDULED else "计划时间", _when(c)),
        ("开始发送", (c["started_at"] or "")[:16].replace("T", " ")),
        ("发送结束", (c["finished_at"] or "")[:16].replace("T", " ")),
        ("问题", c["error"]),
        ("发送情况", _counts(c)),
    ]
    for label, value in lines:
        if value:
            click.echo(f"{label}：{value}")
    try:
        click.echo("内容：\n" + service.message_text(campaign_id))
    except CampaignError as exc:
        click.echo(f"内容：无法生成（{exc}）")


@campaign.command("schedule", cls=_WithTaxonomy)
@click.argument("campaign_id", metavar="ID")
@click.option("--at", default=None, help="ISO 8601 date and time (no offset: general.timezone).")
@click.option("--calendar", default=None, help="A day key of the publicity calendar (below).")
@click.option("--cron", default=None, help="Recurring: a crontab line, e.g. '0 9 * * 1'.")
@click.option("--json", "as_json", is_flag=True, help="Print the campaign object.")
@click.pass_context
@_refusals
def schedule(ctx, campaign_id, at, calendar, cron, as_json):
    """Schedule or reschedule (a plan draft without an option: on its planned day).

    A running scheduler picks the change up within campaigns.poll_seconds (≤ 30 s).
    """
    service = _service(ctx)
    c = service.schedule(campaign_id, at=at, calendar=calendar, cron=cron)
    _audit(service, "campaign.schedule", c, c["scheduled_at"] or "")
    _say(c, as_json, f"推送 {c['id']} 已排期：{_when(c)} 发送")


@_about_one("cancel")
def cancel(ctx, campaign_id, as_json):
    """Cancel a campaign (a send under way stops within seconds)."""
    service = _service(ctx)
    c = service.cancel(campaign_id)
    _audit(service, "campaign.cancel", c)
    _say(c, as_json, f"推送 {c['id']} 已取消")


@campaign.command("preview")
@click.argument("campaign_id", metavar="ID")
@click.option(
    "--to", "to", multiple=True, required=True, help="Test OpenIDs, comma-separated or repeated."
)
@click.pass_context
@_refusals
def preview(ctx, campaign_id, to):
    """Send the content to test followers only (mass audiences: WeChat's mass preview)."""
    openids = [o for value in to for o in value.replace(",", " ").split()]
    service = _service(ctx)
    results = service.preview(campaign_id, openids)
    reached = sum(1 for _, error in results if error is None)
    _audit(service, "campaign.preview", service.show(campaign_id), f"{reached}/{len(results)}")
    for number, error in results:
        click.echo(f"--to 第 {number} 个：{'已发送' if error is None else '没有发出：' + error}")
    if any(error for _, error in results):
        sys.exit(1)


class _Bar:
    """A click progress bar on standard error, advanced from the sending threads."""

    def __init__(self) -> None:
        self._bar = None
        self._lock = threading.Lock()

    def start(self, total: int, done: int) -> None:
        self._bar = click.progressbar(length=max(total, 1), label="发送中", file=sys.stderr)
        self._bar.__enter__()
        self._bar.update(done)

    def advance(self, n: int = 1) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


@_about_one("send", "Print the campaign object at the end.")
def send(ctx, campaign_id, as_json):
    """Send now, in the foreground; after a crash, run it again: it resumes.

    Ctrl-C stops it after the messages under way (state paused; run again to resume).
    """
    service = _service(ctx)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    bar = _Bar()
    _audit(service, "campaign.send", service.show(campaign_id))
    try:
        c = service.send(campaign_id, progress=bar, stop=stop)
    finally:
        bar.close()
    if as_json:
        _echo_json(c)
    else:
        click.echo(
            f"推送 {c['id']}：{words.state_name(c['state'])}；{_counts(c)}"
            + (f"；{c['error']}" if c["error"] else "")
        )
    if c["state"] not in (State.SENT, State.SENDING):
        sys.exit(1)


@campaign.command("plan", cls=_WithTaxonomy)
@click.option("--year", type=int, required=True, help="The year to plan, e.g. 2027.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of campaign objects.")
@click.pass_context
@_refusals
def plan(ctx, year, as_json):
    """Draft one campaign per publicity-calendar day of YEAR (run twice: no duplicates)."""
    service = _service(ctx)
    planned = service.plan(year)
    made = sum(1 for _, created in planned if created)
    store.audit(
        service.engine,
        records.COMMAND_LINE,
        "campaign.plan",
        f"{year}年普法日历",
        f"新建 {made} 条草稿",
    )
    if as_json:
        _echo_json([c | {"created": created} for c, created in planned])
        return
    for c, created in planned:
        click.echo(
            f"{'新建草稿' if created else '已经有了'}  {c['id']:>4}  {_when(c)}  {c['name']}"
        )


@click.command("scheduler")
@click.pass_context
def scheduler(ctx):
    """Run the campaign scheduler alone, as its own process (production).

    Several may run: one holds the lock and sends, the others stand by. Stops cleanly
    on SIGTERM or SIGINT, handing sends under way to its successor.
    """
    from .runner import Runner

    config = load_config(ctx)
    setup_logging(config.log_level)  # no AppSecret or access token in any line
    service = Campaigns(config)
    try:
        service.list_all()
    except SQLAlchemyError as exc:
        fail(
            [
                f"scheduler: the database cannot be used ({str(exc).splitlines()[0][:200]}); run `legalbot db upgrade`"
            ]
        )
    finally:
        service.close()
    click.echo("legalbot scheduler: started (SIGTERM or Ctrl-C stops it)", err=True)
    Runner(config).run_until_signalled()
