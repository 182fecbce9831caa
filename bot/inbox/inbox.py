"""From a verified message to its reply: deduplicate, answer, record, all within the budget.

WeChat waits 5 seconds for a passive reply, then retries the same message up to three
times. So:
- a retry gets the first request's reply without a second record (dedupe.py: a
  message is answered, then claimed together with its reply);
- the interaction is written to the journal before the reply leaves and committed to
  the database right after, in a batch with the others (recorder.py), so a slow
  database never holds a reply and a killed worker loses no record (but one killed
  in the microseconds between the claim and the journal line: its retry gets the
  reply, the record is lost);
- an answer that itself takes longer than the budget goes out as a customer-service
  message; the webhook answers `success`, and so do WeChat's retries.

Answering runs in the request's own thread: handing every message to a pool thread
and back cost about a fifth of the webhook's time, and the only slow parts (database,
Redis) have their own time limits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

from wechatpy.messages import BaseMessage

from .. import records
from ..answer import Answerer
from ..errors import ReplayedRequest, WeChatAPIError
from ..mediation import Intake
from ..wechat import Inbound, text_reply
from .dedupe import Deduper, dedupe_key
from .dispatch import Context, Outcome, dispatch
from .recorder import Recorder

log = logging.getLogger(__name__)

APOLOGY = "抱歉，系统刚才出了点问题，请稍后再发一次。"

LateSender = Callable[[str, str], None]


# The event row's fields an Outcome fills in (the rest: the key, the time, the user id).
FROM_OUTCOME = tuple(
    name for name in records.ROW_ATTRIBUTES if name not in ("dedupe_key", "at", "user_id")
)

SystemEvent = Callable[[BaseMessage], None]

# The OpenIDs of the staff console's "try the bot" (/admin/chat) begin with this. WeChat's
# OpenIDs are 28 characters of base64 beginning with "o", never with this prefix, and
# only a request signed with the account's Token can name a sender at all. A trial
# message is answered as any other but written nowhere: it is staff, not a resident, so
# it must not count in the figures, and its OpenID must not join the followers.
TRIAL_PREFIX = "legalbot-trial-"


def is_trial(openid: str) -> bool:
    """Whether a message comes from the staff console's chat, not from a resident."""
    return openid.startswith(TRIAL_PREFIX)


class Inbox:
    """Handles inbound messages for one app; one instance per process."""

    def __init__(
        self,
        *,
        recorder: Recorder,
        answerer: Answerer,
        deduper: Deduper,
        secret_key: str,
        budget: float,
        send_text: LateSender | None,
        system_events: Mapping[str, SystemEvent] | None = None,
        intake: Intake | None = None,
    ):
        self.recorder = recorder
        self.answerer = answerer
        self.deduper = deduper
        self.secret_key = secret_key
        self.budget = budget
        self.send_text = send_text
        self.system_events = dict(system_events or {})
        self.intake = intake
        # Reports on the account's own jobs are handed on off the request's thread: a
        # slow database never holds a reply. One thread: they come a few a day.
        self._aside = ThreadPoolExecutor(max_workers=1, thread_name_prefix="system-events")

    def receive(self, inbound: Inbound) -> str | None:
        """The reply XML for a message (None means `success`)."""
        started = time.monotonic()
        message = inbound.message
        user_id = records.pseudonym(self.secret_key, message.source)
        key = dedupe_key(message, user_id)
        context = Context(self.answerer, user_id, self.intake, seed=f"{user_id}:{key}")
        outcome = dispatch(message, context)
        claim = self.deduper.claim(key, outcome.reply, inbound.seen)
        if claim.forged:
            raise ReplayedRequest("timestamp and nonce seen before with another body")
        if not claim.new:  # a retry: the first request's reply
            return text_reply(claim.stored, message) if claim.stored else None
        trial = is_trial(message.source)
        # Claimed: this request, and no retry, writes what the outcome carries.
        if outcome.record and not trial:
            self.recorder.submit(self._interaction(message, user_id, key, outcome))
        if outcome.memory is not None:
            self.answerer.remember(user_id, outcome.memory)
        if outcome.mediation is not None and self.intake is not None:
            self.intake.keep(user_id, outcome.mediation, file=not trial)  # no trial cases
        if outcome.system:
            self._hand_on(outcome.kind, message)
        if not trial and time.monotonic() - started >= self.budget:
            log.warning("answer for %s took longer than %.1fs; sending it late", key, self.budget)
            self.deduper.replace(key, None)  # WeChat's retries get `success`, not a copy
            self._send_late(message.source, outcome.reply)
            return None
        return text_reply(outcome.reply, message) if outcome.reply else None

    @staticmethod
    def _interaction(
        message: BaseMessage, user_id: str, key: str, outcome: Outcome
    ) -> records.Interaction:
        row = {name: getattr(outcome, name) for name in FROM_OUTCOME}
        return records.Interaction(
            openid=message.source,
            user_id=user_id,
            dedupe_key=key,
            question=outcome.question,
            follow_change=outcome.follow_change,
            **row,
        )

    def _hand_on(self, kind: str, message: BaseMessage) -> None:
        """A report on the account's own jobs to the plug-in that takes it (scheduler/)."""
        handler = self.system_events.get(kind)
        if handler is None:
            return
        future = self._aside.submit(handler, message)
        future.add_done_callback(_log_failure)

    def _send_late(self, openid: str, reply: str | None) -> None:
        if not reply:
            return
        if self.send_text is None:
            log.error("late answer not sent: wechat.appid and wechat.secret are not configured")
            return
        try:
            self.send_text(openid, reply)
        except (WeChatAPIError, OSError) as exc:
            log.error("late answer not sent: %s", exc)

    def settle(self, timeout: float) -> bool:
        """Wait until the events handed on so far are handled; False after `timeout` s."""
        done = self._aside.submit(lambda: None)  # one thread: it runs after them
        try:
            done.result(timeout)
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        self._aside.shutdown(wait=True)
        self.recorder.close()


def _log_failure(future) -> None:
    error = future.exception()
    if error is not None:
        log.error("a system event was not handled: %s", error)
