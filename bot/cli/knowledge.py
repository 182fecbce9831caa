"""`legalbot ask` and `legalbot kb`: the knowledge base."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click

from ..config import Config
from ..errors import KnowledgeBaseError
from .kit import fail, load_config

# The development sets `legalbot kb eval` scores when given no file (README, "Measured").
DEV_SETS = [
    Path("tests/data") / name
    for name in ("dev_questions.tsv", "real_questions.tsv", "danger_messages.tsv")
]


def _answerer(config: Config):
    from ..answer import Answerer, KnowledgeBaseHolder
    from ..state import MemoryState

    try:
        holder = KnowledgeBaseHolder(config.knowledge.content_dir, config.town, 0)
    except KnowledgeBaseError as exc:
        fail([str(exc), *exc.problems])
    return Answerer(holder, MemoryState(), config.knowledge)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="每个问题输出一个 JSON 对象（供脚本读取）。")
@click.argument("question", required=False)
@click.pass_context
def ask(ctx: click.Context, as_json: bool, question: str | None) -> None:
    """用知识库回答 QUESTION；不给时逐行读入标准输入的问题并逐个回答（回答之间空一行）。"""
    answerer = _answerer(load_config(ctx))
    questions = [question] if question is not None else (line.rstrip("\n") for line in sys.stdin)
    for text in questions:
        answer = answerer.ask(text)
        if as_json:
            click.echo(json.dumps(answer.to_json(text), ensure_ascii=False))
        else:
            click.echo(answer.text)
            if question is None:
                click.echo("")


@click.group()
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
    from ..answer import check

    content_dir = path or load_config(ctx).knowledge.content_dir
    problems, notices = check(content_dir)
    for notice in notices:
        click.echo(f"请复核：{notice}", err=True)
    if problems:
        fail(problems)
    click.echo(f"{content_dir}：知识库检查通过")


@kb.command("export")
@click.option("--json", "as_json", is_flag=True, required=True, help="Print a JSON array.")
@click.pass_context
def kb_export(ctx: click.Context, as_json: bool) -> None:
    """Every entry as one JSON array."""
    from ..answer import load_knowledge_base

    config = load_config(ctx)
    try:
        base = load_knowledge_base(config.knowledge.content_dir, config.town)
    except KnowledgeBaseError as exc:
        fail([str(exc), *exc.problems])
    entries = [entry.export() for entry in base.entries]
    click.echo(json.dumps(entries, ensure_ascii=False, indent=1))


@kb.command("eval")
@click.argument("tsvs", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--misses", is_flag=True, help="Also list the messages answered wrongly.")
@click.pass_context
def kb_eval(ctx: click.Context, tsvs: tuple[Path, ...], misses: bool) -> None:
    """Score the answers against labelled files: questions (columns themes, question) or
    danger messages (columns kind, message). Without files: the development sets of
    tests/data (residents' questions, real consultation questions, danger messages)."""
    from ..answer import evaluate

    files = list(tsvs) or [p for p in DEV_SETS if p.exists()]
    if not files:
        fail(["kb eval: name a labelled TSV file (the development sets are not here)"], 2)
    answerer = _answerer(load_config(ctx))
    for tsv in files:
        try:
            report = evaluate(answerer, tsv)
        except ValueError as exc:
            fail([f"{tsv}: {exc}"])
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
    from ..answer import validate

    config = load_config(ctx)
    problems = validate(config.knowledge.content_dir)
    if problems:
        fail(["没有重新加载：文件有以下问题", *problems])
    stamp = config.knowledge.content_dir / ".reload"
    try:
        stamp.write_text(date.today().isoformat() + "\n")
    except OSError as exc:
        fail([f"kb reload：写不了 {stamp}（{exc.strerror or exc}）"])
    click.echo(
        f"知识库检查通过；正在运行的服务会在 {config.knowledge.reload_check_seconds:g} 秒内重新加载"
    )


COMMANDS = (ask, kb)
