"""The `legalbot` command: thin wrappers over the modules that do the work."""

from __future__ import annotations

import json
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


@main.group()
def kb() -> None:
    """Knowledge-base commands."""


@kb.command("validate")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.pass_context
def kb_validate(ctx: click.Context, path: Path | None) -> None:
    """Check the knowledge base; print `file:line: message` for each problem."""
    from .answer import validate

    content_dir = path or _config(ctx).knowledge.content_dir
    problems = validate(content_dir)
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
@click.argument("tsv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--misses", is_flag=True, help="Also list the questions answered wrongly.")
@click.pass_context
def kb_eval(ctx: click.Context, tsv: Path, misses: bool) -> None:
    """Score the answers against a TSV of labelled questions (columns themes, question)."""
    from .answer import evaluate

    try:
        report = evaluate(_answerer(_config(ctx)), tsv)
    except ValueError as exc:
        _fail([f"{tsv}: {exc}"])
    for line in report.lines():
        click.echo(line)
    if misses:
        for miss in report.misses:
            click.echo(f"  miss: {miss}")


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


def _period(config: config_module.Config, start: str | None, end: str | None) -> tuple[date, date]:
    from .stats import current_year

    default_start, default_end = current_year(config.tz)
    try:
        low = date.fromisoformat(start) if start else default_start
        high = date.fromisoformat(end) if end else default_end
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
    from . import records
    from . import stats as stats_module

    config = _config(ctx)
    low, high = _period(config, start, end)
    engine = records.make_engine(config.database_url)
    try:
        figures = stats_module.summary(engine, config.tz, low, high)
    except Exception as exc:  # noqa: BLE001
        _fail([f"stats: cannot read the records ({type(exc).__name__}); run `legalbot db upgrade`"])
    if as_json:
        click.echo(json.dumps(figures, ensure_ascii=False))
        return
    click.echo(f"{figures['from']} 至 {figures['to']}")
    click.echo(f"  收到消息 {figures['messages_received']} 条，来自 {figures['unique_users']} 人")
    click.echo(f"  已解答 {figures['answered']} 条，未解答 {figures['unanswered']} 条")
    click.echo(
        f"  新增关注 {figures['subscribes']}，取消关注 {figures['unsubscribes']}，"
        f"菜单点击 {figures['menu_clicks']}"
    )
    for slug, count in figures["by_theme"].items():
        click.echo(f"  {slug}: {count}")


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
