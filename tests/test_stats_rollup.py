"""Old raw events are rolled up and deleted, and every figure of every period stays the same."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from bot import figures, records
from bot.figures import rollup
from bot.records import schema
from scheduler import models
from tests import statsdata
from tests.statsdata import SHANGHAI, at

PERIODS = [
    (date(2025, 3, 1), date(2025, 3, 9)),  # inside the first roll-up
    (date(2025, 3, 1), date(2025, 3, 31)),  # across it
    (date(2025, 3, 9), date(2025, 3, 10)),  # the two days either side of the cut
    (date(2025, 3, 10), date(2025, 3, 31)),  # after it, until the second roll-up
    (date(2025, 4, 1), date(2025, 4, 30)),  # outside the first
    (date(2025, 1, 1), date(2025, 12, 31)),  # the year
    (date(2025, 3, 2), date(2025, 3, 2)),  # one day
    (date(2024, 12, 1), date(2026, 1, 31)),  # wider than the data
]


@pytest.fixture
def engine(engine):
    """The shared empty database of each kind, holding the month of statsdata."""
    statsdata.load_month(engine)
    return engine


def every_figure(engine) -> list:
    found = []
    for start, end in PERIODS:
        found.append(figures.summary(engine, SHANGHAI, start, end).to_json())
        for granularity in figures.GRANULARITIES:
            found.append(figures.series(engine, SHANGHAI, start, end, granularity))
    return found


def raw_events(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(records.Event)).scalar_one()


def test_rolling_up_changes_no_figure_of_any_period(engine):
    before = every_figure(engine)
    # On 9 April 2025, keeping 30 days: every closed day is aggregated (the nine with
    # events), the raw events of days before 10 March are deleted.
    first = rollup.rollup(engine, SHANGHAI, 30, now=at("2025-04-09 12:00"))
    assert (first.aggregated_days, first.aggregated_until) == (9, date(2025, 4, 9))
    assert (first.deleted_events, first.deleted_before) == (8, date(2025, 3, 10))
    assert first.campaigns_frozen == 3  # all sent, all their 72-hour windows closed
    assert raw_events(engine) == len(statsdata.EVENTS) - 8
    assert every_figure(engine) == before
    # A year later everything is deleted: still the same figures.
    second = rollup.rollup(engine, SHANGHAI, 30, now=at("2026-04-09 12:00"))
    assert (second.aggregated_days, second.campaigns_frozen) == (0, 0)
    assert raw_events(engine) == 0
    assert every_figure(engine) == before


def test_aggregating_without_deleting_keeps_the_raw_events_and_the_figures(engine):
    before = every_figure(engine)
    done = rollup.rollup(engine, SHANGHAI, 0, now=at("2025-03-11 09:00"))
    assert (done.aggregated_until, done.deleted_before, done.deleted_events) == (
        date(2025, 3, 11),
        None,
        0,
    )
    assert done.campaigns_frozen == 1  # the mass send; the 10 March one is still open
    assert raw_events(engine) == len(statsdata.EVENTS)
    assert every_figure(engine) == before
    # New days keep coming in after the watermark; an hour's grace after midnight.
    early = rollup.rollup(engine, SHANGHAI, 0, now=at("2025-03-12 00:30"))
    assert early.aggregated_until == date(2025, 3, 11)
    assert every_figure(engine) == before


def test_rolling_up_again_does_nothing_more(engine):
    rollup.rollup(engine, SHANGHAI, 30, now=at("2025-04-09 12:00"))
    after_first = every_figure(engine)
    again = rollup.rollup(engine, SHANGHAI, 30, now=at("2025-04-09 12:00"))
    assert (again.aggregated_days, again.deleted_events, again.campaigns_frozen) == (0, 0, 0)
    assert every_figure(engine) == after_first


def test_what_remains_of_a_rolled_up_day_names_no_resident(engine):
    rollup.rollup(engine, SHANGHAI, 30, now=at("2026-04-09 12:00"))
    with engine.connect() as conn:
        presence = conn.execute(select(records.DailyUser.day, records.DailyUser.user_id)).all()
        counts = conn.execute(select(records.DailyCount.key)).scalars().all()
    # The only per-resident trace: the pseudonym of each resident who wrote on a day.
    assert {user for _, user in presence} == {statsdata.user(w) for w in "ABCD"}
    assert len(presence) == 5  # A 1 Mar (twice, kept once), B 2 Mar, D 3 Mar, C 10 Mar, B 1 Apr
    stored = " ".join(str(v) for row in presence for v in row) + " ".join(counts)
    for openid in statsdata.OPENIDS.values():
        assert openid not in stored


def test_a_campaign_window_still_open_keeps_its_events(engine):
    # The customer-service send of 10 March was resumed on 14 March for B: its last
    # window closes on 17 March 10:00. Rolling up on 15 March with 4 days kept would cut
    # at 11 March; the cut moves back to the send's day instead, so nothing it still
    # needs is deleted, and its engagement is not frozen yet.
    with engine.begin() as conn:
        campaign = conn.execute(
            select(models.Campaign.id).where(models.Campaign.name == "欠薪提醒")
        ).scalar_one()
        follower = conn.execute(
            select(records.Follower.id).where(records.Follower.openid == statsdata.OPENIDS["B"])
        ).scalar_one()
        conn.execute(
            models.CampaignRecipient.__table__.insert().values(
                campaign_id=campaign,
                follower_id=follower,
                status="sent",
                sent_at=at("2025-03-14 10:00"),
            )
        )
    statsdata.add_event(engine, "2025-03-16 09:00", "B", statsdata.MISS)
    before = every_figure(engine)
    engaged = {c["name"]: c["engaged"] for c in before[5]["campaigns"]}
    assert engaged["欠薪提醒"] == 2  # C, and now B within his own 72 hours
    report = rollup.rollup(engine, SHANGHAI, 4, now=at("2025-03-15 08:00"))
    assert report.deleted_before == date(2025, 3, 10)
    assert report.campaigns_frozen == 1  # only the mass send of 2 March
    assert every_figure(engine) == before
    later = rollup.rollup(engine, SHANGHAI, 4, now=at("2025-03-18 08:00"))
    assert later.deleted_before == date(2025, 3, 14) and later.campaigns_frozen == 1
    assert every_figure(engine) == before


def test_two_roll_ups_at_once_count_each_day_once(engine):
    """Cron's roll-up and one run by hand at the same moment: neither adds a day twice."""
    import threading

    before = every_figure(engine)
    reports, errors = [], []

    def run():
        try:
            reports.append(rollup.rollup(engine, SHANGHAI, 30, now=at("2025-04-09 12:00")))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(r.aggregated_days for r in reports) == 9  # each day with events, once
    assert every_figure(engine) == before


def test_a_retention_shorter_than_the_engagement_window_is_refused(engine):
    with pytest.raises(ValueError):
        rollup.rollup(engine, SHANGHAI, 2)


def test_legalbot_serve_rolls_up_every_night_at_half_past_two(tmp_path):
    from datetime import time

    from bot.plugins import EMBEDDED, load
    from tests.conftest import make_config

    assert rollup.start_embedded in load(EMBEDDED)  # `legalbot serve` starts it
    config = make_config(tmp_path, stats={"retention_days": 30})
    engine = records.make_engine(config.database_url)
    schema.upgrade(engine)
    statsdata.load_month(engine)
    before = every_figure(engine)
    nightly = rollup.start_embedded(config)
    try:
        next_run = nightly.job.next_run_time.astimezone(SHANGHAI)
        assert next_run.time() == time(2, 30)
        report = nightly.run()  # what the job does at 02:30
        assert report.deleted_events == len(statsdata.EVENTS)
    finally:
        nightly.shutdown()
    assert raw_events(engine) == 0
    assert every_figure(engine) == before
