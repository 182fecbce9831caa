"""The bot's own words (replies.toml) and reading a resident's short replies: 菜单, 你好, 2."""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path
from typing import Any

from .checks import fit_bytes

REPLIES_FILE = Path(__file__).with_name("replies.toml")
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
_PARTICLES = "啊呀哈呢吧嘛哦噢喽啦了"
_CN = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_NUMBER = re.compile(
    r"^(?:第|选|选择|看|要|我要|我选)?\s*([0-9]{1,3}|[零一二两三四五六七八九十]{1,3})\s*"
    r"(?:个|条|项|号|题|种|个问题)?\s*[.。、,，!！)）]*$"
)


@functools.cache
def _replies() -> dict[str, Any]:
    """replies.toml, read once on first use (not at import)."""
    with REPLIES_FILE.open("rb") as fh:
        return tomllib.load(fh)


def text(name: str, /, **values: str) -> str:
    """A reply of replies.toml with its {placeholders} filled, cut to WeChat's limit."""
    return fit_bytes(_replies()["texts"][name].strip().format(**values))


def _bare(plain: str) -> str:
    """A normalized message without spaces, punctuation and trailing particles."""
    bare = _PUNCT.sub("", plain)
    stripped = bare.rstrip(_PARTICLES)
    return stripped or bare


def word_kind(plain: str, kinds: tuple[str, ...] = ("greeting", "menu", "thanks")) -> str | None:
    """Which of the `kinds` of word lists the whole message is, first match first; or None.

    `plain` is the message as `normalize` leaves it (the caller normalizes once).
    """
    bare = _bare(plain)
    if not bare:
        return None
    lists = _replies()["words"]
    return next((k for k in kinds if bare in lists[k] or plain in lists[k]), None)


def parse_number(plain: str) -> int | None:
    """The number a reply picks: 2, ２, 2., 第二个, 选2 → 2; None when it is not a pick.

    `plain` is the message as `normalize` leaves it (２ is 2 by then).
    """
    found = _NUMBER.match(plain)
    if not found:
        return None
    raw = found.group(1)
    if raw.isdigit():
        return int(raw)
    return _chinese_number(raw)


def _chinese_number(raw: str) -> int | None:
    """一 … 九十九 as an int (enough for menus of at most a few dozen items)."""
    if "十" not in raw:
        return _CN[raw] if len(raw) == 1 else None
    tens, _, ones = raw.partition("十")
    if len(tens) > 1 or len(ones) > 1:
        return None
    return (_CN.get(tens, 0) if tens else 1) * 10 + (_CN.get(ones, 0) if ones else 0)


def numbered(items: list[str], start: int = 1) -> str:
    """Lines "1. …" for a list the resident answers with a number."""
    return "\n".join(f"{i}. {item}" for i, item in enumerate(items, start))
