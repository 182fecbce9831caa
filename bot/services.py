"""The objects an app needs, built once from the configuration and kept on the app."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine

from . import mediation, plugins, records
from .answer import Answerer, KnowledgeBaseHolder
from .config import Config, ensure_secret_key, private_dir, token_warning, with_webhook_token
from .errors import WeChatAPIError
from .inbox import Deduper, Inbox, Recorder
from .state import State, connect
from .wechat import Edge, make_client, send_text

log = logging.getLogger(__name__)


@dataclass
class Services:
    config: Config
    secret_key: str
    engine: Engine
    state: State
    knowledge: KnowledgeBaseHolder
    answerer: Answerer
    edge: Edge
    inbox: Inbox
    client: object | None
    sealer: mediation.Sealer
    committees: mediation.Committees

    def send_text(self, openid: str, text: str) -> None:
        """A customer-service message (WeChatAPIError when WeChat refuses or is not set up)."""
        if self.client is None:
            raise WeChatAPIError(-1, "wechat.appid and wechat.secret are not configured")
        send_text(self.client, openid, text)

    def close(self) -> None:
        self.inbox.close()
        self.knowledge.wait(5)
        self.engine.dispose()


def build(config: Config, knowledge: KnowledgeBaseHolder | None = None) -> Services:
    """Connect to the database and state store, load the knowledge base, wire the inbox.

    `knowledge` lets several apps of one process share a loaded knowledge base (it is
    read-only between reloads); by default each app loads its own. Raises ConfigError
    when a secret kept under var/ cannot be used.
    """
    try:
        private_dir(config.var_dir)  # the database, journal, token and keys: the owner's only
    except OSError as exc:  # what needs it says so (the journal); configured secrets do not
        log.error("var_dir %s cannot be used: %s", config.var_dir, exc.strerror or exc)
    warning = token_warning(config)
    if warning:
        log.warning("%s", warning)
    config = with_webhook_token(config)
    secret_key = ensure_secret_key(config)
    engine = records.make_engine(config.database_url)
    state = connect(config.redis_url, config.redis_prefix, config.var_dir)
    knowledge = knowledge or KnowledgeBaseHolder(
        config.knowledge.content_dir, config.town, config.knowledge.reload_check_seconds
    )
    answerer = Answerer(knowledge, state, config.knowledge)
    client = wechat_client(config, state)
    sealer = mediation.Sealer(secret_key)
    committees = mediation.Committees.of(config.mediation)
    intake = mediation.Intake(engine, state, sealer, committees, config.mediation, config.tz)
    late = (lambda openid, text: send_text(client, openid, text)) if client else None
    inbox = Inbox(
        recorder=Recorder(engine, tz=config.tz, journal_dir=config.var_dir / "journal"),
        answerer=answerer,
        deduper=Deduper(state, config.wechat.dedupe_seconds),
        secret_key=secret_key,
        budget=config.answer_budget_seconds,
        send_text=late,
        system_events=system_events(engine),
        intake=intake,
    )
    return Services(
        config=config,
        secret_key=secret_key,
        engine=engine,
        state=state,
        knowledge=knowledge,
        answerer=answerer,
        edge=Edge(config.wechat),
        inbox=inbox,
        client=client,
        sealer=sealer,
        committees=committees,
    )


def wechat_client(config: Config, state: State):
    """wechatpy's client at the configured API base, or None without AppID and secret."""
    w = config.wechat
    if not (w.appid and w.secret):
        return None
    return make_client(w.appid, w.secret, w.api_base, state.token_storage())


def system_events(engine: Engine) -> dict:
    """Event kind -> handler, from the `legalbot.system_events` plug-ins (scheduler/)."""
    handlers: dict = {}
    for make in plugins.load(plugins.SYSTEM_EVENTS):
        handlers.update(make(engine))
    return handlers
