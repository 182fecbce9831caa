"""A campaign's states and moves are one table (scheduler/states.py) that every part
goes by: what the service allows, what the store refuses."""

from __future__ import annotations

import pytest

from bot import records
from bot.records import schema
from scheduler import service, store
from scheduler.states import FINISHED, MOVES, State, sources


def test_every_state_has_its_moves_and_the_contract_names_them_all():
    assert set(MOVES) == set(State)
    assert [s.value for s in State] == [
        "draft",
        "scheduled",
        "sending",
        "paused",
        "sent",
        "failed",
        "cancelled",
        "missed",
    ]
    assert MOVES[State.CANCELLED] == frozenset()  # cancelled is the end
    assert set(FINISHED) >= {State.SENT, State.FAILED, State.CANCELLED}


def test_what_the_service_allows_comes_from_the_table():
    assert set(service.SCHEDULABLE) == {s for s in State if State.SCHEDULED in MOVES[s]}
    assert set(service.CANCELLABLE) == {s for s in State if State.CANCELLED in MOVES[s]}
    assert State.SENT not in service.SENDABLE and State.CANCELLED not in service.SENDABLE
    assert set(sources(State.SENT)) == {State.SENDING, State.SENT, State.FAILED}


def test_the_store_refuses_a_move_the_table_does_not_have(tmp_path):
    engine = records.make_engine(f"sqlite:///{tmp_path}/c.db")
    schema.upgrade(engine)
    campaign = store.insert_campaign(
        engine, name="n", theme="fraud", content_kind="text", content="{}", audience="all"
    )
    with pytest.raises(ValueError, match="no move from cancelled to scheduled"):
        store.transition(engine, campaign, (State.CANCELLED,), state=State.SCHEDULED)
    assert store.transition(engine, campaign, (State.DRAFT,), state=State.CANCELLED)
    assert not store.transition(engine, campaign, (State.DRAFT,), state=State.CANCELLED)
    assert store.get(engine, campaign).state == "cancelled"
    engine.dispose()
