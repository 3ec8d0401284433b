"""program outcomes ("Is it working?")

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

The derived tables of issue 13, recomputed by the refresh: the exact estimates of every
program-year (`program_estimate`) and their privacy-protected version
(`program_estimate_public`), the baseline balance, the attendance trajectory (exact and
protected) and the served students (read only through the policy's student scope).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_KEYS = ("school_year", "org_id", "service_type", "measure", "group_by", "group_value")
_MEANS_AND_EFFECTS = (
    "served_before",
    "served_after",
    "comparison_before",
    "comparison_after",
    "effect",
    "ci_low",
    "ci_high",
    "effect_size",
)


def _program() -> list[sa.Column[Any]]:
    return [
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("service_type", sa.String(length=32), nullable=False),
    ]


def _estimate_keys() -> list[sa.Column[Any]]:
    return [
        *_program(),
        sa.Column("measure", sa.String(length=32), nullable=False),
        sa.Column("group_by", sa.String(length=32), nullable=False),
        sa.Column("group_value", sa.String(length=64), nullable=False),
    ]


def _estimate_figures() -> list[sa.Column[Any]]:
    return [
        *(sa.Column(name, sa.Float(), nullable=True) for name in _MEANS_AND_EFFECTS),
        sa.Column("effect_size_kind", sa.String(length=16), nullable=True),
        sa.Column("max_smd", sa.Float(), nullable=True),
        sa.Column("balance", sa.String(length=16), nullable=True),
        sa.Column("naive_effect", sa.Float(), nullable=True),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("mean_sessions", sa.Float(), nullable=True),
        sa.Column("mean_hours", sa.Float(), nullable=True),
    ]


def _trajectory_keys() -> list[sa.Column[Any]]:
    return [
        *_program(),
        sa.Column("group", sa.String(length=16), nullable=False),
        sa.Column("month_offset", sa.Integer(), nullable=False),
        sa.Column("absence_rate", sa.Float(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "program_estimate",
        *_estimate_keys(),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in ("served", "excluded", "matched", "comparison", "unserved")
        ),
        *_estimate_figures(),
        sa.PrimaryKeyConstraint(*_KEYS),
    )
    op.create_table(
        "program_estimate_public",
        *_estimate_keys(),
        *(
            column
            for name in ("served", "matched", "comparison")
            for column in (
                sa.Column(name, sa.Integer(), nullable=True),
                sa.Column(f"{name}_display", sa.String(length=16), nullable=False),
            )
        ),
        *_estimate_figures(),
        sa.PrimaryKeyConstraint(*_KEYS),
    )
    for table in ("program_estimate", "program_estimate_public"):
        op.create_index(f"ix_{table}_grouping", table, ["school_year", "group_by", "group_value"])
        op.create_index(f"ix_{table}_org", table, ["org_id", "school_year"])
    op.create_table(
        "program_balance",
        *_program(),
        sa.Column("measure", sa.String(length=32), nullable=False),
        sa.Column("covariate", sa.String(length=64), nullable=False),
        *(
            sa.Column(name, sa.Float(), nullable=True)
            for name in ("served_mean", "pool_mean", "comparison_mean", "smd_before", "smd_after")
        ),
        sa.PrimaryKeyConstraint("school_year", "org_id", "service_type", "measure", "covariate"),
    )
    op.create_table(
        "program_trajectory",
        *_trajectory_keys(),
        sa.Column("students", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("school_year", "org_id", "service_type", "group", "month_offset"),
    )
    op.create_table(
        "program_trajectory_public",
        *_trajectory_keys(),
        sa.Column("students", sa.Integer(), nullable=True),
        sa.Column("students_display", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("school_year", "org_id", "service_type", "group", "month_offset"),
    )
    op.create_table(
        "program_served_student",
        *_program(),
        sa.Column("student_id", sa.String(length=64), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("matched", sa.Boolean(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=True),
        sa.Column("hours", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("school_year", "org_id", "service_type", "student_id"),
    )
    op.create_index(
        "ix_program_served_student_student_id", "program_served_student", ["student_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_program_served_student_student_id", table_name="program_served_student")
    op.drop_table("program_served_student")
    op.drop_table("program_trajectory_public")
    op.drop_table("program_trajectory")
    op.drop_table("program_balance")
    for table in ("program_estimate_public", "program_estimate"):
        op.drop_index(f"ix_{table}_org", table_name=table)
        op.drop_index(f"ix_{table}_grouping", table_name=table)
        op.drop_table(table)
