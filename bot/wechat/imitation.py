"""WeChat's side of a callback: a message built, signed and (in safe mode) encrypted as
WeChat's servers send it, and the passive reply read back as a phone would show it.

The staff console's "try the bot" (/admin/chat) posts these to the app's own /wechat, so
a trial goes through every check a resident's message does.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from ..errors import MalformedMessage
from .edge import SUCCESS

ACCOUNT = "gh_trial"  # the ToUserName of a trial: the account's own id is not needed


@dataclass(frozen=True)
class Callback:
    """One POST to /wechat as WeChat makes it: the query string and the XML body."""

    query: dict[str, str]
    body: bytes


@dataclass
class Article:
    title: str
    description: str = ""
    url: str = ""
    picture: str = ""


@dataclass
class Shown:
    """What the resident's phone shows for a passive reply (nothing for `success`)."""

    kind: str  # "text", "news", another MsgType, or "none"
    content: str = ""
    articles: list[Article] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "content": self.content,
            "articles": [vars(article) for article in self.articles],
        }


class Imitator:
    """Builds callbacks and reads replies for one account's Token (and EncodingAESKey)."""

    def __init__(self, token: str, aes_key: str = "", appid: str = "") -> None:
        self.token = token
        self.crypto = WeChatCrypto(token, aes_key, appid) if aes_key else None

    @property
    def encrypted(self) -> bool:
        return self.crypto is not None

    def text(self, openid: str, content: str) -> Callback:
        return self.callback(openid, "text", {"Content": content}, message=True)

    def voice(self, openid: str, recognition: str) -> Callback:
        """A voice message with WeChat's speech recognition; "" when it heard nothing clear."""
        fields = {"MediaId": "trial-" + secrets.token_hex(8), "Format": "amr"}
        return self.callback(openid, "voice", fields | {"Recognition": recognition}, True)

    def click(self, openid: str, key: str) -> Callback:
        """A tap on a custom-menu button of type click."""
        return self.callback(openid, "event", {"Event": "CLICK", "EventKey": key})

    def callback(
        self, openid: str, msg_type: str, fields: dict[str, str], message: bool = False
    ) -> Callback:
        """The message as WeChat posts it: signed, and in safe mode encrypted (with
        `encrypt_type=aes` and `msg_signature`, the envelope holding only the ciphertext)."""
        values = {
            "ToUserName": ACCOUNT,
            "FromUserName": openid,
            "CreateTime": str(int(time.time())),
            "MsgType": msg_type,
            **fields,
        }
        if message:  # WeChat numbers messages (64 bits), not events
            values["MsgId"] = str(secrets.randbits(62))
        xml = _xml(values)
        timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
        signer = WeChatSigner()
        signer.add_data(self.token, timestamp, nonce)
        query = {"signature": signer.signature, "timestamp": timestamp, "nonce": nonce}
        query["openid"] = openid
        if self.crypto is not None:
            envelope = xmltodict.parse(self.crypto.encrypt_message(xml, nonce, timestamp))["xml"]
            query |= {"encrypt_type": "aes", "msg_signature": envelope["MsgSignature"]}
            xml = _xml({"ToUserName": ACCOUNT, "Encrypt": envelope["Encrypt"]})
        return Callback(query, xml.encode("utf-8"))

    def read(self, body: str) -> Shown:
        """The passive reply as shown on the phone; decrypted (and its signature checked)
        when it came encrypted. MalformedMessage for a body WeChat would not accept."""
        body = body.strip()
        if body in ("", SUCCESS):
            return Shown("none")
        try:
            reply = xmltodict.parse(body)["xml"]
            if "Encrypt" in reply:
                if self.crypto is None:
                    raise MalformedMessage("an encrypted reply without an EncodingAESKey")
                plain = self.crypto.decrypt_message(
                    body, reply["MsgSignature"], reply["TimeStamp"], reply["Nonce"]
                )
                reply = xmltodict.parse(plain)["xml"]
        except MalformedMessage:
            raise
        except Exception as exc:  # noqa: BLE001 - xmltodict's and wechatpy's many errors
            raise MalformedMessage(f"unreadable reply: {type(exc).__name__}") from None
        return _shown(reply)


def _shown(reply: dict[str, Any]) -> Shown:
    kind = str(reply.get("MsgType") or "unknown")
    if kind == "news":
        items = (reply.get("Articles") or {}).get("item") or []
        items = items if isinstance(items, list) else [items]
        return Shown(
            "news",
            articles=[
                Article(
                    title=item.get("Title") or "",
                    description=item.get("Description") or "",
                    url=_web(item.get("Url")),
                    picture=item.get("PicUrl") or "",
                )
                for item in items
            ],
        )
    return Shown(kind, content=str(reply.get("Content") or ""))


def _web(url: str | None) -> str:
    """A link the page may offer: http(s) only (never `javascript:`)."""
    return url if url and url.startswith(("https://", "http://")) else ""


def _xml(values: dict[str, str]) -> str:
    """WeChat's layout: numbers bare, text in CDATA."""
    parts = []
    for key, value in values.items():
        if value.isdigit() and key in ("CreateTime", "MsgId"):
            parts.append(f"<{key}>{value}</{key}>")
        else:
            parts.append(f"<{key}><![CDATA[{_cdata(value)}]]></{key}>")
    return "<xml>" + "".join(parts) + "</xml>"


def _cdata(value: str) -> str:
    """Text that cannot end its CDATA section early (a typed "]]>"), without the control
    characters XML cannot hold (WeChat drops them too)."""
    value = _CONTROL.sub("", value)
    return value.replace("]]>", "]]]]><![CDATA[>")


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
