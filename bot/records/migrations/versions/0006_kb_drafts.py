"""Knowledge-base drafts: entries written or edited in the console, waiting to be published.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_drafts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("entry_id", sa.String(120), nullable=False),
        sa.Column("theme", sa.String(40), nullable=False),
        sa.Column("is_new", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("base_digest", sa.String(64), nullable=False, server_default=""),
        sa.Column("state", sa.String(16), nullable=False, server_default="draft"),
        sa.Column("problems", sa.Text, nullable=False, server_default=""),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(64), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_kb_drafts_entry_id", "kb_drafts", ["entry_id"])
    op.create_index("ix_kb_drafts_state", "kb_drafts", ["state"])


def downgrade() -> None:
    op.drop_index("ix_kb_drafts_state", "kb_drafts")
    op.drop_index("ix_kb_drafts_entry_id", "kb_drafts")
    op.drop_table("kb_drafts")
