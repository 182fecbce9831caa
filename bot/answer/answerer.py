"""From a resident's message to a reply: menu, greeting, a picked number, or a search.

A numbered list (menu, theme list, suggestions) is remembered per user in the shared
state for `conversation_minutes`, so the next message "2" opens the second item, in
whichever worker process it arrives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from ..config import KnowledgeSettings
from ..state import State, get_json, set_json
from . import replies
from .analyzer import normalize
from .areas import Named
from .entry import Entry
from .index import Hit, Ranking
from .knowledge import MAX_REPLY_BYTES, KnowledgeBase
from .replies import numbered, text
from .triage import Danger

SUGGESTIONS = 3
# Titles on one page of a theme's list: a theme of fifty entries is four pages.
THEME_PAGE = 15
WORD_KINDS = ("greeting", "menu", "thanks", "more")
RANKED = 5
# A suggestion below this share of suggest_threshold is too weak to show beside a better one.
SUGGEST_FLOOR = 0.7
# A one-word question whose word more entries than this hold gets "did you mean".
BROAD_WORD = 3


# What an answer is, for the records and the figures (README, "What counts"): a question
# is a message the bot searched the knowledge base for; a direct answer is an entry or a
# fact; a suggestion and a fallback (or a referral) are questions without one. Greetings,
# the menu, theme lists and numbers are not questions; a resident in danger is `urgent`.
QUESTION_KINDS = frozenset({"entry", "fact", "suggest", "fallback", "referral"})
DIRECT_KINDS = frozenset({"entry", "fact"})
KEPT_FOR_STAFF = frozenset({"suggest", "fallback", "referral"})


@dataclass
class Answer:
    """What the resident receives and what the records and evaluation need to know.

    `score` is the calibrated confidence (0..1) of the best entry, not the raw BM25 sum:
    it is what the thresholds of [knowledge] in config.toml compare against.
    """

    # entry | fact | urgent | suggest | fallback | referral | menu | theme_list | greeting
    kind: str
    text: str
    theme: str | None = None
    entry_id: str | None = None
    title: str | None = None
    score: float = 0.0
    suggestions: list[dict[str, str]] = field(default_factory=list)
    ranked: list[tuple[str, str, float]] = field(default_factory=list)
    danger: str | None = None  # the kind of danger (content/triage.toml) when urgent
    area: str | None = None  # the law area named by a referral (content/areas.toml)
    # The numbered list just shown, for Answerer.remember: the caller writes it after the
    # retry claim (bot/inbox), so answering itself writes nothing.
    memory: dict[str, Any] | None = None

    @property
    def matched(self) -> bool:
        """Answered from an entry (or a fact of a theme): the reply says what it covers."""
        return self.entry_id is not None and self.theme is not None

    @property
    def urgent(self) -> bool:
        return self.kind == "urgent"

    @property
    def is_question(self) -> bool:
        return self.kind in QUESTION_KINDS

    @property
    def answered(self) -> bool:
        """A question answered directly (an entry or a fact), as the figures count it."""
        return self.kind in DIRECT_KINDS

    def to_json(self, question: str) -> dict[str, Any]:
        """The object `legalbot ask --json` prints (README, Commands)."""
        return {
            "question": question,
            "matched": self.matched,
            "theme": self.theme if self.matched else None,
            "entry_id": self.entry_id if self.matched else None,
            "title": self.title if self.matched else None,
            "score": round(self.score, 4),
            "answer": self.text,
            "urgent": self.urgent,
            "suggestions": list(self.suggestions),
        }


class _Holder(Protocol):
    def current(self) -> KnowledgeBase: ...


class _Fixed:
    """A holder for a knowledge base that never reloads (CLI, tests)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self._kb = kb

    def current(self) -> KnowledgeBase:
        return self._kb


class Answerer:
    """Answers messages from the current knowledge base, remembering numbered lists per user."""

    def __init__(
        self, kb_holder: _Holder | KnowledgeBase, state: State, settings: KnowledgeSettings
    ) -> None:
        is_kb = isinstance(kb_holder, KnowledgeBase)
        self._holder: _Holder = _Fixed(kb_holder) if is_kb else kb_holder  # type: ignore[arg-type]
        self._state = state
        self._settings = settings
        self._ttl = settings.conversation_minutes * 60

    def ask(self, message: str, user: str | None = None, today: date | None = None) -> Answer:
        """The reply to one text (or recognised voice) message.

        Danger first, before any word list or ranking; then the resident's own short
        replies (你好, 菜单, 2); then an entry whose phrasing the question is; then the facts
        of help.toml and the calendar; then the search. It reads the numbered list last
        shown to `user` and writes nothing: the list this answer shows is its `memory`,
        which the inbox keeps (`remember`) once the message is claimed (bot/inbox/dispatch.py).
        """
        kb = self._holder.current()
        danger = kb.danger(message)
        if danger is not None:
            return self._urgent(kb, danger, message)
        plain = normalize(message)  # once, for the word lists and the number
        kind = replies.word_kind(plain, WORD_KINDS) if plain else "greeting"
        if kind == "greeting":
            return Answer("greeting", text("greeting", town_name=kb.town.get("name", "")))
        if kind == "menu":
            return self.menu()
        if kind == "thanks":
            return Answer("greeting", text("thanks"))
        if kind == "more":
            return self._more(kb, user)
        number = replies.parse_number(plain)
        if number is not None:
            return self._pick(kb, number, user)
        entry = kb.by_phrasing(message)
        if entry is not None:
            return self._entry_answer(kb, entry, 1.0)
        fact = kb.facts.answer(message, today or date.today())
        if fact is not None:
            return Answer("fact", fact.text, fact.theme, fact.key, fact.title, score=1.0)
        return self._search(kb, message)

    def urgent(self, message: str) -> Answer | None:
        """The danger reply when `message` is from a resident in danger, else None: what
        a form (bot/mediation) asks first, so an urgent message is never taken as a step."""
        kb = self._holder.current()
        danger = kb.danger(message)
        return None if danger is None else self._urgent(kb, danger, message)

    def _urgent(self, kb: KnowledgeBase, danger: Danger, message: str) -> Answer:
        """The emergency number and one action first; then what else helps: the kind's
        advice, the entry the message is a phrasing of (or the kind's own entry)."""
        kind = danger.kind
        lines = [kind.first]
        if danger.others:
            lines.append(text("urgent_also") + "".join(k.first for k in danger.others))
        if kind.then:
            lines.append(kind.then)
        entry = kb.by_phrasing(message) or self._sure_entry(kb, message)
        if entry is None and kind.entry:
            entry = kb.by_id(kind.entry)
        reply = "\n".join(lines)
        if entry is not None:
            with_entry = reply + "\n" + kb.render(entry)
            if len(with_entry.encode("utf-8")) <= MAX_REPLY_BYTES:
                reply = with_entry
            else:
                reply += "\n" + text("urgent_more", title=entry.title)
        found = Answer("urgent", reply, score=1.0, danger=kind.key)
        if entry is not None:
            found.theme, found.entry_id, found.title = entry.theme, entry.id, entry.title
        return found

    def menu(self) -> Answer:
        """The numbered list of themes; a reply with a number opens that theme's list."""
        kb = self._holder.current()
        body = numbered(list(kb.themes.values()))
        reply = "\n".join([text("menu_head"), body, text("menu_foot")])
        return Answer("menu", reply, memory=_listed("menu", list(kb.themes)))

    def theme_list(self, slug: str, page: int = 0) -> Answer:
        """A theme's entries, numbered, a page at a time; a reply with a number opens the
        entry, "更多" the next page (numbers run on across pages)."""
        kb = self._holder.current()
        if slug not in kb.themes:
            return self.menu()
        name, entries = kb.themes[slug], kb.by_theme(slug)
        if not entries:
            return Answer("theme_list", text("theme_empty", theme=name), theme=slug)
        page = page if page * THEME_PAGE < len(entries) else 0
        memory = _listed("theme_list", [e.id for e in entries], theme=slug, page=page)
        return Answer("theme_list", _titled_list(name, entries, page), theme=slug, memory=memory)

    def _more(self, kb: KnowledgeBase, user: str | None) -> Answer:
        """The next page of the theme list last shown to `user` (else the menu)."""
        conv = get_json(self._state, f"conv:{user}") if user else None
        if not conv or conv.get("kind") != "theme_list" or conv.get("theme") not in kb.themes:
            return self.menu()
        return self.theme_list(conv["theme"], int(conv.get("page", 0)) + 1)

    def welcome(self) -> str:
        """The first message to a new follower: who we are, how to ask, the themes."""
        kb = self._holder.current()
        menu = numbered(list(kb.themes.values()))
        return text("welcome", town_name=kb.town.get("name", ""), menu=menu)

    def _pick(self, kb: KnowledgeBase, number: int, user: str | None) -> Answer:
        """Open item `number` of the list last shown to `user`, else theme `number` of the menu."""
        conv = get_json(self._state, f"conv:{user}") if user else None
        if conv and 1 <= number <= len(conv.get("options", [])):
            option = conv["options"][number - 1]
            if conv.get("kind") == "menu":
                return self.theme_list(option)
            entry = kb.by_id(option)
            if entry is not None:
                return self._entry_answer(kb, entry, 1.0)
        themes = list(kb.themes)
        if 1 <= number <= len(themes):
            return self.theme_list(themes[number - 1])
        menu = self.menu()
        menu.text = text("no_option", number=str(number)) + "\n" + menu.text
        return menu

    def _search(self, kb: KnowledgeBase, message: str) -> Answer:
        """The ranking's best entry when it is sure enough and covers what the question is
        about; "did you mean" when less sure; else an honest referral or fallback."""
        ranking = kb.search(message)
        named = kb.areas.named(message)
        hits = self._answerable(kb, ranking, named)
        ranked = [
            (kb.entries[h.doc].id, kb.entries[h.doc].theme, h.confidence)
            for h in ranking.hits[:RANKED]
        ]
        best = hits[0].confidence if hits else 0.0
        if hits and best >= self._settings.answer_threshold and not self._too_broad(kb, ranking):
            answer = self._entry_answer(kb, kb.entries[hits[0].doc], best)
        elif named and best < self._settings.suggest_threshold:
            answer = self._referral(kb, named, ranking.confidence)
        elif hits and best >= self._settings.suggest_threshold:
            floor = self._settings.suggest_threshold * SUGGEST_FLOOR
            picks = [kb.entries[h.doc] for h in hits if h.confidence >= floor][:SUGGESTIONS]
            answer = self._suggest(picks, best)
        else:
            answer = self._fallback(kb, ranking.confidence)
        answer.ranked = ranked
        return answer

    @staticmethod
    def _too_broad(kb: KnowledgeBase, ranking: Ranking) -> bool:
        """One common word (工资, 离婚, 彩礼) does not say what the question is: many
        entries hold it, so the resident is offered them rather than one picked. One
        word few entries hold (离婚冷静期, 司法确认) is a question of its own."""
        words = {t.word: t for t in ranking.terms}
        if len(words) != 1:
            return False
        (term,) = words.values()
        return max(kb.index.presence.df(alt) for alt in term.alts) > BROAD_WORD

    def _sure_entry(self, kb: KnowledgeBase, message: str) -> Entry | None:
        """The entry the search would answer `message` from, if it is sure enough."""
        hits = self._answerable(kb, kb.search(message), kb.areas.named(message))
        if hits and hits[0].confidence >= self._settings.answer_threshold:
            return kb.entries[hits[0].doc]
        return None

    @staticmethod
    def _answerable(kb: KnowledgeBase, ranking: Ranking, named: Named) -> list[Hit]:
        """The ranked entries that may answer: an entry that does not hold a word naming
        an area outside the base (契税, 取保候审) does not, however many other words it
        shares with the question."""
        return [h for h in ranking.hits if all(kb.holds(kb.entries[h.doc], w) for w in named.words)]

    def _referral(self, kb: KnowledgeBase, named: Named, score: float) -> Answer:
        """Which area of law the question is in, where to go, and the usual help."""
        area = named.areas[0]
        helps = "\n".join(f"· {line}" for line in kb.fallback_help())
        reply = text("referral", area=area.name, refer=area.refer, help=helps)
        return Answer("referral", reply, score=score, area=area.key)

    def _entry_answer(self, kb: KnowledgeBase, entry: Entry, score: float) -> Answer:
        return Answer("entry", kb.render(entry), entry.theme, entry.id, entry.title, score=score)

    def _suggest(self, picks: list[Entry], score: float) -> Answer:
        body = numbered([e.title for e in picks])
        suggestions = [{"entry_id": e.id, "theme": e.theme, "title": e.title} for e in picks]
        reply = "\n".join([text("suggest_head"), body, text("suggest_foot")])
        memory = _listed("suggest", [e.id for e in picks])
        return Answer("suggest", reply, score=score, suggestions=suggestions, memory=memory)

    def _fallback(self, kb: KnowledgeBase, score: float) -> Answer:
        helps = "\n".join(f"· {line}" for line in kb.fallback_help())
        return Answer("fallback", text("fallback", help=helps), score=score)

    def remember(self, user: str, memory: dict[str, Any] | None) -> None:
        """Keep the numbered list just shown to `user` (an Answer's `memory`), so that
        their "2" means its second item, for `conversation_minutes`."""
        if user and memory is not None:
            set_json(self._state, f"conv:{user}", memory, self._ttl)

    def converse(self, message: str, user: str) -> Answer:
        """`ask`, then remember the list the answer shows: a conversation in one call, for
        callers without a retry claim to wait for (the terminal chat, tests)."""
        answer = self.ask(message, user)
        self.remember(user, answer.memory)
        return answer


def _listed(kind: str, options: list[str], **more: Any) -> dict[str, Any]:
    """What to remember of a numbered list: its kind and the item of each number."""
    return {"kind": kind, "options": options, **more}


def _titled_list(name: str, entries: list[Entry], page: int) -> str:
    """One page of a theme's titles, numbered on from the pages before; titles are
    shortened when the page would not fit in one message."""
    first = page * THEME_PAGE
    shown = entries[first : first + THEME_PAGE]
    more = first + THEME_PAGE < len(entries)
    foot = text("theme_more") if more else text("theme_foot")
    for width in (None, 24, 16, 10):
        titles = [e.title if width is None else _short(e.title, width) for e in shown]
        reply = "\n".join([text("theme_head", theme=name), numbered(titles, first + 1), foot])
        if len(reply.encode("utf-8")) <= MAX_REPLY_BYTES:
            return reply
    return reply


def _short(title: str, width: int) -> str:
    return title if len(title) <= width else title[: width - 1] + "…"
