"""The records: the engine, pseudonymous ids, one module of models per domain, the writer.

    engine.py        the database engine (SQLite's WAL, busy timeout), whether it answers
    pseudonyms.py    the keyed hash that stands for a resident's OpenID
    base.py          the declarative Base every model shares; now(), upsert
    interactions.py  followers, events, unanswered questions; an Interaction as written
    writer.py        the group commit of interactions, in the driver's own SQL
    staff.py         console accounts, their roles, the audit log of what staff did
    knowledge.py     knowledge-base drafts written in the console, until published
    rollups.py       offline activities and the roll-up's daily tables
    mediation.py     the people's mediation register (personal fields sealed)
    schema.py        creating and upgrading the schema (migrations/, Alembic)

The campaigns' tables are scheduler/'s own (scheduler/models.py), on this Base.
"""

from .base import Base, aware, now, upsert
from .engine import database_answers, make_engine
from .interactions import (
    EVENT_COLUMNS,
    ROW_ATTRIBUTES,
    Event,
    Follower,
    Interaction,
    UnansweredQuestion,
)
from .knowledge import DraftState, KbDraft
from .mediation import MediationCase
from .pseudonyms import pseudonym
from .rollups import Activity, DailyCount, DailyUser, RollupState, UnansweredDaily
from .staff import (
    ACTIONS,
    COMMAND_LINE,
    PERMISSIONS,
    ROLE_NAMES,
    AuditEntry,
    Role,
    StaffUser,
    allowed,
    audit,
)
from .writer import RecentFollowers, record_batch, write_batch

__all__ = [
    "ACTIONS",
    "COMMAND_LINE",
    "PERMISSIONS",
    "ROLE_NAMES",
    "AuditEntry",
    "Role",
    "allowed",
    "audit",
    "EVENT_COLUMNS",
    "ROW_ATTRIBUTES",
    "Activity",
    "Base",
    "DailyCount",
    "DailyUser",
    "DraftState",
    "Event",
    "Follower",
    "Interaction",
    "KbDraft",
    "MediationCase",
    "RecentFollowers",
    "RollupState",
    "StaffUser",
    "UnansweredDaily",
    "UnansweredQuestion",
    "aware",
    "database_answers",
    "make_engine",
    "now",
    "pseudonym",
    "record_batch",
    "upsert",
    "write_batch",
]
