""" "Send now" and "resume" from the console: the send runs in a thread of the web worker.

It is `legalbot campaign send` without the terminal: service.Campaigns.send claims the
campaign with a compare-and-set (store.claim_send), so a second click, another gunicorn
worker or the scheduler cannot send it twice, and its heartbeat tells the others it is
alive. No scheduler lock is needed for that, so it works whether or not a scheduler runs.
A worker that stops hands the send back (`sending` with no sender) and the running
scheduler resumes it at its next poll; a worker that dies stops its heartbeat, and the
scheduler resumes the send once lock_ttl_seconds have passed (runner.resume_abandoned).
"""

from __future__ import annotations

import atexit
import logging
import threading
import time

from bot.errors import CampaignError

from . import store
from .states import State

log = logging.getLogger(__name__)


class Sends:
    """The console's sends under way in this process."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self._threads: list[threading.Thread] = []
        atexit.register(self.stop.set)

    def start(self, service, campaign_id: int, settle_seconds: float = 2.0) -> None:
        """Send in the background; return once the send has claimed the campaign (so the
        page shows it sending) or after `settle_seconds`."""
        before = store.get(service.engine, campaign_id)
        thread = threading.Thread(
            target=self._send,
            args=(service, campaign_id),
            name=f"console-send-{campaign_id}",
            daemon=True,
        )
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        deadline = time.monotonic() + settle_seconds
        while thread.is_alive() and time.monotonic() < deadline:
            now = store.get(service.engine, campaign_id)
            if now is None or (now.state, now.revision) != (before.state, before.revision):
                return
            time.sleep(0.05)

    def _send(self, service, campaign_id: int) -> None:
        try:
            done = service.send(campaign_id, stop=self.stop, interrupted=State.SENDING)
            log.info("campaign %s: %s (sent from the console)", campaign_id, done["state"])
        except CampaignError as exc:
            log.warning("campaign %s: not sent from the console: %s", campaign_id, exc)
        except Exception:  # noqa: BLE001 - the campaign stays resumable; the worker goes on
            log.exception("campaign %s: the console's send failed", campaign_id)

    def wait(self, timeout: float = 30) -> bool:
        """Wait for the sends under way (tests, a clean shutdown); True when all ended."""
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self._threads)
