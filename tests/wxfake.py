"""A loopback fake of the WeChat official-account API, for tests and benches.

It serves the few `/cgi-bin/` endpoints legalbot calls, with the real success bodies and
the real error codes, so wechatpy (and our wrapper around it) runs its true code paths
over real HTTP. Like the real API, every answer is HTTP 200 with a JSON body carrying
`errcode`/`errmsg`, and error messages end in a `hint: [...]` tag: match on `errcode`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40013: "invalid appid",
    40125: "invalid appsecret",
    40050: "invalid tag id",
    40130: "invalid openid list size, at least two openid",
    40164: "invalid ip, not in whitelist",
    41001: "access_token missing",
    42001: "access_token expired",
    44002: "empty post data",
    45002: "content size out of limit",
    43004: "require subscribe",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit, must slower, retry next minute",
    45015: "response out of time limit or subscription is canceled",
    45028: "has no masssend quota",
    45047: "out of response count limit",
    45065: "clientmsgid exist",
    47001: "data format error",
    48001: "api unauthorized",
}
PREFIX = "/cgi-bin/"
MASS_DEDUPE_SECONDS = 24 * 3600


def fake_openid(n: int) -> str:
    """A 28-character OpenID, the shape WeChat issues."""
    return f"oFake{n:023d}"


def mass_job_finished(
    msg_id: int, total: int, filtered: int, sent: int, errors: int, status: str = "send success"
) -> dict[str, str | int]:
    """The fields of WeChat's MASSSENDJOBFINISH event (post it with wxdriver's `event`)."""
    return {
        "MsgID": msg_id,
        "Status": status,
        "TotalCount": total,
        "FilterCount": filtered,
        "SentCount": sent,
        "ErrorCount": errors,
    }


class WeChatError(Exception):
    """An error answer: the handler stops and the client receives errcode/errmsg."""

    def __init__(self, errcode: int, errmsg: str | None = None):
        self.errcode = errcode
        self.errmsg = errmsg or ERRMSG.get(errcode, "error")


class FakeWeChat:
    """The WeChat API on 127.0.0.1, one thread per request, like a tiny api.weixin.qq.com.

    State a test may read: `.sent` (accepted customer-service messages as
    (openid, msgtype, content); a `news` card's content is its title), `.mass` (accepted
    mass sends as (path, body, msg_id)), `.calls` ((method, path, query, body) of every
    request), `.in_flight` (requests being answered now, e.g. held by `.delay()`). State it may set:
    `.followers` (OpenIDs, in follow order), `.tags` (the tags/get list), `.page_size`.
    """

    def __init__(
        self,
        appid: str = "wxfakeappid",
        secret: str = "fakesecret",
        followers: list[str] | None = None,
        token_ttl: int = 7200,
    ) -> None:
        self.appid, self.secret, self.token_ttl = appid, secret, token_ttl
        self.followers = (
            list(followers) if followers is not None else [fake_openid(i) for i in range(3)]
        )
        self.tags: list[dict[str, Any]] = [{"id": 2, "name": "星标组", "count": 0}]
        self.page_size = 10000  # user/get returns at most 10000 OpenIDs per call
        self.sent: list[tuple[str, str, str]] = []
        self.mass: list[tuple[str, dict[str, Any], int]] = []
        self.calls: list[tuple[str, str, dict[str, str], Any]] = []
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}  # token -> expiry (fake clock)
        self._clientmsgids: dict[str, float] = {}
        self._failures: list[list[Any]] = []  # [remaining, errcode, errmsg, path]
        self._outside: set[str] = set()
        self._delay = 0.0
        self._offset = 0.0
        self._ids = itertools.count(1000001)
        self.in_flight = 0
        self._known: tuple[int, int, set[str]] = (0, -1, set())
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The API_BASE_URL to give a client: http://127.0.0.1:PORT/cgi-bin/."""
        assert self._server is not None, "FakeWeChat is not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}{PREFIX}"

    def start(self) -> FakeWeChat:
        """Listen on a free loopback port and serve from a background thread."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.fake = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)  # type: ignore[union-attr]
            self._server = None

    def __enter__(self) -> FakeWeChat:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- switches -------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Every token issued so far is past its 7200 s: calls with it answer 42001."""
        with self._lock:
            self._tokens = dict.fromkeys(self._tokens, 0.0)

    def fail_next(
        self, n: int, errcode: int, errmsg: str | None = None, path: str | None = None
    ) -> None:
        """The next `n` calls (to `path` only, e.g. "message/custom/send", if given) fail."""
        if path is not None and not path.startswith("/"):
            path = PREFIX + path
        with self._lock:
            self._failures.append([n, errcode, errmsg, path])

    def clear_failures(self) -> None:
        """Forget the failures `fail_next` set up and have not used yet."""
        with self._lock:
            self._failures.clear()

    def delay(self, seconds: float) -> None:
        """Answer every later request after `seconds` (0 restores prompt answers)."""
        self._delay = seconds

    def set_window(self, openids_outside: set[str]) -> None:
        """These followers have not written in 48 h: customer-service messages get 45015."""
        self._outside = set(openids_outside)

    def advance(self, seconds: float) -> None:
        """Move the fake's clock on (token expiry, the 24 h clientmsgid memory)."""
        self._offset += seconds

    def tokens(self) -> list[str]:
        """Every access token issued so far, oldest first."""
        with self._lock:
            return list(self._tokens)

    # -- request handling -----------------------------------------------------------------

    def _now(self) -> float:
        return time.monotonic() + self._offset

    def handle(self, method: str, path: str, query: dict[str, str], body: Any) -> dict | None:
        """Answer one request as WeChat would: a JSON object (None: the fake lacks the path)."""
        with self._lock:
            self.calls.append((method, path, query, body))
            self.in_flight += 1
        try:
            return self._answer(method, path, query, body)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _answer(self, method: str, path: str, query: dict[str, str], body: Any) -> dict | None:
        if self._delay:
            time.sleep(self._delay)
        try:
            route = _ROUTES.get((method, path.removeprefix(PREFIX)))
            if route is None:
                return None
            self._injected_failure(path)
            if route is not FakeWeChat._token:
                self._check_token(query)
            if method == "POST" and body is None:
                raise WeChatError(44002)
            return route(self, query, body)
        except WeChatError as exc:
            hint = f"fake{next(self._ids)}"  # WeChat tags each error with a trace id
            return {"errcode": exc.errcode, "errmsg": f"{exc.errmsg} hint: [{hint}]"}

    def _injected_failure(self, path: str) -> None:
        with self._lock:
            for failure in self._failures:
                if failure[0] > 0 and failure[3] in (None, path):
                    failure[0] -= 1
                    raise WeChatError(failure[1], failure[2])

    def _check_token(self, query: dict[str, str]) -> None:
        token = query.get("access_token")
        if not token:
            raise WeChatError(41001)
        with self._lock:
            expiry = self._tokens.get(token)
        if expiry is None:
            raise WeChatError(40001)
        if expiry <= self._now():
            raise WeChatError(42001)

    def _token(self, query: dict[str, str], body: Any) -> dict:
        """GET token: a fresh 512-bit-looking token valid for 7200 s."""
        if query.get("grant_type") != "client_credential":
            raise WeChatError(40002)
        if query.get("appid") != self.appid:
            raise WeChatError(40013)
        if query.get("secret") != self.secret:
            raise WeChatError(40125)
        token = f"FAKE_{next(self._ids)}_" + hashlib.sha256(str(time.time()).encode()).hexdigest()
        with self._lock:
            self._tokens[token] = self._now() + self.token_ttl
        return {"access_token": token, "expires_in": self.token_ttl}

    def _is_follower(self, openid: Any) -> bool:
        """Membership in `.followers`, through a set rebuilt when the list changes."""
        key = (id(self.followers), len(self.followers))
        if self._known[:2] != key:
            self._known = (*key, set(self.followers))
        return openid in self._known[2]

    def _custom_send(self, query: dict[str, str], body: dict) -> dict:
        """POST message/custom/send: only to followers who wrote within 48 h.

        Text (at most 2048 bytes) and `news` (one article card: title, description, url,
        picurl) are the kinds campaigns send.
        """
        openid, msgtype = body.get("touser"), body.get("msgtype")
        if not self._is_follower(openid):
            raise WeChatError(40003)
        if openid in self._outside:
            raise WeChatError(45015)
        if msgtype == "news":
            articles = (body.get("news") or {}).get("articles") or []
            if len(articles) != 1 or not all(articles[0].get(k) for k in ("title", "url")):
                raise WeChatError(47001)
            content = articles[0]["title"]
        else:
            content = (body.get(msgtype) or {}).get("content", "")
        if len(content.encode("utf-8")) > 2048:
            raise WeChatError(45002)
        with self._lock:
            self.sent.append((openid, msgtype, content))
        return {"errcode": 0, "errmsg": "ok"}

    def _mass(self, path: str, body: dict) -> dict:
        """Record a mass send; a clientmsgid seen in the last 24 h is refused with 45065.

        Without a clientmsgid WeChat derives one from the audience and content, so an
        identical resend is refused too.
        """
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        key = body.get("clientmsgid") or digest
        now = self._now()
        with self._lock:
            if now - self._clientmsgids.get(key, -MASS_DEDUPE_SECONDS) < MASS_DEDUPE_SECONDS:
                raise WeChatError(45065)
            self._clientmsgids[key] = now
            msg_id = next(self._ids)
            self.mass.append((path, body, msg_id))
        answer = {"errcode": 0, "errmsg": "send job submission success", "msg_id": msg_id}
        if body.get("msgtype") == "mpnews":  # msg_data_id only exists for articles
            answer["msg_data_id"] = msg_id * 10
        return answer

    def _sendall(self, query: dict[str, str], body: dict) -> dict:
        """POST message/mass/sendall: to everyone (`is_to_all`) or to one tag (`tag_id`;
        the pre-2016 name `group_id` is still accepted)."""
        rule = body.get("filter") or {}
        if not rule.get("is_to_all"):
            tag = rule.get("tag_id", rule.get("group_id"))
            if tag is None or int(tag) not in {int(t["id"]) for t in self.tags}:
                raise WeChatError(40050)
        return self._mass("sendall", body)

    def _send_openids(self, query: dict[str, str], body: dict) -> dict:
        """POST message/mass/send: to a list of 2 to 10000 OpenIDs."""
        if not 2 <= len(body.get("touser") or []) <= 10000:
            raise WeChatError(40130)
        return self._mass("send", body)

    def _preview(self, query: dict[str, str], body: dict) -> dict:
        """POST message/mass/preview: one follower sees the message; no dedupe."""
        if "towxname" not in body and not self._is_follower(body.get("touser")):
            raise WeChatError(40003)
        msg_id = next(self._ids)
        with self._lock:
            self.mass.append(("preview", body, msg_id))
        return {"errcode": 0, "errmsg": "preview success", "msg_id": msg_id}

    def _mass_get(self, query: dict[str, str], body: dict) -> dict:
        """POST message/mass/get: the fake finishes every job at once (unknown ids: SEND_FAIL)."""
        msg_id = int(body.get("msg_id", 0))
        with self._lock:
            known = any(m[2] == msg_id for m in self.mass)
        return {"msg_id": msg_id, "msg_status": "SEND_SUCCESS" if known else "SEND_FAIL"}

    def _tags_get(self, query: dict[str, str], body: Any) -> dict:
        """GET tags/get: the account's tags with their follower counts."""
        return {"tags": list(self.tags)}

    def _user_get(self, query: dict[str, str], body: Any) -> dict:
        """GET user/get: followers after `next_openid`, one page at a time.

        Like WeChat, the last page still names a next_openid; the call after it answers
        count 0 with no `data` key and an empty next_openid.
        """
        followers, after = list(self.followers), query.get("next_openid", "")
        if after and after not in followers:
            raise WeChatError(40003)
        start = followers.index(after) + 1 if after else 0
        page = followers[start : start + self.page_size]
        if not page:
            return {"total": len(followers), "count": 0, "next_openid": ""}
        return {
            "total": len(followers),
            "count": len(page),
            "data": {"openid": page},
            "next_openid": page[-1],
        }


_ROUTES = {
    ("GET", "token"): FakeWeChat._token,
    ("POST", "message/custom/send"): FakeWeChat._custom_send,
    ("POST", "message/mass/sendall"): FakeWeChat._sendall,
    ("POST", "message/mass/send"): FakeWeChat._send_openids,
    ("POST", "message/mass/preview"): FakeWeChat._preview,
    ("POST", "message/mass/get"): FakeWeChat._mass_get,
    ("GET", "tags/get"): FakeWeChat._tags_get,
    ("GET", "user/get"): FakeWeChat._user_get,
}


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, as wechatpy's requests.Session expects; JSON in and out."""

    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; with Nagle's algorithm the body would wait
    # for the client's delayed ACK (~40 ms a request), a stall api.weixin.qq.com lacks.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def _answer(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw.decode("utf-8")) if raw else None
        except ValueError:
            answer = {"errcode": 47001, "errmsg": ERRMSG[47001]}
        else:
            answer = self.server.fake.handle(method, url.path, query, body)  # type: ignore[attr-defined]
        data = json.dumps(answer, ensure_ascii=False).encode("utf-8") if answer else b"not found"
        try:
            self.send_response(200 if answer else 404)
            self.send_header("Content-Type", "application/json; encoding=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a `.delay()` longer than its timeout)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read `.calls` instead of the access log."""
