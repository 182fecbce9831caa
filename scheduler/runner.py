"""The campaign scheduler: APScheduler 3 on the project database, run by one process.

- **One writer.** APScheduler 3 does not notice jobs another process writes into its
  store (agronholm/apscheduler#218). So front ends never touch the job store: they write
  the campaigns table and bump `revision`; the scheduler holding the lock polls the table
  every `poll_seconds` (≤ 30) and adds, reschedules or removes its jobs to match.
- **One scheduler.** A Redis lock or a database lease (lock.py) decides which process
  runs APScheduler; the others wait and take over when the holder stops renewing.
- **Persistent jobs, missed runs on purpose.** Jobs live in `apscheduler_jobs`, so a
  restart finds the runs that fell due while it was down. `coalesce=True` turns several
  missed runs of a job into one, and `misfire_grace_time` is how late a run may still
  start: down at 9:00 and up at 9:05 sends at 9:05, once; later than the grace it is
  not sent but marked `missed` (EVENT_JOB_MISSED), never a week late.
- **Sends apart from timing.** A due job only hands the campaign to a small pool; the
  sender claims it with a compare-and-set, so a send by hand (`campaign send`) and the
  scheduler cannot both send it. Sends left `sending` by a dead process are resumed.

The job function is `fire` below, a module-level name because the job store keeps a
textual reference and arguments, not objects: it reaches the runner that is the leader
in this process (one per process).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor as JobExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from bot import records
from bot.config import Config
from bot.errors import CampaignError

from . import schedules, store
from .lock import make_lock, owner_id, owner_is_dead
from .models import Campaign
from .service import Campaigns
from .states import State
from .store import as_utc

log = logging.getLogger(__name__)

JOB_PREFIX = "campaign-"
_active: Runner | None = None
_active_lock = threading.Lock()


def fire(campaign_id: int, revision: int) -> None:
    """Every campaign job calls this when its time comes."""
    runner = _active
    if runner is None:
        log.warning("campaign %s fell due while no scheduler leads in this process", campaign_id)
        return
    runner.fire(campaign_id, revision)


def start_embedded(config: Config) -> Runner:
    """The `legalbot.embedded` entry point: `legalbot serve` runs the scheduler in-process."""
    return Runner(config).start()


class Runner:
    """Stands by for the lock, then runs the jobs; `shutdown()` stops it cleanly."""

    def __init__(self, config: Config):
        self.config = config
        self.settings = config.campaigns
        self.service = Campaigns(config)
        self.engine = self.service.engine
        self.owner = owner_id()
        self.lock = make_lock(config, self.engine, self.owner)
        self.leader = threading.Event()
        self._stop = threading.Event()
        self._send_stop = threading.Event()
        self._aps: BackgroundScheduler | None = None
        self._sends = ThreadPoolExecutor(self.settings.max_parallel_campaigns, "campaign")
        self._busy: set[int] = set()
        self._busy_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # ---- life cycle -------------------------------------------------------------------

    def start(self) -> Runner:
        """Run in a background thread (embedded in `legalbot serve`, tests)."""
        self._thread = threading.Thread(target=self.run, name="campaign-scheduler", daemon=True)
        self._thread.start()
        return self

    def run_until_signalled(self) -> None:
        """`legalbot scheduler`: run in this thread until SIGTERM or SIGINT."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self._stop.set())
        self.run()

    def run(self) -> None:
        tick = min(self.settings.poll_seconds, self.settings.lock_ttl_seconds / 3)
        next_poll = 0.0
        log.info("campaign scheduler %s: waiting for the scheduler lock", self.owner)
        while not self._stop.is_set():
            try:
                if self.leader.is_set():
                    if not self.lock.renew():
                        log.warning("lost the scheduler lock; standing by")
                        self._demote()
                elif _active in (None, self) and self.lock.acquire():
                    self._promote()
                    next_poll = 0.0
                if self.leader.is_set() and time.monotonic() >= next_poll:
                    self.sync()
                    self.resume_abandoned()
                    next_poll = time.monotonic() + self.settings.poll_seconds
            except Exception:  # noqa: BLE001 - a database or Redis outage: try again next tick
                log.exception("campaign scheduler: this round failed; retrying")
                if self.leader.is_set() and not self._still_leader():
                    self._demote()
            self._stop.wait(tick)
        self._wind_down()

    def shutdown(self, wait: bool = True) -> None:
        """Stop: sends under way are handed back (resumed by the next scheduler)."""
        self._stop.set()
        if wait and self._thread is not None:
            self._thread.join(timeout=60)

    def _still_leader(self) -> bool:
        try:
            return self.lock.renew()
        except Exception:  # noqa: BLE001
            return False

    def _promote(self) -> None:
        global _active
        with _active_lock:
            if _active is not None and _active is not self:
                raise RuntimeError("one campaign scheduler per process")
            _active = self
        aps = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.engine)},
            executors={"default": JobExecutor(2)},
            job_defaults={
                "coalesce": True,
                "misfire_grace_time": self.settings.misfire_grace_seconds,
                "max_instances": 1,
            },
            timezone=self.config.tz,
        )
        aps.add_listener(self._on_missed, EVENT_JOB_MISSED)
        aps.start()
        self._aps = aps
        self.leader.set()
        log.info("campaign scheduler %s: holding the lock, running the jobs", self.owner)

    def _demote(self, wait: bool = False) -> None:
        global _active
        self.leader.clear()
        if self._aps is not None:
            self._aps.shutdown(wait=wait)
            self._aps = None
        with _active_lock:
            if _active is self:
                _active = None

    def _wind_down(self) -> None:
        self._demote(wait=True)  # no job fires from here on
        self._send_stop.set()  # sends under way hand their campaign back
        self._sends.shutdown(wait=True)
        try:
            self.lock.release()
        except Exception as exc:  # noqa: BLE001 - it expires by itself
            log.warning("could not release the scheduler lock: %s", exc)
        self.service.close()
        log.info("campaign scheduler %s: stopped", self.owner)

    # ---- following the campaigns table --------------------------------------------------

    def sync(self) -> None:
        """Make the jobs match the scheduled campaigns (the front ends' changes)."""
        aps = self._aps
        if aps is None:
            return
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    Campaign.id,
                    Campaign.name,
                    Campaign.schedule_kind,
                    Campaign.schedule,
                    Campaign.scheduled_at,
                    Campaign.revision,
                ).where(Campaign.state == State.SCHEDULED)
            ).all()
        jobs = {job.id: job for job in aps.get_jobs()}
        for row in rows:
            job_id = f"{JOB_PREFIX}{row.id}"
            job = jobs.pop(job_id, None)
            if row.id in self._busy or row.scheduled_at is None:
                continue
            if job is not None and job.kwargs.get("revision") == row.revision:
                continue
            first_run = as_utc(row.scheduled_at)
            aps.add_job(
                fire,
                trigger=schedules.trigger(
                    row.schedule_kind, row.schedule, first_run, self.config.tz
                ),
                id=job_id,
                name=f"campaign {row.id}",
                kwargs={"campaign_id": row.id, "revision": row.revision},
                next_run_time=first_run,
                replace_existing=True,
            )
            log.info(
                "campaign %s: %s for %s", row.id, "rescheduled" if job else "scheduled", first_run
            )
        for job_id in jobs:
            if job_id.startswith(JOB_PREFIX):
                aps.remove_job(job_id)
                log.info("campaign %s: no longer scheduled; job removed", job_id[len(JOB_PREFIX) :])

    def resume_abandoned(self) -> None:
        """Campaigns left `sending` by a dead or stopped sender are resumed here."""
        stale = records.now() - timedelta(seconds=self.settings.lock_ttl_seconds)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(Campaign.id, Campaign.sender, Campaign.heartbeat_at).where(
                    Campaign.state == State.SENDING
                )
            ).all()
        for row in rows:
            beat = as_utc(row.heartbeat_at)
            if beat is None or beat < stale or owner_is_dead(row.sender):
                log.info("campaign %s: resuming a send its sender left", row.id)
                self._submit(row.id, ())

    # ---- jobs ---------------------------------------------------------------------------

    def fire(self, campaign_id: int, revision: int) -> None:
        campaign = store.get(self.engine, campaign_id)
        if campaign is None or campaign.state != State.SCHEDULED or campaign.revision != revision:
            log.info("campaign %s: changed since it was scheduled; not sent now", campaign_id)
            return
        if campaign.schedule_kind != schedules.CRON:
            self._submit(campaign_id, (State.SCHEDULED,), revision)
            return
        occurrence = self._last_fire(campaign)
        self._advance(campaign, occurrence)
        child = store.create_occurrence(
            self.engine,
            campaign,
            occurrence,
            label=self.service.local_label(occurrence),
            state=State.SCHEDULED,
        )
        if child is not None:
            self._submit(child, (State.SCHEDULED,))

    def _on_missed(self, event: JobExecutionEvent) -> None:
        """Past the grace: the campaign (or this occurrence of a recurring one) is missed."""
        if not event.job_id.startswith(JOB_PREFIX):
            return
        campaign_id = int(event.job_id[len(JOB_PREFIX) :])
        campaign = store.get(self.engine, campaign_id)
        if campaign is None or campaign.state != State.SCHEDULED:
            return
        at = event.scheduled_run_time
        grace = self.settings.misfire_grace_seconds
        error = (
            f"missed: the scheduler was not running at {self.service.iso(at)} "
            f"nor within the {grace} s grace after it"
        )
        log.warning("campaign %s: %s", campaign_id, error)
        if campaign.schedule_kind == schedules.CRON:
            self._advance(campaign, as_utc(at))
            store.create_occurrence(
                self.engine,
                campaign,
                as_utc(at),
                label=self.service.local_label(at),
                state=State.MISSED,
                error=error,
            )
        else:
            store.transition(
                self.engine,
                campaign_id,
                (State.SCHEDULED,),
                bump=False,
                state=State.MISSED,
                error=error,
            )

    def _submit(
        self, campaign_id: int, states: tuple[State, ...], revision: int | None = None
    ) -> None:
        with self._busy_lock:
            if campaign_id in self._busy:
                return
            self._busy.add(campaign_id)
        self._sends.submit(self._send, campaign_id, states, revision)

    def _send(self, campaign_id: int, states: tuple[State, ...], revision: int | None) -> None:
        try:
            state = self.service.sender.send(
                campaign_id,
                self.owner,
                states,
                revision=revision,
                stop=self._send_stop,
                interrupted=State.SENDING,
            )
            log.info("campaign %s: %s", campaign_id, state)
        except CampaignError as exc:
            log.info("campaign %s: not sent: %s", campaign_id, exc)
        except Exception:  # noqa: BLE001 - the campaign stays resumable; the scheduler goes on
            log.exception("campaign %s: the send failed", campaign_id)
        finally:
            with self._busy_lock:
                self._busy.discard(campaign_id)

    def _last_fire(self, campaign) -> datetime:
        """The cron run being served now: the latest fire time not after now (APScheduler
        runs the latest due one when coalescing, and passes no run time to the job)."""
        trigger = schedules.cron_trigger(campaign.schedule, self.config.tz)
        now = datetime.now(self.config.tz)
        moment = trigger.get_next_fire_time(
            None, now - timedelta(seconds=self.settings.misfire_grace_seconds + 60)
        )
        last = None
        while moment is not None and moment <= now:
            last = moment
            moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
        return as_utc(last or now.replace(microsecond=0))

    def _advance(self, campaign, occurrence: datetime) -> None:
        """Show the next run of a recurring campaign (not a front end's change: no bump)."""
        trigger = schedules.cron_trigger(campaign.schedule, self.config.tz)
        upcoming = trigger.get_next_fire_time(occurrence, datetime.now(self.config.tz))
        store.transition(
            self.engine,
            campaign.id,
            (State.SCHEDULED,),
            bump=False,
            scheduled_at=as_utc(upcoming) if upcoming else None,
        )
