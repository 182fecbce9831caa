"""The people's mediation register (bot/records/mediation.py).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mediation_cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reference", sa.String(16), nullable=False, unique=True),
        sa.Column("accepted_on", sa.Date, nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("committee", sa.String(8)),
        sa.Column("committee_name", sa.String(64)),
        sa.Column("mediator", sa.String(64)),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("closed_on", sa.Date),
        sa.Column("village", sa.String(64)),
        sa.Column("user_id", sa.String(32)),
        sa.Column("reply_here", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("phone_sealed", sa.Text),
        sa.Column("description_sealed", sa.Text),
        sa.Column("personal_deleted_on", sa.Date),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_mediation_cases_accepted_on", "mediation_cases", ["accepted_on"])
    op.create_index("ix_mediation_cases_state", "mediation_cases", ["state"])
    op.create_index("ix_mediation_cases_user_id", "mediation_cases", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_mediation_cases_user_id", "mediation_cases")
    op.drop_index("ix_mediation_cases_state", "mediation_cases")
    op.drop_index("ix_mediation_cases_accepted_on", "mediation_cases")
    op.drop_table("mediation_cases")
