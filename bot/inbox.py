"""From a verified message to its reply: deduplicate, dispatch within the time budget, record.

WeChat waits 5 seconds for a passive reply, then retries the same message up to three
times. So: a retry gets the first request's reply without a second handling or a second
record, and an answer that is not ready within the budget is sent afterwards as a
customer-service message while the webhook answers `success` in time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from wechatpy.messages import BaseMessage

from . import records
from .answer import Answerer
from .dispatch import Context, Outcome, dispatch
from .errors import WeChatAPIError
from .wechat import Deduper, Inbound, dedupe_key, text_reply

log = logging.getLogger(__name__)

APOLOGY = "抱歉，系统刚才出了点问题，请稍后再发一次。"

LateSender = Callable[[str, str], None]


class Inbox:
    """Handles inbound messages for one app; one instance per process."""

    def __init__(
        self,
        *,
        engine: Engine,
        answerer: Answerer,
        deduper: Deduper,
        secret_key: str,
        budget: float,
        send_text: LateSender | None,
        workers: int = 8,
    ):
        self.engine = engine
        self.answerer = answerer
        self.deduper = deduper
        self.secret_key = secret_key
        self.budget = budget
        self.send_text = send_text
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="answer")

    def receive(self, inbound: Inbound) -> str | None:
        """The reply XML for a message (None means `success`)."""
        message = inbound.message
        user_id = records.pseudonym(self.secret_key, message.source)
        key = dedupe_key(message, user_id)
        if not self.deduper.claim(key):
            return self.deduper.wait(key, self.budget)
        future = self.pool.submit(self._handle, message, user_id, key)
        try:
            reply_xml, _ = future.result(timeout=self.budget)
        except FutureTimeout:
            log.warning("answer for %s took longer than %.1fs; will send it late", key, self.budget)
            self.deduper.finish(key, None)
            future.add_done_callback(lambda done: self._send_late(done, message.source))
            return None
        except Exception:
            self.deduper.release(key)
            raise
        self.deduper.finish(key, reply_xml)
        return reply_xml

    def _handle(self, message: BaseMessage, user_id: str, key: str) -> tuple[str | None, Outcome]:
        outcome = dispatch(message, Context(answerer=self.answerer, user_id=user_id))
        if outcome.record:
            self._record(message, user_id, key, outcome)
        if outcome.mass_job is not None:
            self._record_mass_job(outcome.mass_job)
        reply_xml = text_reply(outcome.reply, message) if outcome.reply else None
        return reply_xml, outcome

    def _record(self, message: BaseMessage, user_id: str, key: str, outcome: Outcome) -> None:
        answer = outcome.answer
        fields = dict(
            openid=message.source,
            user_id=user_id,
            dedupe_key=key,
            kind=outcome.kind,
            is_message=outcome.is_message,
            is_question=outcome.is_question,
            matched=answer.matched if answer else (False if outcome.is_question else None),
            reply_kind=answer.kind if answer else None,
            theme=answer.theme if answer else None,
            entry_id=answer.entry_id if answer else None,
            event_key=outcome.event_key,
            scene=outcome.scene,
            question=outcome.question,
            follow_change=outcome.follow_change,
        )
        for attempt in (1, 2):
            try:
                records.record_interaction(self.engine, **fields)
                return
            except SQLAlchemyError as exc:
                log.error("recording %s failed (attempt %d): %s", key, attempt, exc)
        log.error(
            "interaction %s NOT recorded: %s", key, {**fields, "openid": "-", "question": "-"}
        )

    def _record_mass_job(self, report: records.MassJobReport) -> None:
        try:
            found = records.record_mass_job_finish(self.engine, report)
        except SQLAlchemyError as exc:
            log.error("mass send %s: result NOT recorded: %s", report.msg_id, exc)
            return
        if not found:
            log.warning("mass send %s finished, but no campaign has that msg_id", report.msg_id)

    def _send_late(self, done: Future, openid: str) -> None:
        try:
            _, outcome = done.result()
        except Exception:
            log.exception("late answer failed")
            return
        if not outcome.reply:
            return
        if self.send_text is None:
            log.error("late answer not sent: wechat.appid and wechat.secret are not configured")
            return
        try:
            self.send_text(openid, outcome.reply)
        except (WeChatAPIError, OSError) as exc:
            log.error("late answer not sent: %s", exc)

    def close(self) -> None:
        self.pool.shutdown(wait=True)
