"""What a campaign says: a text, an article card, or a digest of knowledge-base entries.

Stored as `content_kind` + JSON in the campaigns row. A digest keeps entry ids, not
text: it is rendered from the knowledge base when sent (corrections to an answer reach
the next send) and when previewed or shown, so staff see what will go out.

WeChat's limits shape the rendering: a text message carries at most 2048 bytes, and a
mass send has no link-card type (its `mpnews` needs articles uploaded as material), so an
article card goes to mass audiences as a text with its title, description and link,
and as a real card (`news`) to customer-service audiences.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import CampaignError

TEXT, ARTICLE, ENTRIES = "text", "article", "entries"
MAX_TEXT_BYTES = 2048  # WeChat's limit for a text message (45002 beyond it)
ARTICLE_FIELDS = {"title": True, "description": True, "url": True, "picurl": False}
TITLE_MAX, DESCRIPTION_MAX = 64, 120  # characters of an article card's title, description
_URL = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class Content:
    kind: str
    data: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps(self.data, ensure_ascii=False)

    @classmethod
    def from_row(cls, kind: str, raw: str) -> Content:
        return cls(kind, json.loads(raw))

    def describe(self) -> dict[str, Any]:
        """The content for `campaign show --json`."""
        return {"kind": self.kind, **self.data}


def text(value: str) -> Content:
    value = value.strip()
    if not value:
        raise CampaignError("--text: the text is empty")
    _check_size(value, "--text")
    return Content(TEXT, {"text": value})


def article(path: Path) -> Content:
    """An article card from a TOML or JSON file with title, description, url[, picurl]."""
    path = Path(path)
    if not path.is_file():
        raise CampaignError(f"--article {path}: no such file")
    try:
        if path.suffix.lower() == ".toml":
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        elif path.suffix.lower() == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
        else:
            raise CampaignError(f"--article {path}: the file must end in .toml or .json")
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CampaignError(
            f"--article {path}: not valid {path.suffix[1:].upper()} ({exc})"
        ) from None
    return card(data, f"--article {path}")


def card(data: Any, what: str = "article") -> Content:
    """An article card from a mapping of title, description, url[, picurl] (the fields of
    an `--article` file, or of the console's form); `what` starts each refusal."""
    if not isinstance(data, dict):
        raise CampaignError(f"{what}: must hold one object with title, description, url")
    unknown = sorted(set(data) - set(ARTICLE_FIELDS))
    if unknown:
        raise CampaignError(
            f"{what}: unknown field {unknown[0]!r} (title, description, url, picurl)"
        )
    fields: dict[str, str] = {}
    for name, required in ARTICLE_FIELDS.items():
        value = data.get(name)
        if value is None or value == "":
            if required:
                raise CampaignError(f"{what}: {name} is missing")
            continue
        if not isinstance(value, str):
            raise CampaignError(f"{what}: {name} must be a string")
        fields[name] = value.strip()
    for name in ("url", "picurl"):
        if name in fields and not is_url(fields[name]):
            raise CampaignError(f"{what}: {name} must be an http(s) URL")
    for name, most in (("title", TITLE_MAX), ("description", DESCRIPTION_MAX)):
        if len(fields[name]) > most:
            raise CampaignError(
                f"{what}: {name} has {len(fields[name])} characters, at most {most}"
            )
    return Content(ARTICLE, fields)


def is_url(value: str) -> bool:
    return bool(_URL.fullmatch(value))


def entries(ids: list[str], kb) -> Content:
    """A digest of knowledge-base entries (`kb` is bot.answer's KnowledgeBase)."""
    if not ids:
        raise CampaignError("--entry: name at least one entry id")
    for entry_id in ids:
        if kb.by_id(entry_id) is None:
            raise CampaignError(f"--entry {entry_id}: no such entry in the knowledge base")
    return Content(ENTRIES, {"entries": list(dict.fromkeys(ids))})


def featured(theme: str, kb, limit: int = 3) -> Content:
    """The theme's featured entries (its first entries when none is featured)."""
    chosen = [e.id for e in kb.by_theme(theme) if e.featured] or [e.id for e in kb.by_theme(theme)]
    if not chosen:
        raise CampaignError(f"theme {theme}: the knowledge base has no entries for it")
    return Content(ENTRIES, {"entries": chosen[:limit]})


def as_text(content: Content, heading: str, kb_loader) -> str:
    """The content as one text message (mass sends, previews of mass sends)."""
    if content.kind == TEXT:
        return content.data["text"]
    if content.kind == ARTICLE:
        card = content.data
        return f"【{card['title']}】\n{card['description']}\n{card['url']}"
    return digest(heading, content.data["entries"], kb_loader())


def as_received(content: Content, heading: str, kb_loader, mass: bool) -> dict[str, Any]:
    """What a resident's phone shows: {"card": fields} for an article card sent as a
    customer-service message, else {"text": the one text message}. The sender sends
    this, and the console's preview draws it."""
    if content.kind == ARTICLE and not mass:
        return {"card": dict(content.data)}
    return {"text": as_text(content, heading, kb_loader)}


def text_bytes(value: str) -> int:
    """The size WeChat counts against MAX_TEXT_BYTES."""
    return len(value.encode("utf-8"))


def digest(heading: str, entry_ids: list[str], kb) -> str:
    """Titles and the first line of each answer, under 2048 bytes, with how to ask more.

    Detail goes first when space runs out (answers' lines, then the last entries): a
    resident who wants the full answer asks the bot, which is the point of the push.
    """
    found = []
    for entry_id in entry_ids:
        entry = kb.by_id(entry_id)
        if entry is None:
            raise CampaignError(f"entry {entry_id} is no longer in the knowledge base")
        found.append(entry)
    ask = found[0].questions[0] if found and found[0].questions else ""
    footer = (
        f"有法律问题，直接发消息问我们，例如：“{ask}”" if ask else "有法律问题，直接发消息问我们。"
    )

    def compose(items, with_lines: bool) -> str:
        parts = [f"【{heading}】"]
        for number, entry in enumerate(items, start=1):
            parts.append(f"{number}. {entry.title}")
            if with_lines:
                line = entry.answer.strip().splitlines()[0] if entry.answer.strip() else ""
                parts.append(line)
        parts.append(footer)
        return "\n".join(p for p in parts if p)

    for with_lines in (True, False):
        for count in range(len(found), 0, -1):
            text_ = compose(found[:count], with_lines)
            if len(text_.encode("utf-8")) <= MAX_TEXT_BYTES:
                return text_
    raise CampaignError("the digest does not fit in one WeChat message")


def _check_size(value: str, what: str) -> None:
    size = len(value.encode("utf-8"))
    if size > MAX_TEXT_BYTES:
        raise CampaignError(
            f"{what}: the text has {size} bytes; WeChat takes at most {MAX_TEXT_BYTES}"
        )
