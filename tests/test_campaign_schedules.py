"""`--at` and `--cron` as staff write them: the configured zone, crontab's weekdays."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.errors import CampaignError
from scheduler import schedules

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEDNESDAY = datetime(2026, 12, 2, 0, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("weekday", "first"),
    [
        ("1", "Mon"),  # crontab's 1 is Monday (APScheduler 3's own numbering would say Tuesday)
        ("0", "Sun"),
        ("7", "Sun"),
        ("1-5", "Wed"),
        ("5-7", "Fri"),
        ("sat,sun", "Sat"),
        ("*/2", "Thu"),  # Sunday, Tuesday, Thursday, Saturday
    ],
)
def test_cron_weekdays_are_numbered_as_in_crontab(weekday, first):
    schedule = schedules.parse_cron(f"0 9 * * {weekday}", SHANGHAI, WEDNESDAY)
    local = schedule.first_run.astimezone(SHANGHAI)
    assert (local.strftime("%a"), local.hour) == (first, 9)


def test_a_time_without_offset_is_in_the_configured_zone():
    schedule = schedules.parse_at("2026-12-04T09:00:30", SHANGHAI, WEDNESDAY)
    assert schedule.first_run == datetime(2026, 12, 4, 1, 0, 30, tzinfo=UTC)
    assert schedule.expr == "2026-12-04T09:00:30+08:00"
    other = schedules.parse_at("2026-12-04T09:00:00Z", SHANGHAI, WEDNESDAY)
    assert other.expr == "2026-12-04T17:00:00+08:00"


@pytest.mark.parametrize(
    "expr", ["0 9 * *", "0 9 * * 8", "0 9 * * 5-2", "61 * * * *", "0 9 * * mon/x"]
)
def test_bad_cron_lines_are_refused(expr):
    with pytest.raises(CampaignError, match="not a crontab expression"):
        schedules.parse_cron(expr, SHANGHAI, WEDNESDAY)
