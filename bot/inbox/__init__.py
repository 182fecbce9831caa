"""The message path: a verified message in, its reply out, its record written once.

webhook.py   /wechat as a WSGI handler in front of Flask; request ids
inbox.py     answer, claim against retries, record, send late when slow
dedupe.py    WeChat's retries: answered once, recorded once
dispatch.py  message kind -> handler; each handler returns an Outcome
journal.py   each interaction on disk before its reply leaves; replay
recorder.py  the group commit: one writer thread per process
"""

from .dedupe import Deduper
from .inbox import TRIAL_PREFIX, Inbox, is_trial
from .recorder import Recorder
from .webhook import REQUEST_ID, RequestIds, Webhook

__all__ = [
    "REQUEST_ID",
    "TRIAL_PREFIX",
    "Deduper",
    "Inbox",
    "Recorder",
    "RequestIds",
    "Webhook",
    "is_trial",
]
