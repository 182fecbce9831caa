"""Followers, events, unanswered questions and staff users.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "followers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("openid", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.String(32), nullable=False, unique=True),
        sa.Column("subscribed", sa.Boolean, nullable=False),
        sa.Column("scene", sa.String(64)),
        sa.Column("subscribed_at", TZ),
        sa.Column("unsubscribed_at", TZ),
        sa.Column("last_interaction_at", TZ),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_followers_last_interaction_at", "followers", ["last_interaction_at"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dedupe_key", sa.String(96), nullable=False, unique=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("is_message", sa.Boolean, nullable=False),
        sa.Column("is_question", sa.Boolean, nullable=False),
        sa.Column("matched", sa.Boolean),
        sa.Column("reply_kind", sa.String(16)),
        sa.Column("theme", sa.String(32)),
        sa.Column("entry_id", sa.String(64)),
        sa.Column("event_key", sa.String(128)),
        sa.Column("scene", sa.String(64)),
    )
    op.create_index("ix_events_created_at", "events", ["created_at"])
    op.create_index("ix_events_user_id", "events", ["user_id"])
    op.create_table(
        "unanswered_questions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("text_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("first_seen", TZ, nullable=False),
        sa.Column("last_seen", TZ, nullable=False),
    )
    op.create_index("ix_unanswered_questions_last_seen", "unanswered_questions", ["last_seen"])
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("staff_users")
    op.drop_table("unanswered_questions")
    op.drop_table("events")
    op.drop_table("followers")
