"""`legalbot activity`: offline publicity activities, recorded by staff."""

from __future__ import annotations

import json
from datetime import date

import click

from ..figures.activities import ACTIVITY_KINDS
from .kit import fail, iso_date, load_config, reporting
from .stats import records_of
from .themes import theme_option

KINDS = ", ".join(f"{slug} ({name})" for slug, name in ACTIVITY_KINDS.items())


@click.group()
def activity() -> None:
    """Offline publicity activities (集市宣传, 法治讲座, 法律进学校, 法律明白人培训, …)."""


def _day(value: str, option: str) -> date:
    try:
        return iso_date(value)
    except ValueError:
        fail([f"activity: {option} must be a date YYYY-MM-DD, got {value!r}"], 2)


@activity.command(
    "add",
    help=f"Record an offline activity; prints its id (with --json, the activity).\n\nKinds: {KINDS}.",
)
@click.option("--date", "held_on", required=True, help="Day it was held, YYYY-MM-DD.")
@click.option("--kind", required=True, help="Kind: a slug or its Chinese name.")
@click.option("--place", required=True, help="Where, e.g. 甘河滩村集市.")
@theme_option("--theme", default=None, help="Theme slug of the taxonomy: {themes}.")
@click.option(
    "--attendance", type=click.IntRange(0, 1_000_000), default=None, help="People reached."
)
@click.option("--scene", default=None, help="Scene string of the QR code printed for it.")
@click.option("--note", default=None, help="Anything else worth keeping.")
@click.option("--json", "as_json", is_flag=True, help="Print the recorded activity as JSON.")
@click.pass_context
def activity_add(ctx, held_on, kind, place, theme, attendance, scene, note, as_json) -> None:
    from ..errors import ActivityError
    from ..figures import activities

    config = load_config(ctx)
    day = _day(held_on, "--date")
    try:
        with reporting("activity"):
            added = activities.add(
                records_of(config),
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
        fail([f"activity: {exc}"], 2)
    click.echo(json.dumps(added, ensure_ascii=False) if as_json else str(added["id"]))


@activity.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@click.option("--from", "start", default=None, help="Held on or after, YYYY-MM-DD.")
@click.option("--to", "end", default=None, help="Held on or before, YYYY-MM-DD.")
@click.pass_context
def activity_list(ctx, as_json: bool, start: str | None, end: str | None) -> None:
    """List the recorded activities in date order."""
    from ..figures import activities

    config = load_config(ctx)
    low = _day(start, "--from") if start else None
    high = _day(end, "--to") if end else None
    with reporting("activity"):
        found = activities.list_activities(records_of(config), low, high)
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
    from ..figures import activities

    config = load_config(ctx)
    with reporting("activity"):
        removed = activities.remove(records_of(config), activity_id)
    if not removed:
        fail([f"activity: no activity with id {activity_id}"])
    click.echo(f"removed activity {activity_id}")


COMMANDS = (activity,)
