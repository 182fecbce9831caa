"""`legalbot serve` and `legalbot db upgrade`.

`serve` is gunicorn with one process and a few threads, on embedded defaults.

One process because the default in-process state (deduplication, conversations) is not
shared between processes; scale out with `gunicorn -w N 'bot:create_app()'` and Redis.
Parts plugged in under `legalbot.embedded` (the campaign scheduler) start in the serving
process, after gunicorn forked it: threads do not survive a fork.
"""

from __future__ import annotations

import logging

import click
from gunicorn.app.base import BaseApplication

from .. import create_app, plugins, records
from ..config import Config
from ..records import schema
from . import gunicorn_conf
from .kit import fail, load_config

log = logging.getLogger(__name__)


class _Embedded(BaseApplication):
    def __init__(self, app, config: Config, options: dict):
        self._app = app
        self._config = config
        self._options = options
        self._running: list = []
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)
        self.cfg.set("worker_exit", self._stop_embedded)

    def load(self):
        """Called in the worker process: start what is embedded, then serve the app."""
        for start in plugins.load(plugins.EMBEDDED):
            self._running.append(start(self._config))
        return self._app

    def _stop_embedded(self, _server, _worker) -> None:
        for handle in reversed(self._running):
            try:
                handle.shutdown()
            except Exception:  # noqa: BLE001 - stopping must go on for the others
                log.exception("stopping %r failed", handle)


def run(config: Config, host: str, port: int, threads: int) -> None:
    """Upgrade the schema, build the app and serve it until interrupted."""
    schema.upgrade(records.make_engine(config.database_url))
    app = create_app(config)
    print(f"legalbot listening on http://{host}:{port} (webhook /wechat, console /admin)")
    options = {
        "bind": f"{host}:{port}",
        "workers": 1,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 30,
        "accesslog": gunicorn_conf.accesslog,
        "access_log_format": gunicorn_conf.access_log_format,  # no query string
        "loglevel": config.log_level.lower(),
    }
    _Embedded(app, config, options).run()


@click.command()
@click.option("--host", default=None, help="Address to listen on (default: server.host).")
@click.option("--port", default=None, type=int, help="Port (default: server.port).")
@click.option("--threads", default=8, show_default=True, help="Request threads.")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, threads: int) -> None:
    """Run the webhook, staff console and scheduler in one process (upgrades the schema
    first)."""
    config = load_config(ctx)
    run(config, host or config.host, port or config.port, threads)


@click.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Create or upgrade the database schema (idempotent)."""
    config = load_config(ctx)
    engine = records.make_engine(config.database_url)
    try:
        schema.upgrade(engine)
    except Exception as exc:  # noqa: BLE001 - report, don't trace: the operator fixes the URL
        fail([f"db upgrade: {type(exc).__name__}: {exc}".splitlines()[0]])
    click.echo(f"数据库结构已是最新（{engine.url.render_as_string(hide_password=True)}）")


COMMANDS = (serve, db)
