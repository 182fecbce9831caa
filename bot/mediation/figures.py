"""The register's figures for a period (`stats summary`'s `mediation`): counts only,
never a personal field. A case counts in the period it was accepted in."""

from __future__ import annotations

import statistics
from datetime import date
from typing import Any

from sqlalchemy import Connection, exists, select

from ..records import MediationCase
from . import tables

# Outcomes a mediation can have; a withdrawn case was not mediated to an end.
MEDIATED = (tables.SETTLED, tables.NOT_SETTLED, tables.REFERRED)


def any_case(conn: Connection) -> bool:
    return bool(conn.scalar(select(exists().where(MediationCase.id.is_not(None)))))


def period(conn: Connection, start: date, end: date) -> dict[str, Any] | None:
    """The period's figures, or None when the register holds no case at all."""
    if not any_case(conn):
        return None
    query = select(
        MediationCase.kind,
        MediationCase.committee,
        MediationCase.source,
        MediationCase.state,
        MediationCase.accepted_on,
        MediationCase.closed_on,
    ).where(MediationCase.accepted_on >= start, MediationCase.accepted_on <= end)
    rows = conn.execute(query).all()
    by_type = dict.fromkeys(tables.KINDS, 0)
    by_committee = dict.fromkeys(tables.COMMITTEES, 0)
    by_source = dict.fromkeys(tables.SOURCES, 0)
    by_state = dict.fromkeys(tables.STATES, 0)
    days = []
    for kind, committee, source, state, accepted_on, closed_on in rows:
        by_type[kind if kind in by_type else "other"] += 1
        if committee in by_committee:
            by_committee[committee] += 1
        by_source[source] = by_source.get(source, 0) + 1
        by_state[state] = by_state.get(state, 0) + 1
        if state in tables.CLOSED and closed_on is not None:
            days.append((closed_on - accepted_on).days)
    mediated = sum(by_state[s] for s in MEDIATED)
    settled = by_state[tables.SETTLED]
    return {
        "cases": len(rows),
        "by_type": by_type,
        "by_committee": by_committee,
        "by_source": by_source,
        "by_state": by_state,
        "open": sum(by_state[s] for s in tables.OPEN),
        "settled": settled,
        "success_rate": round(settled / mediated, 4) if mediated else None,
        "median_days_to_close": statistics.median(days) if days else None,
    }
