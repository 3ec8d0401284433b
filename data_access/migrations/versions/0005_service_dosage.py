"""service dosage: sessions and hours

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Partners' exports often carry how much service a student received. `services` gains two
optional columns, `sessions` (a count) and `hours`, read by "Is it working?" to show the
dose behind a program's estimate (docs/import-format.md, docs/outcomes.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service") as batch:
        batch.add_column(sa.Column("sessions", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("hours", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("service") as batch:
        batch.drop_column("hours")
        batch.drop_column("sessions")
