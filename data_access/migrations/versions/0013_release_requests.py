"""Release requests, single-use links, the outbox and notifications (issue 16, part 1)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01

A counselor or the steward asks a family to sign a release naming one organisation
(`release_request`). The family gets a single-use link by email (`release_token`: only the
SHA-256 of the token is kept) or a printed release with a code. Bad links are counted per
client (`token_failure`) to slow down guessing. Every email Pathwise writes lands in
`outbox_message` (sent, or waiting for the steward when no SMTP server is configured).
Partners may ask the district to request a release (`release_ask`). `notification` tells
an organisation or a requester that a release was signed, declined or ended. A release
(`consent`) records how it was given (`method`) and the request it answers.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consent") as batch:
        batch.add_column(sa.Column("method", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("request_id", sa.Integer(), nullable=True))
    op.create_index("ix_consent_request_id", "consent", ["request_id"])
    op.create_table(
        "release_request",
        sa.Column("request_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "student_id", sa.String(length=64), sa.ForeignKey("student.student_id"), nullable=False
        ),
        sa.Column(
            "org_id", sa.String(length=64), sa.ForeignKey("organization.org_id"), nullable=False
        ),
        sa.Column("categories", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("release_expires", sa.Date(), nullable=True),
        sa.Column("requested_by", sa.String(length=254), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("ask_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("paper_code", sa.String(length=16), nullable=False, unique=True),
        sa.Column("opened_at", sa.DateTime(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("consent_id", sa.String(length=64), nullable=True),
    )
    op.create_index("ix_release_request_student_id", "release_request", ["student_id"])
    op.create_index("ix_release_request_org_id", "release_request", ["org_id"])
    op.create_index("ix_release_request_org_status", "release_request", ["org_id", "status"])
    op.create_table(
        "release_token",
        sa.Column("token_hash", sa.String(length=64), primary_key=True),
        sa.Column(
            "request_id",
            sa.Integer(),
            sa.ForeignKey("release_request.request_id"),
            nullable=False,
        ),
        sa.Column("recipient_email", sa.String(length=254), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_release_token_request_id", "release_token", ["request_id"])
    op.create_table(
        "token_failure",
        sa.Column("failure_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("client_key", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_token_failure_client_at", "token_failure", ["client_key", "at"])
    op.create_table(
        "release_ask",
        sa.Column("ask_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "org_id", sa.String(length=64), sa.ForeignKey("organization.org_id"), nullable=False
        ),
        sa.Column("asked_by", sa.String(length=254), nullable=False),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("school_id", sa.String(length=64), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("student_id", sa.String(length=64), nullable=True),
        sa.Column("decided_by", sa.String(length=254), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_release_ask_org_id", "release_ask", ["org_id"])
    op.create_table(
        "outbox_message",
        sa.Column("message_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_outbox_message_request_id", "outbox_message", ["request_id"])
    op.create_table(
        "notification",
        sa.Column("notification_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("recipient_email", sa.String(length=254), nullable=True),
        sa.Column("recipient_org_id", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("student_id", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("read_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_notification_recipient_email", "notification", ["recipient_email"])
    op.create_index("ix_notification_recipient_org_id", "notification", ["recipient_org_id"])


def downgrade() -> None:
    for table in ("notification", "outbox_message", "release_ask", "token_failure"):
        op.drop_table(table)
    op.drop_table("release_token")
    op.drop_table("release_request")
    op.drop_index("ix_consent_request_id", table_name="consent")
    with op.batch_alter_table("consent") as batch:
        batch.drop_column("request_id")
        batch.drop_column("method")
