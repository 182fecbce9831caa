"""Outreach statistics: offline activities, rolled-up daily figures, frozen engagement.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("theme", sa.String(32)),
        sa.Column("attendance", sa.Integer),
        sa.Column("scene", sa.String(64)),
        sa.Column("note", sa.Text),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_activities_held_on", "activities", ["held_on"])
    op.create_index("ix_activities_scene", "activities", ["scene"])
    op.create_table(
        "daily_counts",
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("metric", sa.String(16), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("day", "metric", "key"),
    )
    op.create_table(
        "daily_users",
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("day", "user_id"),
    )
    op.create_table(
        "unanswered_daily",
        sa.Column(
            "text_hash",
            sa.String(64),
            sa.ForeignKey("unanswered_questions.text_hash"),
            nullable=False,
        ),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("text_hash", "day"),
    )
    op.create_index("ix_unanswered_daily_day", "unanswered_daily", ["day"])
    op.create_table(
        "rollup_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("aggregated_day", sa.Date, nullable=False),
        sa.Column("aggregated_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "campaign_engagement",
        sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), primary_key=True),
        sa.Column("engaged", sa.Integer, nullable=False),
        sa.Column("window_start", TZ, nullable=False),
        sa.Column("window_end", TZ, nullable=False),
        sa.Column("frozen_at", TZ, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("campaign_engagement")
    op.drop_table("rollup_state")
    op.drop_index("ix_unanswered_daily_day", "unanswered_daily")
    op.drop_table("unanswered_daily")
    op.drop_table("daily_users")
    op.drop_table("daily_counts")
    op.drop_index("ix_activities_scene", "activities")
    op.drop_index("ix_activities_held_on", "activities")
    op.drop_table("activities")
