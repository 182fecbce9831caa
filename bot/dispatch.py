"""Message kind -> handler. Each handler turns one WeChat message into an Outcome.

Handlers never see HTTP; they get the parsed message and a Context with the answerer
and the resident's pseudonymous id, and say what to reply and what to record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from wechatpy.messages import BaseMessage

from .answer import KEPT_FOR_STAFF, Answer, Answerer
from .records import MassJobReport
from .wechat import raw_field

# Kinds WeChat sends about the account's own jobs, not about a resident.
SYSTEM_EVENTS = {"masssendjobfinish", "templatesendjobfinish"}

TYPE_PROMPT = "抱歉，没有听清您的语音。请打字提问，或回复“菜单”查看可以咨询的法律主题。"
MEDIA_PROMPT = "收到啦！目前我只能回答文字提问。请用文字描述您的问题，或回复“菜单”查看法律主题。"


@dataclass
class Context:
    answerer: Answerer
    user_id: str


@dataclass
class Outcome:
    """What to reply (None: `success`, nothing shown) and what to record."""

    reply: str | None
    kind: str
    is_message: bool
    is_question: bool = False
    answer: Answer | None = None
    event_key: str | None = None
    scene: str | None = None
    follow_change: str | None = None
    question: str | None = None
    record: bool = True
    mass_job: MassJobReport | None = None  # a campaign's mass send finished (not recorded)


Handler = Callable[[BaseMessage, Context], Outcome]
HANDLERS: dict[str, Handler] = {}


def handles(*kinds: str) -> Callable[[Handler], Handler]:
    """Register a handler for message kinds (`text`, `event:click`, …)."""

    def register(fn: Handler) -> Handler:
        for kind in kinds:
            HANDLERS[kind] = fn
        return fn

    return register


def kind_of(message: BaseMessage) -> str:
    if message.type == "event":
        return f"event:{message.event}"
    if message.type == "unknown":
        msg_type = raw_field(message, "MsgType").lower()
        event = raw_field(message, "Event").lower()
        # An event WeChat (or a future version of it) sends without a known Event is
        # still an event, not a resident's message: it must not count as one.
        return f"event:{event}" if event or msg_type == "event" else msg_type
    return message.type


def dispatch(message: BaseMessage, ctx: Context) -> Outcome:
    """Run the handler for the message's kind (the fallback for kinds we do not know)."""
    kind = kind_of(message)
    handler = HANDLERS.get(kind)
    if handler is None:
        handler = _other_event if kind.startswith("event:") else _media
    return handler(message, ctx)


def _question(text: str, kind: str, ctx: Context) -> Outcome:
    """A resident's words: a question, or a greeting, a menu word, a number, a danger.

    Only questions count as questions (README, "What counts"); the text of one without a
    direct answer is kept for staff, never the text of a resident in danger.
    """
    answer = ctx.answerer.ask(text, user=ctx.user_id)
    return Outcome(
        reply=answer.text,
        kind=kind,
        is_message=True,
        is_question=answer.is_question,
        answer=answer,
        question=text if answer.kind in KEPT_FOR_STAFF else None,
    )


@handles("text")
def _text(message: BaseMessage, ctx: Context) -> Outcome:
    return _question((message.content or "").strip(), "text", ctx)


@handles("voice")
def _voice(message: BaseMessage, ctx: Context) -> Outcome:
    """WeChat's own speech recognition, when the account enabled it, fills Recognition."""
    text = (message.recognition or "").strip()
    if not text:  # WeChat heard nothing it could write down: not a question
        return Outcome(reply=TYPE_PROMPT, kind="voice", is_message=True)
    return _question(text, "voice", ctx)


@handles("image", "location", "link", "video", "shortvideo", "miniprogrampage")
def _media(message: BaseMessage, ctx: Context) -> Outcome:
    """Kinds we cannot read (and kinds WeChat may add): a pointer to the menu."""
    return Outcome(reply=MEDIA_PROMPT, kind=_clip(kind_of(message), 24) or "other", is_message=True)


@handles("event:subscribe", "event:subscribe_scan")
def _subscribe(message: BaseMessage, ctx: Context) -> Outcome:
    """A new follower; `qrscene_…` keys name the printed QR code (offline event) that brought them."""
    scene = (message.scene_id or None) if message.event == "subscribe_scan" else None
    return Outcome(
        reply=ctx.answerer.welcome(),
        kind="subscribe",
        is_message=False,
        scene=_clip(scene),
        event_key=_clip(scene),
        follow_change="subscribe",
    )


@handles("event:unsubscribe")
def _unsubscribe(message: BaseMessage, ctx: Context) -> Outcome:
    return Outcome(reply=None, kind="unsubscribe", is_message=False, follow_change="unsubscribe")


@handles("event:scan")
def _scan(message: BaseMessage, ctx: Context) -> Outcome:
    """A follower scanned a parameter QR code again at an offline event."""
    scene = _clip(message.scene_id or None)
    return Outcome(
        reply=ctx.answerer.menu(user=ctx.user_id).text, kind="scan", is_message=False, scene=scene
    )


@handles("event:click")
def _click(message: BaseMessage, ctx: Context) -> Outcome:
    """Menu keys are `THEME_<slug>` (or the bare slug) for a theme, anything else the menu."""
    key = message.key or ""
    slug = key.removeprefix("THEME_").removeprefix("theme_")
    answer = ctx.answerer.theme_list(slug, user=ctx.user_id)  # the menu for unknown keys
    return Outcome(
        reply=answer.text,
        kind="click",
        is_message=False,
        answer=answer,
        event_key=_clip(key),
    )


@handles("event:view")
def _view(message: BaseMessage, ctx: Context) -> Outcome:
    return Outcome(reply=None, kind="view", is_message=False, event_key=_clip(message.url))


@handles("event:masssendjobfinish")
def _mass_job_finished(message: BaseMessage, ctx: Context) -> Outcome:
    """WeChat's report on a campaign's mass send: its counts, not a resident's act.

    It comes from the account's mass-send assistant, not a follower, so it is neither an
    event row nor a follower's interaction; the inbox updates the campaign by MsgID.
    """
    report = MassJobReport(
        msg_id=str(message.id),
        status=message.status or "",
        total=message.total_count,
        filtered=message.filter_count,
        sent=message.sent_count,
        errors=message.error_count,
    )
    return Outcome(
        reply=None, kind="masssendjobfinish", is_message=False, record=False, mass_job=report
    )


def _other_event(message: BaseMessage, ctx: Context) -> Outcome:
    """Events we do not answer: recorded (system job reports are not residents' acts)."""
    event = kind_of(message).removeprefix("event:") or "unknown"
    return Outcome(
        reply=None, kind=_clip(event, 24), is_message=False, record=event not in SYSTEM_EVENTS
    )


def _clip(value: str | None, size: int = 64) -> str | None:
    return value[:size] if value else value
