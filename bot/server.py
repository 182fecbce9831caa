"""`legalbot serve`: gunicorn with one process and a few threads, on embedded defaults.

One process because the default in-process state (deduplication, conversations) is not
shared between processes; scale out with `gunicorn -w N 'bot:create_app()'` and Redis.
"""

from __future__ import annotations

from gunicorn.app.base import BaseApplication

from . import create_app, records, schema
from .config import Config


class _Embedded(BaseApplication):
    def __init__(self, app, options: dict):
        self._app = app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        return self._app


def serve(config: Config, host: str, port: int, threads: int) -> None:
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
        "accesslog": "-",
        "loglevel": config.log_level.lower(),
    }
    _Embedded(app, options).run()
