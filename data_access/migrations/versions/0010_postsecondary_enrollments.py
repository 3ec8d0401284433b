"""Clearinghouse StudentTracker terms and searches (issue 15, part 1)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-15

`postsecondary_enrollment`: every row of a National Student Clearinghouse StudentTracker
for High Schools detail report (an enrollment term or a degree row) of a student the
Clearinghouse found; `nsc_search`: each student the Clearinghouse searched for and whether
it found a record (searched and not found is "not enrolled"; never searched is "not
observed"). Both belong to the `outcomes` category. `nsc_search` also keeps the two figures
only a report gives (`seamless_enrolled`, `degree_completed`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "postsecondary_enrollment",
        sa.Column("student_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("college_code", sa.String(length=16), nullable=True),
        sa.Column("college_name", sa.String(length=128), nullable=True),
        sa.Column("college_state", sa.String(length=8), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=True),
        sa.Column("control", sa.String(length=8), nullable=True),
        sa.Column("enrollment_begin", sa.Date(), nullable=True),
        sa.Column("enrollment_end", sa.Date(), nullable=True),
        sa.Column("enrollment_status", sa.String(length=1), nullable=True),
        sa.Column("graduated", sa.Boolean(), nullable=True),
        sa.Column("graduation_date", sa.Date(), nullable=True),
        sa.Column("degree_title", sa.String(length=128), nullable=True),
        sa.Column("major", sa.String(length=128), nullable=True),
        sa.Column("college_sequence", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["student_id"], ["student.student_id"]),
        sa.PrimaryKeyConstraint("student_id", "seq"),
    )
    op.create_table(
        "nsc_search",
        sa.Column("student_id", sa.String(length=64), nullable=False),
        sa.Column("record_found", sa.Boolean(), nullable=False),
        sa.Column("high_school_code", sa.String(length=16), nullable=True),
        sa.Column("high_school_grad_date", sa.Date(), nullable=True),
        sa.Column("seamless_enrolled", sa.Boolean(), nullable=True),
        sa.Column("degree_completed", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(["student_id"], ["student.student_id"]),
        sa.PrimaryKeyConstraint("student_id"),
    )


def downgrade() -> None:
    op.drop_table("nsc_search")
    op.drop_table("postsecondary_enrollment")
