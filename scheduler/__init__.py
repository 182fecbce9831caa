"""Campaigns: legal-publicity pushes to followers, scheduled and sent apart from the webhook.

    service.py    what the front ends (CLI, console) ask for: create, schedule, …
    states.py     a campaign's states and the moves between them
    models.py     the campaign tables (campaigns, recipients, engagement, the scheduler's)
    massjob.py    WeChat's report on a mass send (MASSSENDJOBFINISH), handed on by the inbox
    figures.py    the campaigns' part of the outreach figures
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
    console.py    /admin/campaigns in the staff console (the `legalbot.console` entry point)
    forms.py      the console's forms, checked in Chinese, as the service's arguments
    words.py      states, audiences, schedules and recurring rules in Chinese
    sends.py      "send now" from the console: the send in a thread of the web worker

This package imports bot/; nothing in bot/ imports it (README, Code layout). It plugs into the
`legalbot` command, `legalbot serve`, the inbox and the figures through entry points
(bot/plugins.py, pyproject.toml).
"""
