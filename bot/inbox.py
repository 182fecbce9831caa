"""From a verified message to its reply: deduplicate, answer, record, all within the budget.

WeChat waits 5 seconds for a passive reply, then retries the same message up to three
times. So:
- a retry gets the first request's reply without a second record (bot/wechat.py's
  Deduper: a message is answered, then claimed together with its reply);
- the interaction is written to the journal before the reply leaves and committed to
  the database right after, in a batch with the others (bot/recorder.py), so a slow
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
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError
from wechatpy.messages import BaseMessage

from . import records
from .answer import Answerer
from .dispatch import Context, Outcome, dispatch
from .errors import WeChatAPIError
from .recorder import Recorder
from .wechat import Deduper, Inbound, dedupe_key, text_reply

log = logging.getLogger(__name__)

APOLOGY = "抱歉，系统刚才出了点问题，请稍后再发一次。"

LateSender = Callable[[str, str], None]


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
    ):
        self.recorder = recorder
        self.answerer = answerer
        self.deduper = deduper
        self.secret_key = secret_key
        self.budget = budget
        self.send_text = send_text

    def receive(self, inbound: Inbound) -> str | None:
        """The reply XML for a message (None means `success`)."""
        started = time.monotonic()
        message = inbound.message
        user_id = records.pseudonym(self.secret_key, message.source)
        key = dedupe_key(message, user_id)
        outcome = dispatch(message, Context(answerer=self.answerer, user_id=user_id))
        reply_xml = text_reply(outcome.reply, message) if outcome.reply else None
        if not self.deduper.claim(key, reply_xml):
            return self.deduper.stored(key)  # a retry: the first request's reply
        if outcome.mass_job is not None:
            self._record_mass_job(outcome.mass_job)
        self.recorder.submit(self._interaction(message, user_id, key, outcome))
        if time.monotonic() - started >= self.budget:
            log.warning("answer for %s took longer than %.1fs; sending it late", key, self.budget)
            self.deduper.replace(key, None)  # WeChat's retries get `success`, not a copy
            self._send_late(message.source, outcome.reply)
            return None
        return reply_xml

    def _interaction(
        self, message: BaseMessage, user_id: str, key: str, outcome: Outcome
    ) -> records.Interaction | None:
        if not outcome.record:
            return None
        answer = outcome.answer
        return records.Interaction(
            openid=message.source,
            user_id=user_id,
            dedupe_key=key,
            kind=outcome.kind,
            is_message=outcome.is_message,
            is_question=outcome.is_question,
            matched=answer.answered if answer else (False if outcome.is_question else None),
            reply_kind=answer.kind if answer else None,
            theme=answer.theme if answer else None,
            entry_id=answer.entry_id if answer else None,
            event_key=outcome.event_key,
            scene=outcome.scene,
            question=outcome.question,
            follow_change=outcome.follow_change,
        )

    def _record_mass_job(self, report: records.MassJobReport) -> None:
        """WeChat's report on a campaign's mass send: fill in its counts (scheduler/)."""
        try:
            found = records.record_mass_job_finish(self.recorder.engine, report)
        except SQLAlchemyError as exc:
            log.error("mass send %s: result NOT recorded: %s", report.msg_id, exc)
            return
        if not found:
            log.warning("mass send %s finished, but no campaign has that msg_id", report.msg_id)

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

    def close(self) -> None:
        self.recorder.close()
