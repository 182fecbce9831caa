"""Customer-service fan-out: one campaign to 10,000 followers against the loopback WeChat fake.

Makes a database with N followers inside the 48-hour window, a campaign to `active48h`,
and runs the real `legalbot campaign send ID --json` as a child process against
tests/wxfake.py (in this process, on 127.0.0.1). Prints messages per second (from the
campaign's own started/finished times, and wall time including the process start), the
sender's peak memory (maximum resident set of the child), and the proof of delivery:
the number of messages the fake accepted for each OpenID (every follower exactly once).

    python bench/bench_campaign.py [--followers 10000] [--concurrency N] [--rate N]
        [--delay SECONDS] [--database sqlite|URL]

--concurrency defaults to config.toml's campaigns.concurrency; --rate (messages/s) to a
ceiling high enough not to be the limit, so the figure is the sender's own. --delay
holds each fake answer that long (WeChat's real latency is tens of milliseconds).
Everything runs on 127.0.0.1 and ends by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import records  # noqa: E402
from bot.records import schema  # noqa: E402
from scheduler import models  # noqa: E402
from tests.wxfake import FakeWeChat, fake_openid  # noqa: E402

APPID, SECRET, KEY = "wxbench000000000", "benchsecret", "bench-secret-key"


def main() -> None:
    shipped = tomllib.loads((ROOT / "config.toml").read_text())["campaigns"]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=shipped["concurrency"])
    parser.add_argument("--rate", type=int, default=10000, help="messages/s ceiling")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds per fake answer")
    parser.add_argument("--database", default="sqlite", help="sqlite, or a SQLAlchemy URL")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-campaign-"))
    db_url = f"sqlite:///{work}/bench.db" if args.database == "sqlite" else args.database
    openids = [fake_openid(i) for i in range(args.followers)]
    with FakeWeChat(appid=APPID, secret=SECRET, followers=openids) as fake:
        fake.delay(args.delay)
        env = _environment(work, db_url, fake.base_url, args)
        campaign_id = _prepare(db_url, openids, env)
        started = time.monotonic()
        child = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "campaign", "send", campaign_id, "--json"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        out, _ = child.communicate(timeout=3600)
        wall = time.monotonic() - started
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        per_openid = Counter(openid for openid, _, _ in fake.sent)
    if child.returncode != 0:
        sys.exit(f"send failed with status {child.returncode}: {out}")
    shown = json.loads(out)
    shown["seconds"] = _send_seconds(db_url, int(shown["id"]))
    _report(args, db_url, shown, wall, peak_kib, per_openid, openids)


def _send_seconds(db_url: str, campaign_id: int) -> float:
    """started_at to finished_at at full precision (the JSON shows whole seconds)."""
    engine = records.make_engine(db_url)
    with engine.connect() as conn:
        begun, ended = conn.execute(
            models.Campaign.__table__.select()
            .with_only_columns(models.Campaign.started_at, models.Campaign.finished_at)
            .where(models.Campaign.id == campaign_id)
        ).one()
    engine.dispose()
    return max((ended - begun).total_seconds(), 1e-9)


def _environment(work: Path, db_url: str, api_base: str, args) -> dict[str, str]:
    config = work / "config.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[security]\nsecret_key = "{KEY}"\n'
        f'[general]\nvar_dir = "{work}/var"\n'
        f'[wechat]\ntoken = "benchtoken"\nappid = "{APPID}"\nsecret = "{SECRET}"\n'
        f'api_base = "{api_base}"\n[knowledge]\ncontent_dir = "{ROOT}/content"\n'
        f"[campaigns]\nconcurrency = {args.concurrency}\nrate_per_second = {args.rate}\n"
        '[server]\nlog_level = "WARNING"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGALBOT_")}
    return env | {"LEGALBOT_CONFIG": str(config)}


def _prepare(db_url: str, openids: list[str], env: dict[str, str]) -> str:
    engine = records.make_engine(db_url)
    schema.upgrade(engine)
    at = records.now() - timedelta(minutes=10)
    rows = [
        {
            "openid": o,
            "user_id": records.pseudonym(KEY, o),
            "subscribed": True,
            "last_interaction_at": at,
            "created_at": at,
        }
        for o in openids
    ]
    with engine.begin() as conn:
        conn.execute(records.Follower.__table__.insert(), rows)
    engine.dispose()
    created = subprocess.run(
        [sys.executable, "-m", "bot.cli", "campaign", "create", "--name", "bench", "--theme", "fraud",
         "--audience", "active48h", "--text", "谨防电信网络诈骗：公检法不会电话办案。"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return created.stdout.strip()


def _report(args, db_url, shown, wall, peak_kib, per_openid, openids) -> None:
    sending = shown["seconds"]
    copies = Counter(per_openid[o] for o in openids)
    backend = "SQLite" if db_url.startswith("sqlite") else db_url.split(":", 1)[0]
    print(f"followers              {len(openids)}")
    print(
        f"concurrency            {args.concurrency} (rate ceiling {args.rate}/s, fake delay {args.delay:g} s, {backend})"
    )
    print(
        f"campaign               {shown['state']}: sent {shown['sent']}, skipped {shown['skipped']}, failed {shown['failed']}, presumed {shown['presumed']}"
    )
    print(f"send time              {sending:.2f} s  -> {shown['sent'] / sending:.0f} messages/s")
    print(f"wall time (with start) {wall:.2f} s  -> {shown['sent'] / wall:.0f} messages/s")
    print(f"sender peak memory     {peak_kib / 1024:.0f} MiB (max RSS of the legalbot process)")
    print(
        f"messages at the fake   {sum(per_openid.values())} for {len(per_openid)} distinct OpenIDs"
    )
    print(
        "copies per OpenID      "
        + ", ".join(f"{n}x: {count}" for n, count in sorted(copies.items()))
    )
    exact = copies == Counter({1: len(openids)}) and set(per_openid) == set(openids)
    print(f"every follower once    {'yes' if exact else 'NO'}")
    if not exact:
        sys.exit(1)


if __name__ == "__main__":
    main()
