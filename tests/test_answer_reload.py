"""The knowledge base reloads when its files change, without failing a request in flight."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from bot.answer import Answerer, KnowledgeBaseHolder
from bot.config import KnowledgeSettings
from bot.errors import KnowledgeBaseError
from bot.state import MemoryState
from tests.conftest import ROOT, make_config

FIXTURE = Path(__file__).parent / "data" / "kb_fixture"
TOWN = {"name": "甘河滩镇", "mediation": "甘河滩镇人民调解委员会"}
NEW_ENTRY = """
[[entries]]
id = "labor-overtime"
title = "加班不给加班费怎么办？"
questions = ["天天加班没有加班费", "周末加班给多少钱", "加班费怎么算"]
keywords = ["加班费", "加班"]
answer = "加班要付加班费：平时1.5倍，休息日2倍，法定节假日3倍。"
sources = [{ law = "劳动法", article = "第44条" }]
help = ["12333"]
reviewed = 2026-11-25
"""


@pytest.fixture
def content(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(FIXTURE, target)
    return target


def _append(content: Path, text: str) -> None:
    path = content / "themes" / "labor.toml"
    path.write_text(path.read_text("utf-8") + text, encoding="utf-8")
    future = time.time() + 5  # a different mtime even on coarse file systems
    os.utime(path, (future, future))


def _wait_for(holder: KnowledgeBaseHolder, entry_id: str, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if holder.current().by_id(entry_id) is not None:
            return True
        holder.wait(0.5)
        time.sleep(0.05)
    return False


def test_a_changed_file_is_picked_up_without_restart(content):
    holder = KnowledgeBaseHolder(content, TOWN, check_seconds=0.01)
    bot = Answerer(holder, MemoryState(), KnowledgeSettings(content, 0.55, 0.3, 30, 0.01))
    assert holder.current().by_id("labor-overtime") is None
    _append(content, NEW_ENTRY)
    time.sleep(0.02)
    assert _wait_for(holder, "labor-overtime")
    assert bot.ask("周末加班加班费怎么算").entry_id == "labor-overtime"


def test_asks_keep_working_while_the_base_reloads(content):
    holder = KnowledgeBaseHolder(content, TOWN, check_seconds=0.001)
    bot = Answerer(holder, MemoryState(), KnowledgeSettings(content, 0.55, 0.3, 30, 0.001))
    errors: list[BaseException] = []
    answers: list[str | None] = []
    stop = threading.Event()

    def keep_asking() -> None:
        while not stop.is_set():
            try:
                answers.append(bot.ask("有人让我把钱转到安全账户").entry_id)
                time.sleep(0.001)
            except BaseException as exc:  # noqa: BLE001 - the test reports any failure
                errors.append(exc)

    workers = [threading.Thread(target=keep_asking) for _ in range(2)]
    for worker in workers:
        worker.start()
    _append(content, NEW_ENTRY)
    reloaded = _wait_for(holder, "labor-overtime")
    time.sleep(0.05)
    stop.set()
    for worker in workers:
        worker.join()
    assert reloaded and not errors
    assert answers and set(answers) == {"fraud-safe-account"}


def test_a_broken_edit_keeps_the_old_base(content):
    holder = KnowledgeBaseHolder(content, TOWN, check_seconds=0)
    before = holder.current()
    _append(content, NEW_ENTRY.replace('help = ["12333"]\n', ""))
    ok, problems = holder.reload()
    assert not ok and any("缺少字段 help" in p for p in problems)
    assert holder.current() is before
    _append(content, '\nhelp = ["12333"]\n')  # the fix: help now closes the new entry
    ok, problems = holder.reload()
    assert ok and problems == []
    assert holder.current().by_id("labor-overtime") is not None


def test_reload_on_command_only_when_checks_are_off(content):
    holder = KnowledgeBaseHolder(content, TOWN, check_seconds=0)
    _append(content, NEW_ENTRY)
    assert holder.current().by_id("labor-overtime") is None
    assert holder.reload() == (True, [])
    assert holder.current().by_id("labor-overtime") is not None


def test_a_broken_base_at_start_is_an_error(content):
    (content / "themes" / "labor.toml").write_text("theme = ", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError):
        KnowledgeBaseHolder(content, TOWN)


def test_a_built_base_is_kept_out_of_the_collectors_full_passes(tmp_path):
    """A full gc pass over the base costs tens of milliseconds of every request thread."""
    import gc

    gc.unfreeze()
    holder = KnowledgeBaseHolder(ROOT / "content", make_config(tmp_path).town, 0)
    assert gc.get_freeze_count() > 10_000  # the index's objects among them
    assert holder.current().index is not None
