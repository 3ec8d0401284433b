"""Saved column mappings, the matching review queue, and the states' FAFSA flags (issue 15)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

States' FAFSA completion files and partners' service exports come with their own column
names and status values. A data steward saves a mapping once (`column_mapping` with its
columns and values) and reuses it from the command line or the Administration page.
Rows of such files that do not name the district's student id are matched on name, birth
date and school; a row that is ambiguous or matches nobody is never guessed: it waits in
`review_item` until the steward picks a student or rejects it. `fafsa` gains the optional
flags several states send (selected for verification, student signed, parent signed).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "column_mapping",
        sa.Column("name", sa.String(length=100), primary_key=True),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("award_year", sa.Integer(), nullable=True),
        sa.Column("org_id", sa.String(length=64), nullable=True),
        sa.Column("service_type", sa.String(length=32), nullable=True),
        sa.Column("date_format", sa.String(length=32), nullable=True),
        sa.Column("saved_by", sa.String(length=254), nullable=False),
        sa.Column("saved_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "column_mapping_column",
        sa.Column(
            "name",
            sa.String(length=100),
            sa.ForeignKey("column_mapping.name", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("target_column", sa.String(length=64), primary_key=True),
        sa.Column("source_column", sa.String(length=200), nullable=False),
    )
    op.create_table(
        "column_mapping_value",
        sa.Column(
            "name",
            sa.String(length=100),
            sa.ForeignKey("column_mapping.name", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("target_column", sa.String(length=64), primary_key=True),
        sa.Column("source_value", sa.String(length=200), primary_key=True),
        sa.Column("value", sa.String(length=64), nullable=False),
    )
    op.create_table(
        "review_item",
        sa.Column("review_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("source_file", sa.String(length=255), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=True),
        sa.Column("source_key", sa.String(length=200), nullable=True),
        sa.Column("first_name", sa.String(length=100), nullable=True),
        sa.Column("last_name", sa.String(length=100), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("school", sa.String(length=200), nullable=True),
        sa.Column("candidates", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("rows", sa.Text(), nullable=False),
        sa.Column("queued_by", sa.String(length=254), nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=False),
        sa.Column("resolution", sa.String(length=64), nullable=True),
        sa.Column("resolved_by", sa.String(length=254), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_review_item_open", "review_item", ["target", "resolution"])
    with op.batch_alter_table("fafsa") as batch:
        batch.add_column(sa.Column("selected_for_verification", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("student_signed", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("parent_signed", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fafsa") as batch:
        batch.drop_column("parent_signed")
        batch.drop_column("student_signed")
        batch.drop_column("selected_for_verification")
    op.drop_index("ix_review_item_open", table_name="review_item")
    op.drop_table("review_item")
    op.drop_table("column_mapping_value")
    op.drop_table("column_mapping_column")
    op.drop_table("column_mapping")
