"""FAFSA season counts, stored at each refresh

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

The pipeline page's FAFSA season chart read its counts from the students, enrollments and
FAFSA tables on the first view after each refresh: 2.5 to 3.5 s at 100,000 students, most
of it finding the transfers out. The refresh now stores the counts (a few thousand rows),
like the pipeline cube, so every view reads them (indicators.fafsa_season.season_counts).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fafsa_season_seniors",
        sa.Column("class_of", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("seniors", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("class_of", "school_id"),
    )
    op.create_table(
        "fafsa_season_completions",
        sa.Column("class_of", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("status_date", sa.Date(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("class_of", "school_id", "status_date"),
    )


def downgrade() -> None:
    op.drop_table("fafsa_season_completions")
    op.drop_table("fafsa_season_seniors")
