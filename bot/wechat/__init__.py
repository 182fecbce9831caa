"""The WeChat edge: what crosses between WeChat and legalbot.

edge.py       signatures, AES (wechatpy's crypto), safe XML parsing, passive replies
imitation.py  WeChat's side: callbacks built as WeChat sends them, replies read back
client.py     wechatpy's API client at the configured base, customer-service messages
"""

from .client import make_client, send_text
from .edge import SUCCESS, Edge, Inbound, raw_field, text_reply

__all__ = ["SUCCESS", "Edge", "Inbound", "make_client", "raw_field", "send_text", "text_reply"]
