"""What a WeChat error code means for a campaign (WeChat's 全局返回码 and the message docs).

The client (bot/wechat/client.py) has already fetched a fresh token once for 40001/40014/42001,
so those codes arriving here mean the credentials themselves are wrong.
"""

from __future__ import annotations

# The follower cannot receive customer-service messages now: skipped, not failed.
SKIP = {
    45015: "outside the 48-hour window or unsubscribed",
    45047: "customer-service message limit for this follower reached",
    43004: "the follower has unsubscribed",
}

# The account cannot send now; it may later (quota renews, whitelist fixed): the campaign
# pauses with the reason and is resumed by `campaign send ID` or a new schedule.
PAUSE = {
    45009: "the account's daily API quota is used up (resets at midnight)",
    45028: "the account has no mass-send quota left (it renews monthly/daily by account type)",
    40164: "this server's IP address is not on the account's IP whitelist",
    40001: "WeChat still rejects the access token after a refresh: check AppID and AppSecret",
    40014: "WeChat still rejects the access token after a refresh: check AppID and AppSecret",
    42001: "WeChat still rejects the access token after a refresh: check AppID and AppSecret",
    40013: "invalid AppID",
    40125: "invalid AppSecret",
}

# The campaign cannot be sent as it is: no retry helps.
FAIL = {
    48001: "the account is not authorised for this API (account type or verification)",
    50001: "the account is not authorised for this API",
    50002: "the account is restricted (API blocked after a violation)",
    45002: "the message is too long",
    47001: "WeChat could not read the request",
    40008: "invalid message type",
    40050: "no such tag",
    40007: "invalid media id",
}

# WeChat is busy or rate-limiting calls: the same request may be tried again, with backoff.
RETRY = {
    -1: "WeChat is busy",
    45011: "API calls too frequent",
}

ALREADY_SENT = 45065  # mass send: this clientmsgid was accepted within the last 24 hours


def describe(errcode: int, errmsg: str = "") -> str:
    for table in (SKIP, PAUSE, FAIL, RETRY):
        if errcode in table:
            return f"WeChat {errcode}: {table[errcode]}"
    return f"WeChat {errcode}: {errmsg.split(' hint:')[0]}" if errmsg else f"WeChat {errcode}"
