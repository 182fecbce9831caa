"""What is generated on first start (the secret key, the webhook token) is whole and one
for every process, even when workers start together; none is shipped, and a token
that looks like a placeholder is warned about at start."""

from __future__ import annotations

import json
import logging
import multiprocessing
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot import config as config_module
from bot.config import ensure_secret_key, with_webhook_token
from bot.config.secret import webhook_token
from bot.errors import ConfigError
from tests.conftest import ROOT, TOKEN, make_config
from tests.wxdriver import Driver

PROCESSES = 4
TRIALS = 100
CALLS = 40


def _race(root: str, number: int, barrier, kind: str) -> None:
    """One worker process: at each trial, wait for the others, then read or make the secret."""
    seen = []
    for trial in range(TRIALS):
        var_dir = Path(root) / f"trial-{trial}"
        config = SimpleNamespace(secret_key="", var_dir=var_dir, wechat=SimpleNamespace(token=""))
        barrier.wait()
        values = set()
        for _ in range(CALLS):  # as each request of a worker would: the file at any moment
            try:
                values.add(ensure_secret_key(config) if kind == "key" else webhook_token(config))
            except ConfigError as exc:
                values.add(f"ERROR {exc}")
        seen.append(sorted(values))
    (Path(root) / f"seen-{number}.json").write_text(json.dumps(seen))


@pytest.mark.parametrize("kind", ["key", "token"])
def test_workers_started_together_share_one_whole_secret(tmp_path, kind):
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    workers = [
        context.Process(target=_race, args=(str(tmp_path), n, barrier, kind))
        for n in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    seen = [json.loads((tmp_path / f"seen-{n}.json").read_text()) for n in range(PROCESSES)]
    name = "secret_key" if kind == "key" else "webhook_token"
    for trial in range(TRIALS):
        kept = (tmp_path / f"trial-{trial}" / name).read_text().strip()
        got = {value for worker in seen for value in worker[trial]}
        assert got == {kept} and len(kept) >= 32, (trial, got)
        assert stat.S_IMODE((tmp_path / f"trial-{trial}" / name).stat().st_mode) == 0o600
        assert [p.name for p in (tmp_path / f"trial-{trial}").iterdir()] == [name]  # no drafts


def test_an_empty_secret_file_is_never_used(tmp_path):
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    (var_dir / "secret_key").write_text("\n")
    config = SimpleNamespace(secret_key="", var_dir=var_dir)
    with pytest.raises(ConfigError, match="secret_key is empty"):
        ensure_secret_key(config)


def test_no_token_is_shipped():
    shipped = config_module.load(ROOT / "config.toml", environ={})
    assert shipped.wechat.token == ""
    from_env = config_module.load(
        ROOT / "config.toml", environ={"LEGALBOT_WECHAT_TOKEN": "fromTheEnvironment1"}
    )
    assert from_env.wechat.token == "fromTheEnvironment1"  # CONTRACT.md: still the variable


def test_a_token_is_generated_on_first_start_and_used_by_simulate_too(tmp_path, build_app):
    app = build_app(wechat={"token": ""})
    token_file = tmp_path / "var" / "webhook_token"
    token = token_file.read_text().strip()
    assert len(token) == 32 and stat.S_IMODE(token_file.stat().st_mode) == 0o600
    # `legalbot simulate` resolves the token the same way from the same configuration
    assert with_webhook_token(make_config(tmp_path, wechat={"token": ""})).wechat.token == token
    assert Driver(app.test_client(), token).text("o-t", "你好").status == 200
    assert Driver(app.test_client(), "legalbot").text("o-t", "你好").status == 403


@pytest.mark.parametrize("token", ["legalbot", "mytoken", "123456789", "abc", "aaaaaaaaaa"])
def test_a_placeholder_token_is_warned_about_at_start(build_app, caplog, token):
    caplog.set_level(logging.WARNING)
    build_app(wechat={"token": token})
    warnings = [r.getMessage() for r in caplog.records if "placeholder" in r.getMessage()]
    assert len(warnings) == 1 and token not in warnings[0]  # the token itself is not logged


def test_a_chosen_token_starts_quietly(build_app, caplog):
    caplog.set_level(logging.WARNING)
    build_app(wechat={"token": TOKEN})
    assert not [r for r in caplog.records if "wechat.token" in r.getMessage()]
