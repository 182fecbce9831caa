"""`legalbot mediation`: the people's mediation register from the command line.

The same register the console keeps (bot/mediation/register.py). Output names kinds,
states and committees in Chinese; `--json` gives the slugs. No personal field (phone,
description) is ever printed here: they are for mediator and administrator accounts in
the console.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import click

from ..mediation import tables
from .kit import fail, iso_date, load_config, reporting
from .stats import records_of

KINDS = tables.choices(tables.KINDS)
STATES = tables.choices(tables.STATES)
SOURCES = tables.choices(tables.SOURCES)
OUTCOMES = tables.choices({k: tables.STATES[k] for k in tables.CLOSED})


@click.group()
def mediation() -> None:
    """The people's mediation register (人民调解): cases, their committee and outcome."""


def _day(value: str, option: str) -> date:
    try:
        return iso_date(value)
    except ValueError:
        fail([f"mediation: {option} must be a date YYYY-MM-DD, got {value!r}"], 2)


def _services(config):
    from .. import mediation as room

    return records_of(config), room.Committees.of(config.mediation)


def _line(case: dict) -> str:
    committee = case["committee_name"] or "未分配调委会"
    if case["committee"] == tables.VILLAGE and committee != tables.COMMITTEES[tables.VILLAGE]:
        committee = f"村调委会（{committee}）"
    elif case["committee"] == tables.TOWN:
        committee = f"镇调委会（{committee}）"
    closed = f" 结案{case['closed_on']}" if case["closed_on"] else ""
    return (
        f"{case['id']}\t{case['reference']}\t{case['date']}\t{tables.kind_name(case['type'])}\t"
        f"{committee}\t{tables.source_name(case['source'])}\t"
        f"{tables.state_name(case['state'])}{closed}"
    )


@mediation.command(
    "add",
    help="Record a case; prints its id (with --json, the case without personal fields)."
    f"\n\nTypes: {KINDS}.\n\nSources: {SOURCES}.\n\nStates: {STATES}.",
)
@click.option("--date", "accepted_on", required=True, help="Day the case was accepted, YYYY-MM-DD.")
@click.option("--type", "kind", required=True, help="Kind of dispute: one of the types below.")
@click.option(
    "--committee",
    required=True,
    help="Who mediates: town (镇调委会), village (村调委会) or village:NAME (that village's).",
)
@click.option(
    "--source",
    default="walk-in",
    show_default=True,
    help="Where it came from: wechat, walk-in, police-room or referral.",
)
@click.option("--state", default="accepted", show_default=True, help="Its state (see below).")
@click.option("--mediator", default=None, help="The mediator's name.")
@click.option(
    "--closed-on", default=None, help="Day a closed case closed, YYYY-MM-DD (default: --date)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the recorded case as JSON.")
@click.pass_context
def mediation_add(
    ctx, accepted_on, kind, committee, source, state, mediator, closed_on, as_json
) -> None:
    from ..config import ensure_secret_key
    from ..errors import MediationError
    from ..mediation import Sealer, add_case
    from ..records import COMMAND_LINE

    config = load_config(ctx)
    day = _day(accepted_on, "--date")
    closed = _day(closed_on, "--closed-on") if closed_on else None
    engine, committees = _services(config)
    try:
        with reporting("mediation"):
            case = add_case(
                engine,
                Sealer(ensure_secret_key(config)),
                accepted_on=day,
                kind=kind,
                source=source,
                actor=COMMAND_LINE,
                committee=committees.parse(committee),
                state=state,
                mediator=mediator,
                closed_on=closed,
            )
    except MediationError as exc:
        fail([f"mediation: {exc}"], 2)
    click.echo(json.dumps(case, ensure_ascii=False) if as_json else str(case["id"]))


@mediation.command("list")
@click.option("--from", "start", default=None, help="Accepted on or after, YYYY-MM-DD.")
@click.option("--to", "end", default=None, help="Accepted on or before, YYYY-MM-DD.")
@click.option(
    "--state", default=None, help="Only cases in this state; open or closed for either group."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@click.pass_context
def mediation_list(ctx, start, end, state, as_json) -> None:
    """List the register, newest first: id, number, date, kind, committee, source, state."""
    from ..errors import MediationError
    from ..mediation import cases

    config = load_config(ctx)
    low = _day(start, "--from") if start else None
    high = _day(end, "--to") if end else None
    if low and high and low > high:
        fail(["mediation: --from is after --to"], 2)
    try:
        with reporting("mediation"):
            found = cases(records_of(config), low, high, state)
    except MediationError as exc:
        fail([f"mediation: {exc}"], 2)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False))
        return
    if not found:
        click.echo("没有登记的调解案件")
    for case in found:
        click.echo(_line(case))


@mediation.command("show")
@click.argument("key", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print the case as JSON.")
@click.pass_context
def mediation_show(ctx, key: str, as_json: bool) -> None:
    """One case by id or reference number (exit 1 when there is none); no personal field."""
    from ..mediation import find

    config = load_config(ctx)
    with reporting("mediation"):
        case = find(records_of(config), key)
    if case is None:
        fail([f"mediation: no case {key}"])
    if as_json:
        click.echo(json.dumps(case, ensure_ascii=False))
        return
    contact = {"phone": "电话（仅调解员在后台可见）", "account": "公众号回复"}
    rows = [
        ("编号", case["reference"]),
        ("受理日期", case["date"]),
        ("纠纷类型", tables.kind_name(case["type"])),
        ("调委会", tables.COMMITTEES.get(case["committee"], "未分配")),
        ("调委会名称", case["committee_name"] or ""),
        ("调解员", case["mediator"] or ""),
        ("来源", tables.source_name(case["source"])),
        ("状态", tables.state_name(case["state"])),
        ("结案日期", case["closed_on"] or ""),
        ("村", case["village"] or ""),
        ("联系方式", contact.get(case["contact"], "")),
    ]
    if case["personal_deleted"]:
        rows.append(("个人信息", "已按保存期限删除"))
    for name, value in rows:
        click.echo(f"{name}：{value}")


@mediation.command("close", help=f"Close a case with its outcome.\n\nOutcomes: {OUTCOMES}.")
@click.argument("key", metavar="ID")
@click.option("--outcome", required=True, help="settled, not-settled, referred or withdrawn.")
@click.option(
    "--date", "closed_on", default=None, help="Day it closed, YYYY-MM-DD (default: today)."
)
@click.pass_context
def mediation_close(ctx, key: str, outcome: str, closed_on: str | None) -> None:
    from ..errors import MediationError
    from ..mediation import close
    from ..records import COMMAND_LINE
    from ..services import wechat_client
    from ..state import connect
    from ..wechat import send_text

    config = load_config(ctx)
    day = _day(closed_on, "--date") if closed_on else None
    client = wechat_client(config, connect(config.redis_url, config.redis_prefix, config.var_dir))
    send = (lambda openid, text: send_text(client, openid, text)) if client else None
    try:
        with reporting("mediation"):
            today = datetime.now(config.tz).date()
            case = close(records_of(config), key, COMMAND_LINE, outcome, day, send, today)
    except MediationError as exc:
        fail([f"mediation: {exc}"], 1 if exc.field == "id" else 2)
    click.echo(
        f"已结案：{case['reference']} {tables.state_name(case['state'])} {case['closed_on']}"
    )


COMMANDS = (mediation,)
