"""Campaigns and their recipients (the customer-service send checkpoint).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("theme", sa.String(32), nullable=False),
        sa.Column("content_kind", sa.String(16), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("audience", sa.String(300), nullable=False),
        sa.Column("schedule_kind", sa.String(16)),
        sa.Column("schedule", sa.String(120)),
        sa.Column("scheduled_at", TZ),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("recipients", sa.Integer, nullable=False),
        sa.Column("sent", sa.Integer, nullable=False),
        sa.Column("skipped", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("filtered", sa.Integer),
        sa.Column("msg_id", sa.String(32)),
        sa.Column("started_at", TZ),
        sa.Column("finished_at", TZ),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_campaigns_state", "campaigns", ["state"])
    op.create_index("ix_campaigns_msg_id", "campaigns", ["msg_id"])
    op.create_table(
        "campaign_recipients",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("follower_id", sa.Integer, sa.ForeignKey("followers.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("errcode", sa.Integer),
        sa.Column("attempted_at", TZ),
        sa.Column("sent_at", TZ),
        sa.UniqueConstraint("campaign_id", "follower_id"),
    )
    op.create_index("ix_campaign_recipients_campaign_id", "campaign_recipients", ["campaign_id"])


def downgrade() -> None:
    op.drop_table("campaign_recipients")
    op.drop_table("campaigns")
