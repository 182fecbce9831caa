"""The sending machine: one campaign at a time, claimed so no two processes send it.

Customer-service audiences (listmonk's shape): the recipients are written down
first (the checkpoint), then each one is

1. claimed: `pending` -> `sending`, committed right before the HTTP call;
2. sent through wechatpy;
3. settled: `sent`, `skipped` (45015 and kin), `failed`, committed right after.

The resume rule: a recipient found `sending` when a send resumes was claimed by a
sender that died between steps 1 and 3. The request had, almost certainly, reached
WeChat (the window before it is microseconds; the wait for the answer is the long part),
so it is *presumed delivered*: counted in `sent` (and in `presumed`) and never sent
again. The cost of being wrong is one resident without this message, never one with two.

Mass audiences are a single request: it carries a `clientmsgid` derived from the
campaign, so a repeat after a crash is refused by WeChat with 45065 (within 24 h),
which means "already sent".
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import Engine
from wechatpy.exceptions import WeChatClientException

from bot import records
from bot.config import CampaignSettings
from bot.errors import CampaignError, KnowledgeBaseError

from . import audience as audiences
from . import content as contents
from . import store
from .calls import RateLimiter, Stop, call_with_retries
from .lock import owner_is_dead
from .states import Delivery, State
from .store import as_utc

log = logging.getLogger(__name__)

MASS_DEDUPE_HOURS = 23  # WeChat remembers a clientmsgid for 24 h; keep a margin


class Progress(Protocol):
    def start(self, total: int, done: int) -> None: ...

    def advance(self, n: int = 1) -> None: ...


class _Halt:
    """The first Stop any worker meets; the others see it and take no new recipient."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.stop: Stop | None = None
        self._lock = threading.Lock()

    def set(self, stop: Stop) -> None:
        with self._lock:
            if self.stop is None:
                self.stop = stop
        self.event.set()


class _Heartbeat(threading.Thread):
    """Renews the sender's claim and stores progress every `interval` seconds."""

    def __init__(self, engine: Engine, campaign_id: int, owner: str, interval: float, values):
        super().__init__(name=f"heartbeat-{campaign_id}", daemon=True)
        self.engine, self.campaign_id, self.owner = engine, campaign_id, owner
        self.interval, self.values = interval, values
        self.lost = threading.Event()
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(self.interval):
            try:
                if not store.heartbeat(self.engine, self.campaign_id, self.owner, **self.values()):
                    log.warning(
                        "campaign %s: claim lost (cancelled or taken over)", self.campaign_id
                    )
                    self.lost.set()
                    return
            except Exception as exc:  # noqa: BLE001 - a database hiccup must not stop the send
                log.warning("campaign %s: heartbeat failed: %s", self.campaign_id, exc)

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=5)


@dataclass
class SendContext:
    engine: Engine
    client: Any  # wechatpy client, or None without AppID/AppSecret
    settings: CampaignSettings
    secret_key: str
    tz: ZoneInfo
    kb_loader: Callable[[], Any]
    limiter: RateLimiter
    rate_key: str = "wechat-cs"


class Sender:
    def __init__(self, ctx: SendContext):
        self.ctx = ctx
        self.engine = ctx.engine
        self.settings = ctx.settings

    # ---- the claim ----------------------------------------------------------------------

    def send(
        self,
        campaign_id: int,
        owner: str,
        states: tuple[State, ...],
        revision: int | None = None,
        stop: threading.Event | None = None,
        progress: Progress | None = None,
        interrupted: State = State.PAUSED,
    ) -> str:
        """Send (or resume) the campaign as `owner`; the state it ends in.

        `states` are those it may be claimed from (besides an abandoned `sending`).
        When `stop` is set the send ends early in `interrupted`: `paused` for an operator
        who pressed Ctrl-C, `sending` (handed back, no sender) for a scheduler shutting
        down, whose successor resumes it. Raises CampaignError when it cannot be claimed.
        """
        campaign = store.get(self.engine, campaign_id)
        if campaign is None:
            raise CampaignError(f"no campaign {campaign_id}")
        self.client()  # refuse before claiming when WeChat is not configured
        if campaign.schedule_kind == "cron" and campaign.parent_id is None:
            raise CampaignError(
                f"campaign {campaign_id} is recurring; the scheduler sends each occurrence"
            )
        stale = records.now() - timedelta(seconds=self.settings.lock_ttl_seconds)
        dead = campaign.sender if owner_is_dead(campaign.sender) else None
        if not store.claim_send(
            self.engine, campaign_id, owner, states, stale, revision=revision, dead_owner=dead
        ):
            raise CampaignError(self._refusal(campaign_id, states))
        stop = stop or threading.Event()
        channel = audiences.parse(campaign.audience, check_file=False).channel
        beat = _Heartbeat(
            self.engine,
            campaign_id,
            owner,
            self.settings.lock_ttl_seconds / 3,
            (lambda: self._progress_values(campaign_id)) if channel == audiences.SERVICE else dict,
        )
        beat.start()
        try:
            if channel == audiences.MASS:
                state, values = self._mass(campaign, stop)
            else:
                state, values = self._service(campaign, stop, beat, progress, interrupted)
        except (CampaignError, KnowledgeBaseError) as exc:
            state, values = State.FAILED, {"error": str(exc)}
        finally:
            beat.stop()
        if beat.lost.is_set():  # cancelled, or taken over: the counts still hold
            if channel == audiences.SERVICE:
                store.set_counts(self.engine, campaign_id, **self._progress_values(campaign_id))
            current = store.get(self.engine, campaign_id)
            return current.state if current else State.CANCELLED
        if stop.is_set() and interrupted == State.SENDING and state == State.PAUSED:
            state = State.SENDING  # stopped while waiting to retry: hand back all the same
        if state == State.SENDING:  # hand back: the next scheduler resumes at once
            values.pop("finished_at", None)
        if not store.finish(self.engine, campaign_id, owner, state, **values):
            current = store.get(self.engine, campaign_id)
            return current.state if current else State.CANCELLED
        log.info("campaign %s: %s %s", campaign_id, state, _summary(values))
        return state

    def _refusal(self, campaign_id: int, states: tuple[str, ...]) -> str:
        campaign = store.get(self.engine, campaign_id)
        if campaign is None:
            return f"no campaign {campaign_id}"
        if campaign.state == State.SENDING:
            beat = as_utc(campaign.heartbeat_at)
            ago = (records.now() - beat).total_seconds() if beat else 0
            return (
                f"campaign {campaign_id} is being sent by another process "
                f"(last sign of life {ago:.0f} s ago); if it died, it is resumed "
                f"{self.settings.lock_ttl_seconds:g} s after that"
            )
        allowed = ", ".join(states) or "an abandoned send"
        return f"campaign {campaign_id} is {campaign.state}; only {allowed} campaigns can be sent"

    # ---- mass sends ---------------------------------------------------------------------

    def _mass(self, campaign, stop: threading.Event) -> tuple[str, dict]:
        if campaign.msg_id:  # accepted before; only the state was not written
            return State.SENT, {}
        started = as_utc(campaign.started_at)
        if started and records.now() - started > timedelta(hours=MASS_DEDUPE_HOURS):
            return State.FAILED, {
                "error": "an earlier attempt may have reached WeChat more than 23 h ago, "
                "beyond clientmsgid's protection: check 群发记录 on the platform before "
                "sending it again as a new campaign"
            }
        client = self.client()
        audience = audiences.parse(campaign.audience, check_file=False)
        content = contents.Content.from_row(campaign.content_kind, campaign.content)
        text = contents.as_text(content, campaign.name, self.ctx.kb_loader)
        cmid = client_msg_id(campaign)
        if audience.kind == "all":
            call = lambda: client.message.send_mass_text(  # noqa: E731
                None, text, is_to_all=True, client_msg_id=cmid
            )
        else:
            # wechatpy 1.8.18 names the tag `group_id` (WeChat's pre-2016 groups API); the
            # current API documents `filter.tag_id`, so this body is written out here.
            body = {
                "filter": {"is_to_all": False, "tag_id": audience.tag_id},
                "msgtype": "text",
                "text": {"content": text},
                "clientmsgid": cmid,
                "send_ignore_reprint": 0,
            }
            call = lambda: client.post("message/mass/sendall", data=body)  # noqa: E731
        estimate = self._mass_estimate(client, audience)
        outcome = call_with_retries(call, stop, self.settings, mass=True)
        if isinstance(outcome, Stop):
            return outcome.state, {"error": outcome.error}
        if outcome == "already":
            log.info("campaign %s: WeChat already has this mass send (45065)", campaign.id)
            return State.SENT, {"error": None}
        return State.SENT, {"msg_id": str(outcome["msg_id"]), "recipients": estimate, "error": None}

    def _mass_estimate(self, client, audience) -> int:
        """Followers the send should reach, until MASSSENDJOBFINISH gives WeChat's count."""
        try:
            if audience.kind == "all":
                return int(client.user.get_followers().get("total", 0))
            for tag in client.tag.get():
                if int(tag.get("id", -1)) == audience.tag_id:
                    return int(tag.get("count", 0))
        except (WeChatClientException, requests.RequestException) as exc:
            log.info("audience size unknown: %s", exc)
        return 0

    # ---- customer-service sends ---------------------------------------------------------

    def _service(
        self,
        campaign,
        stop: threading.Event,
        beat: _Heartbeat,
        progress: Progress | None,
        interrupted: str,
    ) -> tuple[str, dict]:
        deliver = self.service_message(campaign)
        if not store.has_recipients(self.engine, campaign.id):
            self._snapshot(campaign)
        presumed = store.presume_unconfirmed(self.engine, campaign.id)
        if presumed:
            log.warning(
                "campaign %s: resuming; %d message(s) under way when the last sender died "
                "are presumed delivered (not sent again)",
                campaign.id,
                presumed,
            )
        counts = store.counts(self.engine, campaign.id)
        if progress:
            progress.start(counts["recipients"], counts["recipients"] - counts["pending"])
        halt = _Halt()
        self._fan_out(campaign.id, deliver, halt, stop, beat, progress)
        values = self._progress_values(campaign.id)
        values["error"] = None
        if halt.stop is not None:
            values["error"] = halt.stop.error
            return halt.stop.state, values
        if stop.is_set():
            if interrupted == State.PAUSED:
                values["error"] = "stopped before the end; `legalbot campaign send` resumes it"
            return interrupted, values
        if values["sent"] == 0 and values["failed"] > 0:
            values["error"] = "WeChat refused every message; see the recipients' error codes"
            return State.FAILED, values
        return State.SENT, values

    def _snapshot(self, campaign) -> None:
        audience = audiences.parse(campaign.audience, check_file=False)
        if audience.kind == "active48h":
            since = records.now() - timedelta(hours=48)
            store.snapshot_active(self.engine, campaign.id, since)
        else:
            openids = audiences.read_openids(audience.path)
            store.import_openids(self.engine, self.ctx.secret_key, openids)
            store.snapshot_openids(self.engine, campaign.id, openids)

    def _fan_out(self, campaign_id, deliver, halt, stop, beat, progress) -> None:
        """Workers take pending recipients in id order, `concurrency` at a time."""
        from concurrent.futures import ThreadPoolExecutor

        slots = threading.BoundedSemaphore(self.settings.concurrency * 2)
        stops = (halt.event, stop, beat.lost)

        def one(recipient_id: int, follower_id: int, openid: str) -> None:
            try:
                self._one(recipient_id, follower_id, openid, deliver, halt, stops, progress)
            except Exception:  # noqa: BLE001 - e.g. the database went away: pause, resumable
                log.exception("campaign %s: follower %s", campaign_id, follower_id)
                halt.set(Stop(State.PAUSED, "an unexpected error stopped the send; see the log"))
            finally:
                slots.release()

        after = 0
        with ThreadPoolExecutor(self.settings.concurrency, thread_name_prefix="send") as pool:
            while not any(s.is_set() for s in stops):
                batch = store.pending_batch(self.engine, campaign_id, after, 500)
                if not batch:
                    break
                after = batch[-1][0]
                for recipient_id, follower_id, openid in batch:
                    while not slots.acquire(timeout=0.2):
                        if any(s.is_set() for s in stops):
                            break
                    else:
                        pool.submit(one, recipient_id, follower_id, openid)
                        continue
                    break

    def _one(self, recipient_id, follower_id, openid, deliver, halt, stops, progress) -> None:
        if any(s.is_set() for s in stops):
            return
        if not self.ctx.limiter.acquire(self.ctx.rate_key, *stops):
            return
        if any(s.is_set() for s in stops) or not store.claim_recipient(self.engine, recipient_id):
            return
        outcome = call_with_retries(lambda: deliver(openid), halt.event, self.settings)
        if isinstance(outcome, Stop):
            store.release_recipient(self.engine, recipient_id)
            log.warning("follower %s: %s", follower_id, outcome.error)
            halt.set(outcome)
            return
        status, errcode = outcome
        store.finish_recipient(self.engine, recipient_id, status, errcode)
        if status != Delivery.SENT:
            log.info("follower %s: %s (%s)", follower_id, status, errcode)
        if progress:
            progress.advance(1)

    def service_message(self, campaign) -> Callable[[str], Any]:
        client = self.client()
        content = contents.Content.from_row(campaign.content_kind, campaign.content)
        shown = contents.as_received(content, campaign.name, self.ctx.kb_loader, mass=False)
        if "card" in shown:
            card = shown["card"]
            card.setdefault("picurl", "")
            return lambda openid: client.message.send_articles(openid, [card])
        return lambda openid: client.message.send_text(openid, shown["text"])

    def _progress_values(self, campaign_id: int) -> dict:
        counts = store.counts(self.engine, campaign_id)
        counts.pop("pending")
        return counts

    def client(self):
        if self.ctx.client is None:
            raise CampaignError(
                "wechat.appid and wechat.secret (LEGALBOT_WECHAT_APPID, LEGALBOT_WECHAT_SECRET) "
                "are not configured"
            )
        return self.ctx.client


def client_msg_id(campaign) -> str:
    """The campaign's clientmsgid: its id and creation second, unique across databases
    (a restored or new database reusing id 1 must not look like a repeat to WeChat)."""
    created = as_utc(campaign.created_at)
    return f"legalbot-{campaign.id}-{int(created.timestamp()) if created else 0}"


def _summary(values: dict) -> str:
    keys = ("recipients", "sent", "presumed", "skipped", "failed", "error")
    return " ".join(f"{k}={values[k]}" for k in keys if values.get(k) not in (None, ""))
