"""A send killed for real (SIGKILL) mid-way and run again reaches each resident once."""

from __future__ import annotations

import json
import os
import signal
from collections import Counter

from tests.campaignkit import (
    add_followers,
    config_for,
    legalbot,
    make_fake,
    spawn,
    wait_for,
    write_config,
)


def test_restart_mid_send_sends_each_resident_once(tmp_path, db_url):
    with make_fake(30) as fake:
        config = config_for(tmp_path, fake, db_url=db_url, concurrency=2)
        env = write_config(tmp_path, fake, db_url=db_url, concurrency=2)
        add_followers(config, fake.followers)
        created = legalbot(
            env,
            "campaign",
            "create",
            "--name",
            "反诈",
            "--theme",
            "fraud",
            "--audience",
            "active48h",
            "--text",
            "谨防电信网络诈骗",
        )
        assert created.returncode == 0, created.stderr
        campaign_id = created.stdout.strip()
        fake.delay(0.2)

        first = spawn(env, "campaign", "send", campaign_id)
        # Kill while both workers wait inside WeChat for an answer: WeChat has their
        # messages, the sender has not recorded it; the worst moment to die.
        wait_for(lambda: len(fake.sent) >= 8 and fake.in_flight == 2, timeout=60)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        wait_for(lambda: fake.in_flight == 0)
        fake.delay(0)
        assert len(fake.sent) < 30

        again = legalbot(env, "campaign", "send", campaign_id, "--json")

        assert again.returncode == 0, again.stderr
        assert "Traceback" not in again.stderr
        assert not any(openid in again.stderr + again.stdout for openid in fake.followers)
        assert Counter(o for o, _, _ in fake.sent) == Counter(fake.followers)  # no copy, no gap
        done = json.loads(again.stdout)
        assert (done["state"], done["recipients"], done["sent"], done["presumed"]) == (
            "sent",
            30,
            30,
            2,
        )
