"""The interaction journal: a reply leaves before the commit, and a kill loses no record."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.request
from datetime import UTC, datetime

from sqlalchemy import func, select

from bot import records
from bot.inbox import journal
from bot.inbox.journal import Journal
from bot.inbox.recorder import Recorder, replay_orphans
from bot.records import schema
from tests.campaignkit import LEGALBOT, legalbot, make_fake, write_config
from tests.conftest import ROOT, TOKEN, summary
from tests.wxdriver import Driver, HttpClient

QUESTION = "老板拖了三个月工资不给"


def _item(key: str, **kw) -> records.Interaction:
    return records.Interaction(
        openid="o-journal", user_id="u-journal", dedupe_key=key, kind="text", is_message=True, **kw
    )


def _events(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(records.Event))


class _WriteLock:
    """Another connection holding SQLite's write lock until released (a long transaction)."""

    def __init__(self, path: str) -> None:
        self._release = threading.Event()
        held = threading.Event()

        def hold():
            conn = sqlite3.connect(path, timeout=5)
            conn.execute("BEGIN IMMEDIATE")
            held.set()
            self._release.wait(60)
            conn.rollback()
            conn.close()

        self._thread = threading.Thread(target=hold)
        self._thread.start()
        assert held.wait(5)

    def release(self) -> None:
        self._release.set()
        self._thread.join()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_up(url: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} not up after {seconds} s")


def test_a_server_killed_after_replying_loses_no_record(tmp_path):
    """Replies go out while the database is locked; kill -9; every message is counted."""
    with make_fake() as fake:
        _killed_after_replying(tmp_path, write_config(tmp_path, fake))


def _killed_after_replying(tmp_path, env: dict[str, str]) -> None:
    assert legalbot(env, "db", "upgrade").returncode == 0
    port = _free_port()
    server = subprocess.Popen(
        [*LEGALBOT, "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    lock = None
    try:
        _wait_up(f"http://127.0.0.1:{port}/healthz", server)
        driver = Driver(HttpClient(f"http://127.0.0.1:{port}"), TOKEN)
        lock = _WriteLock(f"{tmp_path}/campaigns.db")
        replies = [driver.text(f"o-kill-{i}", QUESTION, msg_id=990_100 + i) for i in range(5)]
        assert all("工资" in (r.content or "") for r in replies)
        before = json.loads(legalbot(env, "stats", "summary", "--json").stdout)
        assert before["messages_received"] == 0  # replied, not committed: the lock holds
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(10)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
        if lock is not None:
            lock.release()
    result = legalbot(env, "stats", "summary", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["messages_received"] == 5
    assert list((tmp_path / "var" / "journal").glob("*.jsonl")) == []
    again = legalbot(env, "stats", "summary", "--json")  # replayed once, counted once
    assert json.loads(again.stdout)["messages_received"] == 5


def test_a_stopped_recorder_keeps_what_it_could_not_commit(tmp_path):
    engine = records.make_engine(f"sqlite:///{tmp_path}/j.db")
    schema.upgrade(engine)
    directory = tmp_path / "journal"
    recorder = Recorder(engine, journal_dir=directory)
    recorder.submit(_item("m:first"))
    assert recorder.flush(10)
    lock = _WriteLock(f"{tmp_path}/j.db")
    try:
        recorder.submit(_item("m:second"))
        recorder.submit(_item("m:third"))
        assert not recorder.flush(0.3)  # the database is locked: nothing lands
        recorder.close(timeout=0.3)
        assert _events(engine) == 1
        assert len(list(directory.glob("*.jsonl"))) == 1
    finally:
        lock.release()
    replay_orphans(engine, directory)  # what the next recorder or `legalbot stats` does
    with engine.connect() as conn:
        keys = set(conn.scalars(select(records.Event.dedupe_key)))
    assert keys == {"m:first", "m:second", "m:third"}
    assert list(directory.glob("*.jsonl")) == []
    engine.dispose()


def test_a_clean_stop_leaves_no_journal(tmp_path):
    engine = records.make_engine(f"sqlite:///{tmp_path}/j.db")
    schema.upgrade(engine)
    directory = tmp_path / "journal"
    recorder = Recorder(engine, journal_dir=directory)
    for n in range(50):
        recorder.submit(_item(f"m:{n}"))
    recorder.close()
    assert _events(engine) == 50
    assert list(directory.glob("*.jsonl")) == []
    engine.dispose()


def test_a_line_cut_short_by_a_crash_is_skipped_and_the_rest_replayed(tmp_path):
    engine = records.make_engine(f"sqlite:///{tmp_path}/j.db")
    schema.upgrade(engine)
    directory = tmp_path / "journal"
    directory.mkdir()
    at = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    lines = [journal.dumps(_item(f"m:{n}", at=at, theme="labor")) for n in range(2)]
    (directory / "4242-1.jsonl").write_bytes(b"".join(lines) + lines[0][:17])
    assert replay_orphans(engine, directory) == 2
    with engine.connect() as conn:
        rows = conn.execute(select(records.Event.dedupe_key, records.Event.theme)).all()
    assert sorted(rows) == [("m:0", "labor"), ("m:1", "labor")]
    assert not (directory / "4242-1.jsonl").exists()
    engine.dispose()


def test_a_journal_written_before_orjson_is_still_replayed(tmp_path):
    """Lines of the earlier format (json.dumps, isoformat) left by a server before an upgrade."""
    engine = records.make_engine(f"sqlite:///{tmp_path}/j.db")
    schema.upgrade(engine)
    directory = tmp_path / "journal"
    directory.mkdir()
    row = {
        "openid": "o-old", "user_id": "u-old", "dedupe_key": "m:old", "kind": "text",
        "is_message": True, "at": "2026-11-30T08:00:00+00:00", "is_question": True,
        "matched": False, "reply_kind": "fallback", "theme": None, "entry_id": None,
        "event_key": None, "scene": None, "question": "宅基地纠纷", "follow_change": None,
    }  # fmt: skip
    line = json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"
    (directory / "4243-1.jsonl").write_text(line, "utf-8")
    assert journal.loads(line.encode()) == records.Interaction(
        **{**row, "at": datetime(2026, 11, 30, 8, 0, tzinfo=UTC)}
    )
    assert replay_orphans(engine, directory) == 1
    with engine.connect() as conn:
        question = conn.scalar(select(records.UnansweredQuestion.text))
    assert question == "宅基地纠纷"
    engine.dispose()


def test_a_journal_in_use_is_not_replayed_by_another_process(tmp_path):
    engine = records.make_engine(f"sqlite:///{tmp_path}/j.db")
    schema.upgrade(engine)
    live = Journal(tmp_path / "journal")
    live.append(_item("m:live"))
    assert replay_orphans(engine, tmp_path / "journal") == 0
    assert _events(engine) == 0 and live.current.path.exists()
    live.close(pending=0)
    engine.dispose()


def test_finished_segments_are_deleted_and_a_new_one_begun(tmp_path):
    log = Journal(tmp_path, rotate_lines=2, grace=0)
    first = log.append(_item("m:1"))
    log.append(_item("m:2"))
    log.tidy()
    assert log.current is not first and first.path.exists()  # closed, not yet committed
    first.committed = 2
    log.tidy()
    assert not first.path.exists()
    assert log.current.path.read_bytes() == b""
    log.close(pending=0)
    assert list(tmp_path.glob("*.jsonl")) == []


def test_without_a_writable_journal_folder_messages_are_still_answered_and_recorded(
    build_app, tmp_path
):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where var/ should be")
    app = build_app(general={"var_dir": str(blocker)})
    reply = Driver(app.test_client(), TOKEN).text("o-nojournal", QUESTION)
    assert "工资" in (reply.content or "")
    assert summary(app)["messages_received"] == 1
