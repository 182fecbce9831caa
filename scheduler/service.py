"""What the front ends may do with campaigns: the CLI and the staff console.

Front ends only write the campaigns table (content, schedule, state, and `revision` + 1
on each change); the running scheduler reads it and does the timing, and the sender
does the sending. Every refusal is a CampaignError with a one-line message.
"""

from __future__ import annotations

import threading
import tomllib
from datetime import UTC, datetime, time
from functools import cached_property
from typing import Any

from sqlalchemy.exc import IntegrityError
from wechatpy.exceptions import WeChatClientException

from bot import records
from bot.config import Config, ensure_secret_key
from bot.errors import CampaignError, KnowledgeBaseError

from . import audience as audiences
from . import calendar as publicity
from . import content as contents
from . import schedules, store, wxcodes
from .calls import RateLimiter
from .lock import owner_id
from .sender import Progress, SendContext, Sender
from .states import State, sources
from .store import as_utc

SCHEDULABLE = sources(State.SCHEDULED)
CANCELLABLE = sources(State.CANCELLED)
SENDABLE = sources(State.SENDING)


class Campaigns:
    """Campaign operations for one configuration; `close()` when done."""

    def __init__(self, config: Config, engine=None, knowledge=None):
        """`engine` and `knowledge` (a callable giving the current KnowledgeBase) may be
        an app's own, so the console shares its connections and its reloaded entries."""
        self.config = config
        self._knowledge = knowledge
        self.tz = config.tz
        self.settings = config.campaigns
        self.engine = engine or records.make_engine(config.database_url)

    def close(self) -> None:
        self.engine.dispose()

    # ---- what the operations need, built on first use --------------------------------

    @cached_property
    def _taxonomy(self) -> dict[str, Any]:
        from bot.answer import find_taxonomy

        path = find_taxonomy(self.config.knowledge.content_dir)
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise CampaignError(f"{path}: cannot read the taxonomy ({exc})") from None
        return {"themes": data.get("themes", {}), "calendar": publicity.load_calendar(path)}

    def theme_names(self) -> dict[str, str]:
        """Theme slug -> its Chinese name, in the taxonomy's order."""
        return {slug: t.get("name", slug) for slug, t in self._taxonomy["themes"].items()}

    @property
    def calendar(self) -> dict[str, publicity.CalendarDay]:
        return self._taxonomy["calendar"]

    def knowledge(self):
        """The knowledge base, read from the content files (bot.answer's loader)."""
        from bot.answer import load_knowledge_base

        if self._knowledge is not None:
            return self._knowledge()
        if not hasattr(self, "_kb"):
            try:
                self._kb = load_knowledge_base(self.config.knowledge.content_dir, self.config.town)
            except KnowledgeBaseError as exc:
                raise CampaignError(f"{exc}; run `legalbot kb validate`") from None
        return self._kb

    @cached_property
    def client(self):
        """wechatpy's client at LEGALBOT_WECHAT_API_BASE, the token shared through State."""
        from bot.state import connect
        from bot.wechat import make_client

        w = self.config.wechat
        if not (w.appid and w.secret):
            return None
        state = connect(self.config.redis_url, self.config.redis_prefix, self.config.var_dir)
        return make_client(
            w.appid,
            w.secret,
            w.api_base,
            state.token_storage(),
            timeout=self.settings.request_timeout_seconds,
        )

    @cached_property
    def sender(self) -> Sender:
        limiter = RateLimiter(
            self.settings.rate_per_second, self.config.redis_url, self.config.redis_prefix
        )
        return Sender(
            SendContext(
                engine=self.engine,
                client=self.client,
                settings=self.settings,
                secret_key=ensure_secret_key(self.config),
                tz=self.tz,
                kb_loader=self.knowledge,
                limiter=limiter,
                rate_key=f"cs:{self.config.wechat.appid}",
            )
        )

    # ---- operations -------------------------------------------------------------------

    def create(
        self,
        name: str,
        theme: str,
        audience: str,
        text: str | None = None,
        entries: list[str] | None = None,
        article: str | dict | None = None,
        at: str | None = None,
        calendar: str | None = None,
        cron: str | None = None,
    ) -> dict:
        """A new campaign: a draft, or scheduled when a schedule is given."""
        name = name.strip()
        if not name:
            raise CampaignError("--name: the name is empty")
        self._check_theme(theme)
        parsed = audiences.parse(audience)
        content = self._content(text, entries, article)
        schedule = self._schedule(at, calendar, cron)
        values: dict[str, Any] = dict(
            name=name[:200],
            theme=theme,
            audience=str(parsed),
            content_kind=content.kind,
            content=content.to_json(),
        )
        if schedule is not None:
            values |= self._schedule_values(schedule)
        return self.to_json(store.get(self.engine, store.insert_campaign(self.engine, **values)))

    def list_all(self) -> list[dict]:
        return [self.to_json(c) for c in store.all_campaigns(self.engine)]

    def show(self, campaign_id: str | int) -> dict:
        return self.to_json(self._get(campaign_id))

    def message_text(self, campaign_id: str | int) -> str:
        """What residents will read (an article card: its text form)."""
        campaign = self._get(campaign_id)
        content = contents.Content.from_row(campaign.content_kind, campaign.content)
        return contents.as_text(content, campaign.name, self.knowledge)

    def received(self, campaign_id: str | int) -> dict:
        """What a resident's phone shows (content.as_received), as the sender sends it."""
        campaign = self._get(campaign_id)
        content = contents.Content.from_row(campaign.content_kind, campaign.content)
        mass = audiences.parse(campaign.audience, check_file=False).channel == audiences.MASS
        return contents.as_received(content, campaign.name, self.knowledge, mass)

    def schedule(
        self,
        campaign_id: str | int,
        at: str | None = None,
        calendar: str | None = None,
        cron: str | None = None,
    ) -> dict:
        """Schedule (or reschedule) a campaign; with no option, a plan draft's planned day."""
        campaign = self._get(campaign_id)
        schedule = self._schedule(at, calendar, cron)
        if schedule is None:
            schedule = self._planned(campaign)
        if campaign.state not in SCHEDULABLE:
            raise CampaignError(_wrong_state(campaign, State.SCHEDULED, SCHEDULABLE))
        if schedule.kind == schedules.CRON and campaign.started_at is not None:
            raise CampaignError(
                f"campaign {campaign.id} has started sending; a recurring schedule needs a "
                "new campaign"
            )
        values = self._schedule_values(schedule) | {"error": None}
        if not store.transition(self.engine, campaign.id, SCHEDULABLE, **values):
            raise CampaignError(_wrong_state(self._get(campaign.id), State.SCHEDULED, SCHEDULABLE))
        return self.show(campaign.id)

    def cancel(self, campaign_id: str | int) -> dict:
        """Cancel; a send under way stops within a third of campaigns.lock_ttl_seconds."""
        campaign = self._get(campaign_id)
        if not store.transition(self.engine, campaign.id, CANCELLABLE, state=State.CANCELLED):
            raise CampaignError(_wrong_state(self._get(campaign.id), State.CANCELLED, CANCELLABLE))
        return self.show(campaign.id)

    def preview(self, campaign_id: str | int, openids: list[str]) -> list[tuple[int, str | None]]:
        """Send the content to test followers only: WeChat's mass preview for mass
        audiences, a customer-service message otherwise. [(n, error or None)] per OpenID."""
        campaign = self._get(campaign_id)
        if not openids:
            raise CampaignError("--to: name at least one OpenID")
        client = self.sender.client()
        audience = audiences.parse(campaign.audience, check_file=False)
        content = contents.Content.from_row(campaign.content_kind, campaign.content)
        if audience.channel == audiences.MASS:
            text = contents.as_text(content, campaign.name, self.knowledge)

            def deliver(openid):
                return client.message.send_mass_text(openid, text, preview=True)
        else:
            deliver = self.sender.service_message(campaign)
        results = []
        for number, openid in enumerate(openids, start=1):
            try:
                deliver(openid)
                results.append((number, None))
            except WeChatClientException as exc:
                code = int(exc.errcode) if exc.errcode is not None else -1
                results.append((number, wxcodes.describe(code, str(exc.errmsg or ""))))
            except OSError as exc:
                results.append((number, f"WeChat cannot be reached ({type(exc).__name__})"))
        return results

    def send(
        self,
        campaign_id: str | int,
        progress: Progress | None = None,
        stop: threading.Event | None = None,
        interrupted: State = State.PAUSED,
    ) -> dict:
        """Send now in this process (or resume after a crash); a recurring campaign sends
        one occurrence now. Stopped by `stop`, it ends `interrupted`: paused (Ctrl-C), or
        sending with no sender, for a scheduler to resume (a console worker stopping)."""
        campaign = self._get(campaign_id)
        target = campaign.id
        if campaign.schedule_kind == schedules.CRON and campaign.parent_id is None:
            if campaign.state != State.SCHEDULED:
                raise CampaignError(_wrong_state(campaign, State.SENT, (State.SCHEDULED,)))
            at = records.now().replace(microsecond=0)
            target = store.create_occurrence(
                self.engine, campaign, at, label=self.local_label(at), state=State.DRAFT
            )
            if target is None:
                raise CampaignError(f"campaign {campaign.id}: an occurrence at {at} exists")
        self.sender.send(
            target, owner_id(), SENDABLE, stop=stop, progress=progress, interrupted=interrupted
        )
        return self.show(target)

    def plan(self, year: int) -> list[tuple[dict, bool]]:
        """One draft per publicity-calendar day of `year` (digest of the theme's featured
        entries, planned for that day at send_time); a second run adds nothing."""
        if not 1900 <= year <= 2100:
            raise CampaignError(f"--year {year}: the lunar calendar is kept for 1900-2100")
        audience = audiences.parse(self.settings.plan_audience, check_file=False)
        send_time = time.fromisoformat(self.settings.send_time)
        planned = []
        for day in self.calendar.values():
            self._check_theme(day.theme)
            key = f"{year}:{day.key}"
            existing = store.by_plan_key(self.engine, key)
            if existing is not None:
                planned.append((self.to_json(existing), False))
                continue
            when = datetime.combine(publicity.day_in_year(day, year), send_time, self.tz)
            content = contents.featured(day.theme, self.knowledge())
            values = dict(
                name=f"{year} {day.name}",
                theme=day.theme,
                audience=str(audience),
                content_kind=content.kind,
                content=content.to_json(),
                schedule_kind=schedules.CALENDAR,
                schedule=day.key,
                scheduled_at=when.astimezone(UTC),
                plan_key=key,
            )
            try:
                new_id = store.insert_campaign(self.engine, **values)
            except IntegrityError:  # another `plan` made it a moment ago
                planned.append((self.to_json(store.by_plan_key(self.engine, key)), False))
                continue
            planned.append((self.to_json(store.get(self.engine, new_id)), True))
        planned.sort(key=lambda item: item[0]["scheduled_at"] or "")
        return planned

    # ---- helpers ----------------------------------------------------------------------

    def to_json(self, c) -> dict:
        """The campaign object of `campaign show --json` (README, Commands: the fields operators script against, and more)."""
        content = contents.Content.from_row(c.content_kind, c.content)
        return {
            "id": str(c.id),
            "name": c.name,
            "theme": c.theme,
            "audience": c.audience,
            "state": c.state,
            "content": content.describe(),
            "schedule_kind": c.schedule_kind,
            "schedule": c.schedule,
            "scheduled_at": self.iso(c.scheduled_at),
            "started_at": self.iso(c.started_at),
            "finished_at": self.iso(c.finished_at),
            "recipients": c.recipients,
            "sent": c.sent,
            "presumed": c.presumed,
            "skipped": c.skipped,
            "failed": c.failed,
            "filtered": c.filtered,
            "msg_id": c.msg_id,
            "error": c.error,
            "parent_id": str(c.parent_id) if c.parent_id else None,
            "plan_key": c.plan_key,
            "revision": c.revision,
            "created_at": self.iso(c.created_at),
        }

    def iso(self, value: datetime | None) -> str | None:
        value = as_utc(value)
        return value.astimezone(self.tz).isoformat(timespec="seconds") if value else None

    def local_label(self, value: datetime) -> str:
        return as_utc(value).astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    def _get(self, campaign_id: str | int):
        text = str(campaign_id).strip()
        campaign = store.get(self.engine, int(text)) if text.isdigit() else None
        if campaign is None:
            raise CampaignError(f"no campaign {text!r}")
        return campaign

    def _check_theme(self, theme: str) -> None:
        if theme not in self._taxonomy["themes"]:
            known = ", ".join(sorted(self._taxonomy["themes"]))
            raise CampaignError(f"--theme {theme!r}: not a theme of the taxonomy ({known})")

    def _content(self, text, entries, article) -> contents.Content:
        given = [x for x in (text is not None, bool(entries), article is not None) if x]
        if len(given) != 1:
            raise CampaignError("give exactly one of --text, --entry or --article")
        if text is not None:
            return contents.text(text)
        if isinstance(article, dict):
            return contents.card(article)
        if article is not None:
            return contents.article(article)
        return contents.entries(list(entries), self.knowledge())

    def _schedule(self, at, calendar, cron) -> schedules.Schedule | None:
        given = [x for x in (at, calendar, cron) if x is not None]
        if len(given) > 1:
            raise CampaignError("give at most one of --at, --calendar or --cron")
        now = records.now()
        if at is not None:
            return schedules.parse_at(at, self.tz, now)
        if calendar is not None:
            return schedules.parse_calendar(
                calendar, self.calendar, self.settings.send_time, self.tz, now
            )
        if cron is not None:
            return schedules.parse_cron(cron, self.tz, now)
        return None

    def _planned(self, campaign) -> schedules.Schedule:
        planned = as_utc(campaign.scheduled_at)
        if campaign.plan_key is None or planned is None or campaign.state != State.DRAFT:
            raise CampaignError("give --at WHEN, --calendar KEY or --cron EXPR")
        if planned <= records.now():
            raise CampaignError(
                f"campaign {campaign.id} was planned for {self.iso(planned)}, which has passed"
            )
        return schedules.Schedule(campaign.schedule_kind, campaign.schedule, planned)

    @staticmethod
    def _schedule_values(schedule: schedules.Schedule) -> dict:
        return {
            "schedule_kind": schedule.kind,
            "schedule": schedule.expr,
            "scheduled_at": schedule.first_run,
            "state": State.SCHEDULED,
        }


def _wrong_state(campaign, target: str, allowed: tuple[str, ...]) -> str:
    return (
        f"campaign {campaign.id} is {campaign.state}; only {', '.join(allowed)} campaigns "
        f"can be {target}"
    )
