"""The WeChat API client: wechatpy's WeChatClient, pointed at a configurable API base.

wechatpy 1.8.18 does three things we cannot live with, corrected here:

- `fetch_access_token` hard-codes https://api.weixin.qq.com/cgi-bin/token and ignores
  API_BASE_URL, so a test or a proxy base would still fetch tokens from production.
- the token fetch passes no timeout to requests, which then waits forever.
- on 40001/40014/42001 it fetches a new token and retries *recursively, without limit*:
  two systems sharing one appid keep invalidating each other's tokens and a request
  can loop until RecursionError. We retry once, and before fetching we look in the
  shared storage: another worker may have stored a newer token already (every fetch
  counts against the daily quota of 2000 and invalidates the previous token).

The token lives in the SessionStorage from `State.token_storage()`: with Redis, every
worker process uses the same token under the key `{appid}_access_token`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from wechatpy.client import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

from ..config.logs import redact
from ..errors import WeChatAPIError

DEFAULT_API_BASE = "https://api.weixin.qq.com/cgi-bin/"
# invalid credential, invalid access_token, access_token expired: a new token may help
TOKEN_ERRORS = frozenset({40001, 40014, 42001})


class _TimeoutSession(requests.Session):
    """A requests session that never waits forever: wechatpy's token fetch sets no timeout."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().request(method, url, **kwargs)


class LegalbotWeChatClient(WeChatClient):
    """WeChatClient whose every call, the token fetch included, goes to `api_base`."""

    def __init__(
        self, appid: str, secret: str, api_base: str, storage: SessionStorage, timeout: float
    ) -> None:
        # auto_retry=False: wechatpy's unbounded retry is replaced by `_request` below
        super().__init__(appid, secret, session=storage, timeout=timeout, auto_retry=False)
        self.API_BASE_URL = api_base
        self._http = _TimeoutSession(timeout)
        self._refreshing = threading.Lock()

    @property
    def access_token(self) -> str:
        """wechatpy's lookup, under the lock: threads that all start without a token (a
        campaign's senders) fetch one, not one each (each fetch counts against the quota)."""
        with self._refreshing:
            return WeChatClient.access_token.fget(self)

    def fetch_access_token(self) -> dict:
        """Fetch a token from `{api_base}token` and store it with WeChat's expires_in.

        A network failure here is WeChat's -1: the call that needed the token was never
        made, which a caller deciding whether to retry must be able to tell.
        """
        try:
            return self._fetch_access_token(
                url=f"{self.API_BASE_URL}token",
                params={
                    "grant_type": "client_credential",
                    "appid": self.appid,
                    "secret": self.secret,
                },
            )
        except requests.RequestException as exc:
            raise WeChatClientException(
                -1, f"access token not fetched: {type(exc).__name__}", client=self
            ) from exc

    def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> Any:
        """Make the call; if WeChat rejects the token, retry once with a fresh one."""
        params = dict(kwargs.pop("params", None) or {})
        if "access_token" in params:  # the caller chose the token: no retry on our side
            return super()._request(method, url_or_endpoint, params=params, **kwargs)
        used = self.access_token
        try:
            return super()._request(
                method, url_or_endpoint, params={**params, "access_token": used}, **kwargs
            )
        except WeChatClientException as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
        fresh = self._fresh_token(used)
        return super()._request(
            method, url_or_endpoint, params={**params, "access_token": fresh}, **kwargs
        )

    def _fresh_token(self, rejected: str) -> str:
        """A token other than `rejected`: one a peer already stored, else a fetched one.

        The lock makes threads of one process that hit the same expiry fetch once.
        """
        with self._refreshing:
            stored = self.session.get(self.access_token_key)
            if stored and stored != rejected:
                return stored
            self.fetch_access_token()
            return self.session.get(self.access_token_key)


def make_client(
    appid: str,
    secret: str,
    api_base: str,
    storage: SessionStorage,
    timeout: float = 5.0,
) -> LegalbotWeChatClient:
    """The client for one official account; `storage` is shared by every worker.

    `api_base` is LEGALBOT_WECHAT_API_BASE (DEFAULT_API_BASE in production).
    """
    if not api_base.endswith("/"):
        api_base += "/"
    return LegalbotWeChatClient(appid, secret, api_base, storage, timeout)


@contextmanager
def wechat_errors() -> Iterator[None]:
    """Turn wechatpy's and requests' exceptions into WeChatAPIError.

    A WeChat refusal keeps WeChat's errcode. A failure with no WeChat answer (timeout,
    refused connection, HTTP error status, a body that is not JSON) becomes errcode -1,
    WeChat's own "system error, retry later", since the caller's remedy is the same.
    """
    try:
        yield
    except WeChatClientException as exc:
        if exc.errcode is None:
            status = getattr(exc.response, "status_code", "?")
            raise WeChatAPIError(-1, f"HTTP status {status}") from exc
        raise WeChatAPIError(int(exc.errcode), str(exc.errmsg)) from exc
    except requests.RequestException as exc:
        # requests names the URL, whose query holds the access token (or the AppSecret)
        raise WeChatAPIError(-1, f"{type(exc).__name__}: {redact(str(exc))}") from exc


def send_text(client: WeChatClient, openid: str, text: str) -> None:
    """Send a customer-service text message (allowed within 48 h of the user's last message).

    Used when an answer misses WeChat's 5 s reply window, and by campaigns. Raises
    WeChatAPIError, e.g. 45015 outside the window, 45002 over 2048 bytes.
    """
    with wechat_errors():
        client.message.send_text(openid, text)
