"""The WeChat edge: signatures, AES, safe parsing and reply rendering.

wechatpy does the protocol work; this module only decides what is acceptable:
- a signed request is fresh: its timestamp within five minutes of now (a captured
  request cannot be posted again later; the inbox remembers each (timestamp, nonce)
  of that window with a digest of its body, bot/inbox/dedupe.py);
- with an EncodingAESKey configured (compatible or safe mode) every message comes
  encrypted, with `msg_signature`: a plaintext one is refused, since its signature
  does not cover its body;
- a body that could declare entities ("billion laughs", external files) goes through
  defusedxml before wechatpy's xmltodict sees it, so DTDs are refused, not evaluated;
- every field wechatpy declares is the type it must be (text, a number), none is
  given twice, and nothing is nested deeper than WeChat nests: odd XML is refused
  here, before anything is answered or recorded.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.parsers.expat import ExpatError

import defusedxml.ElementTree as SafeET
import xmltodict
from defusedxml import DefusedXmlException
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.fields import DateTimeField, FloatField, IntegerField, StringField
from wechatpy.messages import BaseMessage
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from ..config import WeChatSettings
from ..errors import InvalidSignature, MalformedMessage, ReplayedRequest
from ..state import Seen

SUCCESS = "success"  # WeChat's "no passive reply": the resident sees nothing, no retry follows
FRESH_SECONDS = 300  # how far a request's timestamp may be from now, either way
MAX_NONCE = 64  # characters; WeChat's nonces are about ten digits
# How deep and how many elements a message may nest: WeChat's deepest (a mass send's
# copyright check: CopyrightCheckResult/ResultList/item/…) is four levels.
MAX_DEPTH = 6
MAX_ELEMENTS = 1000
# Fields that must be text whatever wechatpy declares (dispatch reads them raw).
RAW_TEXT = ("MsgType", "Event", "EventKey")


@dataclass(frozen=True)
class Inbound:
    """A verified, decrypted and parsed message plus what is needed to answer it."""

    message: BaseMessage
    encrypted: bool
    nonce: str
    timestamp: str
    seen: Seen | None = None  # the request, remembered against replays until it is stale


class Edge:
    """Verifies, decrypts, parses and renders for one account's settings."""

    def __init__(self, settings: WeChatSettings):
        self.token = settings.token
        self.crypto = (
            WeChatCrypto(settings.token, settings.aes_key, settings.appid)
            if settings.aes_key
            else None
        )

    def verify(self, args: dict[str, str], now: float | None = None) -> float:
        """Check the plain `signature` WeChat puts on every callback, and its freshness.

        Returns the seconds the request stays acceptable; raises InvalidSignature (or
        its ReplayedRequest, for a stale timestamp).
        """
        timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
        try:
            check_signature(self.token, args.get("signature", ""), timestamp, nonce)
        except InvalidSignatureException:
            raise InvalidSignature("signature does not match") from None
        if len(nonce) > MAX_NONCE:
            raise InvalidSignature(f"nonce longer than {MAX_NONCE} characters")
        return fresh_for(timestamp, time.time() if now is None else now)

    def read(self, args: dict[str, str], body: bytes) -> Inbound:
        """Turn a POST into an Inbound; raises InvalidSignature or MalformedMessage."""
        fresh = self.verify(args)
        # `in` first: werkzeug's MultiDict.get builds a KeyError for a missing key.
        encrypted = "encrypt_type" in args and args["encrypt_type"].lower() == "aes"
        if self.crypto is not None and not (encrypted and "msg_signature" in args):
            # Compatible mode sends both too; only a plaintext-mode request lacks them.
            raise InvalidSignature("plaintext message, but an EncodingAESKey is configured")
        xml = _check_xml(body)
        if encrypted:
            xml = self._decrypt(args, body)
        timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
        return Inbound(
            message=_parse(xml),
            encrypted=encrypted,
            nonce=nonce,
            timestamp=timestamp,
            seen=Seen(f"seen:{timestamp}:{nonce}", _digest(body), fresh + 1),
        )

    def render(self, reply_xml: str | None, inbound: Inbound) -> str:
        """The HTTP body: `success`, or the reply XML, encrypted when the request was."""
        if not reply_xml:
            return SUCCESS
        if inbound.encrypted and self.crypto is not None:
            return self.crypto.encrypt_message(reply_xml, inbound.nonce, inbound.timestamp)
        return reply_xml

    def _decrypt(self, args: dict[str, str], body: bytes) -> str:
        if self.crypto is None:
            raise MalformedMessage("encrypted message but no EncodingAESKey is configured")
        try:
            xml = self.crypto.decrypt_message(
                body,
                args.get("msg_signature", ""),
                args.get("timestamp", ""),
                args.get("nonce", ""),
            )
        except InvalidSignatureException:
            raise InvalidSignature("msg_signature does not match") from None
        except (
            InvalidAppIdException,
            KeyError,
            TypeError,
            ValueError,
            binascii.Error,
            ExpatError,
        ) as exc:
            raise MalformedMessage(f"cannot decrypt: {type(exc).__name__}") from None
        return _check_xml(xml if isinstance(xml, bytes) else xml.encode("utf-8"))


def text_reply(content: str, message: BaseMessage) -> str:
    """A passive text reply to `message`, rendered as XML."""
    return TextReply(message=message, content=content).render()


def raw_field(message: BaseMessage, name: str) -> str:
    """A field as WeChat sent it (wechatpy keeps kinds it does not know as UnknownMessage)."""
    return str(getattr(message, "_data", {}).get(name) or "")


def fresh_for(timestamp: str, now: float) -> float:
    """Seconds a request signed at `timestamp` stays acceptable; ReplayedRequest if none."""
    if not (timestamp.isdigit() and len(timestamp) <= 12):
        raise ReplayedRequest(f"timestamp {timestamp[:16]!r} is not a Unix time")
    moment = int(timestamp)
    if abs(now - moment) > FRESH_SECONDS:
        raise ReplayedRequest(f"timestamp {moment} is {moment - now:+.0f} s from now")
    return moment + FRESH_SECONDS - now


def _digest(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=12).hexdigest()


def _check_xml(body: bytes) -> str:
    """The body as text, if it is UTF-8 XML that declares no DTD and no entities.

    Entities can only be declared in a document type declaration, and one cannot be
    written without `<!DOCTYPE`: a body without those bytes goes straight to wechatpy,
    whose parser refuses what is not well-formed (an undeclared `&x;` included). A
    body with them (an attack, or a resident who typed the word) is parsed by
    defusedxml first, which refuses any DTD. Parsing every message twice cost the
    webhook a tenth of its time.
    """
    try:
        text = body.decode("utf-8", "strict")
    except UnicodeDecodeError:
        raise MalformedMessage("the body is not UTF-8") from None
    if "<!DOCTYPE" not in text and "<!ENTITY" not in text:
        return text
    try:
        root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, SafeET.ParseError, ValueError) as exc:
        raise MalformedMessage(f"not acceptable XML: {type(exc).__name__}") from None
    if root.tag != "xml":
        raise MalformedMessage("the root element is not <xml>")
    return text


def _parse(xml: str) -> BaseMessage:
    try:
        message = parse_message(xml)
        if message is None:
            raise _OddField("the body is empty")
        _check_shapes(message)
        _require_fields(message)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, ExpatError) as exc:
        why = str(exc) if isinstance(exc, _OddField) else type(exc).__name__
        raise MalformedMessage(f"not a WeChat message: {why}", event=_is_event(xml)) from None
    return message


class _OddField(ValueError):
    """A field that is not what WeChat sends (the message says which)."""


def _require_fields(message: Any) -> None:
    if message is None or not message.source or not message.target:
        raise _OddField("FromUserName and ToUserName are required")
    if not message.time:
        raise _OddField("CreateTime is required")
    if message.type not in ("event", "unknown") and not message.id:
        raise _OddField("MsgId is required for messages")


def _check_shapes(message: BaseMessage) -> None:
    """Every field wechatpy declares holds what its type says; nothing is doubled or
    nested beyond what WeChat sends. xmltodict makes an element given twice a list and
    one with children (or attributes) a dict, which code reading text would trip over."""
    data = message._data
    nested = [value for value in data.values() if not isinstance(value, str | None)]
    if nested:
        _check_tree(data)
    for name, convert in _typed_fields(type(message)):
        raw = data.get(name)
        if raw is None:
            continue
        if not isinstance(raw, str):
            raise _OddField(f"{name} is not text")
        if convert is not None and raw:
            try:
                convert(raw)
            except (ValueError, TypeError, OverflowError, OSError):
                raise _OddField(f"{name} is not what WeChat sends ({raw[:20]!r})") from None


@functools.cache
def _typed_fields(cls: type) -> tuple[tuple[str, Callable[[str], Any] | None], ...]:
    """(element, check) of every text or number field of a wechatpy message class, plus
    the fields dispatch reads raw; the check is None for plain text. A time is checked as
    the integer it is, without the datetime wechatpy would make of it."""
    fields: dict[str, Callable[[str], Any] | None] = dict.fromkeys(RAW_TEXT)
    for field in cls._fields.values():
        if isinstance(field, IntegerField | DateTimeField):
            fields[field.name] = int
        elif isinstance(field, FloatField):
            fields[field.name] = float
        elif isinstance(field, StringField) and field.name not in fields:
            custom = type(field).converter is not StringField.converter  # base64 and the like
            fields[field.name] = field.converter if custom else None
    return tuple(fields.items())


def _check_tree(data: dict) -> None:
    """No element twice at the top, none deeper than MAX_DEPTH, at most MAX_ELEMENTS."""
    for name, value in data.items():
        if isinstance(value, list):
            raise _OddField(f"{name} is given more than once")
    stack: list[tuple[Any, int]] = [(data, 0)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH or count > MAX_ELEMENTS:
            raise _OddField(f"elements nested deeper than {MAX_DEPTH} or more than {MAX_ELEMENTS}")
        children = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        )
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def _is_event(xml: str) -> bool:
    """Whether a body refused as malformed is an event (answered `success`, not 400)."""
    try:
        msg_type = xmltodict.parse(xml).get("xml", {}).get("MsgType")
    except Exception:  # noqa: BLE001 - whatever it is, it is not a readable event
        return False
    return isinstance(msg_type, str) and msg_type.strip().lower() == "event"
