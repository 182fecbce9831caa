"""`legalbot simulate`: a terminal chat that posts to a running server as WeChat's servers do.

Staff can try the bot without an official account. Each line becomes a message with a
fresh MsgId, signed with the configured Token (and encrypted with the EncodingAESKey in
safe mode), so the server sees exactly what WeChat would send.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

import click
import requests
import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from ..config import Config, with_webhook_token
from ..errors import ConfigError
from .kit import fail, load_config

HELP = """输入问题后回车即可发送。特殊指令：
  /voice 文字        发送一条语音（文字为微信的语音识别结果）
  /voice             发送一条没有识别结果的语音
  /subscribe [场景]  关注公众号（可带二维码场景值）
  /unsubscribe       取消关注
  /click 键值        点击菜单（如 THEME_fraud）
  /image             发送一张图片
  /help              显示本说明
  /quit              退出"""


@dataclass
class WeChatSender:
    """Builds, signs, encrypts and posts messages like WeChat's servers; reads the reply."""

    url: str
    token: str
    openid: str
    account: str = "gh_simulated"
    crypto: WeChatCrypto | None = None
    session: requests.Session = field(default_factory=requests.Session)

    def text(self, content: str) -> str:
        return self.post("text", {"Content": content}, msg_id=True)

    def voice(self, recognition: str | None) -> str:
        fields = {"MediaId": "simulated", "Format": "amr"}
        if recognition is not None:
            fields["Recognition"] = recognition
        return self.post("voice", fields, msg_id=True)

    def image(self) -> str:
        return self.post("image", {"PicUrl": "http://example.invalid/a.jpg", "MediaId": "m"}, True)

    def event(self, event: str, key: str | None = None) -> str:
        fields = {"Event": event}
        if key is not None:
            fields["EventKey"] = key
        return self.post("event", fields)

    def post(self, msg_type: str, fields: dict[str, str], msg_id: bool = False) -> str:
        """Send one message; return the reply text ('' when the server answered success)."""
        body = {
            "ToUserName": self.account,
            "FromUserName": self.openid,
            "CreateTime": str(int(time.time())),
            "MsgType": msg_type,
            **fields,
        }
        if msg_id:
            body["MsgId"] = str(secrets.randbits(62))
        xml = (
            "<xml>"
            + "".join(
                f"<{k}><![CDATA[{v}]]></{k}>" if not v.isdigit() else f"<{k}>{escape(v)}</{k}>"
                for k, v in body.items()
            )
            + "</xml>"
        )
        timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
        signer = WeChatSigner()
        signer.add_data(self.token, timestamp, nonce)
        params = {
            "signature": signer.signature,
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": self.openid,
        }
        if self.crypto is not None:
            encrypted = self.crypto.encrypt_message(xml, nonce, timestamp)
            envelope = xmltodict.parse(encrypted)["xml"]
            params |= {"encrypt_type": "aes", "msg_signature": envelope["MsgSignature"]}
            xml = f"<xml><ToUserName><![CDATA[{self.account}]]></ToUserName><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
        response = self.session.post(self.url, params=params, data=xml.encode("utf-8"), timeout=10)
        response.raise_for_status()
        return self._read(response.text, params)

    def _read(self, text: str, params: dict[str, str]) -> str:
        if text.strip() in ("", "success"):
            return ""
        reply = xmltodict.parse(text)["xml"]
        if "Encrypt" in reply and self.crypto is not None:
            plain = self.crypto.decrypt_message(
                text, reply["MsgSignature"], reply["TimeStamp"], reply["Nonce"]
            )
            reply = xmltodict.parse(plain)["xml"]
        return reply.get("Content") or f"[{reply.get('MsgType')} 回复]"


def run(config: Config, url: str, openid: str | None, encrypt: bool | None) -> None:
    """The interactive loop."""
    use_aes = bool(config.wechat.aes_key) if encrypt is None else encrypt
    if use_aes and not config.wechat.aes_key:
        raise SystemExit("simulate: --encrypt needs wechat.aes_key (LEGALBOT_WECHAT_AES_KEY)")
    crypto = (
        WeChatCrypto(config.wechat.token, config.wechat.aes_key, config.wechat.appid)
        if use_aes
        else None
    )
    sender = WeChatSender(
        url, config.wechat.token, openid or "sim-" + secrets.token_hex(6), crypto=crypto
    )
    print(f"模拟居民 {sender.openid} 正在与 {url} 对话（{'安全模式' if crypto else '明文模式'}）。")
    print(HELP)
    while True:
        try:
            line = input("\n我> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if not line:
            continue
        if line in ("/quit", "/exit"):
            return
        try:
            reply = _send(sender, line)
        except requests.RequestException as exc:
            print(f"（发送失败：{exc}）")
            continue
        print(f"公众号> {reply}" if reply else "公众号>（无回复）")


def _send(sender: WeChatSender, line: str) -> str:
    command, _, rest = line.partition(" ")
    rest = rest.strip()
    if command == "/help":
        return HELP
    if command == "/voice":
        return sender.voice(rest or None)
    if command == "/subscribe":
        return sender.event("subscribe", f"qrscene_{rest}" if rest else None)
    if command == "/unsubscribe":
        return sender.event("unsubscribe")
    if command == "/click":
        return sender.event("CLICK", rest or "MENU")
    if command == "/image":
        return sender.image()
    return sender.text(line)


@click.command()
@click.option("--url", default=None, help="Webhook URL (default: http://HOST:PORT/wechat).")
@click.option("--openid", default=None, help="The simulated resident's OpenID.")
@click.option(
    "--encrypt/--plain",
    default=None,
    help="Safe mode (default: when an AES key is set; a server with one refuses --plain).",
)
@click.pass_context
def simulate(ctx: click.Context, url: str | None, openid: str | None, encrypt: bool | None) -> None:
    """Chat with a running server in the terminal, signed exactly as WeChat signs."""
    # The token the server uses: configured, or the one it generated under var/.
    try:
        config = with_webhook_token(load_config(ctx))
    except ConfigError as exc:
        fail([str(exc)])
    run(config, url or f"http://{config.host}:{config.port}/wechat", openid, encrypt)


COMMANDS = (simulate,)
