"""Nothing leaks: no OpenID, signature, AppSecret or access token in the access log, the
logs, database error messages or Redis; var/ and the SQLite files are the owner's only.
The quick start (`legalbot serve` on embedded defaults) and `legalbot simulate` are run
for real, and so is the Docker image's command."""

from __future__ import annotations

import json
import logging
import os
import signal
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import redis
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot import records
from bot.wechat import send_text
from tests.campaignkit import LEGALBOT, make_fake
from tests.conftest import ROOT, TOKEN, settled
from tests.ownredis import free_port
from tests.wxdriver import Driver, HttpClient

QUESTION = "老板拖了三个月工资不给"
OPENID = "oLeakCheckOpenId0000000000042"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _quick_start_dir(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A fresh directory holding only the content (as a clone would), and an environment
    without any LEGALBOT_ variable: every setting is the shipped default."""
    home = tmp_path / "clone"
    home.mkdir()
    (home / "content").symlink_to(ROOT / "content")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGALBOT_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT)
    return home, env


def _wait_up(port: int, proc: subprocess.Popen, log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"not up after {seconds} s:\n{log.read_text()}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _no_query_in(log: str) -> None:
    assert "POST /wechat HTTP/1.1" in log
    for leak in ("openid=", "signature=", "timestamp=", "nonce=", OPENID):
        assert leak not in log, leak


def test_quick_start_and_simulate_end_to_end_leak_nothing(tmp_path):
    home, env = _quick_start_dir(tmp_path)
    port, log = free_port(), tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [*LEGALBOT, "serve", "--port", str(port)],
            cwd=home, env=env, stdout=out, stderr=out, start_new_session=True,
        )  # fmt: skip
    try:
        _wait_up(port, server, log)
        chat = subprocess.run(
            [*LEGALBOT, "simulate", "--url", f"http://127.0.0.1:{port}/wechat", "--openid", OPENID],
            cwd=home, env=env, input=f"{QUESTION}\n/quit\n", capture_output=True, text=True,
            timeout=60,
        )  # fmt: skip
        assert chat.returncode == 0, chat.stderr
        assert "工资" in chat.stdout.split("公众号>", 1)[1]  # the answer, not a refusal
        var = home / "var"
        assert _mode(var) == 0o700
        for name in ("legalbot.db", "legalbot.db-wal", "legalbot.db-shm"):
            assert _mode(var / name) == 0o600, name
        for name in ("secret_key", "webhook_token"):
            assert _mode(var / name) == 0o600 and (var / name).read_text().strip(), name
        assert _mode(var / "journal") == 0o700
    finally:
        _stop(server)
    output = log.read_text()
    _no_query_in(output)
    assert output.count("wechat.token is not set") == 1
    assert "Traceback" not in output


def test_the_docker_image_command_logs_no_query_string(tmp_path):
    line = next(x for x in (ROOT / "Dockerfile").read_text().splitlines() if x.startswith("CMD "))
    shell, flag, command = json.loads(line.removeprefix("CMD "))
    port = free_port()
    assert "0.0.0.0:8000" in command
    command = command.replace("0.0.0.0:8000", f"127.0.0.1:{port}")
    home, env = _quick_start_dir(tmp_path)
    env["WORKERS"] = "1"
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [shell, flag, command], cwd=home, env=env, stdout=out, stderr=out,
            start_new_session=True,
        )  # fmt: skip
    try:
        _wait_up(port, server, log)
        token = (home / "var" / "webhook_token").read_text().strip()
        reply = Driver(HttpClient(f"http://127.0.0.1:{port}"), token).text(OPENID, QUESTION)
        assert reply.status == 200 and "工资" in reply.content
    finally:
        _stop(server)
    _no_query_in(log.read_text())


def test_no_appsecret_or_access_token_reaches_the_logs_at_debug(build_app, caplog):
    with make_fake() as fake:
        app = build_app(
            server={"log_level": "DEBUG"},
            wechat={"appid": fake.appid, "secret": fake.secret, "api_base": fake.base_url},
        )
        caplog.set_level(logging.DEBUG)
        send_text(app.extensions["legalbot"].client, fake.followers[0], "你好")
        token = app.extensions["legalbot"].client.access_token
    assert token and fake.secret
    assert token not in caplog.text and fake.secret not in caplog.text
    # An error message naming a URL (requests does) is blanked by the handlers.
    logging.getLogger("scheduler.sender").error(
        "send failed: Max retries exceeded with url: /cgi-bin/message/custom/send?access_token=%s",
        token,
    )
    assert token not in caplog.text and "access_token=***" in caplog.text


def test_database_errors_do_not_print_parameters(engine):
    with pytest.raises(SQLAlchemyError) as caught, engine.begin() as conn:
        conn.execute(
            text("INSERT INTO no_such_table (openid) VALUES (:openid)"), {"openid": OPENID}
        )
    assert OPENID not in str(caught.value)
    assert "hide_parameters" in str(caught.value)


def test_redis_holds_no_openid(build_app, redis_url, redis_prefix):
    app = build_app(redis={"url": redis_url, "prefix": redis_prefix})
    driver = Driver(app.test_client(), TOKEN)
    assert "工资" in driver.text(OPENID, QUESTION, msg_id=61_000).content
    driver.text(OPENID, "菜单", msg_id=61_001)
    driver.event(OPENID, "subscribe", key="qrscene_market")
    driver.event(OPENID, "CLICK", key="THEME_labor")
    retry = driver.text(OPENID, QUESTION, msg_id=61_000)
    assert retry.fields["ToUserName"] == OPENID and "工资" in retry.content  # rendered afresh
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=redis_prefix + "*"))
    assert len(keys) >= 6  # four claims, four requests, a conversation
    for key in keys:
        value = client.get(key) or b""
        assert OPENID.encode() not in key and OPENID.encode() not in value, key
        assert b"<xml" not in value and b"ToUserName" not in value, key


def test_var_and_the_sqlite_files_are_the_owners_only(build_app, tmp_path):
    var = tmp_path / "var"
    app = build_app(database={"url": f"sqlite:///{var}/legalbot.db"})
    Driver(app.test_client(), TOKEN).text(OPENID, QUESTION)
    settled(app)
    assert _mode(var) == 0o700
    for name in ("legalbot.db", "legalbot.db-wal", "legalbot.db-shm"):
        assert _mode(var / name) == 0o600, name


def test_an_older_world_readable_database_is_tightened(tmp_path):
    old = tmp_path / "old"
    old.mkdir(mode=0o755)
    database = old / "legalbot.db"
    engine = records.make_engine(f"sqlite:///{database}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x)"))
    engine.dispose()
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        path.touch()
        path.chmod(0o644)
    records.make_engine(f"sqlite:///{database}").dispose()
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        assert _mode(path) == 0o600, path.name
