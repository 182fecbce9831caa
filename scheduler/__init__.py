"""Campaigns: legal-publicity pushes to followers, scheduled and sent apart from the webhook.

    service.py    what the front ends (CLI now, console later) ask for: create, schedule, …
    content.py    text, article card, knowledge-base digest: validated, rendered
    audience.py   all, tag:ID, active48h, openids:FILE
    schedules.py  --at, --calendar, --cron -> the first run and APScheduler's trigger
    calendar.py   the publicity calendar of the taxonomy, lunar dates included
    store.py      the statements on the campaign tables (claims, checkpoints, counts)
    sender.py     the sending machine: mass sends and the checkpointed customer-service fan-out
    wxcodes.py    what each WeChat error code means for a campaign
    lock.py       one scheduler at a time: a Redis lock or a database lease
    runner.py     the APScheduler runner: the leader's jobs follow the campaigns table
    cli.py        `legalbot campaign …` and `legalbot scheduler`

This package imports bot/; nothing in bot/ imports it (STYLE.md). It plugs into the
`legalbot` command and `legalbot serve` through entry points (bot/plugins.py).
"""
