"""The WeChat edge: signatures, AES, safe parsing and reply rendering.

wechatpy does the protocol work; this module only decides what is acceptable. A body
that could declare entities ("billion laughs", external files) goes through defusedxml
before wechatpy's xmltodict sees it, so DTDs are refused instead of evaluated.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from typing import Any
from xml.parsers.expat import ExpatError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.messages import BaseMessage
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from ..config import WeChatSettings
from ..errors import InvalidSignature, MalformedMessage

SUCCESS = "success"  # WeChat's "no passive reply": the resident sees nothing, no retry follows


@dataclass(frozen=True)
class Inbound:
    """A verified, decrypted and parsed message plus what is needed to answer it."""

    message: BaseMessage
    encrypted: bool
    nonce: str
    timestamp: str


class Edge:
    """Verifies, decrypts, parses and renders for one account's settings."""

    def __init__(self, settings: WeChatSettings):
        self.token = settings.token
        self.crypto = (
            WeChatCrypto(settings.token, settings.aes_key, settings.appid)
            if settings.aes_key
            else None
        )

    def verify(self, args: dict[str, str]) -> None:
        """Check the plain `signature` WeChat puts on every callback."""
        try:
            check_signature(
                self.token,
                args.get("signature", ""),
                args.get("timestamp", ""),
                args.get("nonce", ""),
            )
        except InvalidSignatureException:
            raise InvalidSignature("signature does not match") from None

    def read(self, args: dict[str, str], body: bytes) -> Inbound:
        """Turn a POST into an Inbound; raises InvalidSignature or MalformedMessage."""
        self.verify(args)
        # `in` first: werkzeug's MultiDict.get builds a KeyError for a missing key.
        encrypted = "encrypt_type" in args and args["encrypt_type"].lower() == "aes"
        xml = _check_xml(body)
        if encrypted:
            xml = self._decrypt(args, body)
        return Inbound(
            message=_parse(xml),
            encrypted=encrypted,
            nonce=args.get("nonce", ""),
            timestamp=args.get("timestamp", ""),
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
        _require_fields(message)
    except (KeyError, TypeError, ValueError, AttributeError, ExpatError) as exc:
        raise MalformedMessage(f"not a WeChat message: {type(exc).__name__}") from None
    return message


def _require_fields(message: Any) -> None:
    if message is None or not message.source or not message.target:
        raise ValueError("FromUserName and ToUserName are required")
    int(message.time)
    if message.type not in ("event", "unknown") and not message.id:
        raise ValueError("MsgId is required for messages")
