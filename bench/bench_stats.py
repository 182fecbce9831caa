"""Statistics at scale: a year of 1,000,000 events, then the figures staff ask for.

Fills a fresh database with a year of realistic traffic (20,000 residents; questions,
voice, menu clicks, subscribes with QR scenes; mass and customer-service campaigns with
their recipients; offline activities), then prints:

- `summary` of the year (the figures of `legalbot stats summary --json`), best of 3;
- the daily series of the year;
- `legalbot stats export --format xlsx` for the year, as its own process: wall time and
  peak memory (max RSS of the child);
- the roll-up of every event, and whether every figure of the year is unchanged after it.

    python bench/bench_stats.py [--events 1000000] [--database sqlite|postgresql|URL]

`postgresql` creates a scratch database on 127.0.0.1:5432 (trust auth) and drops it.
Targets: summary < 1 s, xlsx export < 20 s with peak memory < 300 MB.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import figures, records  # noqa: E402
from bot.figures import rollup  # noqa: E402
from bot.records import schema  # noqa: E402
from scheduler import models  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
YEAR = 2025
RESIDENTS = 20_000
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
THEMES = [
    "fraud", "drugs", "constitution", "customs", "mediation", "legal_aid", "minors", "women",
    "consumer", "elderly", "damages", "traffic", "neighbor", "marriage_family", "contract",
    "land", "labor",
]  # fmt: skip
KINDS = [  # (kind, weight, is_message, is_question)
    ("text", 45, True, True),
    ("voice", 5, True, True),
    ("image", 3, True, False),
    ("click", 25, False, False),
    ("view", 7, False, False),
    ("subscribe", 6, False, False),
    ("unsubscribe", 3, False, False),
    ("scan", 3, False, False),
    ("location", 3, True, False),
]
SCENES = [f"market-{YEAR}-{m:02d}" for m in range(1, 13)] + ["lecture-school", "poster-town"]
TARGET_SUMMARY_S, TARGET_EXPORT_S, TARGET_MEMORY_MB = 1.0, 20.0, 300


def generate(n: int, seed: int = 7):
    """n event rows spread over the year, busier by day than by night."""
    rng = random.Random(seed)
    users = [hashlib.sha256(f"u{i}".encode()).hexdigest()[:32] for i in range(RESIDENTS)]
    weights = [w for _, w, _, _ in KINDS]
    start = datetime(YEAR, 1, 1, tzinfo=TZ).astimezone(UTC)
    seconds = 365 * 86400
    for i in range(n):
        kind, _, is_message, is_question = rng.choices(KINDS, weights)[0]
        offset = rng.randrange(seconds)
        if rng.random() < 0.7:  # daytime in Shanghai (08:00-22:00 local = 00:00-14:00 UTC)
            offset = offset - offset % 86400 + rng.randrange(14 * 3600)
        matched = rng.random() < 0.65 if is_question else None
        theme = rng.choice(THEMES) if matched else None
        yield {
            "dedupe_key": f"b{i}",
            "created_at": start + timedelta(seconds=offset),
            "user_id": users[int(rng.paretovariate(1.2) * 50) % RESIDENTS],
            "kind": kind,
            "is_message": is_message,
            "is_question": is_question,
            "matched": matched,
            "reply_kind": ("answer" if matched else "fallback") if is_question else None,
            "theme": theme,
            "entry_id": f"{theme}-entry-{rng.randrange(12)}" if matched else None,
            "event_key": f"THEME_{rng.choice(THEMES)}" if kind == "click" else None,
            "scene": rng.choice(SCENES) if kind in ("subscribe", "scan") and rng.random() < 0.5 else None,
        }  # fmt: skip


def fill(engine: sa.Engine, n: int) -> float:
    began = time.perf_counter()
    table = records.Event.__table__
    batch: list[dict] = []
    with engine.begin() as conn:
        for row in generate(n):
            batch.append(row)
            if len(batch) == 20_000:
                conn.execute(table.insert(), batch)
                batch.clear()
        if batch:
            conn.execute(table.insert(), batch)
        now = datetime.now(UTC)
        followers = [
            {
                "openid": f"o{secrets.token_hex(12)}",
                "user_id": hashlib.sha256(f"u{i}".encode()).hexdigest()[:32],
                "subscribed": True,
                "created_at": now,
            }
            for i in range(RESIDENTS)
        ]
        conn.execute(records.Follower.__table__.insert(), followers)
        ids = conn.execute(sa.select(records.Follower.id)).scalars().all()
        rng = random.Random(3)
        for month in range(1, 13):
            for audience in ("all", "openids:/srv/list.txt"):
                started = datetime(YEAR, month, 10, 9, tzinfo=TZ).astimezone(UTC)
                cid = conn.execute(
                    models.Campaign.__table__.insert()
                    .values(
                        name=f"{month}月普法推送（{audience[:3]}）",
                        theme=rng.choice(THEMES),
                        content_kind="text",
                        content="{}",
                        audience=audience,
                        state="sent",
                        recipients=2000,
                        sent=1900,
                        skipped=80,
                        failed=20,
                        filtered=15 if audience == "all" else None,
                        started_at=started,
                        finished_at=started,
                        revision=1,
                        created_at=started,
                        updated_at=started,
                    )
                    .returning(models.Campaign.id)
                ).scalar_one()
                if audience != "all":
                    conn.execute(
                        models.CampaignRecipient.__table__.insert(),
                        [
                            {
                                "campaign_id": cid,
                                "follower_id": f,
                                "status": "sent",
                                "sent_at": started + timedelta(seconds=k),
                            }
                            for k, f in enumerate(rng.sample(ids, 2000))
                        ],
                    )
        conn.execute(
            records.Activity.__table__.insert(),
            [
                {
                    "held_on": date(YEAR, 1, 1) + timedelta(days=3 * k),
                    "kind": rng.choice(["market", "lecture", "school", "training"]),
                    "place": f"第{k}村",
                    "attendance": rng.randrange(20, 300),
                    "scene": rng.choice(SCENES),
                    "created_at": now,
                }
                for k in range(100)
            ],
        )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - began


def timed(fn, repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        began = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - began)
    return best, result


def export_in_child(url: str, out: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of `legalbot stats export --format xlsx` for the year.

    RUSAGE_CHILDREN holds the largest child so far; each export runs in a fresh helper
    process so that every measurement is its own.
    """
    env = {**os.environ, "LEGALBOT_DATABASE_URL": url, "LEGALBOT_TIMEZONE": TZ.key}
    command = [sys.executable, "-m", "bot.cli", "stats", "export", "--format", "xlsx"]
    command += ["--out", str(out), "--from", f"{YEAR}-01-01", "--to", f"{YEAR}-12-31"]
    probe = (
        "import resource, subprocess, sys, time\n"
        "began = time.perf_counter()\n"
        "subprocess.run(sys.argv[1:], check=True, capture_output=True)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(time.perf_counter() - began, peak)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, *command],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    wall, peak = result.stdout.split()
    return float(wall), float(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database", default="sqlite", help="sqlite, postgresql or a URL")
    args = parser.parse_args()
    scratch = tempfile.TemporaryDirectory()
    pg_name = None
    if args.database == "sqlite":
        url = f"sqlite:///{scratch.name}/bench.db"
    elif args.database == "postgresql":
        pg_name = f"legalbot_bench_{secrets.token_hex(4)}"
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{pg_name}"')
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + pg_name
    else:
        url = args.database
    try:
        engine = records.make_engine(url)
        schema.upgrade(engine)
        print(f"database: {engine.dialect.name}; events: {args.events:,}")
        print(f"fill: {fill(engine, args.events):.1f} s")
        year = (date(YEAR, 1, 1), date(YEAR, 12, 31))
        xlsx = Path(scratch.name) / "year.xlsx"

        def every_figure() -> list:
            return [figures.summary(engine, TZ, *year).to_json()] + [
                figures.series(engine, TZ, *year, g) for g in figures.GRANULARITIES
            ]

        print("-- raw events only (no roll-up has run yet)")
        seconds, raw_summary = timed(lambda: figures.summary(engine, TZ, *year).to_json(), repeat=1)
        print(f"summary of the year: {seconds * 1000:.0f} ms")
        print(
            f"  messages {raw_summary['messages_received']:,}, residents "
            f"{raw_summary['unique_users']:,}, answered {raw_summary['answered']:,}, "
            f"campaigns {len(raw_summary['campaigns'])}"
        )
        wall, peak = export_in_child(url, xlsx)
        print(f"xlsx export (own process): {wall:.1f} s, peak memory {peak:.0f} MB")
        before = every_figure()

        print("-- after the nightly roll-up aggregated the closed days (raw events kept)")
        began = time.perf_counter()
        done = rollup.rollup(engine, TZ, 0, now=datetime(YEAR + 1, 1, 1, 12, tzinfo=UTC))
        print(f"aggregating {done.aggregated_days} days: {time.perf_counter() - began:.1f} s")
        seconds, _ = timed(lambda: figures.summary(engine, TZ, *year).to_json())
        flag = "ok" if seconds < TARGET_SUMMARY_S else "OVER TARGET"
        print(f"summary of the year: {seconds * 1000:.0f} ms ({flag}, target < 1 s)")
        seconds, _ = timed(lambda: figures.series(engine, TZ, *year, "day"))
        print(f"daily series of the year: {seconds * 1000:.0f} ms")
        wall, peak = export_in_child(url, xlsx)
        flag = "ok" if wall < TARGET_EXPORT_S and peak < TARGET_MEMORY_MB else "OVER TARGET"
        print(f"xlsx export (own process): {wall:.1f} s, peak memory {peak:.0f} MB ({flag})")
        print(f"every figure unchanged by aggregating: {every_figure() == before}")

        print("-- after the retention deleted every raw event")
        began = time.perf_counter()
        done = rollup.rollup(engine, TZ, 30, now=datetime(YEAR + 1, 6, 1, tzinfo=UTC))
        print(
            f"deleting {done.deleted_events:,} events: {time.perf_counter() - began:.1f} s; "
            f"every figure unchanged: {every_figure() == before}"
        )
        seconds, _ = timed(lambda: figures.summary(engine, TZ, *year).to_json())
        print(f"summary of the year: {seconds * 1000:.0f} ms")
        engine.dispose()
    finally:
        if pg_name:
            admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        scratch.cleanup()


if __name__ == "__main__":
    main()
