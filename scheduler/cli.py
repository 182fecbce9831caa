"""`legalbot campaign …` and `legalbot scheduler`: thin wrappers over service.py and runner.py.

Plugged into `legalbot` by entry points (pyproject.toml, bot/plugins.py). Every refusal
is one line on standard error and exit status 1; usage errors are click's, status 2.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from bot.cli.kit import fail, load_config, reporting
from bot.config.logs import setup_logging
from bot.errors import CampaignError

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


def _line(c: dict) -> str:
    when = c["scheduled_at"] or "-"
    counts = f"{c['sent']}/{c['recipients']}"
    return (
        f"{c['id']:>4}  {c['state']:<9}  {when:<25}  {counts:>11}  {c['audience']:<12}  {c['name']}"
    )


@click.group()
def campaign() -> None:
    """Legal-publicity campaigns: create, schedule, preview and send them (README, Campaigns)."""


@campaign.command("create")
@click.option("--name", required=True, help="What staff call the campaign.")
@click.option("--theme", required=True, help="Theme slug of the taxonomy, e.g. fraud.")
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
@click.option("--calendar", default=None, help="A day key of the publicity calendar.")
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
    created = _service(ctx).create(
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
    _say(created, as_json, created["id"])


@campaign.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of campaign objects.")
@click.pass_context
@_refusals
def list_(ctx, as_json):
    """Every campaign, with its state and counts."""
    campaigns = _service(ctx).list_all()
    if as_json:
        _echo_json(campaigns)
        return
    click.echo(
        f"{'id':>4}  {'state':<9}  {'scheduled at':<25}  {'sent/recip.':>11}  {'audience':<12}  name"
    )
    for c in campaigns:
        click.echo(_line(c))


@_about_one("show")
def show(ctx, campaign_id, as_json):
    """One campaign: state, schedule, counts, and the message residents get."""
    service = _service(ctx)
    c = service.show(campaign_id)
    if as_json:
        _echo_json(c)
        return
    for key in ("id", "name", "theme", "audience", "state", "schedule_kind", "schedule"):
        click.echo(f"{key}: {c[key] if c[key] is not None else '-'}")
    for key in ("scheduled_at", "started_at", "finished_at", "error"):
        if c[key]:
            click.echo(f"{key}: {c[key]}")
    click.echo(
        f"recipients {c['recipients']}, sent {c['sent']} (presumed {c['presumed']}), "
        f"skipped {c['skipped']}, failed {c['failed']}"
    )
    try:
        click.echo("message:\n" + service.message_text(campaign_id))
    except CampaignError as exc:
        click.echo(f"message: cannot be rendered: {exc}")


@campaign.command("schedule")
@click.argument("campaign_id", metavar="ID")
@click.option("--at", default=None, help="ISO 8601 date and time (no offset: general.timezone).")
@click.option("--calendar", default=None, help="A day key of the publicity calendar.")
@click.option("--cron", default=None, help="Recurring: a crontab line, e.g. '0 9 * * 1'.")
@click.option("--json", "as_json", is_flag=True, help="Print the campaign object.")
@click.pass_context
@_refusals
def schedule(ctx, campaign_id, at, calendar, cron, as_json):
    """Schedule or reschedule (a plan draft without an option: on its planned day).

    A running scheduler picks the change up within campaigns.poll_seconds (≤ 30 s).
    """
    c = _service(ctx).schedule(campaign_id, at=at, calendar=calendar, cron=cron)
    _say(c, as_json, f"campaign {c['id']} scheduled for {c['scheduled_at']}")


@_about_one("cancel")
def cancel(ctx, campaign_id, as_json):
    """Cancel a campaign (a send under way stops within seconds)."""
    c = _service(ctx).cancel(campaign_id)
    _say(c, as_json, f"campaign {c['id']} cancelled")


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
    results = _service(ctx).preview(campaign_id, openids)
    for number, error in results:
        click.echo(f"--to #{number}: {'sent' if error is None else 'refused: ' + error}")
    if any(error for _, error in results):
        sys.exit(1)


class _Bar:
    """A click progress bar on standard error, advanced from the sending threads."""

    def __init__(self) -> None:
        self._bar = None
        self._lock = threading.Lock()

    def start(self, total: int, done: int) -> None:
        self._bar = click.progressbar(length=max(total, 1), label="sending", file=sys.stderr)
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
    try:
        c = service.send(campaign_id, progress=bar, stop=stop)
    finally:
        bar.close()
    if as_json:
        _echo_json(c)
    else:
        click.echo(
            f"campaign {c['id']}: {c['state']}; recipients {c['recipients']}, sent {c['sent']} "
            f"(presumed {c['presumed']}), skipped {c['skipped']}, failed {c['failed']}"
            + (f"; {c['error']}" if c["error"] else "")
        )
    if c["state"] not in (State.SENT, State.SENDING):
        sys.exit(1)


@campaign.command("plan")
@click.option("--year", type=int, required=True, help="The year to plan, e.g. 2027.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of campaign objects.")
@click.pass_context
@_refusals
def plan(ctx, year, as_json):
    """Draft one campaign per publicity-calendar day of YEAR (run twice: no duplicates)."""
    planned = _service(ctx).plan(year)
    if as_json:
        _echo_json([c | {"created": created} for c, created in planned])
        return
    for c, created in planned:
        click.echo(
            f"{'drafted' if created else 'exists '}  {c['id']:>4}  {c['scheduled_at']}  {c['name']}"
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
