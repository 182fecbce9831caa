"""Shared short-lived state: message deduplication, conversation state, the access token.

With Redis configured every worker process sees the same state, which is what lets
several gunicorn workers agree that a WeChat retry is a retry. Without Redis an
in-process twin keeps the same interface; it is correct for one process only. When
Redis fails or hangs, each process answers from its own twin until Redis is back:
nothing the knowledge base needs lives in Redis, and the database's unique key is the
last word on duplicates.

    base.py      the interface: State, a claim and what it says, JSON helpers
    memory.py    the in-process twin, and the access-token file of one machine
    shared.py    Redis: one round trip claims a message and checks its request
    failover.py  Redis down or hung: short timeouts, the twin meanwhile, one log line
"""

from __future__ import annotations

from pathlib import Path

from .base import Claim, Seen, State, get_json, set_json
from .failover import Failover
from .memory import FileTokenStorage, MemoryState
from .shared import RedisState, redis_client

__all__ = [
    "Claim",
    "Failover",
    "FileTokenStorage",
    "MemoryState",
    "RedisState",
    "Seen",
    "State",
    "connect",
    "get_json",
    "set_json",
]


def connect(redis_url: str, prefix: str = "legalbot:", var_dir: Path | None = None) -> State:
    """The state for this configuration: Redis when a URL is given, else in-process.

    Without Redis the WeChat access token is kept in `var_dir` (when given), shared by
    this machine's processes; with Redis, the same in-process state stands in while
    Redis cannot be reached.
    """
    own = MemoryState(var_dir / "wechat_token.json" if var_dir else None)
    if not redis_url:
        return own
    return Failover(RedisState(redis_client(redis_url), prefix), own)
