"""People's mediation: residents ask on the account, staff keep the case register.

    tables.py        kinds of dispute, states, sources, committees, with Chinese names
    privacy.py       sealing the phone number and description at rest; phone numbers
    register.py      add, list, show, assign, update, close; forgetting personal fields
    conversation.py  the request form on the account, and 我的调解
    notify.py        the customer-service message when a case moves
    figures.py       the period's counts for the summary, exports and report

The CLI (bot/cli/mediation.py), the console (bot/console/mediation.py) and the inbox
call this room; the figures read `figures.period`.
"""

from .conversation import MENU_KEYS, Intake, Step
from .privacy import Sealer
from .register import Committees, cases, change, close, find, forget
from .register import add as add_case
from .tables import CLOSED, COMMITTEES, KINDS, OPEN, SOURCES, STATES

__all__ = [
    "CLOSED",
    "COMMITTEES",
    "KINDS",
    "MENU_KEYS",
    "OPEN",
    "SOURCES",
    "STATES",
    "Committees",
    "Intake",
    "Sealer",
    "Step",
    "add_case",
    "cases",
    "change",
    "close",
    "find",
    "forget",
]
