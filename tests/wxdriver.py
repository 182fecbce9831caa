"""An independent WeChat protocol driver for the tests.

It implements WeChat's callback algorithms from the published description with hashlib
and `cryptography` directly (not wechatpy), so a bug shared by the app and the driver
cannot hide: signature = sha1 of the sorted (token, timestamp, nonce); in AES mode the
message is random(16) + length(4, big-endian) + xml + appid, PKCS#7-padded to 32 bytes,
AES-256-CBC with IV = key[:16], base64; msg_signature adds the ciphertext to the sort.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
import struct
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_ids = itertools.count(int(time.time() * 1000) * 1000)


def sha1_sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _aes(key: bytes):
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def encrypt(aes_key: str, appid: str, xml: str) -> str:
    key = base64.b64decode(aes_key + "=")
    raw = xml.encode()
    data = os.urandom(16) + struct.pack(">I", len(raw)) + raw + appid.encode()
    pad = 32 - len(data) % 32
    data += bytes([pad]) * pad
    enc = _aes(key).encryptor()
    return base64.b64encode(enc.update(data) + enc.finalize()).decode()


def decrypt(aes_key: str, ciphertext: str) -> tuple[str, str]:
    key = base64.b64decode(aes_key + "=")
    dec = _aes(key).decryptor()
    data = dec.update(base64.b64decode(ciphertext)) + dec.finalize()
    data = data[: -data[-1]]
    (length,) = struct.unpack(">I", data[16:20])
    return data[20 : 20 + length].decode(), data[20 + length :].decode()


def message_xml(fields: dict[str, str | int]) -> str:
    parts = []
    for key, value in fields.items():
        if isinstance(value, int):
            parts.append(f"<{key}>{value}</{key}>")
        else:
            parts.append(f"<{key}><![CDATA[{value}]]></{key}>")
    return "<xml>" + "".join(parts) + "</xml>"


@dataclass
class Reply:
    status: int
    body: str
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def content(self) -> str | None:
        return self.fields.get("Content")


@dataclass
class Driver:
    """Posts to /wechat through a Flask test client in mode plain, compat or safe."""

    client: object
    token: str
    mode: str = "plain"
    aes_key: str = ""
    appid: str = ""
    account: str = "gh_township"

    def text(self, openid: str, content: str, msg_id: int | None = None, **kw) -> Reply:
        fields = self.base(openid, "text") | {"Content": content, "MsgId": msg_id or next(_ids)}
        return self.post(fields, **kw)

    def voice(self, openid: str, recognition: str | None, msg_id: int | None = None) -> Reply:
        fields = self.base(openid, "voice") | {"MediaId": "media1", "Format": "amr"}
        if recognition is not None:
            fields["Recognition"] = recognition
        fields["MsgId"] = msg_id or next(_ids)
        return self.post(fields)

    def event(
        self,
        openid: str,
        event: str,
        key: str | None = None,
        create_time: int | None = None,
        **extra,
    ) -> Reply:
        fields = self.base(openid, "event", create_time) | {"Event": event}
        if key is not None:
            fields["EventKey"] = key
        return self.post(fields | extra)

    def base(self, openid: str, msg_type: str, create_time: int | None = None) -> dict:
        return {
            "ToUserName": self.account,
            "FromUserName": openid,
            "CreateTime": create_time or int(time.time()),
            "MsgType": msg_type,
        }

    def post(
        self, fields: dict, *, forge: str | None = None, raw_body: bytes | None = None
    ) -> Reply:
        """Post a message; `forge` = "signature" or "msg_signature" breaks that signature."""
        xml = message_xml(fields)
        timestamp, nonce = str(int(time.time())), os.urandom(6).hex()
        query = {
            "signature": sha1_sign(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": str(fields.get("FromUserName", "")),
        }
        body = xml
        if self.mode in ("compat", "safe"):
            cipher = encrypt(self.aes_key, self.appid, xml)
            query |= {
                "encrypt_type": "aes",
                "msg_signature": sha1_sign(self.token, timestamp, nonce, cipher),
            }
            if self.mode == "safe":
                body = message_xml({"ToUserName": self.account, "Encrypt": cipher})
            else:
                body = xml.replace("</xml>", f"<Encrypt><![CDATA[{cipher}]]></Encrypt></xml>")
        if forge:
            query[forge] = "0" * 40
        data = raw_body if raw_body is not None else body.encode()
        response = self.client.post(
            "/wechat", query_string=query, data=data, content_type="text/xml"
        )
        return self.read(response.status_code, response.get_data(as_text=True), timestamp, nonce)

    def read(self, status: int, text: str, timestamp: str, nonce: str) -> Reply:
        if status != 200 or text == "success" or not text.startswith("<xml"):
            return Reply(status, text)
        root = ET.fromstring(text)
        fields = {child.tag: child.text or "" for child in root}
        if "Encrypt" in fields:
            assert self.mode in ("compat", "safe"), "encrypted reply to a plaintext request"
            expected = sha1_sign(
                self.token, fields["TimeStamp"], fields["Nonce"], fields["Encrypt"]
            )
            assert fields["MsgSignature"] == expected, "reply signature does not verify"
            plain, appid = decrypt(self.aes_key, fields["Encrypt"])
            assert appid == self.appid
            fields = {child.tag: child.text or "" for child in ET.fromstring(plain)}
        elif self.mode in ("compat", "safe"):
            raise AssertionError("plaintext reply to an encrypted request")
        return Reply(status, text, fields)


class HttpClient:
    """What Driver needs of a Flask test client, over real HTTP to a running server."""

    def __init__(self, base_url: str, timeout: float = 10) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def post(self, path: str, query_string: dict, data: bytes, content_type: str):
        url = f"{self.base_url}{path}?{urllib.parse.urlencode(query_string)}"
        request = urllib.request.Request(url, data=data, headers={"Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return _HttpResponse(response.status, response.read())
        except urllib.error.HTTPError as error:
            return _HttpResponse(error.code, error.read())


@dataclass
class _HttpResponse:
    status_code: int
    body: bytes

    def get_data(self, as_text: bool = False):
        return self.body.decode("utf-8") if as_text else self.body
