"""Need and coverage, stored at each refresh (issue 14)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

The coverage view, the realignment view and the partner suggestions read these small
tables (a few thousand rows at 100,000 students) instead of the services, releases and
indicators, so they answer in milliseconds. The refresh replaces them in its transaction.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _count(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "coverage_need",
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("need", sa.String(length=32), nullable=False),
        *(
            _count(name)
            for name in (
                "flagged",
                "served_addressing",
                "served_addressing_with_release",
                "served_other",
                "unserved",
                "duplicated",
            )
        ),
        sa.PrimaryKeyConstraint("school_id", "need"),
    )
    op.create_table(
        "coverage_duplication",
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("service_type", sa.String(length=32), nullable=False),
        sa.Column("org_a", sa.String(length=64), nullable=False),
        sa.Column("org_b", sa.String(length=64), nullable=False),
        _count("students"),
        sa.PrimaryKeyConstraint("school_id", "service_type", "org_a", "org_b"),
    )
    op.create_table(
        "coverage_tier_support",
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        *(_count(name) for name in ("students", "no_service", "one_service", "two_or_more")),
        sa.PrimaryKeyConstraint("school_id", "tier"),
    )
    op.create_table(
        "coverage_served_now",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("service_type", sa.String(length=32), nullable=False),
        _count("students"),
        _count("students_with_release"),
        sa.PrimaryKeyConstraint("org_id", "school_id", "service_type"),
    )


def downgrade() -> None:
    for table in (
        "coverage_served_now",
        "coverage_tier_support",
        "coverage_duplication",
        "coverage_need",
    ):
        op.drop_table(table)
