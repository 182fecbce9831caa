"""A numbered list is remembered per user, so the reply "2" opens the second item."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import redis

from bot.answer import Answerer, load_knowledge_base
from bot.config import KnowledgeSettings
from bot.state import MemoryState, RedisState

FIXTURE = Path(__file__).parent / "data" / "kb_fixture"
TOWN = {"name": "甘河滩镇", "mediation": "甘河滩镇人民调解委员会"}
# Thresholds that turn every match into "您是不是想问", to exercise the numbered list.
ALWAYS_SUGGEST = KnowledgeSettings(FIXTURE, 0.99, 0.01, 30, 5)


@pytest.fixture(scope="module")
def kb():
    return load_knowledge_base(FIXTURE, TOWN)


def _redis_state():
    client = redis.Redis(host="127.0.0.1", port=6379, db=15, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    return RedisState(client, prefix=f"legalbot-test-{uuid.uuid4().hex}:")


@pytest.fixture(params=["memory", "redis"])
def state(request):
    return MemoryState() if request.param == "memory" else _redis_state()


@pytest.mark.parametrize("reply", ["1", "１", "1.", "第一个", "一", "选1"])
def test_a_numbered_suggestion_opens_its_entry(kb, state, reply):
    bot = Answerer(kb, state, ALWAYS_SUGGEST)
    asked = bot.converse("被骗了刷单垫钱", "u1")
    assert asked.kind == "suggest" and not asked.matched
    assert asked.text.startswith("您是不是想问：\n1. ")
    first = asked.suggestions[0]["entry_id"]
    opened = bot.converse(reply, "u1")
    assert opened.kind == "entry" and opened.entry_id == first


def test_the_second_suggestion(kb, state):
    bot = Answerer(kb, state, ALWAYS_SUGGEST)
    asked = bot.converse("工伤 工资 诈骗 刷单", "u2")
    assert len(asked.suggestions) >= 2
    assert bot.converse("第二个", "u2").entry_id == asked.suggestions[1]["entry_id"]


def test_lists_are_kept_per_user(kb, state):
    bot = Answerer(kb, state, ALWAYS_SUGGEST)
    bot.converse("刷单垫钱", "alice")
    # bob never saw a list: his "1" is theme 1 of the menu
    assert bot.converse("1", "bob").kind == "theme_list"
    assert bot.converse("1", "alice").kind == "entry"


def test_menu_then_theme_then_entry(kb, state):
    bot = Answerer(kb, state, ALWAYS_SUGGEST)
    assert bot.converse("菜单", "u3").kind == "menu"
    labor = list(kb.themes).index("labor") + 1
    listing = bot.converse(str(labor), "u3")
    assert listing.kind == "theme_list" and listing.theme == "labor"
    assert "1. 老板拖欠工资不给，怎么讨？" in listing.text
    opened = bot.converse("2", "u3")
    assert opened.entry_id == "labor-work-injury"
    # the theme list stays open: another number opens another entry
    assert bot.converse("1", "u3").entry_id == "labor-wage-arrears"


def test_a_number_beyond_every_list_gets_the_menu(kb, state):
    bot = Answerer(kb, state, ALWAYS_SUGGEST)
    answer = bot.converse("99", "u4")
    assert answer.kind == "menu" and answer.text.startswith("没有第99项")


def test_the_list_expires(kb):
    state = MemoryState()
    bot = Answerer(kb, state, ALWAYS_SUGGEST)
    bot.converse("刷单垫钱", "u5")
    state.delete("conv:u5")  # what the TTL does after conversation_minutes
    assert bot.converse("1", "u5").kind == "theme_list"


def test_stored_with_the_configured_ttl(kb):
    state = _redis_state()
    bot = Answerer(kb, state, ALWAYS_SUGGEST)
    bot.converse("刷单垫钱", "u6")
    ttl = state._redis.pttl(state._prefix + "conv:u6")
    assert 29 * 60 * 1000 < ttl <= 30 * 60 * 1000
