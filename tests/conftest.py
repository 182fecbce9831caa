"""Fixtures that start real things: a SQLite file per test, the real Redis (db 15) and
PostgreSQL on 127.0.0.1, and a loopback fake of the WeChat API.

With CI=true a missing Redis or PostgreSQL fails the run instead of skipping the tests
that need it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

from bot import config as config_module
from bot import create_app, records
from bot.records import schema
from tests.wxdriver import Driver

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("LEGALBOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PG_ADMIN_URL = os.environ.get(
    "LEGALBOT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APPID = "wx1234567890abcdef"
TOKEN = "townshiptoken"
SAFE = {"aes_key": AES_KEY}  # the `wechat` overrides of compatible and safe mode
# The town's local facts for tests that load the knowledge base without a config.
TOWN = {
    "name": "甘河滩镇",
    "mediation": "甘河滩镇人民调解委员会",
    "police_mediation": "派出所调解室",
    "legal_aid": "区法律援助中心",
    "justice_office": "镇司法所",
    "committees": "20",
}


def _unavailable(what: str, exc: Exception):
    message = f"{what} is not reachable: {exc}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true: the real server is required)")
    pytest.skip(message)


def make_config(tmp_path: Path, **sections) -> config_module.Config:
    """A configuration for one test: its own SQLite file and var/ folder, plaintext mode.

    With an EncodingAESKey the webhook takes encrypted messages only; `SAFE` is the
    `wechat` section of a test in compatible or safe mode.
    """
    overrides = {
        "database": {"url": f"sqlite:///{tmp_path}/legalbot.db"},
        "general": {"var_dir": str(tmp_path / "var")},
        "security": {"secret_key": "test-secret-key"},
        "knowledge": {"content_dir": str(ROOT / "content")},
        "wechat": {"token": TOKEN, "appid": APPID, "aes_key": "", "secret": "s3cret"},
    }
    for section, values in sections.items():
        overrides.setdefault(section, {}).update(values)
    return config_module.load(ROOT / "config.toml", environ={}, overrides=overrides)


@pytest.fixture(scope="session")
def shipped_knowledge():
    """The shipped knowledge base, loaded once for the whole run (it is read-only)."""
    from bot.answer import KnowledgeBaseHolder

    return KnowledgeBaseHolder(ROOT / "content", make_config(Path("/nonexistent")).town, 3600)


@pytest.fixture
def build_app(tmp_path, shipped_knowledge):
    """Build an app (schema upgraded) from section overrides; closed after the test."""
    apps = []

    def build(**sections):
        config = make_config(tmp_path, **sections)
        schema.upgrade(records.make_engine(config.database_url))
        app = create_app(config, knowledge=shipped_knowledge)
        app.config["TESTING"] = True
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["legalbot"].close()


@pytest.fixture
def app(build_app, request):
    """The app of a test; with an AES key when the test's `driver` is in compat or safe mode."""
    callspec = getattr(request.node, "callspec", None)
    mode = callspec.params.get("driver") if callspec else None
    return build_app(wechat=SAFE) if mode in ("compat", "safe") else build_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(params=["plain", "compat", "safe"])
def driver(request, client):
    """A WeChat protocol driver in each of the three modes."""
    return Driver(client, TOKEN, mode=request.param, aes_key=AES_KEY, appid=APPID)


@pytest.fixture
def plain(client):
    return Driver(client, TOKEN, mode="plain")


@pytest.fixture
def redis_url():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as exc:
        _unavailable("Redis at " + REDIS_URL, exc)
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url):
    """A key prefix of this test's own; its keys are deleted afterwards."""
    import redis

    prefix = f"legalbot-test-{secrets.token_hex(4)}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test's own (tests/ownredis.py), to kill or pause; killed
    by its pid afterwards."""
    from tests.ownredis import OwnRedis

    server = OwnRedis(tmp_path).start()
    yield server
    if server.proc is not None and server.proc.poll() is None:
        server.resume()  # a paused process must run to die cleanly
        server.kill()


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database for this test, dropped afterwards."""
    import sqlalchemy as sa

    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"legalbot_test_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        _unavailable("PostgreSQL at " + PG_ADMIN_URL, exc)
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A database URL of each kind: a SQLite file of this test's, a fresh PostgreSQL one."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/records.db"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def engine(db_url):
    """An upgraded, empty database of each kind."""
    engine = records.make_engine(db_url)
    schema.upgrade(engine)
    yield engine
    engine.dispose()


def settled(app):
    """The app's database engine, once its recorder has committed what it was given and
    the events it handed on (MASSSENDJOBFINISH) are handled.

    The webhook replies before its batch is committed (bot/inbox/recorder.py).
    """
    services = app.extensions["legalbot"]
    assert services.inbox.recorder.flush(10), "the recorder did not commit within 10 s"
    assert services.inbox.settle(10), "the handed-on events were not handled within 10 s"
    return services.engine


def summary(app, settle: bool = True) -> dict:
    """The statistics summary of the current year, as `legalbot stats summary` computes it.

    With `settle`, first waits (up to 10 s) for the app's recorder to commit what it
    has been given: the webhook replies before its batch is committed.
    """
    from bot import figures

    services = app.extensions["legalbot"]
    if settle:
        settled(app)
    start, end = figures.current_year(services.config.tz)
    return figures.summary(services.engine, services.config.tz, start, end).to_json()
