"""Events: one index on (created_at, user_id) instead of one on user_id alone.

Every query that reads `events.user_id` bounds it by time (distinct residents of a
period, engagement after a campaign, the nightly roll-up), and an index on user_id
alone put each new row on a page of its own resident: under a busy webhook that
index cost the writer more than the rest of the row (about 50 µs a row on SQLite,
growing with the table). New rows go to the end of (created_at, user_id), and it also
answers "who wrote in this period" from the index alone.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_events_created_at_user_id", "events", ["created_at", "user_id"])
    op.drop_index("ix_events_user_id", "events")


def downgrade() -> None:
    op.create_index("ix_events_user_id", "events", ["user_id"])
    op.drop_index("ix_events_created_at_user_id", "events")
