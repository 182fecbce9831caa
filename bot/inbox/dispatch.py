"""Message kind -> handler. Each handler turns one WeChat message into an Outcome.

Handlers never see HTTP; they get the parsed message and a Context with the answerer
and the resident's pseudonymous id, and say what to reply and what to record.

Handlers run BEFORE the retry claim (inbox.py: a message is answered, then claimed
together with its reply), and a retry of the same message runs its handler again. So a
handler writes nothing: whatever it wants written rides on its Outcome (the event row,
the conversation to remember, a system event to hand on) and is written once, after
the claim, by the request that won it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wechatpy.messages import BaseMessage

from ..answer import KEPT_FOR_STAFF, Answer, Answerer
from ..answer.replies import text as reply_text
from ..mediation import Intake, Step
from ..wechat import raw_field

# Kinds WeChat sends about the account's own jobs, not about a resident: not recorded;
# a plug-in may take them (services.py, the `legalbot.system_events` entry points).
SYSTEM_EVENTS = {"masssendjobfinish", "templatesendjobfinish"}


@dataclass
class Context:
    answerer: Answerer
    user_id: str
    intake: Intake | None = None  # the mediation request form (bot/mediation)
    seed: str = ""  # names the message, the same for WeChat's retries of it


@dataclass
class Outcome:
    """What to reply (None: `success`, nothing shown), and what to write after the claim.

    Its attributes named like the columns of `events` (kind, is_message, is_question,
    matched, reply_kind, theme, entry_id, event_key, scene) are the event row
    (bot/records/interactions.py): a new recorded field is a column there and an
    attribute here.
    """

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
    system: bool = False  # a report on the account's own jobs, for its plug-in
    # The numbered list the resident was just shown, to remember for their "2".
    memory: dict[str, Any] | None = None
    # A step of the mediation form: the form to keep and the case to file.
    mediation: Step | None = None

    @property
    def matched(self) -> bool | None:
        """Answered directly (questions), or None for what is not a question."""
        if self.answer is not None:
            return self.answer.answered
        return False if self.is_question else None

    @property
    def reply_kind(self) -> str | None:
        return self.answer.kind if self.answer else None

    @property
    def theme(self) -> str | None:
        return self.answer.theme if self.answer else None

    @property
    def entry_id(self) -> str | None:
        return self.answer.entry_id if self.answer else None


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
    The mediation form (申请调解 and its steps, 我的调解) takes the words meant for it,
    after the danger check: a resident in danger gets the urgent reply, never a form step.
    Its messages are not questions and are not kept for staff (they may hold a phone).
    """
    if ctx.intake is not None and ctx.intake.wants(text, ctx.user_id):
        urgent = ctx.answerer.urgent(text)
        if urgent is None:
            return _mediation(ctx.intake.step(text, ctx.user_id, ctx.seed), kind, True)
    answer = ctx.answerer.ask(text, user=ctx.user_id)
    return Outcome(
        reply=answer.text,
        kind=kind,
        is_message=True,
        is_question=answer.is_question,
        answer=answer,
        question=text if answer.kind in KEPT_FOR_STAFF else None,
        memory=answer.memory,
    )


def _mediation(step: Step, kind: str, is_message: bool, **more: Any) -> Outcome:
    """A step of the mediation form: recorded as reply kind `mediation`, not a question;
    the numbered list remembered for the answerer is cleared (its "2" is the form's)."""
    return Outcome(
        reply=step.reply,
        kind=kind,
        is_message=is_message,
        answer=Answer("mediation", step.reply),
        memory={"kind": "mediation", "options": []},
        mediation=step,
        **more,
    )


@handles("text")
def _text(message: BaseMessage, ctx: Context) -> Outcome:
    return _question((message.content or "").strip(), "text", ctx)


@handles("voice")
def _voice(message: BaseMessage, ctx: Context) -> Outcome:
    """WeChat's own speech recognition, when the account enabled it, fills Recognition."""
    text = (message.recognition or "").strip()
    if not text:  # WeChat heard nothing it could write down: not a question
        return Outcome(reply=reply_text("voice_unheard"), kind="voice", is_message=True)
    return _question(text, "voice", ctx)


@handles("image", "location", "link", "video", "shortvideo", "miniprogrampage")
def _media(message: BaseMessage, ctx: Context) -> Outcome:
    """Kinds we cannot read (and kinds WeChat may add): a pointer to the menu."""
    kind = _clip(kind_of(message), 24) or "other"
    return Outcome(reply=reply_text("media_unread"), kind=kind, is_message=True)


@handles("event:subscribe", "event:subscribe_scan", "event:subscribe_scan_product")
def _subscribe(message: BaseMessage, ctx: Context) -> Outcome:
    """A new follower; `qrscene_…` keys name the printed QR code (offline event) that brought them.

    wechatpy names a follow from a product's page (a barcode or picture scanned in
    WeChat: EventKey `scanbarcode|…`, `scanimage|…`) `subscribe_scan_product`; it is a
    follow like any other, with its key kept but no scene (no QR code of the town's).
    """
    scene = (message.scene_id or None) if message.event == "subscribe_scan" else None
    key = raw_field(message, "EventKey") if message.event == "subscribe_scan_product" else scene
    return Outcome(
        reply=ctx.answerer.welcome(),
        kind="subscribe",
        is_message=False,
        scene=_clip(scene),
        event_key=_clip(key or None),
        follow_change="subscribe",
    )


@handles("event:unsubscribe")
def _unsubscribe(message: BaseMessage, ctx: Context) -> Outcome:
    return Outcome(reply=None, kind="unsubscribe", is_message=False, follow_change="unsubscribe")


@handles("event:scan")
def _scan(message: BaseMessage, ctx: Context) -> Outcome:
    """A follower scanned a parameter QR code again at an offline event."""
    scene = _clip(message.scene_id or None)
    menu = ctx.answerer.menu()
    return Outcome(reply=menu.text, kind="scan", is_message=False, scene=scene, memory=menu.memory)


@handles("event:click")
def _click(message: BaseMessage, ctx: Context) -> Outcome:
    """Menu keys are `THEME_<slug>` (or the bare slug) for a theme, anything else the menu."""
    key = message.key or ""
    step = ctx.intake.menu(key, ctx.user_id, ctx.seed) if ctx.intake is not None else None
    if step is not None:  # 申请调解 or 我的调解 from the menu
        return _mediation(step, "click", False, event_key=_clip(key))
    slug = key.removeprefix("THEME_").removeprefix("theme_")
    answer = ctx.answerer.theme_list(slug)  # the menu for unknown keys
    return Outcome(
        reply=answer.text,
        kind="click",
        is_message=False,
        answer=answer,
        event_key=_clip(key),
        memory=answer.memory,
    )


@handles("event:view")
def _view(message: BaseMessage, ctx: Context) -> Outcome:
    return Outcome(reply=None, kind="view", is_message=False, event_key=_clip(message.url))


def _other_event(message: BaseMessage, ctx: Context) -> Outcome:
    """Events we do not answer: recorded, but reports on the account's own jobs (a mass
    send finished), which are not residents' acts and go to their plug-in."""
    event = kind_of(message).removeprefix("event:") or "unknown"
    system = event in SYSTEM_EVENTS
    return Outcome(
        reply=None, kind=_clip(event, 24), is_message=False, record=not system, system=system
    )


def _clip(value: str | None, size: int = 64) -> str | None:
    return value[:size] if value else value
