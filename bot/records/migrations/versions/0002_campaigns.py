"""Campaigns and their recipients (the customer-service send checkpoint), the scheduler's
lease and job tables, and the `imported` flag of followers made from an OpenID file.

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
        sa.Column("presumed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("campaigns.id")),
        sa.Column("plan_key", sa.String(64), unique=True),
        sa.Column("sender", sa.String(128)),
        sa.Column("heartbeat_at", TZ),
        sa.UniqueConstraint("parent_id", "scheduled_at"),
    )
    op.create_index("ix_campaigns_parent_id", "campaigns", ["parent_id"])
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
    op.create_table(
        "scheduler_leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
    )
    # APScheduler 3's SQLAlchemyJobStore table (it would create it itself; here the
    # migrations own every table).
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.String(191), primary_key=True),
        sa.Column("next_run_time", sa.Float(25)),
        sa.Column("job_state", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_apscheduler_jobs_next_run_time", "apscheduler_jobs", ["next_run_time"])
    op.add_column(
        "followers",
        sa.Column("imported", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("followers") as batch:
        batch.drop_column("imported")
    op.drop_table("apscheduler_jobs")
    op.drop_table("scheduler_leases")
    op.drop_table("campaign_recipients")
    op.drop_table("campaigns")
