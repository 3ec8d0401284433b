"""Partner capacity (issue 14)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

Partners' slots per service type, school (or any school: school_id "") and school year,
from the `capacity` import file or the steward's editor in Administration. Open slots are
the slots less the students served now; the coverage, realignment and suggestion views
read them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "capacity",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("service_type", sa.String(length=32), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("accepting_referrals", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organization.org_id"]),
        sa.PrimaryKeyConstraint("org_id", "school_id", "service_type", "school_year"),
    )


def downgrade() -> None:
    op.drop_table("capacity")
